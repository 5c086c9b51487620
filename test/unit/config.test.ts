import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from '../../src/config/config-error.js';
import { loadAccessConfig, parseAccessConfig } from '../../src/config/load.js';
import { serversOfFlow } from '../../src/core/lookup.js';
import { UserError } from '../../src/core/errors.js';
import type { AccessConfig } from '../../src/core/model.js';
import { configProblems, yaml } from '../helpers/config-problems.js';

const FILE = 'access.yaml';


const problemsOf = (text: string, readFile?: (path: string) => string): ConfigProblem[] => configProblems(text, FILE, readFile);

const at = (line: number, col: number, message: string): ConfigProblem => ({ file: FILE, line, col, message });

const enoent = () => {
  throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
};

// Lines 1–4.
const PROD = [
  'integrations:',
  '  - name: prod',
  '    servers: [{ name: web-1, host: 10.0.0.1, tags: { env: prod } }]',
  '    owners: [ops@example.com]',
];
// Lines 5–8 after PROD; a test's extra flow field is line 9.
const DEBUG_FLOW = [
  'flows:',
  '  - name: debug',
  '    requesters: { everyone: true }',
  '    resources: { integration: prod, servers: [web-1] }',
];

describe('parseAccessConfig: accepted files', () => {
  it('accepts config/access.example.yaml', () => {
    const config = loadAccessConfig('config/access.example.yaml');
    expect(config.integrations.map((integration) => integration.name)).toEqual(['prod-linux', 'staging']);
    expect(config.integrations[0]!.secret).toEqual({ env: 'PROD_LINUX_SSH_KEY_BASE64' });
    expect(config.integrations[1]!.secret).toBeUndefined();
    expect(config.flows.map((flow) => flow.name)).toEqual(['prod-debug', 'staging-self-service', 'prod-db-two-person']);
    const twoPerson = config.flows[2]!;
    expect(twoPerson.minApprovals).toBe(2);
    expect(serversOfFlow(config, twoPerson).map((ref) => ref.server.name)).toEqual(['db-1']);
    expect(config.flows[1]!.autoApprove).toBe(true);
  });

  it('is quoted verbatim at the end of docs/configuration.md', () => {
    const docs = readFileSync('docs/configuration.md', 'utf8');
    const quoted = /```yaml\n([\s\S]*?)```\n?$/.exec(docs)?.[1];
    expect(quoted).toBe(readFileSync('config/access.example.yaml', 'utf8'));
  });

  it('reads the same staging servers from config/servers.example.json, as the example says', () => {
    const example = readFileSync('config/access.example.yaml', 'utf8');
    const withFile = example.replace(/^ {4}servers: \[\{"name":"My Server 1".*$/m, '    servers_file: servers.example.json');
    expect(withFile).not.toBe(example);
    expect(parseAccessConfig(withFile, 'config/access.example.yaml')).toEqual(loadAccessConfig('config/access.example.yaml'));
  });

  it('accepts the JSON inventory form users already have, inline', () => {
    const config = parseAccessConfig(
      yaml(
        'integrations:',
        '  - name: legacy',
        '    servers: [{"name":"My Server 1","host":"10.0.100.1","user":"ec2-user"},{"name":"db","host":"db.internal","port":2222,"tags":{"env":"prod"}}]',
        '    owners: [ops@example.com]',
      ),
      FILE,
    );
    expect(config.integrations[0]!.servers).toEqual([
      { name: 'My Server 1', host: '10.0.100.1', user: 'ec2-user', port: 22, tags: {} },
      { name: 'db', host: 'db.internal', user: 'keyway', port: 2222, tags: { env: 'prod' } },
    ]);
  });

  it('reads approval_channel and notify_channel of a flow', () => {
    const config = parseAccessConfig(yaml(...PROD, ...DEBUG_FLOW, '    approval_channel: C0APPROVALS', '    notify_channel: "#access-log"'), FILE);
    expect(config.flows[0]).toMatchObject({ approvalChannel: 'C0APPROVALS', notifyChannel: '#access-log' });
    expect(parseAccessConfig(yaml(...PROD, ...DEBUG_FLOW), FILE).flows[0]!.approvalChannel).toBeUndefined();
  });

  it('reads servers_file relative to the YAML file', () => {
    const config = loadAccessConfig('test/fixtures/config/with-servers-file.yaml');
    expect(config.integrations[0]!.servers).toEqual([
      { name: 'My Server 1', host: '10.0.100.1', user: 'ec2-user', port: 22, tags: {} },
      { name: 'db', host: 'db.internal', user: 'keyway', port: 2222, tags: { env: 'prod' } },
    ]);
    expect(serversOfFlow(config, config.flows[0]!).map((ref) => ref.server.name)).toEqual(['db']);
  });

  it('fills in every default and lower-cases e-mails', () => {
    const config = parseAccessConfig(
      yaml(
        'integrations:',
        '  - name: prod',
        '    servers: [{ name: web-1, host: 10.0.0.1 }]',
        '    owners: [OPS@Example.com]',
        'flows:',
        '  - name: debug',
        '    requesters: { emails: [Dev@Example.com] }',
        '    resources: { integration: prod, servers: [web-1] }',
      ),
      FILE,
    );
    const expected: AccessConfig = {
      integrations: [
        {
          name: 'prod',
          type: 'ssh',
          servers: [{ name: 'web-1', host: '10.0.0.1', user: 'keyway', port: 22, tags: {} }],
          userGroups: ['Default'],
          loginShell: '/bin/bash',
          userKeyName: 'id_ed25519',
          uidRange: { min: 60000, max: 64999 },
          cleanupAfterDays: 7,
          owners: ['ops@example.com'],
          allowPrivilegedGroups: false,
        },
      ],
      people: [],
      maxPendingRequests: 5,
      flows: [
        {
          name: 'debug',
          requesters: { everyone: false, emails: ['dev@example.com'], slackUsergroups: [] },
          resources: { integration: 'prod', servers: ['web-1'], tags: {} },
          grantGroups: ['Default'],
          approvers: { everyone: false, emails: [], slackUsergroups: [] },
          minApprovals: 1,
          allowSelfApproval: false,
          autoApprove: false,
          defaultDuration: 3600,
          maxDuration: 8 * 3600,
          requireReason: true,
          requestTtl: 3600,
          allowAgentForwarding: false,
          allowPortForwarding: false,
          sourceAddress: [],
          allowGuests: false,
        },
      ],
    };
    expect(config).toStrictEqual(expected);
  });

  it('resolves a relative secret file against the YAML file', () => {
    const config = parseAccessConfig(yaml(...PROD, '    secret: { file: keys/prod }'), '/etc/keyway/access.yaml');
    expect(config.integrations[0]!.secret).toEqual({ file: '/etc/keyway/keys/prod' });
  });

  it('compares tags as text, so tier: 1 matches a selector tier: "1"', () => {
    const config = parseAccessConfig(
      yaml(
        'integrations:',
        '  - name: prod',
        '    servers: [{ name: web-1, host: 10.0.0.1, tags: { tier: 1 } }]',
        '    owners: [ops@example.com]',
        'flows:',
        '  - name: tier-one',
        '    requesters: { everyone: true }',
        '    resources: { integration: prod, tags: { tier: "1" } }',
      ),
      FILE,
    );
    expect(serversOfFlow(config, config.flows[0]!).map((ref) => ref.server.name)).toEqual(['web-1']);
  });
});

describe('parseAccessConfig: problems in single fields', () => {
  it('reports an unknown field at its key, with a suggestion', () => {
    expect(problemsOf(yaml(...PROD, ...DEBUG_FLOW, '    max_duraton: 2h'))).toEqual([
      at(9, 5, 'unknown field max_duraton (did you mean max_duration?)'),
    ]);
  });

  it.each([
    ['a port out of range', ['    servers: [{ name: web-1, host: 10.0.0.1, port: 70000 }]'], 3, 52, 'port must be a whole number from 1 to 65535'],
    [
      'a host with shell characters',
      ['    servers: [{ name: web-1, host: "10.0.0.1; rm -rf /" }]'],
      3,
      36,
      'host "10.0.0.1; rm -rf /" is not a hostname or IP address (no spaces, ports, users or shell characters)',
    ],
    [
      'root as the connector user',
      ['    servers: [{ name: web-1, host: 10.0.0.1, user: root }]'],
      3,
      52,
      'user must not be root: the connector is a service account with passwordless sudo (default keyway)',
    ],
    ['a server without host (points at the server)', ['    servers: [{ name: web-1 }]'], 3, 15, 'missing required field host'],
    [
      'a server name with a comma',
      ['    servers: [{ name: "web-1,web-2", host: 10.0.0.1 }]'],
      3,
      23,
      'server name "web-1,web-2" must not contain commas, double quotes or control characters',
    ],
  ])('reports %s', (_what, serversLine, line, col, message) => {
    const text = yaml('integrations:', '  - name: prod', ...serversLine, '    owners: [ops@example.com]');
    expect(problemsOf(text)).toEqual([at(line, col, message)]);
  });

  it.each([
    ['a uid_range below 1000', '    uid_range: 500-900', 16, 'uid_range must start at 1000 or above: lower UIDs belong to system accounts'],
    ['a backwards uid_range', '    uid_range: 65000-60000', 16, 'uid_range "65000-60000" is backwards: the first UID must not be above the last'],
    [
      'an invalid group name',
      '    user_groups: [Developers]',
      19,
      'user_groups: "Developers" is not a valid Linux group name: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".',
    ],
    ['an integration type other than ssh', '    type: ldap', 11, 'type must be one of "ssh", "aws-ec2", "azure-vm", "rdp", "windows-dc"'],
    [
      'custom_access_details over 400 characters',
      `    custom_access_details: "${'x'.repeat(401)}"`,
      28,
      'custom_access_details must be at most 400 characters',
    ],
    ['a cleanup_after_days that is text', '    cleanup_after_days: soon', 25, 'cleanup_after_days must be a whole number of days'],
  ])('reports %s', (_what, fieldLine, col, message) => {
    expect(problemsOf(yaml(...PROD, fieldLine))).toEqual([at(5, col, message)]);
  });

  it('reports an owner that is not an e-mail', () => {
    const text = yaml('integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    owners: [ops]');
    expect(problemsOf(text)).toEqual([at(4, 14, '"ops" is not an e-mail address')]);
  });

  it('reports an integration with both servers and servers_file', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      '    servers_file: servers.json',
      '    owners: [ops@example.com]',
    );
    expect(problemsOf(text)).toEqual([at(4, 19, 'give servers or servers_file, not both')]);
  });

  it('reports an integration with neither servers nor servers_file', () => {
    expect(problemsOf(yaml('integrations:', '  - name: prod', '    owners: [ops@example.com]'))).toEqual([
      at(2, 5, 'integration "prod" needs servers (a list) or servers_file (a JSON file)'),
    ]);
  });

  it.each([
    ['an invalid CIDR in source_address', '    source_address: [10.0.0.0/33]', 22, '"10.0.0.0/33" is not an IP address or CIDR block (like 10.8.0.0/16)'],
    [
      'approvers: everyone',
      '    approvers: { everyone: true }',
      28,
      'approvers cannot be everyone: list the emails or slack_usergroups of the people who may approve',
    ],
    [
      'a duration that does not parse',
      '    max_duration: 8x',
      19,
      'max_duration: "8x" is not a duration: use a number and a unit, like 45s, 30m, 2h, 1d or 1h30m.',
    ],
    ['min_approvals below 1', '    min_approvals: 0', 20, 'min_approvals must be at least 1 (use auto_approve: true for flows that need no approval)'],
    ['a boolean written as text', '    auto_approve: "yes"', 19, 'auto_approve must be true or false, not text'],
  ])('reports %s', (_what, fieldLine, col, message) => {
    expect(problemsOf(yaml(...PROD, ...DEBUG_FLOW, fieldLine))).toEqual([at(9, col, message)]);
  });

  it('reports requesters that list nobody', () => {
    const text = yaml(...PROD, 'flows:', '  - name: debug', '    requesters: {}', '    resources: { integration: prod, servers: [web-1] }');
    expect(problemsOf(text)).toEqual([at(7, 17, 'requesters lists nobody: give emails, slack_usergroups, or everyone: true')]);
  });

  it('reports a Slack user group given as a handle', () => {
    const text = yaml(
      ...PROD,
      'flows:',
      '  - name: debug',
      '    requesters: { slack_usergroups: ["@devs"] }',
      '    resources: { integration: prod, servers: [web-1] }',
    );
    expect(problemsOf(text)).toEqual([at(7, 38, '"@devs" is not a Slack user group ID: use the ID (like S0123ABCD), not the @handle')]);
  });

  it.each([
    ['root', '"root" is a system or reserved account name and is never granted: set another linux_user for this person.'],
    ['Ana.B', '"Ana.B" is not a valid Linux username: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".'],
  ])('reports linux_user %s with the username rules', (linuxUser, message) => {
    const text = yaml(...PROD, 'people:', `  - { email: ana@example.com, linux_user: ${linuxUser} }`);
    expect(problemsOf(text)).toEqual([at(6, 43, message)]);
  });

  it('refuses a secret written inline and never repeats it', () => {
    const key = 'LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0Kc2VjcmV0';
    let error: unknown;
    try {
      parseAccessConfig(yaml(...PROD, `    secret: "${key}"`), FILE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([at(5, 13, 'secret must not be written inline: use { env: NAME } or { file: PATH }')]);
    expect((error as Error).message).not.toContain(key);
    expect(JSON.stringify(error)).not.toContain(key);
  });

  it('refuses a private key pasted as a block, without quoting any of it', () => {
    const text = yaml(...PROD, '    secret: |', '      -----BEGIN OPENSSH PRIVATE KEY-----', '      b3BlbnNzaC1rZXktdjEAAAAA', '      -----END OPENSSH PRIVATE KEY-----');
    const problems = problemsOf(text);
    expect(problems).toEqual([at(5, 13, 'secret must not be written inline: use { env: NAME } or { file: PATH }')]);
    expect(JSON.stringify(problems)).not.toContain('b3Blbn');
  });

  it('refuses a key pasted into secret.env without quoting it', () => {
    const problems = problemsOf(yaml(...PROD, '    secret: { env: "b3BlbnNzaC1rZXktdjEAAAAA==" }'));
    expect(problems).toEqual([at(5, 20, 'secret.env must be the name of an environment variable (letters, digits and _), not the key itself')]);
  });
});

describe('parseAccessConfig: problems across fields', () => {
  it('reports a server name used by two integrations, pointing back at the first', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      '    owners: [ops@example.com]',
      '  - name: staging',
      '    servers:',
      '      - { name: web-1, host: 10.0.1.1 }',
      '    owners: [ops@example.com]',
    );
    expect(problemsOf(text)).toEqual([
      at(7, 17, 'server name "web-1" is already used by integration "prod" at access.yaml:3:23: server names must be unique across all integrations, because people type them'),
    ]);
  });

  it('reports a duplicate integration name', () => {
    const text = yaml(...PROD, '  - name: prod', '    servers: [{ name: web-2, host: 10.0.0.2 }]', '    owners: [ops@example.com]');
    expect(problemsOf(text)).toEqual([at(5, 11, 'integration name "prod" is used twice (first at line 2)')]);
  });

  it('reports a duplicate flow name', () => {
    const text = yaml(...PROD, ...DEBUG_FLOW, '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prod, servers: [web-1] }');
    expect(problemsOf(text)).toEqual([at(9, 11, 'flow name "debug" is used twice (first at line 6)')]);
  });

  it('reports a flow naming an unknown integration', () => {
    const text = yaml(...PROD, 'flows:', '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prdo, servers: [web-1] }');
    expect(problemsOf(text)).toEqual([at(8, 31, 'unknown integration "prdo" (known integrations: prod)')]);
  });

  it('reports a flow naming a server its integration does not have', () => {
    const text = yaml(...PROD, 'flows:', '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prod, servers: [web-9] }');
    expect(problemsOf(text)).toEqual([at(8, 47, 'integration "prod" has no server "web-9"')]);
  });

  it('says which integration has the server when a flow names it under another', () => {
    const text = yaml(
      ...PROD,
      '  - name: staging',
      '    servers: [{ name: stage-1, host: 10.0.1.1 }]',
      '    owners: [ops@example.com]',
      'flows:',
      '  - name: debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: prod, servers: [stage-1] }',
    );
    expect(problemsOf(text)).toEqual([at(11, 47, 'integration "prod" has no server "stage-1" (it belongs to integration "staging")')]);
  });

  it('reports a flow whose resources match no server', () => {
    const text = yaml(...PROD, 'flows:', '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prod, tags: { env: dev } }');
    expect(problemsOf(text)).toEqual([at(8, 16, 'resources match no server of integration "prod": no server has the tags env=dev')]);
  });

  it('reports resource_owner_tag without owners', () => {
    const text = yaml('integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    resource_owner_tag: owner');
    expect(problemsOf(text)).toEqual([
      at(4, 25, 'resource_owner_tag is set but owners is empty: list integration owners, who approve for servers without that tag'),
    ]);
  });

  it('reports an owner tag whose value is not an e-mail', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1, tags: { owner: ana } }]',
      '    owners: [ops@example.com]',
      '    resource_owner_tag: owner',
    );
    expect(problemsOf(text)).toEqual([
      at(3, 61, 'tag owner names the server\'s owner (resource_owner_tag) and must be an e-mail address, not "ana"'),
    ]);
  });

  it('reports default_duration longer than max_duration', () => {
    const text = yaml(...PROD, ...DEBUG_FLOW, '    default_duration: 2h', '    max_duration: 1h');
    expect(problemsOf(text)).toEqual([at(9, 23, 'default_duration (2h) is longer than max_duration (1h)')]);
  });

  it('reports a flow nobody can approve, at the flow when it has no approvers field', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      'flows:',
      '  - name: debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: prod, servers: [web-1] }',
    );
    expect(problemsOf(text)).toEqual([
      at(5, 5, 'nobody can approve flow "debug": list approvers, set owners on integration "prod", or set auto_approve: true'),
    ]);
  });

  it('accepts a flow without approvers when it auto-approves', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      'flows:',
      '  - name: debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: prod, servers: [web-1] }',
      '    auto_approve: true',
    );
    expect(parseAccessConfig(text, FILE).flows[0]!.autoApprove).toBe(true);
  });

  it('reports min_approvals higher than the number of people who can approve', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      'flows:',
      '  - name: debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: prod, servers: [web-1] }',
      '    approvers: { emails: [lead@example.com] }',
      '    min_approvals: 2',
    );
    expect(problemsOf(text)).toEqual([at(9, 20, 'min_approvals is 2 but only 1 person can approve this flow: add approvers or lower min_approvals')]);
  });

  it('reports the same person twice, whatever the case of the e-mail', () => {
    const text = yaml(...PROD, 'people:', '  - { email: Ana@example.com, linux_user: ana }', '  - { email: ana@example.com, linux_user: ana2 }');
    expect(problemsOf(text)).toEqual([at(7, 14, 'ana@example.com is listed twice under people (first at line 6)')]);
  });

  it('reports two people with the same linux_user', () => {
    const text = yaml(...PROD, 'people:', '  - { email: ana@example.com, linux_user: ana }', '  - { email: bob@example.com, linux_user: ana }');
    expect(problemsOf(text)).toEqual([
      at(7, 43, 'linux_user "ana" is already used by ana@example.com (line 6): each person needs their own Linux user'),
    ]);
  });
});

