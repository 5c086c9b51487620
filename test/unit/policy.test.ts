import { describe, expect, it } from 'vitest';
import {
  accountGroups, assertMayDecide, assertReasonLength, assertStillMayDecide, approvedDuration, certificateOptionsOf, decisionPolicyFor, isEligibleApprover,
  planRequest, requestableServers, resolveApprovers,
} from '../../src/core/policy.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';

const dev = { email: 'dev@example.com' };

describe('which servers a person may request', () => {
  it('lists only servers of flows the person is a requester of', () => {
    const config = accessConfig();
    expect(requestableServers(config, dev).map((r) => r.server.name)).toEqual(['web-1', 'web-2', 'db-1']);
    expect(requestableServers(config, { email: 'stranger@example.com' })).toEqual([]);
    expect(requestableServers(config, { email: 'x@example.com', usergroups: ['S0DEVS'] })).toHaveLength(3);
  });

  it('selects servers by name and by tags', () => {
    const config = accessConfig();
    config.flows = [
      flow('db-only', 'prod-linux', { resources: { integration: 'prod-linux', servers: [], tags: { role: 'db' } } }),
      flow('web-1-only', 'prod-linux', { resources: { integration: 'prod-linux', servers: ['web-1'], tags: {} } }),
    ];
    expect(requestableServers(config, dev).map((r) => [r.server.name, r.flow.name])).toEqual([['db-1', 'db-only'], ['web-1', 'web-1-only']]);
  });
});

describe('planning a request', () => {
  const config = accessConfig();

  it('accepts a request within a flow', () => {
    const plan = planRequest(config, dev, { servers: ['web-2', 'db-1'], duration: 7200, reason: 'INC-1' });
    expect(plan.flow.name).toBe('prod-debug');
    expect(plan.servers.map((s) => s.name)).toEqual(['web-2', 'db-1']);
    expect(plan.duration).toBe(7200);
  });

  it('uses the flow default duration when none is given', () => {
    expect(planRequest(config, dev, { servers: ['web-2'], reason: 'x' }).duration).toBe(3600);
  });

  it('refuses an unknown server by name', () => {
    expect(() => planRequest(config, dev, { servers: ['nope'], reason: 'x' })).toThrowError(/There is no server called "nope"/);
  });

  it('refuses a person no flow allows', () => {
    expect(() => planRequest(config, { email: 'eve@example.com' }, { servers: ['web-1'], reason: 'x' }))
      .toThrowError(expect.objectContaining({ code: 'not_allowed', message: expect.stringMatching(/No access flow lets eve@example.com request web-1/) }));
  });

  it('refuses a duration over the maximum', () => {
    expect(() => planRequest(config, dev, { servers: ['web-1'], duration: 9 * 3600, reason: 'x' }))
      .toThrowError(expect.objectContaining({ code: 'duration_too_long' }));
  });

  it('requires a reason when the flow says so', () => {
    expect(() => planRequest(config, dev, { servers: ['web-1'], reason: '  ' })).toThrowError(expect.objectContaining({ code: 'reason_required' }));
  });
});

describe('approver resolution', () => {
  const owned = server('web-1', { tags: { owner: 'ana@example.com' } });
  const unowned = server('web-2');
  const withOwners = integration('prod', [owned, unowned], { owners: ['platform@example.com'], resourceOwnerTag: 'owner' });
  const f = flow('f', 'prod', { approvers: { everyone: false, emails: ['lead@example.com'], slackUsergroups: ['S0LEADS'] } });
  const noApprovers = flow('f', 'prod', { approvers: { everyone: false, emails: [], slackUsergroups: [] } });

  it('asks the resource owner first', () => {
    expect(resolveApprovers(f, withOwners, [owned], 'dev@example.com', false)).toEqual({ source: 'resource_owners', emails: ['ana@example.com'], slackUsergroups: [] });
  });

  it("then the flow's approvers, when the servers have no owner", () => {
    expect(resolveApprovers(f, withOwners, [unowned], 'dev@example.com', false)).toEqual({ source: 'flow', emails: ['lead@example.com'], slackUsergroups: ['S0LEADS'] });
  });

  it('then the integration owners', () => {
    expect(resolveApprovers(noApprovers, withOwners, [unowned], 'dev@example.com', false)).toEqual({ source: 'integration_owners', emails: ['platform@example.com'], slackUsergroups: [] });
  });

  it('skips the requester as an approver unless self-approval is allowed', () => {
    expect(resolveApprovers(f, withOwners, [owned], 'ana@example.com', false).source).toBe('flow');
    expect(resolveApprovers(f, withOwners, [owned], 'ana@example.com', true).source).toBe('resource_owners');
  });

  it('says when nobody can approve', () => {
    expect(resolveApprovers(noApprovers, integration('x', [unowned]), [unowned], 'dev@example.com', false).source).toBe('none');
  });
});

