// A person ends access early: the requester themself, or anyone who may approve that request. A refusal is
// audited, like a refused approval.
import { UserError } from '../core/errors.js';
import { isEligibleApprover, type Requester } from '../core/policy.js';
import { appendAudit } from '../store/audit-log.js';
import { getRequest } from '../store/requests.js';
import { endAccess, type GrantRunner } from './grant-runner.js';
import { noSuchRequest } from './requests.js';
import type { Grant } from '../store/grants.js';

export async function revokeRequestAs(runner: GrantRunner, requestId: number, person: Requester): Promise<Grant[]> {
  const request = getRequest(runner.ctx.db, requestId);
  if (!request) throw noSuchRequest(requestId);
  const email = person.email.toLowerCase();
  if (email !== request.requesterEmail && !isEligibleApprover(request.approvers, person)) {
    const why = `Only ${request.requesterEmail} or an approver of request ${requestId} can revoke it.`;
    const { ctx } = runner;
    appendAudit(ctx.db, { actor: email, action: 'revoke.refused', subject: `request:${requestId}`, details: { why } }, ctx.now());
    throw new UserError('not_allowed', why);
  }
  if (request.state !== 'approved') throw new UserError('invalid_transition', `Request ${requestId} is ${request.state}: there is no access to revoke.`);
  return endAccess(runner, requestId, 'revoked', email);
}
