import { describe, expect, it } from 'vitest';
import {
  GRANT_STATES, REQUEST_STATES, assertGrantTransition, assertRequestTransition, canMoveGrant, canMoveRequest,
  type GrantState, type RequestState,
} from '../../src/core/lifecycle.js';

const allowedRequest: Array<[RequestState, RequestState]> = [
  ['pending', 'approved'], ['pending', 'denied'], ['pending', 'expired'], ['pending', 'cancelled'],
];
const allowedGrant: Array<[GrantState, GrantState]> = [
  ['provisioning', 'active'], ['provisioning', 'provision_failed'], ['provisioning', 'revoking'],
  ['provision_failed', 'provisioning'], ['provision_failed', 'revoking'],
  ['active', 'revoking'], ['revoking', 'revoked'], ['revoking', 'revoke_failed'], ['revoke_failed', 'revoking'],
  ['revoked', 'cleaned'],
];

describe('request state machine', () => {
  for (const from of REQUEST_STATES) {
    for (const to of REQUEST_STATES) {
      const allowed = allowedRequest.some(([a, b]) => a === from && b === to);
      it(`${allowed ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        expect(canMoveRequest(from, to)).toBe(allowed);
        if (allowed) expect(() => assertRequestTransition(1, from, to)).not.toThrow();
        else expect(() => assertRequestTransition(1, from, to)).toThrowError(/Request 1/);
      });
    }
  }

  it('says a decided request is already decided', () => {
    expect(() => assertRequestTransition(7, 'denied', 'approved')).toThrowError(expect.objectContaining({ code: 'already_decided', message: 'Request 7 is already denied; it cannot become approved.' }));
  });
});

describe('grant state machine', () => {
  for (const from of GRANT_STATES) {
    for (const to of GRANT_STATES) {
      const allowed = allowedGrant.some(([a, b]) => a === from && b === to);
      it(`${allowed ? 'allows' : 'refuses'} ${from} → ${to}`, () => {
        expect(canMoveGrant(from, to)).toBe(allowed);
        if (allowed) expect(() => assertGrantTransition(1, from, to)).not.toThrow();
        else expect(() => assertGrantTransition(1, from, to)).toThrowError(`Grant 1 cannot go from ${from} to ${to}.`);
      });
    }
  }
});
