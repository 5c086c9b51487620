// The one command runner for every chat platform (after Teleport's neutral core): what a command or a button
// does — the access calls behind it, their follow-up, and the answer as a platform-neutral reply view. Each chat
// adapter only parses its transport into an AccessCommand, says who the caller is (Caller), and renders the reply.
// It lives in access because it decides (who counts as requester or decider, what an outcome means for the user);
// it renders nothing.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { UserError, isUserError } from '../core/errors.js';
import type { AccessConfig } from '../core/model.js';
import { requestableServers, schedulesOfConfig, type Requester } from '../core/policy.js';
import type { Grant } from '../store/grants.js';
import { currentKey } from '../store/people.js';
import { getRequest, listRequests, type AccessRequest } from '../store/requests.js';
import { scheduleFollowUp } from './context.js';
import { assertExtensionFits, extensionAllowance, requestExtension } from './extend.js';
import type { GrantRunner } from './grant-runner.js';
import { registerPublicKey, type RegisteredKey } from './people.js';
import { activeAccessOf, approvalsWaitingFor, pendingRequestsOf, type ActiveAccess } from './queries.js';
import { cancelRequest, submitRequest, voteOnRequest, type Outcome } from './requests.js';
import { revokeRequestAs } from './revoke.js';
import { shiftFacts, withShifts } from './oncall.js';

/** What the person asked for (chat/command-grammar.ts parses text into it; buttons build it). */
export type AccessCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'request'; servers: string[]; duration?: number; reason: string }
  | { kind: 'key'; keyText: string }
  | { kind: 'list' }
  | { kind: 'servers' }
  | { kind: 'revoke'; requestId: number }
  | { kind: 'cancel'; requestId: number }
  | { kind: 'extend'; requestId: number; duration: number };

export type RequestableServers = ReturnType<typeof requestableServers>;

export interface MyAccess {
  active: ActiveAccess[];
  pending: AccessRequest[];
  toApprove: AccessRequest[];
}

/** The answer to a command, platform-neutral. */
export type CommandReply =
  | { kind: 'help' }
  /** The request form (a modal, a card) with the servers this person may request (none: say so). */
  | { kind: 'request_form'; servers: RequestableServers; needsKey: boolean }
  | { kind: 'submitted'; request: AccessRequest; outcome: 'pending' | 'approved' }
  | { kind: 'key_registered'; key: RegisteredKey }
  | { kind: 'list'; mine: MyAccess }
  | { kind: 'servers'; servers: RequestableServers }
  /** Said at once while a revoke runs (it may take a while). */
  | { kind: 'revoking'; requestId: number }
  | { kind: 'revoked'; requestId: number; grants: Grant[] }
  | { kind: 'cancelled'; request: AccessRequest }
  /** A refusal the person can act on: the error's own sentence. */
  | { kind: 'refused'; message: string }
  /** Something broke on Keyway's side: logged under this reference. */
  | { kind: 'apology'; reference: string };

/** Who is asking, as the platform knows them. */
export interface Caller {
  email(): Promise<string>;
  /** The person, with those of `groups` (chat user groups) they are in; only these need looking up. */
  personWith(groups: readonly string[]): Promise<Requester>;
}

/**
 * A caller the platform already knows in full (Teams: the person behind the sender, who has no user groups):
 * whatever groups are asked for, this is the person.
 */
export function knownCaller(person: Requester): Caller {
  return { email: async () => person.email, personWith: async () => person };
}

/** The user groups that can change what a person may request: those the flows' requesters name. */
export function requesterGroups(config: AccessConfig): string[] {
  return [...new Set(config.flows.flatMap((f) => f.requesters.slackUsergroups))];
}

export function requesterOf(runner: GrantRunner, caller: Caller): Promise<Requester> {
  return caller.personWith(requesterGroups(runner.ctx.config()));
}

/** The requester with their shifts now, for what they may request (flows may name on-call schedules as requesters). */
async function requesterOnCall(runner: GrantRunner, caller: Caller): Promise<Requester> {
  return withShifts(runner.ctx, await requesterOf(runner, caller), schedulesOfConfig(runner.ctx.config()));
}

