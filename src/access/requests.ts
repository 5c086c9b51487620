// Request lifecycle: submit, vote (approve/deny), cancel. Writes the decision and the grants it creates in one
// transaction, before any effect on a server; the provisioner and the notifier act on what is written.
// A decision is checked against the configuration as it is when it is made: the approver must be in the request's
// approver snapshot and an approver now, the requester must still be allowed to ask for those servers, and a request
// past its request_ttl is expired instead of decided. The input limits every front door shares live here too.
import { looksLikePrivateKey, ROTATE_EXPOSED_KEY } from '../ca/user-key.js';
import { formatDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import {
  planRequest, assertMayDecide, assertStillMayDecide, approvedDuration, assertExtensionFits, assertReasonLength, certificateOptionsOf,
  decisionPolicyFor, describeSchedule, groupsWithShifts, isEligibleApprover, onCallAutoApproval, splitShiftGroups, stillApprovers,
  type AccessAsk, type DecisionPolicy, type Requester,
} from '../core/policy.js';
import { assertRequestTransition } from '../core/lifecycle.js';
import { needsSshPublicKey } from '../core/model.js';
import { appendAudit } from '../store/audit-log.js';
import { currentKey, upsertPerson } from '../store/people.js';
import {
  decideRequest, getRequest, insertRequest, pendingRequestsOf, recordVote, waitingRequestCount, setAccessExpiry, votesOf, type AccessRequest, type ApprovalVote,
} from '../store/requests.js';
import { grantsOfRequest, insertGrant, setGrantExpiry, type Grant } from '../store/grants.js';
import { enqueueEvent } from '../store/outbox.js';
import { requestPrincipal } from '../ca/certificate-identity.js';
import { scheduleFollowUp, type AccessContext } from './context.js';
import { availableLinuxUserFor } from './people.js';
import { NO_SHIFTS, type ShiftFacts } from './oncall.js';

export const SYSTEM_ACTOR = 'system';


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

/** The limits on free text (a request's, an extension's or a decision's reason): no private key, at most 500 characters. */
export function checkFreeText(text: string | undefined, what: string): void {
  refusePrivateKey(text, what);
  assertReasonLength(text, what);
}

/** Refuses a new request from someone who already has max_pending_requests waiting, saying which and how to cancel. */
export function assertRoomToWait(ctx: AccessContext, email: string): void {
  const max = ctx.config().maxPendingRequests;
  if (waitingRequestCount(ctx.db, email, ctx.now()) < max) return;
  const waiting = pendingRequestsOf(ctx.db, email).filter((r) => r.pendingUntil > ctx.now());
  const count = `${waiting.length} ${waiting.length === 1 ? 'request' : 'requests'}`;
  throw new UserError('not_allowed', `You already have ${count} waiting for approval (#${waiting.map((r) => r.id).join(', #')}), the most Keyway allows: wait for them to be decided, or cancel one with \`/ssh-access cancel <id>\` and ask again.`);
}

export type Outcome =
  | { kind: 'pending'; request: AccessRequest; approvals: number }
  | { kind: 'approved'; request: AccessRequest; grants: Grant[] }
  | { kind: 'denied'; request: AccessRequest }
  | { kind: 'already_decided'; request: AccessRequest };

/**
 * A new request. `shifts` are who is on call now (access/oncall.ts resolves them before this is called, and
 * `person.onCall` must be `shifts.onCall`); without them nobody is on call.
 */
/** A provider's failure as the request shows it: bounded, so it cannot grow a reason past what chat can show. */
function brief(why: string): string {
  return why.length <= 120 ? why : `${why.slice(0, 119)}…`;
}

export function submitRequest(ctx: AccessContext, person: Requester, ask: AccessAsk, source: string, shifts: ShiftFacts = NO_SHIFTS): Outcome {
  checkFreeText(ask.reason, 'reason');
  const config = ctx.config();
  const email = person.email.toLowerCase();
  person = { ...person, email, onCall: person.onCall ?? shifts.onCall };
  const plan = planRequest(config, person, ask, shifts.onCallNow);
  const onCall = onCallAutoApproval(plan.flow, person, plan.duration, ctx.now());
  const autoApprove = plan.flow.autoApprove || onCall !== undefined;
  // An on_call flow whose shifts could not be asked: people are asked instead, and the request says why.
  const unknown = plan.flow.autoApproveOnCall && !onCall
    ? shifts.failures.filter((f) => plan.flow.requesters.oncall?.includes(f.schedule) || plan.flow.approvers.oncall?.includes(f.schedule))
    : [];
  const why = unknown.length > 0
    ? `not auto-approved: the on-call check failed (${unknown.map((f) => `${describeSchedule(f.schedule)}: ${brief(f.why)}`).join('; ')}), so approvers are asked`
    : undefined;
  if (onCall) plan.duration = onCall.duration;
  if (why) plan.reason = plan.reason ? `${plan.reason} [${why}]` : `[${why}]`;
  const linuxUser = availableLinuxUserFor(ctx, email);
  if (needsSshPublicKey(plan.integration) && !currentKey(ctx.db, email)) {
    throw new UserError('unknown_person', `${email} has no SSH public key registered yet: register one first with \`/ssh-access key <your public key>\` (or \`keyway keys add\`).`);
  }
  if (plan.approvers.source === 'none' && !autoApprove) {
    throw new UserError('not_allowed', `Nobody but you can approve this request under the flow ${plan.flow.name}: ask an admin to add approvers.`);
  }
  const now = ctx.now();
  const request = ctx.db.transaction(() => {
    // Inside the write transaction, so requests sent at once from two front doors cannot both squeeze in.
    if (!autoApprove) assertRoomToWait(ctx, email);
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
      // The shifts the requester is on now are recorded with their groups: the decision-time check reads them back.
      requesterUsergroups: groupsWithShifts(person.usergroups ?? [], person.onCall),
      requesterGuest: person.guest === true,
    });
    appendAudit(ctx.db, {
      actor: email, action: 'request.created', subject: `request:${created.id}`,
      details: {
        flow: created.flow, servers: created.servers, duration: created.durationSeconds, reason: created.reason, source,
        ...(onCall && { onCall: { schedule: onCall.schedule, endsAt: onCall.endsAt ?? null } }),
        ...(why && { onCallUnknown: unknown }),
      },
    }, now);
    if (!autoApprove) enqueueEvent(ctx.db, { kind: 'approval_needed', requestId: created.id }, now);
    return created;
  }).immediate();
  ctx.logger.info({ requestId: request.id, flow: request.flow, servers: request.servers }, 'request created');
  scheduleFollowUp(ctx);
  if (onCall) {
    ctx.logger.info({ requestId: request.id, schedule: onCall.schedule, endsAt: onCall.endsAt }, 'request auto-approved: the requester is on call');
    return approveNow(ctx, request, SYSTEM_ACTOR, onCall.note);
  }
  if (plan.flow.autoApprove) return approveNow(ctx, request, SYSTEM_ACTOR, 'auto-approved by flow');
  return { kind: 'pending', request, approvals: 0 };
}

