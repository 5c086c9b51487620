// Coded errors (after bolt-js src/errors.ts): a stable code for scripts and tests, and a sentence that says
// what is wrong and what to do next. UserError is the user's mistake (CLI exit 1); anything else is a bug or an outage.

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
  | 'remote_command_failed'
  | 'account_not_managed'
  | 'usage';

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