/** A new request with the shifts of every schedule the flows name resolved first (cached; none asked without any). */
async function submitAs(runner: GrantRunner, caller: Caller, command: Extract<AccessCommand, { kind: 'request' }>, source: string): Promise<Outcome> {
  const { ctx } = runner;
  const person = await requesterOf(runner, caller);
  const shifts = await shiftFacts(ctx, person.email, schedulesOfConfig(ctx.config()));
  return submitRequest(ctx, { ...person, onCall: shifts.onCall }, { servers: command.servers, duration: command.duration, reason: command.reason }, source, shifts);
}

/**
 * The caller as someone who may decide (or revoke) `request`: the request's approver groups are looked up only
 * when the e-mail alone does not settle it (an approver by e-mail, or the requester where self-approval is off).
 */
export async function deciderOf(caller: Caller, request: Pick<AccessRequest, 'requesterEmail' | 'approvers' | 'allowSelfApproval'>): Promise<Requester> {
  const email = await caller.email();
  const settled = request.approvers.emails.includes(email) || (email === request.requesterEmail && !request.allowSelfApproval);
  return caller.personWith(settled ? [] : request.approvers.slackUsergroups);
}

/** My access, my pending requests, and the approvals waiting for me: only their approver groups are looked up. */
export async function myAccess(runner: GrantRunner, caller: Caller): Promise<MyAccess> {
  const { ctx } = runner;
  const email = await caller.email();
  const groups = listRequests(ctx.db, { state: 'pending', limit: 500 }).filter((r) => !r.approvers.emails.includes(email)).flatMap((r) => r.approvers.slackUsergroups);
  const person = await caller.personWith(groups);
  return { active: activeAccessOf(ctx, person.email), pending: pendingRequestsOf(ctx, person.email), toApprove: approvalsWaitingFor(ctx, person) };
}

export function requestOf(runner: GrantRunner, id: number): AccessRequest {
  const request = getRequest(runner.ctx.db, id);
  if (!request) throw new UserError('unknown_request', `There is no request #${id}: \`/ssh-access list\` shows your requests.`);
  return request;
}

export function alreadyDecided(request: AccessRequest): string {
  const by = request.decidedBy && request.decidedBy !== 'system' ? ` by ${request.decidedBy}` : '';
  return `Request #${request.id} is already ${request.state}${by}: nothing more to do.`;
}

/**
 * An approver's vote from a button or a form (Approve, Deny): who may vote comes from the caller, checked
 * against the stored request, never from the button. A deny without a reason is refused with the code
 * `reason_required` after the eligibility checks, so a platform can ask for the reason only of someone who may deny.
 */
export async function voteAs(runner: GrantRunner, caller: Caller, requestId: number, decision: 'approve' | 'deny', reason?: string): Promise<Outcome> {
  const request = requestOf(runner, requestId);
  // An on-call approver counts when on call at the moment of the click.
  const person = await withShifts(runner.ctx, await deciderOf(caller, request), request.approvers.oncall ?? []);
  return voteOnRequest(runner.ctx, request.id, person, decision, decision === 'deny' && reason !== undefined ? { reason } : {});
}

/** A request that can still be denied (the deny form checks this before it is acknowledged). */
export function pendingRequestOf(runner: GrantRunner, requestId: number): AccessRequest {
  const request = requestOf(runner, requestId);
  if (request.state !== 'pending') throw new UserError('already_decided', alreadyDecided(request));
  return request;
}

/** What an extension form offers: the request, if the caller may extend it now, and how much longer it may run. */
export async function extensionFormOf(runner: GrantRunner, caller: Caller, requestId: number): Promise<{ request: AccessRequest; left: number }> {
  const request = requestOf(runner, requestId);
  const email = await caller.email();
  if (request.requesterEmail !== email) throw new UserError('not_allowed', `Only ${request.requesterEmail} can extend request #${request.id}.`);
  if (request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= runner.ctx.now()) {
    throw new UserError('invalid_transition', `Request #${request.id} has no running access to extend: make a new request.`);
  }
  const flow = runner.ctx.config().flows.find((f) => f.name === request.flow);
  return { request, left: flow ? extensionAllowance(request, flow.maxDuration) : 0 };
}

