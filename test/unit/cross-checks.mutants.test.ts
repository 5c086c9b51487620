// The rules that relate one part of the access file to another (src/config/cross-checks.ts), in the cases
// config.test.ts leaves open: owner tags, on-call providers and schedules, min_approvals counted with server owners,
// and each problem at its line and column. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import type { ConfigProblem } from '../../src/config/config-error.js';
import { parseAccessConfig } from '../../src/config/load.js';
import { configProblems, yaml } from '../helpers/config-problems.js';

const FILE = 'access.yaml';
const at = (line: number, col: number, message: string): ConfigProblem => ({ file: FILE, line, col, message });

const problemsOf = (text: string, readFile: (path: string) => string = () => '[]'): ConfigProblem[] => configProblems(text, FILE, readFile);

const ok = (text: string) => parseAccessConfig(text, FILE);

describe('owner tags', () => {
  it('an owner tag must hold an e-mail; a server without it is fine', () => {
    const text = yaml(
      'integrations:',
      '  - name: prod',
      '    owners: [ops@example.com]',
      '    resource_owner_tag: owner',
      '    servers:',
      '      - { name: web-1, host: 10.0.0.1, tags: { owner: ana } }',
      '      - { name: web-2, host: 10.0.0.2, tags: { owner: ana@example.com } }',
      '      - { name: web-3, host: 10.0.0.3 }',
    );
    expect(problemsOf(text)).toEqual([at(6, 55, 'tag owner names the server\'s owner (resource_owner_tag) and must be an e-mail address, not "ana"')]);
  });

  it('in a servers file, at its place there', () => {
    const text = yaml('integrations:', '  - name: prod', '    owners: [ops@example.com]', '    resource_owner_tag: owner', '    servers_file: s.json');
    expect(problemsOf(text, () => '[{"name": "web-1", "host": "10.0.0.1", "tags": {"owner": "x y@example.com"}}]')).toEqual([
      { file: 's.json', line: 1, col: 58, message: 'tag owner names the server\'s owner (resource_owner_tag) and must be an e-mail address, not "x y@example.com"' },
    ]);
  });

  it('names where a server name was first used, across integrations and files', () => {
    const text = yaml(
      'integrations:',
      '  - name: a',
      '    owners: [ops@example.com]',
      '    servers_file: a.json',
      '  - name: b',
      '    owners: [ops@example.com]',
      '    servers: [{ name: web-1, host: 10.0.0.2 }]',
    );
    expect(problemsOf(text, () => '[\n  {"name": "web-1", "host": "10.0.0.1"}\n]')).toEqual([
      at(7, 23, 'server name "web-1" is already used by integration "a" at a.json:2:12: server names must be unique across all integrations, because people type them'),
    ]);
  });
});

describe('people', () => {
  it('names the line of the first entry for a repeated e-mail and a shared linux_user', () => {
    const text = yaml(
      'integrations:', '  - name: prod', '    owners: [ops@example.com]', '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      'people:',
      '  - { email: ana@example.com, linux_user: ana }',
      '  - { email: bo@example.com, linux_user: ana }',
      '  - { email: ana@example.com, linux_user: ana2 }',
    );
    expect(problemsOf(text)).toEqual([
      at(7, 42, 'linux_user "ana" is already used by ana@example.com (line 6): each person needs their own Linux user'),
      at(8, 14, 'ana@example.com is listed twice under people (first at line 6)'),
    ]);
  });
});

describe('flows', () => {
  const INTEGRATION = ['integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }, { name: web-2, host: 10.0.0.2 }]'];

  it('names a repeated flow with the line of the first', () => {
    const text = yaml(
      ...INTEGRATION, '    owners: [ops@example.com]',
      'flows:',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, servers: [web-1] } }',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, servers: [web-1] } }',
    );
    expect(problemsOf(text)).toEqual([at(7, 13, 'flow name "debug" is used twice (first at line 6)')]);
  });

  it('lists the known integrations for an unknown one, and stops checking that flow', () => {
    const text = yaml(
      ...INTEGRATION, '    owners: [ops@example.com]',
      '  - name: other', '    owners: [ops@example.com]', '    servers: [{ name: db-1, host: 10.0.0.3 }]',
      'flows:',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: nope, servers: [x] }, grant_groups: [sudo] }',
    );
    expect(problemsOf(text)).toEqual([at(9, 78, 'unknown integration "nope" (known integrations: prod, other)')]);
  });

  it('a default_duration equal to max_duration is fine', () => {
    const text = yaml(...INTEGRATION, '    owners: [ops@example.com]', 'flows:',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, servers: [web-1] }, default_duration: 2h, max_duration: 2h }');
    expect(ok(text).flows[0]!.defaultDuration).toBe(7200);
  });

  it('lists every tag of a selector that matches nothing', () => {
    const text = yaml(...INTEGRATION, '    owners: [ops@example.com]', 'flows:',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, tags: { env: prod, tier: web } } }');
    expect(problemsOf(text)).toEqual([at(6, 63, 'resources match no server of integration "prod": no server has the tags env=prod, tier=web')]);
  });

  it('does not also say "match no server" when a named server is unknown', () => {
    const text = yaml(...INTEGRATION, '    owners: [ops@example.com]', 'flows:',
      '  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, servers: [web-9] } }');
    expect(problemsOf(text)).toEqual([at(6, 94, 'integration "prod" has no server "web-9"')]);
  });
});

