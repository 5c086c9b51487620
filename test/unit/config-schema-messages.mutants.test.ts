// Every sentence src/config/schema.ts can say about an access file, each produced by the smallest file that earns
// it, and the defaults and transforms it applies. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import { parseAccessConfig } from '../../src/config/load.js';
import { configProblems, yaml } from '../helpers/config-problems.js';

const FILE = 'access.yaml';
const INTEGRATION = ['integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1, tags: { env: prod } }]', '    owners: [ops@example.com]'];
const FLOW = ['flows:', '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prod, servers: [web-1] }'];

const messagesOf = (text: string): string[] => configProblems(text, FILE, () => '[]').map((problem) => problem.message);

const withIntegration = (...lines: string[]) => messagesOf(yaml(...INTEGRATION, ...lines.map((line) => `    ${line}`)));
const withFlow = (...lines: string[]) => messagesOf(yaml(...INTEGRATION, ...FLOW, ...lines.map((line) => `    ${line}`)));

describe('integration settings', () => {
  it('each bad value, in its own words', () => {
    expect(withIntegration('user_key_name: ../id')).toEqual(['user_key_name must be a file name like id_ed25519']);
    expect(withIntegration('user_key_name: .hidden')).toEqual(['user_key_name must be a file name like id_ed25519']);
    expect(withIntegration('user_key_name: id!')).toEqual(['user_key_name must be a file name like id_ed25519']);
    expect(withIntegration('cleanup_after_days: 1.5')).toEqual(['cleanup_after_days must be a whole number of days']);
    expect(withIntegration('cleanup_after_days: -1')).toEqual(['cleanup_after_days must not be negative']);
    expect(withIntegration('cleanup_after_days: 3651')).toEqual(['cleanup_after_days must be at most 3650']);
    expect(withIntegration(`custom_access_details: "${'x'.repeat(401)}"`)).toEqual(['custom_access_details must be at most 400 characters']);
    expect(withIntegration('resource_owner_tag: ""')).toEqual(['resource_owner_tag must name a tag']);
    expect(messagesOf(yaml('integrations:', '  - name: prod', '    servers: []', '    owners: [ops@example.com]'))).toEqual(['the server list must have at least one server']);
    expect(messagesOf(yaml('integrations:', '  - name: prod', '    servers_file: ""', '    owners: [ops@example.com]'))).toEqual(['servers_file must be a path']);
    expect(messagesOf(yaml('integrations: []'))).toEqual(['integrations must list at least one integration']);
  });

  it('takes the edges of each range', () => {
    const config = parseAccessConfig(yaml(...INTEGRATION, '    cleanup_after_days: 3650', `    custom_access_details: "${'x'.repeat(400)}"`, '    user_key_name: _id.ed-1'), FILE);
    expect(config.integrations[0]!.cleanupAfterDays).toBe(3650);
    expect(config.integrations[0]!.customAccessDetails).toHaveLength(400);
    expect(config.integrations[0]!.userKeyName).toBe('_id.ed-1');
    expect(parseAccessConfig(yaml(...INTEGRATION, '    cleanup_after_days: 0'), FILE).integrations[0]!.cleanupAfterDays).toBe(0);
  });

  it('fills in the defaults', () => {
    const integration = parseAccessConfig(yaml(...INTEGRATION), FILE).integrations[0]!;
    expect(integration).toEqual({
      name: 'prod', type: 'ssh', userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60_000, max: 64_999 },
      cleanupAfterDays: 7, owners: ['ops@example.com'], allowPrivilegedGroups: false,
      servers: [{ name: 'web-1', host: '10.0.0.1', user: 'keyway', port: 22, tags: { env: 'prod' } }],
    });
  });

  it('says which type an integration may have', () => {
    expect(withIntegration('type: ldap')).toEqual(['type must be one of "ssh", "aws-ec2", "azure-vm", "rdp", "windows-dc"']);
    expect(messagesOf(yaml('integrations: [5]'))).toEqual(['entry 1 of integrations must be a map (key: value), not a whole number']);
  });

  it('needs servers or servers_file, not both', () => {
    expect(messagesOf(yaml('integrations:', '  - name: prod', '    owners: [ops@example.com]'))).toEqual(['integration "prod" needs servers (a list) or servers_file (a JSON file)']);
  });
});

