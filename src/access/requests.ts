// Request lifecycle: submit, vote (approve/deny), cancel. Writes the decision and the grants it creates in one
// transaction, before any effect on a server; the provisioner and the notifier act on what is written.
import { looksLikePrivateKey, ROTATE_EXPOSED_KEY } from '../ca/user-key.js';
import { UserError } from '../core/errors.js';
import { planRequest, assertMayDecide, approvedDuration, type AccessAsk, type Requester } from '../core/policy.js';
import { usernameForEmail } from '../core/username.js';
import { peopleOverrides } from '../core/lookup.js';
import { assertRequestTransition } from '../core/lifecycle.js';
import { appendAudit } from '../store/audit-log.js';
import { currentKey, upsertPerson } from '../store/people.js';
import { decideRequest, getRequest, insertRequest, recordVote, setAccessExpiry, votesOf, type AccessRequest } from '../store/requests.js';
import { grantsOfRequest, insertGrant, setGrantExpiry, type Grant } from '../store/grants.js';
import { enqueueEvent } from '../store/outbox.js';
import { requestPrincipal } from '../ca/certificate-identity.js';
import type { AccessContext } from './context.js';

export const SYSTEM_ACTOR = 'system';

export function linuxUserFor(ctx: AccessContext, email: string): string {
  return usernameForEmail(email, peopleOverrides(ctx.config()));
}

export function noSuchRequest(id: number): UserError {
  return new UserError('unknown_request', `There is no request ${id}: check the number (list shows your requests).`);
}

/**
 * Refuses free text (a request's or a decision's reason) holding a private key: it would be stored, audited and
 * shown to approvers. The advice is the key command's: the key has been exposed, so rotate it.
 */
export function refusePrivateKey(text: string | undefined, what: string): void {
  if (text === undefined || !looksLikePrivateKey(text)) return;
  throw new UserError('key_is_private', `The ${what} holds a PRIVATE key; Keyway did not store it. ${ROTATE_EXPOSED_KEY} Never paste a private key anywhere.`);
}

export type Outcome =
  | { kind: 'pending'; request: AccessRequest; approvals: number }
  | { kind: 'approved'; request: AccessRequest; grants: Grant[] }
  | { kind: 'denied'; request: AccessRequest }
  | { kind: 'already_decided'; request: AccessRequest };

export function submitRequest(ctx: AccessContext, person: Requester, ask: AccessAsk, source: string): Outcome {
  refusePrivateKey(ask.reason, 'reason');
  const config = ctx.config();
  const email = person.email.toLowerCase();
  const plan = planRequest(config, { ...person, email }, ask);
  const linuxUser = linuxUserFor(ctx, email);
  if (!currentKey(ctx.db, email)) {
    throw new UserError('unknown_person', `${email} has no SSH public key registered yet: register one first with \`/ssh-access key <your public key>\` (or \`keyway keys add\`).`);
  }
  if (plan.approvers.source === 'none' && !plan.flow.autoApprove) {
    throw new UserError('not_allowed', `Nobody but you can approve this request under the flow ${plan.flow.name}: ask an admin to add approvers.`);
  }
  const now = ctx.now();
  const request = ctx.db.transaction(() => {
    upsertPerson(ctx.db, email, linuxUser, now);
    const created = insertRequest(ctx.db, {
      requesterEmail: email,
      linuxUser,
      flow: plan.flow.name,
      integration: plan.integration.name,
      servers: plan.servers.map((s) => s.name),
      groups: plan.groups,
      durationSeconds: plan.duration,
      reason: plan.reason,
      approvers: plan.approvers,
      minApprovals: plan.flow.minApprovals,
      allowSelfApproval: plan.flow.allowSelfApproval,
      source,
      createdAt: now,
      pendingUntil: now + plan.flow.requestTtl * 1000,
      extendsRequestId: null,
    });
    appendAudit(ctx.db, {
      actor: email, action: 'request.created', subject: `request:${created.id}`,
      details: { flow: created.flow, servers: created.servers, duration: created.durationSeconds, reason: created.reason, source },
    }, now);
    if (!plan.flow.autoApprove) enqueueEvent(ctx.db, { kind: 'approval_needed', requestId: created.id }, now);
    return created;
  }).immediate();
  ctx.logger.info({ requestId: request.id, flow: request.flow, servers: request.servers }, 'request created');
  if (plan.flow.autoApprove) return approveNow(ctx, request, SYSTEM_ACTOR, 'auto-approved by flow');
  return { kind: 'pending', request, approvals: 0 };
}

