// Extending access: a new request that points at the original, decided under the same flow's rules. On
// approval the original's grants run longer and a new certificate (same principal, later expiry, the original's
// certificate options) is sent. A request has at most one extension waiting; its allowance is checked when it is
// asked for and again when it is approved (see approveNow).
import { UserError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { assertExtensionFits, extensionAllowance, planRequest, type Requester } from '../core/policy.js';
import { appendAudit } from '../store/audit-log.js';
import { enqueueEvent } from '../store/outbox.js';
import { getRequest, insertRequest, pendingExtensionsOf } from '../store/requests.js';
import { scheduleFollowUp, type AccessContext } from './context.js';
import { approveNow, assertRoomToWait, checkFreeText, noSuchRequest, type Outcome } from './requests.js';

export { assertExtensionFits, extensionAllowance };

/** Refuses a second extension of a request while one waits for a decision, naming the one that waits. */
function assertNoExtensionWaiting(ctx: AccessContext, requestId: number): void {
  const waiting = pendingExtensionsOf(ctx.db, requestId).find((r) => r.pendingUntil > ctx.now());
  if (!waiting) return;
  throw new UserError('not_allowed', `Request ${waiting.id} already asks to extend request ${requestId} by ${formatDuration(waiting.durationSeconds)} and waits for approval: wait for it, or cancel it with \`/ssh-access cancel ${waiting.id}\` and ask again.`);
}

export function requestExtension(ctx: AccessContext, person: Requester, requestId: number, durationSeconds: number, reason?: string): Outcome {
  checkFreeText(reason, 'reason');
  const original = getRequest(ctx.db, requestId);
  const email = person.email.toLowerCase();
  if (!original) throw noSuchRequest(requestId);
  if (original.requesterEmail !== email) throw new UserError('not_allowed', `Only ${original.requesterEmail} can extend request ${requestId}.`);
  const now = ctx.now();
  if (original.state !== 'approved' || original.accessExpiresAt === null || original.accessExpiresAt <= now) {
    throw new UserError('invalid_transition', `Request ${requestId} has no running access to extend: make a new request.`);
  }
  const endsAt = original.accessExpiresAt;
  const why = reason?.trim() ?? '';
  const plan = planRequest(ctx.config(), { ...person, email }, { servers: original.servers, duration: durationSeconds, reason: why || `extend request ${requestId}` });
  assertExtensionFits(original, plan.flow, durationSeconds);
  const stored = why ? `extend request ${requestId}: ${why}` : `extend request ${requestId}`;
  const request = ctx.db.transaction(() => {
    // Inside the write transaction, so two front doors (chat and the CLI, two processes) cannot both pass.
    assertNoExtensionWaiting(ctx, requestId);
    if (!plan.flow.autoApprove) assertRoomToWait(ctx, email);
    const created = insertRequest(ctx.db, {
      requesterEmail: email, linuxUser: original.linuxUser, flow: plan.flow.name, integration: original.integration,
      servers: original.servers, groups: original.groups, durationSeconds, reason: stored,
      approvers: plan.approvers, minApprovals: plan.flow.minApprovals, allowSelfApproval: plan.flow.allowSelfApproval,
      source: original.source, createdAt: now, pendingUntil: Math.min(now + plan.flow.requestTtl * 1000, endsAt),
      extendsRequestId: requestId, requesterUsergroups: [...new Set(person.usergroups ?? [])], requesterGuest: person.guest === true,
    });
    appendAudit(ctx.db, { actor: email, action: 'request.created', subject: `request:${created.id}`, details: { extends: requestId, duration: durationSeconds, ...(why ? { reason: why } : {}) } }, now);
    if (!plan.flow.autoApprove) enqueueEvent(ctx.db, { kind: 'approval_needed', requestId: created.id }, now);
    return created;
  }).immediate();
  scheduleFollowUp(ctx);
  if (plan.flow.autoApprove) return approveNow(ctx, request, 'system', 'auto-approved by flow');
  return { kind: 'pending', request, approvals: 0 };
}
