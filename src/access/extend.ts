// Extending access: a new request that points at the original, decided under the same flow's rules. On
// approval the original's grants run longer and a new certificate (same principal, later expiry) is sent.
import { UserError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { planRequest, type Requester } from '../core/policy.js';
import { appendAudit } from '../store/audit-log.js';
import { enqueueEvent } from '../store/outbox.js';
import { getRequest, insertRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';
import { approveNow, type Outcome } from './requests.js';

export function requestExtension(ctx: AccessContext, person: Requester, requestId: number, durationSeconds: number): Outcome {
  const original = getRequest(ctx.db, requestId);
  const email = person.email.toLowerCase();
  if (!original) throw new UserError('unknown_request', `There is no request ${requestId}.`);
  if (original.requesterEmail !== email) throw new UserError('not_allowed', `Only ${original.requesterEmail} can extend request ${requestId}.`);
  const now = ctx.now();
  if (original.state !== 'approved' || original.accessExpiresAt === null || original.accessExpiresAt <= now) {
    throw new UserError('invalid_transition', `Request ${requestId} has no running access to extend: make a new request.`);
  }
  const endsAt = original.accessExpiresAt;
  const plan = planRequest(ctx.config(), { ...person, email }, { servers: original.servers, duration: durationSeconds, reason: `extend request ${requestId}` });
  const startedAt = original.decidedAt ?? now;
  const total = endsAt + durationSeconds * 1000 - startedAt;
  if (total > plan.flow.maxDuration * 1000) {
    const left = Math.max(0, Math.floor((startedAt + plan.flow.maxDuration * 1000 - endsAt) / 1000));
    throw new UserError('duration_too_long', left > 0
      ? `The flow ${plan.flow.name} allows ${formatDuration(plan.flow.maxDuration)} in all: you can extend request ${requestId} by ${formatDuration(left)} at most.`
      : `Request ${requestId} already has the ${formatDuration(plan.flow.maxDuration)} its flow allows: make a new request.`);
  }
  const request = ctx.db.transaction(() => {
    const created = insertRequest(ctx.db, {
      requesterEmail: email, linuxUser: original.linuxUser, flow: plan.flow.name, integration: original.integration,
      servers: original.servers, groups: original.groups, durationSeconds, reason: `extend request ${requestId}`,
      approvers: plan.approvers, minApprovals: plan.flow.minApprovals, allowSelfApproval: plan.flow.allowSelfApproval,
      source: 'extension', createdAt: now, pendingUntil: Math.min(now + plan.flow.requestTtl * 1000, endsAt),
      extendsRequestId: requestId,
    });
    appendAudit(ctx.db, { actor: email, action: 'request.created', subject: `request:${created.id}`, details: { extends: requestId, duration: durationSeconds } }, now);
    if (!plan.flow.autoApprove) enqueueEvent(ctx.db, { kind: 'approval_needed', requestId: created.id }, now);
    return created;
  }).immediate();
  if (plan.flow.autoApprove) return approveNow(ctx, request, 'system', 'auto-approved by flow');
  return { kind: 'pending', request, approvals: 0 };
}