export interface VoteOptions {
  reason?: string;
  /** Seconds; an approver may shorten the access. */
  duration?: number;
}

/** An approver's click or CLI call. Authorisation comes from who the person is, checked against the stored request. */
export function voteOnRequest(ctx: AccessContext, requestId: number, approver: Requester, decision: 'approve' | 'deny', options: VoteOptions = {}): Outcome {
  refusePrivateKey(options.reason, 'reason');
  const request = getRequest(ctx.db, requestId);
  if (!request) throw noSuchRequest(requestId);
  const email = approver.email.toLowerCase();
  const now = ctx.now();
  // Eligibility first: a refused click is audited even when the request is already decided.
  try {
    assertMayDecide({ requesterEmail: request.requesterEmail, approvers: request.approvers, allowSelfApproval: request.allowSelfApproval }, { ...approver, email }, requestId);
  } catch (error) {
    appendAudit(ctx.db, { actor: email, action: 'approval.refused', subject: `request:${requestId}`, details: { decision, why: (error as Error).message } }, now);
    throw error;
  }
  if (request.state !== 'pending') return { kind: 'already_decided', request };
  if (decision === 'deny') {
    const reason = options.reason?.trim();
    if (!reason) throw new UserError('reason_required', 'Say why you deny the request: the requester sees your reason.');
    return deny(ctx, request, email, reason);
  }
  const flow = ctx.config().flows.find((f) => f.name === request.flow);
  const duration = approvedDuration(request.durationSeconds, flow?.maxDuration ?? request.durationSeconds, options.duration);
  const counted = ctx.db.transaction(() => {
    const fresh = getRequest(ctx.db, requestId)!;
    if (fresh.state !== 'pending') return undefined;
    if (recordVote(ctx.db, { requestId, approverEmail: email, decision: 'approve', at: now, reason: options.reason })) {
      appendAudit(ctx.db, { actor: email, action: 'approval.approve', subject: `request:${requestId}`, details: {} }, now);
    }
    return votesOf(ctx.db, requestId).filter((v) => v.decision === 'approve').length;
  }).immediate();
  if (counted === undefined) return { kind: 'already_decided', request: getRequest(ctx.db, requestId)! };
  if (counted < request.minApprovals) return { kind: 'pending', request, approvals: counted };
  return approveNow(ctx, { ...request, durationSeconds: duration }, email);
}