describe('parseAccessConfig: the error itself', () => {
  it('is a UserError coded config_invalid, one file:line:col line per problem', () => {
    const text = yaml(...PROD, ...DEBUG_FLOW, '    max_duraton: 2h', '    min_approvals: 0');
    let error: unknown;
    try {
      parseAccessConfig(text, FILE);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as ConfigError).code).toBe('config_invalid');
    expect((error as Error).message).toBe(
      [
        'access.yaml:9:5: unknown field max_duraton (did you mean max_duration?)',
        'access.yaml:10:20: min_approvals must be at least 1 (use auto_approve: true for flows that need no approval)',
      ].join('\n'),
    );
  });

  it('locates a YAML syntax error', () => {
    const problems = problemsOf(yaml('integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }', '    owners: [ops@example.com]'));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: FILE, line: 4, col: 5 });
    expect(problems[0]!.message).toMatch(/^YAML syntax: Flow sequence .* end with a \]$/);
  });

  it('reports a key given twice as a YAML error', () => {
    expect(problemsOf(yaml('integrations:', '  - name: prod', '    name: other'))).toEqual([at(3, 5, 'YAML syntax: Map keys must be unique')]);
  });

  it('reports an empty file', () => {
    expect(problemsOf('# nothing yet\n')).toEqual([at(1, 1, 'the file is empty: start from config/access.example.yaml')]);
  });

  it('reports a missing file with what to do', () => {
    expect(() => loadAccessConfig('/nonexistent/keyway/access.yaml')).toThrow(
      '/nonexistent/keyway/access.yaml:1:1: no such file: copy config/access.example.yaml to /nonexistent/keyway/access.yaml and edit it, or set KEYWAY_CONFIG to your configuration file',
    );
  });
});

