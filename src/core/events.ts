// What Keyway owes people on chat: written to the outbox in the same transaction as the state change that
// causes it, delivered by the chat adapters when their platform answers. Payloads carry ids, not copies:
// renderers read the current state, so a late delivery shows the truth.

export type AccessEvent =
  /** A new request needs a decision: ask the approvers. */
  | { kind: 'approval_needed'; requestId: number }
  /** The request reached an outcome (approved, denied, expired, cancelled): update approval messages, tell the requester, post to notify_channel. */
  | { kind: 'request_decided'; requestId: number }
  /** Access is ready: the certificate (by serial) and ssh lines go to the requester. */
  | { kind: 'access_granted'; requestId: number; serial: number }
  /** Provisioning failed on some servers: the requester hears which; admins too. */
  | { kind: 'provision_failed'; requestId: number; grantIds: number[] }
  /** Access is about to end: offer to extend. */
  | { kind: 'expiry_warning'; requestId: number }
  /** Access ended: expired or revoked (by whom). */
  | { kind: 'access_ended'; requestId: number; why: 'expired' | 'revoked'; by?: string }
  /** A revoke keeps failing: admins must look (integration owners). */
  | { kind: 'revoke_failing'; grantId: number; attempts: number; error: string };

export type AccessEventKind = AccessEvent['kind'];