describe('approvers', () => {
  const flowLine = (extra: string) =>
    `  - { name: debug, requesters: { everyone: true }, resources: { integration: prod, servers: [web-1, web-2] }${extra} }`;
  const integration = (...lines: string[]) => [
    'integrations:', '  - name: prod',
    '    servers: [{ name: web-1, host: 10.0.0.1, tags: { owner: Ana@example.com } }, { name: web-2, host: 10.0.0.2, tags: { owner: bo@example.com } }]',
    ...lines,
  ];

  it('counts server owners (whatever their case) with the flow\'s and the integration\'s people', () => {
    const enough = yaml(...integration('    owners: [ops@example.com]', '    resource_owner_tag: owner'), 'flows:', flowLine(', min_approvals: 3'));
    expect(ok(enough).flows[0]!.minApprovals).toBe(3);
    const tooMany = yaml(...integration('    owners: [ops@example.com]', '    resource_owner_tag: owner'), 'flows:', flowLine(', min_approvals: 4'));
    expect(problemsOf(tooMany)).toEqual([at(7, 126, 'min_approvals is 4 but only 3 people can approve this flow: add approvers or lower min_approvals')]);
    const same = yaml(...integration('    owners: [ana@example.com]', '    resource_owner_tag: owner'), 'flows:', flowLine(', min_approvals: 3, approvers: { emails: [bo@example.com] }'));
    expect(problemsOf(same)[0]!.message).toBe('min_approvals is 3 but only 2 people can approve this flow: add approvers or lower min_approvals');
  });

  it('does not count when user groups or schedules may approve, or when the flow approves itself', () => {
    const groups = yaml(...integration('    owners: [ops@example.com]'), 'flows:', flowLine(', min_approvals: 5, approvers: { slack_usergroups: [S0LEADS] }'));
    expect(ok(groups).flows[0]!.minApprovals).toBe(5);
    const schedule = yaml('oncall:', '  pagerduty: { secret: { env: PD } }', ...integration(), 'flows:', flowLine(', min_approvals: 5, approvers: { oncall: [pagerduty:P1] }'));
    expect(ok(schedule).flows[0]!.minApprovals).toBe(5);
    const auto = yaml(...integration(), 'flows:', flowLine(', auto_approve: true'));
    expect(ok(auto).flows[0]!.autoApprove).toBe(true);
  });

  it('takes a resource_owner_tag alone as someone who can approve', () => {
    const text = yaml(...integration('    owners: [ops@example.com]', '    resource_owner_tag: owner'), 'flows:', flowLine(''));
    expect(ok(text).flows).toHaveLength(1);
    const noOwners = yaml(...integration('    owners: [ops@example.com]'), 'flows:', flowLine(''));
    expect(ok(noOwners).flows).toHaveLength(1);
  });
});

describe('on-call schedules', () => {
  const INTEGRATION = ['integrations:', '  - name: prod', '    owners: [ops@example.com]', '    servers: [{ name: web-1, host: 10.0.0.1 }]'];

  it('must name a provider the oncall section configures', () => {
    const text = yaml(
      'oncall:', '  pagerduty: { secret: { env: PD } }', ...INTEGRATION, 'flows:', '  - name: debug',
      '    requesters: { oncall: [pagerduty:P1, opsgenie:o1] }', '    approvers: { oncall: [opsgenie:o2] }', '    resources: { integration: prod, servers: [web-1] }',
    );
    expect(problemsOf(text)).toEqual([
      at(9, 42, 'opsgenie:o1 names opsgenie, but the top-level oncall: section has no opsgenie provider: add oncall: { opsgenie: { secret: { env: … } } }'),
      at(10, 27, 'opsgenie:o2 names opsgenie, but the top-level oncall: section has no opsgenie provider: add oncall: { opsgenie: { secret: { env: … } } }'),
    ]);
  });

  it('auto_approve: on_call needs a schedule, from requesters or approvers', () => {
    const text = yaml(...INTEGRATION, 'flows:', '  - name: debug', '    requesters: { everyone: true }', '    resources: { integration: prod, servers: [web-1] }', '    auto_approve: on_call');
    expect(problemsOf(text)).toEqual([at(9, 19, 'auto_approve: on_call needs an on-call schedule in requesters.oncall or approvers.oncall of flow "debug"')]);
    const viaApprovers = yaml('oncall:', '  pagerduty: { secret: { env: PD } }', ...INTEGRATION, 'flows:', '  - name: debug', '    requesters: { everyone: true }',
      '    approvers: { oncall: [pagerduty:P1] }', '    resources: { integration: prod, servers: [web-1] }', '    auto_approve: on_call');
    expect(ok(viaApprovers).flows[0]!.autoApproveOnCall).toBe(true);
  });
});