describe('who may decide', () => {
  const check = { requesterEmail: 'dev@example.com', approvers: { source: 'flow' as const, emails: ['lead@example.com'], slackUsergroups: ['S0LEADS'] }, allowSelfApproval: false };

  it('lets an approver by e-mail or user group decide', () => {
    expect(() => assertMayDecide(check, { email: 'LEAD@example.com' }, 1)).not.toThrow();
    expect(() => assertMayDecide(check, { email: 'x@example.com', usergroups: ['S0LEADS'] }, 1)).not.toThrow();
  });

  it('refuses someone who is not an approver, saying who can decide', () => {
    expect(() => assertMayDecide(check, { email: 'eve@example.com' }, 3))
      .toThrowError('eve@example.com is not an approver of request 3: lead@example.com or a member of the Slack user group S0LEADS can decide it.');
    expect(() => assertMayDecide({ ...check, approvers: { source: 'none', emails: [], slackUsergroups: [] } }, { email: 'eve@example.com' }, 4))
      .toThrowError('eve@example.com is not an approver of request 4: nobody is configured to decide it; ask an admin to check the flow.');
  });

  it('refuses the requester even when they are in an approver group', () => {
    expect(() => assertMayDecide(check, { email: 'dev@example.com', usergroups: ['S0LEADS'] }, 3)).toThrowError(/You asked for request 3 yourself/);
  });
});

describe('approved duration', () => {
  it('lets an approver shorten, never lengthen', () => {
    expect(approvedDuration(7200, 28800)).toBe(7200);
    expect(approvedDuration(7200, 28800, 1800)).toBe(1800);
    expect(() => approvedDuration(7200, 28800, 10800)).toThrowError(/may shorten access, not lengthen it/);
  });
});

describe('the groups a grant gives', () => {
  it('joins the integration\'s user_groups and the flow\'s grant_groups, and is the own group only when neither names one', () => {
    expect(accountGroups(['developers'], ['adm'])).toEqual(['developers', 'adm']);
    expect(accountGroups(['Default'], ['adm', 'adm'])).toEqual(['adm']);
    expect(accountGroups(['developers'], ['Default'])).toEqual(['developers']);
    expect(accountGroups(['Default'], ['Default'])).toEqual(['Default']);
  });

  it('is what a request records', () => {
    const config = accessConfig();
    config.integrations[0]!.userGroups = ['developers'];
    config.flows[0]!.grantGroups = ['adm'];
    expect(planRequest(config, { email: 'dev@example.com' }, { servers: ['web-2'], reason: 'INC-1' }).groups).toEqual(['developers', 'adm']);
  });
});


describe('guests and bots', () => {
  const guest = { email: 'guest@partner.example', guest: true };
  const open = () => accessConfig({ flows: [flow('open', 'prod-linux', { requesters: { everyone: true, emails: [], slackUsergroups: [] } })] });

  it('lets a guest request only under a flow with allow_guests', () => {
    expect(requestableServers(open(), guest)).toEqual([]);
    expect(requestableServers(open(), { ...guest, guest: false }).map((r) => r.server.name)).toEqual(['web-1', 'web-2', 'db-1']);
    const config = open();
    config.flows.push(flow('partners', 'prod-linux', { allowGuests: true, resources: { integration: 'prod-linux', servers: ['web-2'], tags: {} } }));
    expect(requestableServers(config, guest).map((r) => [r.server.name, r.flow.name])).toEqual([['web-2', 'partners']]);
    expect(planRequest(config, guest, { servers: ['web-2'], reason: 'x' }).flow.name).toBe('partners');
  });

  it('tells a guest why a flow that names them still refuses', () => {
    const config = accessConfig({ flows: [flow('named', 'prod-linux', { requesters: { everyone: false, emails: ['guest@partner.example'], slackUsergroups: [] } })] });
    expect(() => planRequest(config, guest, { servers: ['web-2'], reason: 'x' })).toThrowError(expect.objectContaining({
      code: 'not_allowed',
      message: 'guest@partner.example is a guest (or a bot) in the chat workspace, and no access flow that allows guests covers web-2: ask an admin to set allow_guests on a flow for it, or ask from a full member account.',
    }));
  });

  it('never counts a guest as an approver, even one named by e-mail or in an approver group', () => {
    const approvers = { source: 'flow' as const, emails: ['guest@partner.example'], slackUsergroups: ['S0LEADS'] };
    expect(isEligibleApprover(approvers, guest)).toBe(false);
    expect(isEligibleApprover(approvers, { email: 'x@example.com', usergroups: ['S0LEADS'], guest: true })).toBe(false);
    expect(isEligibleApprover(approvers, { email: 'x@example.com', usergroups: ['S0LEADS'] })).toBe(true);
    expect(() => assertMayDecide({ requesterEmail: 'dev@example.com', approvers, allowSelfApproval: false }, guest, 7))
      .toThrowError(expect.objectContaining({ code: 'not_approver', message: 'guest@partner.example is a guest (or a bot) in the chat workspace, and guests never decide requests: a full member who approves request 7 must.' }));
  });
});