export interface VoteOptions {
  reason?: string;
  /** Seconds; an approver may shorten the access. */
  duration?: number;
}

/** The requester as they were when they asked, for the decision-time check against the current config. */
function requesterOf(ctx: AccessContext, request: AccessRequest): Requester {
  // A request from before migration 0004 has no recorded groups: trust the groups its flow names now.
  const legacyGroups = () => ctx.config().flows.find((f) => f.name === request.flow)?.requesters.slackUsergroups ?? [];
  // On-call requesters count as they were at the moment of the request (the schedules recorded with their groups).
  const { usergroups, onCall } = splitShiftGroups(request.requesterUsergroups ?? legacyGroups());
  return { email: request.requesterEmail, usergroups, onCall, guest: request.requesterGuest === true };
}

/** The rules the request is decided under now; undefined when its requester may no longer ask for its servers. */
export function decisionPolicyOf(ctx: AccessContext, request: AccessRequest): DecisionPolicy | undefined {
  return decisionPolicyFor(ctx.config(), { flow: request.flow, integration: request.integration, servers: request.servers, requester: requesterOf(ctx, request) });
}

function requesterRemoved(request: AccessRequest): UserError {
  return new UserError('not_allowed', `${request.requesterEmail} may no longer request ${request.servers.join(', ')} under the current configuration, so request ${request.id} cannot be approved; Keyway has expired it. If that is a mistake, ask an admin to restore their access, then they can ask again.`);
}

function pastTtl(request: AccessRequest, decision: 'approve' | 'deny'): UserError {
  const done = decision === 'approve' ? 'approved' : 'denied';
  return new UserError('already_decided', request.extendsRequestId === null
    ? `Request ${request.id} was not decided within ${formatDuration(Math.round((request.pendingUntil - request.createdAt) / 1000))} (its flow's request_ttl) and has expired: it can no longer be ${done}. The requester can ask again.`
    : `Request ${request.id} (to extend request ${request.extendsRequestId}) was not decided in time and has expired: it can no longer be ${done}. The requester can make a new request.`);
}