/** Refuses an extension that the flow's maximum cannot hold (the extension form checks this before it is acknowledged). */
export function checkExtension(runner: GrantRunner, requestId: number, duration: number): AccessRequest {
  const request = requestOf(runner, requestId);
  const flow = runner.ctx.config().flows.find((f) => f.name === request.flow);
  if (flow) assertExtensionFits(request, flow, duration);
  return request;
}

/** The answer to a new request or extension; the outbox carries the rest. */
export function outcomeReply(outcome: Outcome): CommandReply {
  if (outcome.kind === 'approved') return { kind: 'submitted', request: outcome.request, outcome: 'approved' };
  if (outcome.kind === 'pending') return { kind: 'submitted', request: outcome.request, outcome: 'pending' };
  return { kind: 'refused', message: alreadyDecided(outcome.request) };
}

/** Ends a request's access now as `person`; the requester hears of it (the follow-up is scheduled). */
export async function revokeAccess(runner: GrantRunner, requestId: number, person: Requester): Promise<Grant[]> {
  try {
    return await revokeRequestAs(runner, requestId, person);
  } finally {
    scheduleFollowUp(runner.ctx); // also after a partial failure: what was revoked is told
  }
}

/** Says something at once, before slow work (a revoke) is done. */
export type Progress = (reply: CommandReply) => Promise<void>;

/** Runs a command; throws a UserError the person can act on (answerOf turns it into a reply). */
export async function runCommand(runner: GrantRunner, caller: Caller, command: AccessCommand, source: string, progress?: Progress): Promise<CommandReply> {
  const { ctx } = runner;
  switch (command.kind) {
    case 'help':
      return { kind: 'help' };
    case 'modal': {
      const person = await requesterOnCall(runner, caller);
      return { kind: 'request_form', servers: requestableServers(ctx.config(), person), needsKey: !currentKey(ctx.db, person.email) };
    }
    case 'request':
      return outcomeReply(await submitAs(runner, caller, command, source));
    case 'key': {
      const person = await requesterOnCall(runner, caller);
      return { kind: 'key_registered', key: registerPublicKey(ctx, person, command.keyText, person.email) };
    }
    case 'list':
      return { kind: 'list', mine: await myAccess(runner, caller) };
    case 'servers':
      return { kind: 'servers', servers: requestableServers(ctx.config(), await requesterOnCall(runner, caller)) };
    case 'revoke': {
      const person = await deciderOf(caller, requestOf(runner, command.requestId));
      await progress?.({ kind: 'revoking', requestId: command.requestId });
      return { kind: 'revoked', requestId: command.requestId, grants: await revokeAccess(runner, command.requestId, person) };
    }
    case 'cancel':
      return { kind: 'cancelled', request: cancelRequest(ctx, command.requestId, await caller.email()) };
    case 'extend':
      return outcomeReply(requestExtension(ctx, await requesterOf(runner, caller), command.requestId, command.duration));
  }
}

/** The one place errors become answers: a UserError says what to do next; anything else is logged with a reference. */
export function answerOf(error: unknown, logger: Logger, what: string): CommandReply {
  if (isUserError(error)) return { kind: 'refused', message: error.message };
  const reference = randomBytes(4).toString('hex');
  logger.error({ err: error, reference, what }, 'chat handler failed');
  return { kind: 'apology', reference };
}

/** Runs a command and answers every outcome, errors included. */
export async function answerCommand(runner: GrantRunner, caller: Caller, command: AccessCommand, source: string, logger: Logger, progress?: Progress): Promise<CommandReply> {
  try {
    return await runCommand(runner, caller, command, source, progress);
  } catch (error) {
    return answerOf(error, logger, `command ${command.kind}`);
  }
}