describe('decisions against the configuration as it is now', () => {
  const config = accessConfig();
  const stored = { flow: 'prod-debug', integration: 'prod-linux', servers: ['web-2'], requester: { email: 'dev@example.com' } };

  it("takes the request's own flow while it still lets the requester ask", () => {
    expect(decisionPolicyFor(config, stored)).toMatchObject({ flow: { name: 'prod-debug' }, approvers: { source: 'flow', emails: ['lead@example.com'] } });
  });

  it('follows a renamed flow that covers the same servers for the same requester', () => {
    const renamed = accessConfig();
    renamed.flows[0]!.name = 'prod-debug-v2';
    expect(decisionPolicyFor(renamed, stored)?.flow.name).toBe('prod-debug-v2');
  });

  it('finds none when the requester was removed, the servers left the flow, or it moved to another integration', () => {
    expect(decisionPolicyFor(config, { ...stored, requester: { email: 'gone@example.com' } })).toBeUndefined();
    expect(decisionPolicyFor(config, { ...stored, requester: { email: 'x@example.com', usergroups: ['S0DEVS'] } })).toBeDefined();
    expect(decisionPolicyFor(config, { ...stored, servers: ['web-2', 'nope'] })).toBeUndefined();
    expect(decisionPolicyFor(config, { ...stored, integration: 'other' })).toBeUndefined();
    expect(decisionPolicyFor(config, { ...stored, requester: { email: 'dev@example.com', guest: true } })).toBeUndefined();
  });

  it('lets decide only who is an approver both in the snapshot and now', () => {
    const then = { source: 'flow' as const, emails: ['a@example.com', 'b@example.com'], slackUsergroups: ['S0OLD', 'S0BOTH'] };
    const now = { source: 'flow' as const, emails: ['b@example.com', 'c@example.com'], slackUsergroups: ['S0BOTH'] };
    expect(() => assertStillMayDecide(then, now, { email: 'b@example.com' }, 1)).not.toThrow();
    expect(() => assertStillMayDecide(then, now, { email: 'x@example.com', usergroups: ['S0BOTH'] }, 1)).not.toThrow();
    expect(() => assertStillMayDecide(then, now, { email: 'x@example.com', usergroups: ['S0OLD'] }, 1))
      .toThrowError('x@example.com is no longer an approver of request 1 under the current configuration: b@example.com or a member of the Slack user group S0BOTH can decide it.');
    expect(() => assertStillMayDecide(then, now, { email: 'a@example.com' }, 1)).toThrowError(expect.objectContaining({ code: 'not_approver' }));
  });
});

describe('limits on free text', () => {
  it('takes up to 500 characters (not UTF-16 units) and refuses more, saying how long it was', () => {
    expect(() => assertReasonLength('😀'.repeat(500), 'reason')).not.toThrow();
    expect(() => assertReasonLength(undefined, 'reason')).not.toThrow();
    expect(() => assertReasonLength(`  ${'a'.repeat(500)}  `, 'reason')).not.toThrow();
    expect(() => assertReasonLength('a'.repeat(501), 'reason')).toThrowError(expect.objectContaining({ code: 'reason_too_long', message: expect.stringMatching(/^The reason is 501 characters long; Keyway takes at most 500\./) }));
  });
});

describe('certificate options of a flow', () => {
  it('are permit-pty, forwarding when allowed, and the critical options', () => {
    expect(certificateOptionsOf(flow('f', 'prod-linux'))).toEqual({ sourceAddress: [], extensions: ['permit-pty'] });
    expect(certificateOptionsOf(flow('f', 'prod-linux', { allowAgentForwarding: true, allowPortForwarding: true, sourceAddress: ['10.0.0.0/8'], forceCommand: 'uptime' })))
      .toEqual({ sourceAddress: ['10.0.0.0/8'], forceCommand: 'uptime', extensions: ['permit-pty', 'permit-agent-forwarding', 'permit-port-forwarding'] });
  });
});