describe('flow settings', () => {
  it('each bad value, in its own words', () => {
    expect(withFlow('min_approvals: 0')).toEqual(['min_approvals must be at least 1 (use auto_approve: true for flows that need no approval)']);
    expect(withFlow('min_approvals: 1.5')).toEqual(['min_approvals must be a whole number']);
    expect(withFlow('auto_approve: "yes"')).toEqual(['auto_approve must be true or false, not text']);
    expect(withFlow('auto_approve: 1')).toEqual(['auto_approve must be true, false or on_call']);
    expect(withFlow('notify_channel: ""')).toEqual(['notify_channel must not be empty']);
    expect(withFlow('approval_channel: "a\\nb"')).toEqual(['approval_channel must be a single line']);
    expect(withFlow('force_command: "uptime\\r"')).toEqual(['force_command must be a single line']);
    const withResources = (resources: string) => messagesOf(yaml(...INTEGRATION, 'flows:', '  - name: debug', '    requesters: { everyone: true }', `    resources: ${resources}`));
    expect(withResources('{ integration: "", servers: [web-1] }')).toContain('resources.integration must name an integration');
    expect(withResources('{ integration: prod }')).toEqual(['resources selects no servers: list servers by name, or tags to match (like tags: { env: prod })']);
  });

  it('audiences: approvers cannot be everyone, everyone excludes lists, requesters must name someone', () => {
    expect(withFlow('approvers: { everyone: true }')).toEqual([
      'approvers cannot be everyone: list the emails or slack_usergroups of the people who may approve',
    ]);
    expect(messagesOf(yaml(...INTEGRATION, 'flows:', '  - name: debug', '    requesters: { everyone: true, emails: [a@example.com] }', '    resources: { integration: prod, servers: [web-1] }'))).toEqual([
      'requesters: everyone: true cannot be combined with emails or slack_usergroups',
    ]);
    expect(messagesOf(yaml(...INTEGRATION, 'flows:', '  - name: debug', '    requesters: { everyone: false }', '    resources: { integration: prod, servers: [web-1] }'))).toEqual([
      'requesters lists nobody: give emails, slack_usergroups, or everyone: true',
    ]);
    expect(parseAccessConfig(yaml(...INTEGRATION, ...FLOW, '    approvers: { everyone: false, emails: [a@example.com], slack_usergroups: [S0123] }'), FILE).flows[0]!.approvers)
      .toEqual({ everyone: false, emails: ['a@example.com'], slackUsergroups: ['S0123'] });
  });

  it('keeps an audience\'s schedules once each, and on_call auto-approval with its cap', () => {
    const config = parseAccessConfig(yaml(
      'oncall:', '  pagerduty: { secret: { env: PD } }', ...INTEGRATION, 'flows:', '  - name: debug',
      '    requesters: { oncall: [pagerduty:P1, pagerduty:P1] }', '    resources: { integration: prod, servers: [web-1] }',
      '    auto_approve: on_call', '    cap_to_shift: false',
    ), FILE);
    const flow = config.flows[0]!;
    expect(flow.requesters).toEqual({ everyone: false, emails: [], slackUsergroups: [], oncall: ['pagerduty:P1'] });
    expect(flow.approvers).toEqual({ everyone: false, emails: [], slackUsergroups: [] });
    expect(flow.autoApprove).toBe(false);
    expect(flow.autoApproveOnCall).toBe(true);
    expect(flow.capToShift).toBe(false);
  });

  it('fills in the defaults, and keeps the optional text settings only when given', () => {
    const flow = parseAccessConfig(yaml(...INTEGRATION, ...FLOW), FILE).flows[0]!;
    expect(flow).toEqual({
      name: 'debug', requesters: { everyone: true, emails: [], slackUsergroups: [] }, resources: { integration: 'prod', servers: ['web-1'], tags: {} },
      grantGroups: ['Default'], approvers: { everyone: false, emails: [], slackUsergroups: [] }, minApprovals: 1, allowSelfApproval: false,
      autoApprove: false, defaultDuration: 3600, maxDuration: 28_800, requireReason: true, requestTtl: 3600,
      allowAgentForwarding: false, allowPortForwarding: false, sourceAddress: [], allowGuests: false,
    });
    const full = parseAccessConfig(yaml(...INTEGRATION, ...FLOW, '    notify_channel: "#ops"', '    approval_channel: "#leads"', '    force_command: uptime', '    auto_approve: true'), FILE).flows[0]!;
    expect([full.notifyChannel, full.approvalChannel, full.forceCommand, full.autoApprove, 'autoApproveOnCall' in full]).toEqual(['#ops', '#leads', 'uptime', true, false]);
  });
});

describe('top-level settings', () => {
  it('max_pending_requests from 1 to 100, a whole number', () => {
    expect(messagesOf(yaml(...INTEGRATION, 'max_pending_requests: 0'))).toEqual(['max_pending_requests must be at least 1']);
    expect(messagesOf(yaml(...INTEGRATION, 'max_pending_requests: 101'))).toEqual(['max_pending_requests must be at most 100']);
    expect(messagesOf(yaml(...INTEGRATION, 'max_pending_requests: 2.5'))).toEqual(['max_pending_requests must be a whole number']);
    expect(parseAccessConfig(yaml(...INTEGRATION, 'max_pending_requests: 100'), FILE).maxPendingRequests).toBe(100);
    expect(parseAccessConfig(yaml(...INTEGRATION), FILE).maxPendingRequests).toBe(5);
  });

  it('an oncall section needs a provider, and has default cache and timeout', () => {
    expect(messagesOf(yaml(...INTEGRATION, 'oncall: { cache: 1m }'))).toEqual(['oncall names no provider: give pagerduty or opsgenie (with a secret)']);
    expect(parseAccessConfig(yaml(...INTEGRATION, 'oncall:', '  opsgenie: { secret: { env: OG } }'), FILE).oncall).toEqual({
      providers: { opsgenie: { secret: { env: 'OG' } } }, cacheSeconds: 60, timeoutSeconds: 5,
    });
  });
});
