// Extending access: a new request that points at the original, decided under the same flow's rules. On
// approval the original's grants run longer and a new certificate (same principal, later expiry) is sent.
import { UserError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import type { Flow } from '../core/model.js';
import { planRequest, type Requester } from '../core/policy.js';
import { appendAudit } from '../store/audit-log.js';
import { enqueueEvent } from '../store/outbox.js';
import { getRequest, insertRequest, type AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';
import { approveNow, noSuchRequest, type Outcome } from './requests.js';

/** Seconds a running access may still be extended by: the flow's maximum, less what it already runs in all. */
export function extensionAllowance(request: Pick<AccessRequest, 'decidedAt' | 'createdAt' | 'accessExpiresAt'>, maxDurationSeconds: number): number {
  if (request.accessExpiresAt === null) return 0;
  const startedAt = request.decidedAt ?? request.createdAt;
  return Math.max(0, Math.floor((startedAt + maxDurationSeconds * 1000 - request.accessExpiresAt) / 1000));
}

/** Refuses an extension longer than the flow still allows this access, saying how much it does allow. */
export function assertExtensionFits(request: Pick<AccessRequest, 'id' | 'decidedAt' | 'createdAt' | 'accessExpiresAt'>, flow: Pick<Flow, 'name' | 'maxDuration'>, durationSeconds: number): void {
  const left = extensionAllowance(request, flow.maxDuration);
  if (durationSeconds <= left) return;
  throw new UserError('duration_too_long', left > 0
    ? `The flow ${flow.name} allows ${formatDuration(flow.maxDuration)} in all: you can extend request ${request.id} by ${formatDuration(left)} at most.`
    : `Request ${request.id} already has the ${formatDuration(flow.maxDuration)} its flow allows: make a new request.`);
}

export function requestExtension(ctx: AccessContext, person: Requester, requestId: number, durationSeconds: number): Outcome {
  const original = getRequest(ctx.db, requestId);
  const email = person.email.toLowerCase();
  if (!original) throw noSuchRequest(requestId);
  if (original.requesterEmail !== email) throw new UserError('not_allowed', `Only ${original.requesterEmail} can extend request ${requestId}.`);
  const now = ctx.now();
  if (original.state !== 'approved' || original.accessExpiresAt === null || original.accessExpiresAt <= now) {
    throw new UserError('invalid_transition', `Request ${requestId} has no running access to extend: make a new request.`);
  }
  const endsAt = original.accessExpiresAt;
  const plan = planRequest(ctx.config(), { ...person, email }, { servers: original.servers, duration: durationSeconds, reason: `extend request ${requestId}` });
  assertExtensionFits(original, plan.flow, durationSeconds);
  const request = ctx.db.transaction(() => {
    const created = insertRequest(ctx.db, {
      requesterEmail: email, linuxUser: original.linuxUser, flow: plan.flow.name, integration: original.integration,
      servers: original.servers, groups: original.groups, durationSeconds, reason: `extend request ${requestId}`,
      approvers: plan.approvers, minApprovals: plan.flow.minApprovals, allowSelfApproval: plan.flow.allowSelfApproval,
      source: original.source, createdAt: now, pendingUntil: Math.min(now + plan.flow.requestTtl * 1000, endsAt),
      extendsRequestId: requestId,
    });
    appendAudit(ctx.db, { actor: email, action: 'request.created', subject: `request:${created.id}`, details: { extends: requestId, duration: durationSeconds } }, now);
    if (!plan.flow.autoApprove) enqueueEvent(ctx.db, { kind: 'approval_needed', requestId: created.id }, now);
    return created;
  }).immediate();
  if (plan.flow.autoApprove) return approveNow(ctx, request, 'system', 'auto-approved by flow');
  return { kind: 'pending', request, approvals: 0 };
}
