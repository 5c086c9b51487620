// Coded errors (after bolt-js src/errors.ts): a stable code for scripts and tests, and a sentence that says
// what is wrong and what to do next. Two kinds: a refusal the person can fix (a bad duration, no key, not allowed),
// and an outage of something Keyway needs (a server unreachable, a platform down), which retrying later may cure and
// which the person cannot fix. Both are shown to the person as they are (CLI exit 1, a chat reply); callers that
// must tell them apart (retry, alert, metrics) ask isOutage. Anything that is not a UserError is a bug.

export type ErrorCode =
  | 'config_invalid'
  | 'duration_invalid'
  | 'duration_too_long'
  | 'username_invalid'
  | 'key_invalid'
  | 'key_is_private'
  | 'unknown_server'
  | 'unknown_request'
  | 'unknown_grant'
  | 'unknown_person'
  | 'not_allowed'
  | 'not_approver'
  | 'reason_required'
  | 'reason_too_long'
  | 'linux_user_taken'
  | 'invalid_transition'
  | 'already_decided'
  | 'ca_key_invalid'
  | 'host_key_mismatch'
  | 'host_unreachable'
  | 'platform_unavailable'
  | 'remote_command_failed'
  | 'account_not_managed'
  | 'usage';

export type ErrorKind = 'refusal' | 'outage';

/** A coded error with a sentence for the person; a refusal unless it is an OutageError. */
export class UserError extends Error {
  override readonly name: string = 'UserError';
  readonly kind: ErrorKind = 'refusal';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Something Keyway needs is down or unreachable (a server, a chat platform, a cloud API): not the person's to fix. */
export class OutageError extends UserError {
  override readonly name: string = 'OutageError';
  override readonly kind: ErrorKind = 'outage';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** True for an outage (host_unreachable, a platform down), false for a refusal or a bug. */
export function isOutage(e: unknown): boolean {
  return e instanceof UserError && e.kind === 'outage';
}