describe('parseAccessConfig: servers_file problems', () => {
  const withServersFile = (name: string) =>
    yaml('integrations:', '  - name: legacy', `    servers_file: ${name}`, '    owners: [ops@example.com]');

  it('locates a bad value inside the JSON file', () => {
    expect(() => parseAccessConfig(withServersFile('bad-servers.json'), 'test/fixtures/config/access.yaml')).toThrow(
      'test/fixtures/config/bad-servers.json:3:47: port must be a whole number from 1 to 65535',
    );
  });

  it('locates a JSON syntax error', () => {
    const json = '[\n  {"name": "a", "host": "h",}\n]\n';
    const problems = problemsOf(withServersFile('servers.json'), () => json);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'servers.json', line: 2, col: 29 });
    expect(problems[0]!.message).toMatch(/^not valid JSON: /);
  });

  it('points at servers_file when the file cannot be read', () => {
    expect(problemsOf(withServersFile('servers.json'), enoent)).toEqual([at(3, 19, 'servers_file: cannot read servers.json: no such file')]);
  });

  it('reports a server in the file whose name is already used inline', () => {
    const text = yaml(...PROD, '  - name: legacy', '    servers_file: servers.json', '    owners: [ops@example.com]');
    const json = '[\n  {"name": "web-1", "host": "10.0.9.9"}\n]\n';
    expect(problemsOf(text, () => json)).toEqual([
      {
        file: 'servers.json',
        line: 2,
        col: 12,
        message: 'server name "web-1" is already used by integration "prod" at access.yaml:3:23: server names must be unique across all integrations, because people type them',
      },
    ]);
  });
});

