// Small pure questions many parts ask of a loaded AccessConfig.
import type { AccessConfig, Flow, FlowResources, Integration, Server, ServerRef } from './model.js';

export function findIntegration(config: AccessConfig, name: string): Integration | undefined {
  return config.integrations.find((integration) => integration.name === name);
}

export function findFlow(config: AccessConfig, name: string): Flow | undefined {
  return config.flows.find((flow) => flow.name === name);
}

/** Exact, case-sensitive: server names are unique across integrations, so a name alone is enough. */
export function findServer(config: AccessConfig, name: string): ServerRef | undefined {
  for (const integration of config.integrations) {
    const server = integration.servers.find((candidate) => candidate.name === name);
    if (server) return { integration, server };
  }
  return undefined;
}

/** Every server name in the config: what the chat grammar reads names with spaces against. */
export function serverNames(config: AccessConfig): string[] {
  return config.integrations.flatMap((integration) => integration.servers.map((server) => server.name));
}

/**
 * The servers a flow's resources select within its integration: those named in `servers`, plus (union) those
 * whose tags match every `tags` selector. In inventory order, each once. An empty selector selects nothing.
 */
export function selectServers(integration: Integration, resources: FlowResources): Server[] {
  const named = new Set(resources.servers);
  const selectors = Object.entries(resources.tags);
  return integration.servers.filter(
    (server) => named.has(server.name) || (selectors.length > 0 && selectors.every(([tag, value]) => server.tags[tag] === value)),
  );
}

export function serversOfFlow(config: AccessConfig, flow: Flow): ServerRef[] {
  const integration = findIntegration(config, flow.resources.integration);
  if (!integration) return [];
  return selectServers(integration, flow.resources).map((server) => ({ integration, server }));
}

/** E-mail (lower-case) → the linux_user configured for that person under people:. */
export function peopleOverrides(config: AccessConfig): Map<string, string> {
  return new Map(config.people.map((person) => [person.email, person.linuxUser]));
}
