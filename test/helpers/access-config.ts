// Builds AccessConfig objects for tests without YAML: defaults as the config loader applies them.
import type { AccessConfig, Flow, Server, SshIntegration } from '../../src/core/model.js';

export function server(name: string, extra: Partial<Server> = {}): Server {
  return { name, host: '127.0.0.1', user: 'keyway', port: 22, tags: {}, ...extra };
}

export function integration(name: string, servers: Server[], extra: Partial<SshIntegration> = {}): SshIntegration {
  const ssh: SshIntegration = {
    name, type: 'ssh', servers, userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
    uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: [], allowPrivilegedGroups: false, ...extra,
  };
  return ssh;
}

export function flow(name: string, integrationName: string, extra: Partial<Flow> = {}): Flow {
  return {
    name,
    requesters: { everyone: true, emails: [], slackUsergroups: [] },
    resources: { integration: integrationName, servers: [], tags: { env: 'prod' } },
    grantGroups: ['Default'],
    approvers: { everyone: false, emails: ['lead@example.com'], slackUsergroups: [] },
    minApprovals: 1, allowSelfApproval: false, autoApprove: false,
    defaultDuration: 3600, maxDuration: 8 * 3600, requireReason: true, requestTtl: 3600,
    allowAgentForwarding: false, allowPortForwarding: false, sourceAddress: [], allowGuests: false,
    ...extra,
  };
}

export function accessConfig(extra: Partial<AccessConfig> = {}): AccessConfig {
  const prod = integration('prod-linux', [
    server('web-1', { tags: { env: 'prod', owner: 'ana@example.com' } }),
    server('web-2', { tags: { env: 'prod' } }),
    server('db-1', { tags: { env: 'prod', role: 'db' } }),
  ], { owners: ['platform@example.com'], resourceOwnerTag: 'owner' });
  return {
    integrations: [prod],
    people: [],
    maxPendingRequests: 5,
    flows: [flow('prod-debug', 'prod-linux', { requesters: { everyone: false, emails: ['dev@example.com'], slackUsergroups: ['S0DEVS'] } })],
    ...extra,
  };
}