/** Approves a pending request: grants for a new one, a longer expiry for an extension. */
export function approveNow(ctx: AccessContext, request: AccessRequest, by: string, note?: string): Outcome {
  if (request.extendsRequestId !== null) return approveExtension(ctx, request, by, note);
  const now = ctx.now();
  const accessExpiresAt = now + request.durationSeconds * 1000;
  const grants = ctx.db.transaction(() => {
    assertRequestTransition(request.id, 'pending', 'approved');
    if (!decideRequest(ctx.db, request.id, { state: 'approved', at: now, by, accessExpiresAt, reason: note })) return undefined;
    const created = request.servers.map((server) => insertGrant(ctx.db, {
      requestId: request.id, integration: request.integration, server, linuxUser: request.linuxUser,
      groups: request.groups, principal: requestPrincipal(request.id), expiresAt: accessExpiresAt,
    }, now));
    appendAudit(ctx.db, {
      actor: by, action: 'request.approved', subject: `request:${request.id}`,
      details: { duration: request.durationSeconds, expiresAt: accessExpiresAt, grants: created.map((g) => g.id), ...(note ? { note } : {}) },
    }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return created;
  }).immediate();
  const stored = getRequest(ctx.db, request.id)!;
  if (!grants) return { kind: 'already_decided', request: stored };
  ctx.logger.info({ requestId: request.id, by, grants: grants.length }, 'request approved');
  return { kind: 'approved', request: stored, grants };
}

function approveExtension(ctx: AccessContext, request: AccessRequest, by: string, note?: string): Outcome {
  const now = ctx.now();
  const originalId = request.extendsRequestId!;
  const grants = ctx.db.transaction(() => {
    const original = getRequest(ctx.db, originalId);
    if (!original?.accessExpiresAt || original.accessExpiresAt <= now) {
      decideRequest(ctx.db, request.id, { state: 'expired', at: now, by: SYSTEM_ACTOR, reason: 'the access it extends has ended' });
      enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
      return undefined;
    }
    const newExpiry = original.accessExpiresAt + request.durationSeconds * 1000;
    if (!decideRequest(ctx.db, request.id, { state: 'approved', at: now, by, accessExpiresAt: newExpiry, reason: note })) return undefined;
    setAccessExpiry(ctx.db, originalId, newExpiry);
    const live = grantsOfRequest(ctx.db, originalId).filter((g) => g.state === 'active' || g.state === 'provisioning' || g.state === 'provision_failed');
    for (const g of live) setGrantExpiry(ctx.db, g.id, newExpiry, now);
    appendAudit(ctx.db, { actor: by, action: 'request.approved', subject: `request:${request.id}`, details: { extends: originalId, expiresAt: newExpiry } }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return live;
  }).immediate();
  const stored = getRequest(ctx.db, request.id)!;
  if (!grants) return { kind: 'already_decided', request: stored };
  return { kind: 'approved', request: stored, grants };
}

function deny(ctx: AccessContext, request: AccessRequest, by: string, reason: string): Outcome {
  const now = ctx.now();
  const decided = ctx.db.transaction(() => {
    if (!decideRequest(ctx.db, request.id, { state: 'denied', at: now, by, reason })) return false;
    recordVote(ctx.db, { requestId: request.id, approverEmail: by, decision: 'deny', reason, at: now });
    appendAudit(ctx.db, { actor: by, action: 'request.denied', subject: `request:${request.id}`, details: { reason } }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return true;
  }).immediate();
  const stored = getRequest(ctx.db, request.id)!;
  if (!decided) return { kind: 'already_decided', request: stored };
  ctx.logger.info({ requestId: request.id, by }, 'request denied');
  return { kind: 'denied', request: stored };
}

/** The requester withdraws a pending request. */
export function cancelRequest(ctx: AccessContext, requestId: number, by: string): AccessRequest {
  const request = getRequest(ctx.db, requestId);
  if (!request) throw noSuchRequest(requestId);
  if (request.requesterEmail !== by.toLowerCase()) throw new UserError('not_allowed', `Only ${request.requesterEmail} can cancel request ${requestId}.`);
  assertRequestTransition(requestId, request.state, 'cancelled');
  const now = ctx.now();
  ctx.db.transaction(() => {
    if (!decideRequest(ctx.db, requestId, { state: 'cancelled', at: now, by })) throw new UserError('already_decided', `Request ${requestId} was decided in the meantime.`);
    appendAudit(ctx.db, { actor: by, action: 'request.cancelled', subject: `request:${requestId}`, details: {} }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId }, now);
  }).immediate();
  return getRequest(ctx.db, requestId)!;
}

/** Expires pending requests nobody answered within the flow's request_ttl. */
export function expireUnansweredRequests(ctx: AccessContext, pending: AccessRequest[]): AccessRequest[] {
  const now = ctx.now();
  const expired: AccessRequest[] = [];
  for (const request of pending) {
    const done = ctx.db.transaction(() => {
      if (!decideRequest(ctx.db, request.id, { state: 'expired', at: now, by: SYSTEM_ACTOR, reason: 'nobody answered in time' })) return false;
      appendAudit(ctx.db, { actor: SYSTEM_ACTOR, action: 'request.expired', subject: `request:${request.id}`, details: {} }, now);
      enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
      return true;
    }).immediate();
    if (done) expired.push(getRequest(ctx.db, request.id)!);
  }
  return expired;
}
