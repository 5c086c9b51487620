// What a chat command or button does, once for every platform: the access calls behind it and their follow-up.
import type { Requester } from '../core/policy.js';
import type { Grant } from '../store/grants.js';
import { scheduleFollowUp } from './context.js';
import type { GrantRunner } from './grant-runner.js';
import { revokeRequestAs } from './revoke.js';

/** Ends a request's access now as `person`; the requester hears of it (the follow-up is scheduled). */
export async function revokeAccess(runner: GrantRunner, requestId: number, person: Requester): Promise<Grant[]> {
  try {
    return await revokeRequestAs(runner, requestId, person);
  } finally {
    scheduleFollowUp(runner.ctx); // also after a partial failure: what was revoked is told
  }
}
