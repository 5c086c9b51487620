// Rules that relate one part of the access file to another: unique names, flows that point at real servers,
// durations that fit, groups the integration allows, and someone able to approve every flow.
import { formatDuration } from '../core/duration.js';
import { validateGrantableGroup } from '../core/linux-names.js';
import { UserError } from '../core/errors.js';
import { validateRdpGroupName } from '../core/active-directory-names.js';
import { DEFAULT_GROUP, isCloudIntegration, type AccessConfig, type Flow, type Integration, type OncallProviderName } from '../core/model.js';
import type { ConfigProblem } from './config-error.js';
import { findIntegration, findServer, selectServers } from '../core/lookup.js';
import type { ConfigPath, SourceFile } from './source-locator.js';

/** Where a server was written: the YAML file or a servers_file, and the path of its map there. */
export interface ServerOrigin {
  source: SourceFile;
  path: ConfigPath;
}

export interface LocatedConfig {
  config: AccessConfig;
  yaml: SourceFile;
  /** serverOrigins[i][j] is where config.integrations[i].servers[j] was written. */
  serverOrigins: ServerOrigin[][];
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The kinds whose accounts are Linux accounts: their groups are Linux groups. */
const LINUX_KINDS: readonly string[] = ['ssh', 'aws-ec2', 'azure-vm'];

export function crossCheckConfig(located: LocatedConfig): ConfigProblem[] {
  return [...checkIntegrations(located), ...checkPeople(located), ...checkFlows(located)];
}

function checkIntegrations({ config, yaml, serverOrigins }: LocatedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const integrationNames = new Map<string, ConfigProblem>();
  const serverNames = new Map<string, { integration: string; at: ConfigProblem }>();
  config.integrations.forEach((integration, i) => {
    const namePath = ['integrations', i, 'name'];
    const first = integrationNames.get(integration.name);
    if (first) problems.push(yaml.problemAt(namePath, `integration name "${integration.name}" is used twice (first at line ${first.line})`));
    else integrationNames.set(integration.name, yaml.problemAt(namePath, ''));

    if (integration.resourceOwnerTag !== undefined && integration.owners.length === 0) {
      problems.push(
        yaml.problemAt(['integrations', i, 'resource_owner_tag'], 'resource_owner_tag is set but owners is empty: list integration owners, who approve for servers without that tag'),
      );
    }

    problems.push(...checkGroups(integration, integration.userGroups, 'user_groups', (g, message) => yaml.problemAt(['integrations', i, 'user_groups', g], message)));

    if (integration.type === 'rdp' && integration.domain !== undefined) {
      const domain = findIntegration(config, integration.domain);
      if (domain?.type !== 'windows-dc') {
        const known = config.integrations.filter((d) => d.type === 'windows-dc').map((d) => d.name);
        problems.push(yaml.problemAt(['integrations', i, 'domain'], `domain must name a windows-dc integration, and "${integration.domain}" ${domain ? `is of type ${domain.type}` : 'is no integration'} (windows-dc integrations: ${known.length > 0 ? known.join(', ') : 'none'})`));
      }
    }

    integration.servers.forEach((server, j) => {
      const origin = serverOrigins[i]![j]!;
      const here = (field: ConfigPath, message: string) => origin.source.problemAt([...origin.path, ...field], message);
      const seen = serverNames.get(server.name);
      if (seen) {
        problems.push(
          here(['name'], `server name "${server.name}" is already used by integration "${seen.integration}" at ${where(seen.at)}: server names must be unique across all integrations, because people type them`),
        );
      } else {
        serverNames.set(server.name, { integration: integration.name, at: here(['name'], '') });
      }
      const ownerTag = integration.resourceOwnerTag;
      const owner = ownerTag === undefined ? undefined : server.tags[ownerTag];
      if (ownerTag !== undefined && owner !== undefined && !EMAIL.test(owner)) {
        problems.push(here(['tags', ownerTag], `tag ${ownerTag} names the server's owner (resource_owner_tag) and must be an e-mail address, not "${owner}"`));
      }
    });
  });
  return problems;
}

function checkPeople({ config, yaml }: LocatedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const emails = new Map<string, number>();
  const users = new Map<string, { email: string; line: number }>();
  config.people.forEach((person, p) => {
    const emailPath = ['people', p, 'email'];
    const firstLine = emails.get(person.email);
    if (firstLine !== undefined) problems.push(yaml.problemAt(emailPath, `${person.email} is listed twice under people (first at line ${firstLine})`));
    else emails.set(person.email, yaml.problemAt(emailPath, '').line);

    const userAt = yaml.problemAt(['people', p, 'linux_user'], '');
    const taken = users.get(person.linuxUser);
    if (taken) {
      problems.push({ ...userAt, message: `linux_user "${person.linuxUser}" is already used by ${taken.email} (line ${taken.line}): each person needs their own Linux user` });
    } else {
      users.set(person.linuxUser, { email: person.email, line: userAt.line });
    }
  });
  return problems;
}

function checkFlows({ config, yaml }: LocatedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const flowNames = new Map<string, number>();
  config.flows.forEach((flow, f) => {
    const at = (path: ConfigPath, message: string) => problems.push(yaml.problemAt(['flows', f, ...path], message));
    const nameAt = yaml.problemAt(['flows', f, 'name'], '');
    if (flowNames.has(flow.name)) at(['name'], `flow name "${flow.name}" is used twice (first at line ${flowNames.get(flow.name)})`);
    else flowNames.set(flow.name, nameAt.line);

    if (flow.defaultDuration > flow.maxDuration) {
      at(['default_duration'], `default_duration (${formatDuration(flow.defaultDuration)}) is longer than max_duration (${formatDuration(flow.maxDuration)})`);
    }

    const integration = findIntegration(config, flow.resources.integration);
    if (!integration) {
      const known = config.integrations.map((candidate) => candidate.name).join(', ');
      at(['resources', 'integration'], `unknown integration "${flow.resources.integration}" (known integrations: ${known})`);
      return;
    }
    if (integration.type === 'windows-dc' && flow.grantGroups.some((g) => g !== DEFAULT_GROUP)) {
      at(['grant_groups'], `grant_groups has no meaning for windows-dc integration "${integration.name}": its groups are the resources people request (resources.servers)`);
    }
    if (integration.type === 'rdp' && flow.grantGroups.some((g) => g !== DEFAULT_GROUP)) {
      at(['grant_groups'], `grant_groups is not used for rdp integration "${integration.name}": the Windows groups a grant gives are the integration's user_groups (default [Remote Desktop Users])`);
    }
    problems.push(...checkGroups(integration, flow.grantGroups, 'grant_groups', (g, message) => yaml.problemAt(['flows', f, 'grant_groups', g], message)));
    checkFlowResources(config, flow, integration, at);
    checkFlowApprovers(flow, integration, at);
    checkFlowShifts(config, flow, at);
  });
  return problems;
}

type Report = (path: ConfigPath, message: string) => void;

function checkFlowResources(config: AccessConfig, flow: Flow, integration: Integration, at: Report): void {
  // A cloud inventory's servers are only known after a refresh: names and tags there are checked against its snapshot.
  if (isCloudIntegration(integration)) return;
  let unknownNames = false;
  flow.resources.servers.forEach((name, s) => {
    if (integration.servers.some((server) => server.name === name)) return;
    unknownNames = true;
    const elsewhere = findServer(config, name);
    const hint = elsewhere ? ` (it belongs to integration "${elsewhere.integration.name}")` : '';
    at(['resources', 'servers', s], `integration "${integration.name}" has no server "${name}"${hint}`);
  });
  if (!unknownNames && selectServers(integration, flow.resources).length === 0) {
    const selectors = Object.entries(flow.resources.tags).map(([tag, value]) => `${tag}=${value}`).join(', ');
    at(['resources'], `resources match no server of integration "${integration.name}": no server has the tags ${selectors}`);
  }
}

/** Schedules name a configured provider; auto_approve: on_call needs a schedule to be on call in. */
function checkFlowShifts(config: AccessConfig, flow: Flow, at: Report): void {
  for (const role of ['requesters', 'approvers'] as const) {
    (flow[role].oncall ?? []).forEach((schedule, i) => {
      const provider = schedule.slice(0, schedule.indexOf(':')) as OncallProviderName;
      if (!config.oncall?.providers[provider]) {
        at([role, 'oncall', i], `${schedule} names ${provider}, but the top-level oncall: section has no ${provider} provider: add oncall: { ${provider}: { secret: { env: … } } }`);
      }
    });
  }
  if (flow.autoApproveOnCall && (flow.requesters.oncall ?? []).length + (flow.approvers.oncall ?? []).length === 0) {
    at(['auto_approve'], `auto_approve: on_call needs an on-call schedule in requesters.oncall or approvers.oncall of flow "${flow.name}"`);
  }
}

function checkFlowApprovers(flow: Flow, integration: Integration, at: Report): void {
  if (flow.autoApprove) return;
  const { emails, slackUsergroups } = flow.approvers;
  // On-call approvers are a rota nobody can count ahead: no min_approvals arithmetic then.
  if ((flow.approvers.oncall ?? []).length > 0) return;
  if (emails.length === 0 && slackUsergroups.length === 0 && integration.owners.length === 0 && integration.resourceOwnerTag === undefined) {
    at(['approvers'], `nobody can approve flow "${flow.name}": list approvers, set owners on integration "${integration.name}", or set auto_approve: true`);
    return;
  }
  // With only e-mails we know everyone who could approve, so we can tell when min_approvals can never be reached.
  if (slackUsergroups.length > 0) return;
  const candidates = new Set([...emails, ...integration.owners]);
  const ownerTag = integration.resourceOwnerTag;
  if (ownerTag !== undefined) {
    for (const server of selectServers(integration, flow.resources)) {
      const owner = server.tags[ownerTag];
      if (owner !== undefined) candidates.add(owner.toLowerCase());
    }
  }
  if (candidates.size > 0 && candidates.size < flow.minApprovals) {
    at(['min_approvals'], `min_approvals is ${flow.minApprovals} but only ${candidates.size} ${candidates.size === 1 ? 'person' : 'people'} can approve this flow: add approvers or lower min_approvals`);
  }
}

/** A flow's grant_groups are judged by its integration's allow_privileged_groups, like the integration's own user_groups. */
function checkGroups(
  integration: Integration,
  groups: readonly string[],
  field: 'user_groups' | 'grant_groups',
  problemAt: (index: number, message: string) => ConfigProblem,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (integration.type === 'rdp') {
    groups.forEach((group, g) => {
      if (group === DEFAULT_GROUP) return;
      try {
        validateRdpGroupName(group, { allowPrivileged: integration.allowPrivilegedGroups });
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        problems.push(problemAt(g, `${field}: ${error.message}`));
      }
    });
    return problems;
  }
  // windows-dc groups are checked by the rules AD applies, in the schema; these are the Linux rules.
  if (!LINUX_KINDS.includes(integration.type)) return problems;
  groups.forEach((group, g) => {
    if (group === DEFAULT_GROUP) return;
    try {
      validateGrantableGroup(group, { allowPrivileged: integration.allowPrivilegedGroups, integration: integration.name });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(problemAt(g, `${field}: ${error.message}`));
    }
  });
  return problems;
}

function where(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}:${problem.col}`;
}
