// Read-only views the chat front ends show: my access, my pending requests, approvals waiting for me.
import { isEligibleApprover, type Requester } from '../core/policy.js';
import { listGrants, type Grant } from '../store/grants.js';
import { listRequests, votesOf, type AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';

export interface ActiveAccess {
  request: AccessRequest;
  grants: Grant[];
}

export function activeAccessOf(ctx: AccessContext, email: string): ActiveAccess[] {
  const approved = listRequests(ctx.db, { state: 'approved', requesterEmail: email, limit: 200 });
  const live = new Set(['provisioning', 'provision_failed', 'active']);
  const grants = listGrants(ctx.db, { states: ['provisioning', 'provision_failed', 'active'] });
  return approved
    .map((request) => ({ request, grants: grants.filter((g) => g.requestId === request.id && live.has(g.state)) }))
    .filter((a) => a.grants.length > 0);
}

export function pendingRequestsOf(ctx: AccessContext, email: string): AccessRequest[] {
  return listRequests(ctx.db, { state: 'pending', requesterEmail: email, limit: 200 });
}

/** Pending requests this person may decide and has not voted on yet. */
export function approvalsWaitingFor(ctx: AccessContext, person: Requester): AccessRequest[] {
  const email = person.email.toLowerCase();
  return listRequests(ctx.db, { state: 'pending', limit: 500 }).filter((r) =>
    (r.allowSelfApproval || r.requesterEmail !== email) &&
    isEligibleApprover(r.approvers, person) &&
    !votesOf(ctx.db, r.id).some((v) => v.approverEmail === email));
}
