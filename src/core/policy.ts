// Who may request what, who may approve it, and how a request is shaped before it is stored.
// Pure: the caller passes the config, the person, and the time.
import { UserError } from './errors.js';
import { DEFAULT_GROUP, type AccessConfig, type Audience, type Flow, type Integration, type Server, type ServerRef } from './model.js';
import { findIntegration, findServer, serversOfFlow } from './lookup.js';

export { findServer, serversOfFlow };
import { checkDuration, formatDuration } from './duration.js';

/** A person as the chat adapters know them: e-mail plus the Slack user groups they belong to. */
export interface Requester {
  email: string;
  usergroups?: readonly string[];
  /** A Slack guest (restricted or ultra-restricted) or a bot: only flows with allow_guests take them. */
  guest?: boolean;
  /**
   * The shifts this person is on now, in the schedules that matter (resolved by access/oncall.ts before the call,
   * so policy decides without I/O). Absent or empty: on call nowhere, which is also the answer when a provider failed.
   */
  onCall?: readonly OnCallShift[];
}

/** A shift someone is on now: the schedule (`provider:ID`) and when it ends (epoch ms; undefined when the provider does not say). */
export interface OnCallShift {
  schedule: string;
  endsAt?: number;
}

/** Whether the person is on call now in one of these schedules. */
export function isOnCallIn(schedules: readonly string[] | undefined, person: Requester): boolean {
  return (person.onCall ?? []).some((shift) => (schedules ?? []).includes(shift.schedule));
}

export function isInAudience(audience: Audience, person: Requester): boolean {
  if (audience.everyone) return true;
  if (audience.emails.includes(person.email.toLowerCase())) return true;
  if (isOnCallIn(audience.oncall, person)) return true;
  return (person.usergroups ?? []).some((group) => audience.slackUsergroups.includes(group));
}

// A recorded group list (a request's requester groups, a vote's groups) also carries the schedules someone was on
// call in at that moment, as `oncall:<schedule>`: no Slack user group ID starts so.
const ONCALL_MARK = 'oncall:';

/** The group list to record for a person: their groups and, marked, the schedules they are on call in. */
export function groupsWithShifts(usergroups: readonly string[], onCall: readonly OnCallShift[] | undefined): string[] {
  return [...new Set([...usergroups, ...(onCall ?? []).map((s) => `${ONCALL_MARK}${s.schedule}`)])];
}

/** A recorded group list read back: the user groups, and the on-call schedules as shifts (their end not kept). */
export function splitShiftGroups(recorded: readonly string[]): { usergroups: string[]; onCall: OnCallShift[] } {
  return {
    usergroups: recorded.filter((g) => !g.startsWith(ONCALL_MARK)),
    onCall: recorded.filter((g) => g.startsWith(ONCALL_MARK)).map((g) => ({ schedule: g.slice(ONCALL_MARK.length) })),
  };
}

/** Every schedule a flow names, requesters' first, then approvers'. */
export function schedulesOfFlow(flow: Flow): string[] {
  return [...new Set([...(flow.requesters.oncall ?? []), ...(flow.approvers.oncall ?? [])])];
}

/** The schedules any flow names: what a requester's shifts are resolved against. */
export function schedulesOfConfig(config: AccessConfig): string[] {
  return [...new Set(config.flows.flatMap(schedulesOfFlow))];
}

/** An auto-approval because the requester is on call: in which schedule, until when, for how long, and the record's words. */
export interface OnCallApproval {
  schedule: string;
  endsAt?: number;
  /** Seconds: the asked duration, capped to the rest of the shift when the flow says cap_to_shift. */
  duration: number;
  note: string;
}

const PROVIDER_TITLES: Record<string, string> = { pagerduty: 'PagerDuty', opsgenie: 'Opsgenie' };

/** "PagerDuty schedule PSCHED1" for `pagerduty:PSCHED1`. */
export function describeSchedule(schedule: string): string {
  const at = schedule.indexOf(':');
  const provider = schedule.slice(0, at);
  return `${PROVIDER_TITLES[provider] ?? provider} schedule ${schedule.slice(at + 1)}`;
}

