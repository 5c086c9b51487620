// type: aws-ec2 and type: azure-vm in access.yaml: their settings with defaults, the refusals a person can fix, and
// flows that select a cloud inventory's servers by tag (names are known only after a refresh).
import { describe, expect, it } from 'vitest';
import { parseAccessConfig } from '../../src/config/load.js';
import { configProblems, yaml } from '../helpers/config-problems.js';

const FILE = 'access.yaml';

const problemsOf = (text: string): string[] => configProblems(text, FILE).map((p) => `${p.line}: ${p.message}`);

const FLOW = ['flows:', '  - name: cloud-debug', '    requesters: { everyone: true }', '    resources: { integration: cloud, tags: { env: prod } }', '    approvers: { emails: [lead@example.com] }'];

describe('cloud integrations in access.yaml', () => {
  it('reads an aws-ec2 integration with every default filled in, and no servers until a refresh', () => {
    const config = parseAccessConfig(yaml('integrations:', '  - name: cloud', '    type: aws-ec2', '    regions: [eu-west-1, us-east-1, eu-west-1]', '    tags: { env: prod }', ...FLOW), FILE);
    expect(config.integrations[0]).toEqual({
      name: 'cloud', type: 'aws-ec2', regions: ['eu-west-1', 'us-east-1'], tags: { env: 'prod' }, address: 'private', user: 'keyway',
      nameTag: 'Name', refresh: 300, servers: [], userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
      uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: [], allowPrivilegedGroups: false,
    });
  });

  it('reads every aws-ec2 setting', () => {
    const config = parseAccessConfig(yaml(
      'integrations:', '  - name: cloud', '    type: aws-ec2', '    regions: [eu-west-1]', '    address: public-dns', '    user: ec2-user', '    name_tag: Hostname',
      '    refresh: 10m', '    endpoint: http://127.0.0.1:4566', '    role_arn: arn:aws:iam::123456789012:role/keyway-inventory', '    secret: { env: EC2_KEY }',
      '    owners: [ops@example.com]', '    resource_owner_tag: owner', ...FLOW,
    ), FILE);
    expect(config.integrations[0]).toMatchObject({
      address: 'public-dns', user: 'ec2-user', nameTag: 'Hostname', refresh: 600, endpoint: 'http://127.0.0.1:4566',
      roleArn: 'arn:aws:iam::123456789012:role/keyway-inventory', secret: { env: 'EC2_KEY' }, resourceOwnerTag: 'owner',
    });
  });

  it('reads an azure-vm integration', () => {
    const config = parseAccessConfig(yaml(
      'integrations:', '  - name: cloud', '    type: azure-vm', '    subscription_id: 0F1E2D3C-0000-4000-8000-000000000001', '    resource_groups: [rg-web, rg-db]',
      '    address: public', '    endpoint: https://management.usgovcloudapi.net', '    authority_host: https://login.microsoftonline.us', ...FLOW,
    ), FILE);
    expect(config.integrations[0]).toMatchObject({
      type: 'azure-vm', subscriptionId: '0f1e2d3c-0000-4000-8000-000000000001', resourceGroups: ['rg-web', 'rg-db'], address: 'public',
      tags: {}, user: 'keyway', refresh: 300, endpoint: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us', servers: [],
    });
  });

  it.each([
    ['a region that is not one', '    regions: [Ireland]', '4: "Ireland" is not an AWS region: write a region name like eu-west-1'],
    ['no region', '    regions: []', '4: regions must list at least one AWS region, like [eu-west-1]'],
    ['an address kind it does not know', '    address: elastic', '5: address must be private, public, private-dns or public-dns'],
    ['a refresh too often', '    refresh: 5s', '5: refresh must be from 30s to 1d, not 5s'],
    ['an endpoint that is no URL', '    endpoint: ec2.internal', '5: endpoint must be an http(s) URL like https://vpce-0abc.ec2.eu-west-1.vpce.amazonaws.com, without a user or password'],
    ['a role that is no ARN', '    role_arn: keyway', '5: role_arn must be an IAM role ARN like arn:aws:iam::123456789012:role/keyway-inventory'],
    ['a servers list (the cloud lists them)', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '5: unknown field servers (known fields: type, name, secret, cleanup_after_days, custom_access_details, owners, resource_owner_tag, user_groups, login_shell, user_key_name, uid_range, allow_privileged_groups, regions, tags, address, user, name_tag, refresh, endpoint, role_arn)'],
  ])('refuses an aws-ec2 integration with %s', (_what, line, message) => {
    const regions = line.startsWith('    regions') ? [] : ['    regions: [eu-west-1]'];
    expect(problemsOf(yaml('integrations:', '  - name: cloud', '    type: aws-ec2', ...regions, line, ...FLOW))).toEqual([message]);
  });

  it('refuses an azure-vm integration without a subscription GUID, saying what to write', () => {
    expect(problemsOf(yaml('integrations:', '  - name: cloud', '    type: azure-vm', '    subscription_id: my-sub', ...FLOW)))
      .toEqual(['4: "my-sub" is not an Azure subscription id: write its GUID, like 00000000-0000-0000-0000-000000000000']);
  });

  it('accepts a flow naming servers of a cloud integration, which only a refresh can confirm', () => {
    const config = parseAccessConfig(yaml('integrations:', '  - name: cloud', '    type: aws-ec2', '    regions: [eu-west-1]',
      'flows:', '  - name: cloud-debug', '    requesters: { everyone: true }', '    resources: { integration: cloud, servers: [web-1] }', '    approvers: { emails: [lead@example.com] }'), FILE);
    expect(config.flows[0]!.resources.servers).toEqual(['web-1']);
  });
});