describe('parseAccessConfig: groups that give root, and login shells', () => {
  it.each([
    ['root', 'grant_groups: the group "root" is never granted: it owns system files and devices as root\'s own group. Remove it.'],
    ['keyway-users', 'grant_groups: the group "keyway-users" is never granted: Keyway puts every account it creates in it and manages it itself. Remove it.'],
  ])('refuses grant_groups: [%s] at the group, whatever the integration allows', (group, message) => {
    expect(problemsOf(yaml(...PROD, ...DEBUG_FLOW, `    grant_groups: [${group}]`))).toEqual([at(9, 20, message)]);
    expect(problemsOf(yaml(...PROD, '    allow_privileged_groups: true', ...DEBUG_FLOW, `    grant_groups: [${group}]`))).toEqual([at(10, 20, message)]);
  });

  it('refuses user_groups: [root] at the group', () => {
    expect(problemsOf(yaml(...PROD, '    user_groups: [developers, root]'))).toEqual([
      at(5, 31, 'user_groups: the group "root" is never granted: it owns system files and devices as root\'s own group. Remove it.'),
    ]);
  });

  it('refuses a root-equivalent grant_groups entry unless its integration allows privileged groups', () => {
    expect(problemsOf(yaml(...PROD, ...DEBUG_FLOW, '    grant_groups: [developers, docker]'))).toEqual([
      at(9, 32, 'grant_groups: the group "docker" is root-equivalent (the Docker socket starts containers as root with the host\'s files mounted): remove it, or set allow_privileged_groups: true on integration "prod" if everyone it grants may act as root.'),
    ]);
    const allowed = parseAccessConfig(yaml(...PROD, '    allow_privileged_groups: true', ...DEBUG_FLOW, '    grant_groups: [developers, docker]'), FILE);
    expect(allowed.flows[0]!.grantGroups).toEqual(['developers', 'docker']);
  });

  it('refuses a root-equivalent user_groups entry unless the integration allows privileged groups', () => {
    expect(problemsOf(yaml(...PROD, '    user_groups: [developers, sudo]'))).toEqual([
      at(5, 31, 'user_groups: the group "sudo" is root-equivalent (sudoers lets its members run any command as root): remove it, or set allow_privileged_groups: true on integration "prod" if everyone it grants may act as root.'),
    ]);
    const allowed = parseAccessConfig(yaml(...PROD, '    user_groups: [developers, sudo]', '    allow_privileged_groups: true'), FILE);
    expect(allowed.integrations[0]).toMatchObject({ userGroups: ['developers', 'sudo'], allowPrivilegedGroups: true });
  });

  it('refuses a login_shell that is not a normalised absolute path', () => {
    const message = (shell: string) =>
      `login_shell ${JSON.stringify(shell)} must be a normalised absolute path such as /bin/bash: no "..", "." or empty parts, only letters, digits, "/", "_", "." and "-".`;
    for (const shell of ['/usr/bin/../bin/bash', '/bin/./sh', '//bin/bash', '/bin/bash/', 'bash', '/']) {
      expect(problemsOf(yaml(...PROD, `    login_shell: "${shell}"`)), shell).toEqual([at(5, 18, message(shell))]);
    }
    expect(parseAccessConfig(yaml(...PROD, '    login_shell: /usr/bin/zsh'), FILE).integrations[0]!.loginShell).toBe('/usr/bin/zsh');
  });
});

describe('parseAccessConfig: bounds', () => {
  it.each([
    ['max_duration', 19],
    ['default_duration', 23],
    ['request_ttl', 18],
  ])('refuses %s over 30d', (field, col) => {
    expect(problemsOf(yaml(...PROD, ...DEBUG_FLOW, `    ${field}: 31d`))).toEqual([at(9, col, `${field} must be at most 30d, not 31d`)]);
  });

  it('accepts 30d, and reads max_pending_requests and allow_guests', () => {
    const config = parseAccessConfig(yaml('max_pending_requests: 3', ...PROD, ...DEBUG_FLOW, '    max_duration: 30d', '    request_ttl: 30d', '    allow_guests: true'), FILE);
    expect(config.flows[0]).toMatchObject({ maxDuration: 30 * 86_400, requestTtl: 30 * 86_400, allowGuests: true });
    expect(config.maxPendingRequests).toBe(3);
  });
});