/** "18:00 UTC" for a shift ending within a day of `now`, else "2026-12-03 18:00 UTC". */
export function formatShiftEnd(endsAt: number, now: number): string {
  const iso = new Date(endsAt).toISOString();
  return endsAt - now < 24 * 3600 * 1000 ? `${iso.slice(11, 16)} UTC` : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * auto_approve: on_call — the auto-approval this request gets now, or undefined (not such a flow, or the requester
 * is on call in none of its schedules: requesters' or approvers' oncall lists). The shift that runs longest is
 * used; with cap_to_shift (the default) the duration ends with it. A shift ending now gives nothing.
 */
export function onCallAutoApproval(flow: Flow, person: Requester, duration: number, now: number): OnCallApproval | undefined {
  if (!flow.autoApproveOnCall) return undefined;
  const schedules = schedulesOfFlow(flow);
  const longest = (shift: OnCallShift) => shift.endsAt ?? Number.POSITIVE_INFINITY;
  const shift = (person.onCall ?? []).filter((s) => schedules.includes(s.schedule)).sort((a, b) => longest(b) - longest(a))[0];
  if (!shift) return undefined;
  const left = shift.endsAt === undefined ? duration : Math.floor((shift.endsAt - now) / 1000);
  const capped = flow.capToShift === false ? duration : Math.min(duration, left);
  if (capped <= 0 || left <= 0) return undefined;
  const ends = shift.endsAt === undefined ? '' : ` (shift ends ${formatShiftEnd(shift.endsAt, now)})`;
  return { schedule: shift.schedule, ...(shift.endsAt !== undefined && { endsAt: shift.endsAt }), duration: capped, note: `auto-approved: on call in ${describeSchedule(shift.schedule)}${ends}` };
}

export function integrationOf(config: AccessConfig, flow: Flow): Integration {
  const integration = findIntegration(config, flow.resources.integration);
  if (!integration) throw new Error(`flow ${flow.name} names unknown integration ${flow.resources.integration}`);
  return integration;
}

/** The flows this person may request under: those whose requesters include them; for a guest, only flows with allow_guests. */
export function flowsForRequester(config: AccessConfig, person: Requester): Flow[] {
  return config.flows.filter((flow) => (!person.guest || flow.allowGuests) && isInAudience(flow.requesters, person));
}

const GUEST = 'is a guest (or a bot) in the chat workspace';

/** Every server this person may request, with the first flow (in file order) that allows it. */
export function requestableServers(config: AccessConfig, person: Requester): Array<ServerRef & { flow: Flow }> {
  const seen = new Set<string>();
  const out: Array<ServerRef & { flow: Flow }> = [];
  for (const flow of flowsForRequester(config, person)) {
    for (const ref of serversOfFlow(config, flow)) {
      if (seen.has(ref.server.name)) continue;
      seen.add(ref.server.name);
      out.push({ ...ref, flow });
    }
  }
  return out;
}

export interface AccessAsk {
  servers: string[];
  /** Seconds; undefined means the flow's default. */
  duration?: number;
  reason: string;
}

export interface PlannedRequest {
  flow: Flow;
  integration: Integration;
  servers: Server[];
  duration: number;
  reason: string;
  groups: string[];
  approvers: ApproverSet;
}

/**
 * Picks the flow for a request and checks it: every server known and allowed by one flow that this person
 * may use, duration within the maximum, a reason when the flow requires one.
 */
export function planRequest(config: AccessConfig, person: Requester, ask: AccessAsk, onCallNow: ReadonlyMap<string, readonly string[]> = new Map()): PlannedRequest {
  const names = [...new Set(ask.servers.map((s) => s.trim()).filter((s) => s.length > 0))];
  if (names.length === 0) throw new UserError('unknown_server', 'Name at least one server. `/ssh-access servers` lists the ones you may request.');
  for (const name of names) {
    if (!findServer(config, name)) {
      throw new UserError('unknown_server', `There is no server called "${name}". \`/ssh-access servers\` lists the ones you may request.`);
    }
  }
  const flows = flowsForRequester(config, person);
  const flow = flows.find((f) => {
    const covered = new Set(serversOfFlow(config, f).map((r) => r.server.name));
    return names.every((n) => covered.has(n));
  });
  if (!flow) {
    const allowed = new Set(requestableServers(config, person).map((r) => r.server.name));
    const refused = names.filter((n) => !allowed.has(n));
    if (refused.length > 0 && person.guest && requestableServers(config, { ...person, guest: false }).some((r) => refused.includes(r.server.name))) {
      throw new UserError('not_allowed', `${person.email} ${GUEST}, and no access flow that allows guests covers ${refused.join(', ')}: ask an admin to set allow_guests on a flow for it, or ask from a full member account.`);
    }
    if (refused.length > 0) {
      throw new UserError('not_allowed', `No access flow lets ${person.email} request ${refused.join(', ')}. Ask an admin to add you to a flow, or see \`/ssh-access servers\`.`);
    }
    throw new UserError('not_allowed', `No single access flow covers ${names.join(', ')} together: request them separately.`);
  }
  const duration = checkDuration(ask.duration ?? flow.defaultDuration, flow.maxDuration, `the flow ${flow.name} allows`);
  assertReasonLength(ask.reason, 'reason');
  const reason = ask.reason.trim();
  if (flow.requireReason && reason.length === 0) {
    throw new UserError('reason_required', `The flow ${flow.name} needs a reason: say why you need access (e.g. the incident or ticket).`);
  }
  const integration = integrationOf(config, flow);
  const servers = names.map((n) => integration.servers.find((s) => s.name === n)!);
  return {
    flow,
    integration,
    servers,
    duration,
    reason,
    groups: accountGroups(integration.userGroups, flow.grantGroups),
    approvers: resolveApprovers(flow, integration, servers, person.email, flow.allowSelfApproval,
      (flow.approvers.oncall ?? []).flatMap((schedule) => onCallNow.get(schedule) ?? [])),
  };
}

/**
 * The supplementary groups a grant gives: the integration's user_groups and the flow's grant_groups together;
 * [Default] when neither names one (only the user's own group).
 */
export function accountGroups(userGroups: readonly string[], grantGroups: readonly string[]): string[] {
  const groups = [...new Set([...userGroups, ...grantGroups].filter((g) => g !== DEFAULT_GROUP))];
  return groups.length > 0 ? groups : [DEFAULT_GROUP];
}

/** Who may approve: e-mails and Slack user groups, and which rule they came from. */
export interface ApproverSet {
  source: 'resource_owners' | 'flow' | 'integration_owners' | 'none';
  emails: string[];
  slackUsergroups: string[];
  /** On-call schedules whose on-call person may decide, checked at click time (absent in requests from before). */
  oncall?: string[];
}

/**
 * Approver resolution, in order: the owners of the requested servers (from the integration's
 * resource_owner_tag), else the flow's approvers, else the integration's owners. The first source that
 * names someone other than the requester wins (the requester counts only when the flow allows self-approval).
 */
export function resolveApprovers(
  flow: Flow, integration: Integration, servers: Server[], requesterEmail: string, allowSelf: boolean, onCallNow: readonly string[] = [],
): ApproverSet {
  const requester = requesterEmail.toLowerCase();
  const keep = (emails: string[]) => [...new Set(emails.map((e) => e.toLowerCase()))].filter((e) => allowSelf || e !== requester);
  const tag = integration.resourceOwnerTag;
  if (tag) {
    const owners = keep(servers.map((s) => s.tags[tag]).filter((v): v is string => typeof v === 'string' && v.includes('@')));
    if (owners.length > 0) return { source: 'resource_owners', emails: owners, slackUsergroups: [] };
  }
  // The e-mails of whoever is on call in the approvers' schedules now are asked; at a click, the schedule decides.
  const flowEmails = keep([...flow.approvers.emails, ...onCallNow]);
  const oncall = flow.approvers.oncall ?? [];
  if (flowEmails.length > 0 || flow.approvers.slackUsergroups.length > 0 || oncall.length > 0) {
    return { source: 'flow', emails: flowEmails, slackUsergroups: [...flow.approvers.slackUsergroups], ...(oncall.length > 0 && { oncall: [...oncall] }) };
  }
  const owners = keep(integration.owners);
  if (owners.length > 0) return { source: 'integration_owners', emails: owners, slackUsergroups: [] };
  return { source: 'none', emails: [], slackUsergroups: [] };
}

/** Whether this person is among the approvers. A guest (or a bot) never is, whatever the lists say. */
export function isEligibleApprover(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups' | 'oncall'>, person: Requester): boolean {
  if (person.guest) return false;
  return isInAudience({ everyone: false, emails: approvers.emails, slackUsergroups: approvers.slackUsergroups, oncall: approvers.oncall ?? [] }, person);
}

export interface ApprovalCheck {
  requesterEmail: string;
  approvers: ApproverSet;
  allowSelfApproval: boolean;
}

/** Throws the refusal a click or a CLI call gets when this person may not decide this request. */
export function assertMayDecide(check: ApprovalCheck, person: Requester, requestId: number): void {
  const self = person.email.toLowerCase() === check.requesterEmail.toLowerCase();
  if (self && !check.allowSelfApproval) {
    throw new UserError('not_approver', `You asked for request ${requestId} yourself, so you cannot decide it: another approver must.`);
  }
  if (person.guest) {
    throw new UserError('not_approver', `${person.email} ${GUEST}, and guests never decide requests: a full member who approves request ${requestId} must.`);
  }
  if (!isEligibleApprover(check.approvers, person)) {
    throw new UserError('not_approver', `${person.email} is not an approver of request ${requestId}: ${whoDecides(check.approvers)}.`);
  }
}

/** Who may decide, in words: "lead@example.com or a member of the Slack user group S0LEADS can decide it". */
export function whoDecides(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups' | 'oncall'>): string {
  const who = [
    ...approvers.emails, ...approvers.slackUsergroups.map((g) => `a member of the Slack user group ${g}`),
    ...(approvers.oncall ?? []).map((s) => `whoever is on call in ${describeSchedule(s)}`),
  ];
  if (who.length === 0) return 'nobody is configured to decide it; ask an admin to check the flow';
  const last = who.pop()!;
  return `${who.length > 0 ? `${who.join(', ')} or ` : ''}${last} can decide it`;
}

/** An approver may shorten the duration, never lengthen it past what was asked or the flow's maximum. */
export function approvedDuration(requested: number, maxDuration: number, override?: number): number {
  if (override === undefined) return requested;
  if (override > requested) {
    throw new UserError('duration_too_long', `An approver may shorten access, not lengthen it: ${formatDuration(override)} is more than the ${formatDuration(requested)} requested.`);
  }
  return checkDuration(override, maxDuration);
}

/** The approvers a decision counts from: those in the request's snapshot who are approvers under the current config too. */
export function stillApprovers(snapshot: ApproverSet, current: ApproverSet): ApproverSet {
  const emails = new Set(current.emails.map((e) => e.toLowerCase()));
  const oncall = (snapshot.oncall ?? []).filter((s) => (current.oncall ?? []).includes(s));
  return {
    source: current.source,
    emails: snapshot.emails.filter((e) => emails.has(e.toLowerCase())),
    slackUsergroups: snapshot.slackUsergroups.filter((g) => current.slackUsergroups.includes(g)),
    ...(oncall.length > 0 && { oncall }),
  };
}

/**
 * Throws the refusal for someone who was asked to decide a request but is no longer an approver of it now. The
 * snapshot check (assertMayDecide) comes first; this one says "no longer".
 */
export function assertStillMayDecide(snapshot: ApproverSet, current: ApproverSet, person: Requester, requestId: number): void {
  const still = stillApprovers(snapshot, current);
  if (isEligibleApprover(still, person)) return;
  const next = still.emails.length + still.slackUsergroups.length + (still.oncall?.length ?? 0) === 0
    ? ', and none of the approvers it was sent to still is: the requester can cancel it and ask again.'
    : `: ${whoDecides(still)}.`;
  throw new UserError('not_approver', `${person.email} is no longer an approver of request ${requestId} under the current configuration${next}`);
}

/** What a stored request asked for, and who asked (as they were when they asked), for the decision-time checks. */
export interface StoredAsk {
  flow: string;
  integration: string;
  servers: readonly string[];
  requester: Requester;
}

/** The rules a stored request is decided under now. */
export interface DecisionPolicy {
  flow: Flow;
  integration: Integration;
  approvers: ApproverSet;
}

/**
 * The current configuration's answer to "may this person still request these servers, and who approves it now":
 * the request's own flow when it still lets the requester in and covers every server of the same integration,
 * else the first flow that does (a renamed flow). Undefined when none does: the request can no longer be approved.
 */
export function decisionPolicyFor(config: AccessConfig, stored: StoredAsk): DecisionPolicy | undefined {
  const covers = (flow: Flow): boolean => {
    if (flow.resources.integration !== stored.integration) return false;
    const names = new Set(serversOfFlow(config, flow).map((r) => r.server.name));
    return stored.servers.every((s) => names.has(s));
  };
  const flows = flowsForRequester(config, stored.requester);
  const flow = flows.find((f) => f.name === stored.flow && covers(f)) ?? flows.find(covers);
  if (!flow) return undefined;
  const integration = integrationOf(config, flow);
  const servers = stored.servers.map((n) => integration.servers.find((s) => s.name === n)!);
  return { flow, integration, approvers: resolveApprovers(flow, integration, servers, stored.requester.email, flow.allowSelfApproval) };
}

/** The most characters a reason (of a request, an extension or a decision) may have. */
export const MAX_REASON_LENGTH = 500;

/**
 * Refuses free text longer than MAX_REASON_LENGTH characters (code points, after trimming): it is stored, audited
 * and shown to approvers on every platform, whose messages have limits of their own.
 */
export function assertReasonLength(text: string | undefined, what: string): void {
  if (text === undefined || text.length <= MAX_REASON_LENGTH) return;
  const length = [...text.trim()].length;
  if (length <= MAX_REASON_LENGTH) return;
  throw new UserError('reason_too_long', `The ${what} is ${length} characters long; Keyway takes at most ${MAX_REASON_LENGTH}. Shorten it (link to the ticket instead of pasting it) and send it again.`);
}

/** What a certificate carries beyond its identity: fixed when the request is approved, stored with it. */
export interface CertificateOptions {
  extensions: string[];
  sourceAddress: string[];
  forceCommand?: string;
}

/** A flow's certificate options: permit-pty always, forwarding only when allowed, and its critical options. */
export function certificateOptionsOf(flow: Flow | undefined): CertificateOptions {
  const extensions = ['permit-pty'];
  if (flow?.allowAgentForwarding) extensions.push('permit-agent-forwarding');
  if (flow?.allowPortForwarding) extensions.push('permit-port-forwarding');
  return { sourceAddress: [...(flow?.sourceAddress ?? [])], ...(flow?.forceCommand ? { forceCommand: flow.forceCommand } : {}), extensions };
}

/** Seconds a running access may still be extended by: the flow's maximum, less what it already runs in all. */
export function extensionAllowance(request: { decidedAt: number | null; createdAt: number; accessExpiresAt: number | null }, maxDurationSeconds: number): number {
  if (request.accessExpiresAt === null) return 0;
  const startedAt = request.decidedAt ?? request.createdAt;
  return Math.max(0, Math.floor((startedAt + maxDurationSeconds * 1000 - request.accessExpiresAt) / 1000));
}

/**
 * Refuses an extension longer than the flow still allows this access, saying how much it does allow. Checked when
 * the extension is asked for and again when it is approved: by then another extension may have used the allowance.
 */
export function assertExtensionFits(
  request: { id: number; decidedAt: number | null; createdAt: number; accessExpiresAt: number | null },
  flow: Pick<Flow, 'name' | 'maxDuration'>,
  durationSeconds: number,
): void {
  const left = extensionAllowance(request, flow.maxDuration);
  if (durationSeconds <= left) return;
  throw new UserError('duration_too_long', left > 0
    ? `The flow ${flow.name} allows ${formatDuration(flow.maxDuration)} in all: you can extend request ${request.id} by ${formatDuration(left)} at most.`
    : `Request ${request.id} already has the ${formatDuration(flow.maxDuration)} its flow allows: make a new request.`);
}
