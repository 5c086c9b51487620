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
}

export function isInAudience(audience: Audience, person: Requester): boolean {
  if (audience.everyone) return true;
  if (audience.emails.includes(person.email.toLowerCase())) return true;
  return (person.usergroups ?? []).some((group) => audience.slackUsergroups.includes(group));
}

export function integrationOf(config: AccessConfig, flow: Flow): Integration {
  const integration = findIntegration(config, flow.resources.integration);
  if (!integration) throw new Error(`flow ${flow.name} names unknown integration ${flow.resources.integration}`);
  return integration;
}

export function flowsForRequester(config: AccessConfig, person: Requester): Flow[] {
  return config.flows.filter((flow) => isInAudience(flow.requesters, person));
}

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
export function planRequest(config: AccessConfig, person: Requester, ask: AccessAsk): PlannedRequest {
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
    if (refused.length > 0) {
      throw new UserError('not_allowed', `No access flow lets ${person.email} request ${refused.join(', ')}. Ask an admin to add you to a flow, or see \`/ssh-access servers\`.`);
    }
    throw new UserError('not_allowed', `No single access flow covers ${names.join(', ')} together: request them separately.`);
  }
  const duration = checkDuration(ask.duration ?? flow.defaultDuration, flow.maxDuration, `the flow ${flow.name} allows`);
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
    approvers: resolveApprovers(flow, integration, servers, person.email, flow.allowSelfApproval),
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
}

/**
 * Approver resolution, in order: the owners of the requested servers (from the integration's
 * resource_owner_tag), else the flow's approvers, else the integration's owners. The first source that
 * names someone other than the requester wins (the requester counts only when the flow allows self-approval).
 */
export function resolveApprovers(flow: Flow, integration: Integration, servers: Server[], requesterEmail: string, allowSelf: boolean): ApproverSet {
  const requester = requesterEmail.toLowerCase();
  const keep = (emails: string[]) => [...new Set(emails.map((e) => e.toLowerCase()))].filter((e) => allowSelf || e !== requester);
  const tag = integration.resourceOwnerTag;
  if (tag) {
    const owners = keep(servers.map((s) => s.tags[tag]).filter((v): v is string => typeof v === 'string' && v.includes('@')));
    if (owners.length > 0) return { source: 'resource_owners', emails: owners, slackUsergroups: [] };
  }
  const flowEmails = keep(flow.approvers.emails);
  if (flowEmails.length > 0 || flow.approvers.slackUsergroups.length > 0) {
    return { source: 'flow', emails: flowEmails, slackUsergroups: [...flow.approvers.slackUsergroups] };
  }
  const owners = keep(integration.owners);
  if (owners.length > 0) return { source: 'integration_owners', emails: owners, slackUsergroups: [] };
  return { source: 'none', emails: [], slackUsergroups: [] };
}

export function isEligibleApprover(approvers: ApproverSet, person: Requester): boolean {
  return isInAudience({ everyone: false, emails: approvers.emails, slackUsergroups: approvers.slackUsergroups }, person);
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
  if (!isEligibleApprover(check.approvers, person)) {
    throw new UserError('not_approver', `${person.email} is not an approver of request ${requestId}: ${whoDecides(check.approvers)}.`);
  }
}

/** Who may decide, in words: "lead@example.com or a member of the Slack user group S0LEADS can decide it". */
export function whoDecides(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups'>): string {
  const who = [...approvers.emails, ...approvers.slackUsergroups.map((g) => `a member of the Slack user group ${g}`)];
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