/**
 * Audits a refused decision and, when `expireBecause` is given, expires the request in the same transaction; then
 * throws the refusal. When someone else decided the request first, that is the outcome instead.
 */
function refuseDecision(ctx: AccessContext, request: AccessRequest, actor: string, decision: 'approve' | 'deny', error: unknown, expireBecause?: string): Outcome {
  const now = ctx.now();
  const subject = `request:${request.id}`;
  const raced = ctx.db.transaction(() => {
    appendAudit(ctx.db, { actor, action: 'approval.refused', subject, details: { decision, why: (error as Error).message } }, now);
    if (expireBecause === undefined) return false;
    if (!decideRequest(ctx.db, request.id, { state: 'expired', at: now, by: SYSTEM_ACTOR, reason: expireBecause })) return true;
    appendAudit(ctx.db, { actor: SYSTEM_ACTOR, action: 'request.expired', subject, details: { why: expireBecause } }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return false;
  }).immediate();
  if (raced) return { kind: 'already_decided', request: getRequest(ctx.db, request.id)! };
  if (expireBecause !== undefined) scheduleFollowUp(ctx);
  if (expireBecause !== undefined) ctx.logger.info({ requestId: request.id, why: expireBecause }, 'request expired at a refused decision');
  throw error;
}

/** Runs a check; its UserError becomes an audited refusal. */
function refusedBy(check: () => void): unknown {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
}

/** Whether a recorded approval still counts: its approver is in the snapshot and an approver now. */
function voteStillCounts(vote: ApprovalVote, request: AccessRequest, policy: DecisionPolicy): boolean {
  if (vote.decision !== 'approve') return false;
  const still = stillApprovers(request.approvers, policy.approvers);
  // A vote from before migration 0004 does not say through which group it came: the groups still shared count.
  // An on-call approver's vote records the schedule they were on call in when they clicked.
  const { usergroups, onCall } = splitShiftGroups(vote.usergroups ?? still.slackUsergroups);
  const self = vote.approverEmail === request.requesterEmail;
  if (self && !(request.allowSelfApproval && policy.flow.allowSelfApproval)) return false;
  return isEligibleApprover(still, { email: vote.approverEmail, usergroups, onCall });
}

/**
 * An approver's click or CLI call. Authorisation comes from who the person is, checked against the stored request
 * and against the current configuration; every refusal is audited.
 */
export function voteOnRequest(ctx: AccessContext, requestId: number, approver: Requester, decision: 'approve' | 'deny', options: VoteOptions = {}): Outcome {
  checkFreeText(options.reason, 'reason');
  const request = getRequest(ctx.db, requestId);
  if (!request) throw noSuchRequest(requestId);
  const email = approver.email.toLowerCase();
  const person = { ...approver, email };
  const refuse = (error: unknown, expireBecause?: string) => refuseDecision(ctx, request, email, decision, error, expireBecause);
  // Eligibility first: a refused click is audited even when the request is already decided.
  const ineligible = refusedBy(() => assertMayDecide({ requesterEmail: request.requesterEmail, approvers: request.approvers, allowSelfApproval: request.allowSelfApproval }, person, requestId));
  if (ineligible) return refuse(ineligible);
  if (request.state !== 'pending') return { kind: 'already_decided', request };
  if (request.pendingUntil <= ctx.now()) return refuse(pastTtl(request, decision), 'nobody answered in time');
  const policy = decisionPolicyOf(ctx, request);
  // A removed requester's request can never be approved: it is expired at once, so approvers stop being asked and the
  // requester is told. It may still be denied (by the approvers it was sent to).
  if (!policy && decision === 'approve') return refuse(requesterRemoved(request), 'the requester may no longer request these servers');
  if (policy) {
    const removed = refusedBy(() => {
      assertStillMayDecide(request.approvers, policy.approvers, person, requestId);
      if (email === request.requesterEmail && !policy.flow.allowSelfApproval) {
        throw new UserError('not_approver', `You asked for request ${requestId} yourself, and its flow no longer allows self-approval: another approver must decide it.`);
      }
    });
    if (removed) return refuse(removed);
  }
  if (decision === 'deny') {
    const reason = options.reason?.trim();
    if (!reason) throw new UserError('reason_required', 'Say why you deny the request: the requester sees your reason.');
    return deny(ctx, request, email, reason);
  }
  const current = policy!;
  const duration = approvedDuration(request.durationSeconds, current.flow.maxDuration, options.duration);
  const tooLong = refusedBy(() => {
    if (request.extendsRequestId !== null) {
      const original = getRequest(ctx.db, request.extendsRequestId);
      if (original) assertExtensionFits(original, current.flow, duration);
    } else if (duration > current.flow.maxDuration) {
      const max = formatDuration(current.flow.maxDuration);
      throw new UserError('duration_too_long', `Request ${requestId} asks for ${formatDuration(duration)}, more than the ${max} its flow ${current.flow.name} now allows: approve it for ${max} or less (keyway approve ${requestId} --duration ${max}), or deny it so the requester asks again.`);
    }
  });
  if (tooLong) return refuse(tooLong);
  const now = ctx.now();
  const usergroups = groupsWithShifts(
    (person.usergroups ?? []).filter((g) => request.approvers.slackUsergroups.includes(g)),
    (person.onCall ?? []).filter((s) => request.approvers.oncall?.includes(s.schedule)),
  );
  const counted = ctx.db.transaction(() => {
    const fresh = getRequest(ctx.db, requestId)!;
    if (fresh.state !== 'pending') return undefined;
    if (recordVote(ctx.db, { requestId, approverEmail: email, decision: 'approve', at: now, reason: options.reason, usergroups })) {
      appendAudit(ctx.db, { actor: email, action: 'approval.approve', subject: `request:${requestId}`, details: {} }, now);
    }
    return votesOf(ctx.db, requestId).filter((v) => voteStillCounts(v, request, current)).length;
  }).immediate();
  if (counted === undefined) return { kind: 'already_decided', request: getRequest(ctx.db, requestId)! };
  if (counted < request.minApprovals) return { kind: 'pending', request, approvals: counted };
  return approveNow(ctx, { ...request, durationSeconds: duration }, email);
}

/**
 * Approves a pending request: grants for a new one, a longer expiry for an extension. The certificate options
 * of the flow it is approved under are stored with it in the same transaction.
 */
export function approveNow(ctx: AccessContext, request: AccessRequest, by: string, note?: string): Outcome {
  const policy = decisionPolicyOf(ctx, request);
  if (!policy) throw requesterRemoved(request);
  if (request.extendsRequestId !== null) return approveExtension(ctx, request, policy, by, note);
  const now = ctx.now();
  const accessExpiresAt = now + request.durationSeconds * 1000;
  const certificateOptions = certificateOptionsOf(policy.flow);
  const grants = ctx.db.transaction(() => {
    assertRequestTransition(request.id, 'pending', 'approved');
    if (!decideRequest(ctx.db, request.id, { state: 'approved', at: now, by, accessExpiresAt, reason: note, certificateOptions })) return undefined;
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
  scheduleFollowUp(ctx);
  if (!grants) return { kind: 'already_decided', request: stored };
  ctx.logger.info({ requestId: request.id, by, grants: grants.length }, 'request approved');
  return { kind: 'approved', request: stored, grants };
}

function approveExtension(ctx: AccessContext, request: AccessRequest, policy: DecisionPolicy, by: string, note?: string): Outcome {
  const now = ctx.now();
  const originalId = request.extendsRequestId!;
  const grants = ctx.db.transaction(() => {
    const original = getRequest(ctx.db, originalId);
    if (!original?.accessExpiresAt || original.accessExpiresAt <= now) {
      decideRequest(ctx.db, request.id, { state: 'expired', at: now, by: SYSTEM_ACTOR, reason: 'the access it extends has ended' });
      enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
      return undefined;
    }
    // Again here, in the write transaction: another extension approved since may have used the allowance.
    assertExtensionFits(original, policy.flow, request.durationSeconds);
    const newExpiry = original.accessExpiresAt + request.durationSeconds * 1000;
    // The re-issued certificate keeps the original's options (certificates.ts reads the original's row).
    if (!decideRequest(ctx.db, request.id, { state: 'approved', at: now, by, accessExpiresAt: newExpiry, reason: note, certificateOptions: original.certificateOptions ?? null })) return undefined;
    setAccessExpiry(ctx.db, originalId, newExpiry);
    const live = grantsOfRequest(ctx.db, originalId).filter((g) => g.state === 'active' || g.state === 'provisioning' || g.state === 'provision_failed');
    for (const g of live) setGrantExpiry(ctx.db, g.id, newExpiry, now);
    appendAudit(ctx.db, { actor: by, action: 'request.approved', subject: `request:${request.id}`, details: { extends: originalId, expiresAt: newExpiry } }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return live;
  }).immediate();
  const stored = getRequest(ctx.db, request.id)!;
  scheduleFollowUp(ctx); // also when it expired instead: the requester hears why
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
  scheduleFollowUp(ctx);
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
  scheduleFollowUp(ctx);
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
  if (expired.length > 0) scheduleFollowUp(ctx);
  return expired;
}
