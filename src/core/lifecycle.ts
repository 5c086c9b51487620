// The request and grant state machines (design.md). Every allowed transition is listed; any other is an error.
import { UserError } from './errors.js';

export const REQUEST_STATES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export const GRANT_STATES = [
  'provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed', 'revoked', 'cleaned',
] as const;
export type GrantState = (typeof GRANT_STATES)[number];

const REQUEST_TRANSITIONS: Record<RequestState, readonly RequestState[]> = {
  pending: ['approved', 'denied', 'expired', 'cancelled'],
  approved: [],
  denied: [],
  expired: [],
  cancelled: [],
};

const GRANT_TRANSITIONS: Record<GrantState, readonly GrantState[]> = {
  provisioning: ['active', 'provision_failed', 'revoking'],
  // A failed provision is retried, or, once the access is no longer wanted, undone like any grant.
  provision_failed: ['provisioning', 'revoking'],
  active: ['revoking'],
  revoking: ['revoked', 'revoke_failed'],
  revoke_failed: ['revoking'],
  revoked: ['cleaned'],
  cleaned: [],
};

export function canMoveRequest(from: RequestState, to: RequestState): boolean {
  return REQUEST_TRANSITIONS[from].includes(to);
}

export function canMoveGrant(from: GrantState, to: GrantState): boolean {
  return GRANT_TRANSITIONS[from].includes(to);
}

export function assertRequestTransition(id: number, from: RequestState, to: RequestState): void {
  if (!canMoveRequest(from, to)) {
    const message = from === 'pending'
      ? `Request ${id} cannot go from pending to ${to}.`
      : `Request ${id} is already ${from}; it cannot become ${to}.`;
    throw new UserError(from === 'pending' ? 'invalid_transition' : 'already_decided', message);
  }
}

export function assertGrantTransition(id: number, from: GrantState, to: GrantState): void {
  if (!canMoveGrant(from, to)) {
    throw new UserError('invalid_transition', `Grant ${id} cannot go from ${from} to ${to}.`);
  }
}

/** Grants that may still give access on a server, or may have left something there to undo. */
export const GRANT_STATES_WITH_ACCESS: readonly GrantState[] = ['provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed'];

export function isTerminalRequest(state: RequestState): boolean {
  return REQUEST_TRANSITIONS[state].length === 0;
}
