import { afterEach, describe, expect, it } from 'vitest';
import { extensionAllowance } from '../../src/access/extend.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { cancelRequest, expireUnansweredRequests, submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { revokeRequestAs } from '../../src/access/revoke.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { listAudit, verifyAuditChain } from '../../src/store/audit-log.js';
import { getRequest, pendingRequestsPastTtl } from '../../src/store/requests.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

const dev = { email: 'dev@example.com' };

function setup(configure?: Parameters<typeof accessConfig>[0]): TestContext {
  ctx = testContext(accessConfig(configure));
  registerKey(ctx, 'dev@example.com', 'dev');
  return ctx;
}

describe('submitting a request', () => {
  it('stores a pending request with the resolved approvers and audits it', () => {
    setup();
    const outcome = submitRequest(ctx, dev, { servers: ['web-2'], duration: 7200, reason: 'INC-42' }, 'cli');
    expect(outcome.kind).toBe('pending');
    const stored = getRequest(ctx.db, outcome.request.id)!;
    expect(stored).toMatchObject({ state: 'pending', linuxUser: 'dev', servers: ['web-2'], durationSeconds: 7200, approvers: { source: 'flow', emails: ['lead@example.com'] } });
    expect(stored.pendingUntil).toBe(ctx.clock.now + 3600_000);
    expect(listAudit(ctx.db).map((e) => e.action)).toEqual(['request.created']);
  });

  it('refuses a person without a registered key, and stores nothing', () => {
    setup({ flows: [flow('everyone', 'prod-linux')] });
    expect(() => submitRequest(ctx, { email: 'new@example.com' }, { servers: ['web-2'], reason: 'x' }, 'cli')).toThrow(/no SSH public key registered/);
    expect(ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 0 });
  });

  it('changes nothing on bad input', () => {
    setup();
    expect(() => submitRequest(ctx, dev, { servers: ['nope'], reason: 'x' }, 'cli')).toThrow(/no server called "nope"/);
    expect(() => submitRequest(ctx, dev, { servers: ['web-2'], duration: 99 * 3600, reason: 'x' }, 'cli')).toThrow(/longer than/);
    expect(ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 0 });
    expect(listAudit(ctx.db)).toEqual([]);
  });

  it('auto-approves when the flow says so and creates one grant per server', () => {
    setup({ flows: [flow('self', 'prod-linux', { autoApprove: true })] });
    const outcome = submitRequest(ctx, dev, { servers: ['web-1', 'web-2'], reason: 'x' }, 'cli');
    expect(outcome.kind).toBe('approved');
    const grants = grantsOfRequest(ctx.db, outcome.request.id);
    expect(grants.map((g) => [g.server, g.state, g.principal])).toEqual([
      ['web-1', 'provisioning', `keyway-req-${outcome.request.id}`],
      ['web-2', 'provisioning', `keyway-req-${outcome.request.id}`],
    ]);
    expect(outcome.request.decidedBy).toBe('system');
  });
});

const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----';

describe('a private key pasted as a reason', () => {
  it('refuses it in a request with the advice to rotate the key, and stores and audits nothing', () => {
    setup();
    expect(() => submitRequest(ctx, dev, { servers: ['web-2'], reason: `INC-1 ${PRIVATE_KEY}` }, 'slack'))
      .toThrowError(expect.objectContaining({ code: 'key_is_private', message: expect.stringMatching(/reason holds a PRIVATE key.*compromised.*ssh-keygen -t ed25519/) }));
    expect(ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get()).toEqual({ n: 0 });
    expect(listAudit(ctx.db)).toEqual([]);
  });

  it('refuses it as the reason of a decision, leaving the request pending and the key out of the audit log', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    expect(() => voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'deny', { reason: PRIVATE_KEY })).toThrowError(expect.objectContaining({ code: 'key_is_private' }));
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');
    expect(JSON.stringify(listAudit(ctx.db))).not.toContain('PRIVATE KEY');
  });
});

describe('approving and denying', () => {
  it('starts the clock at approval, not at request time', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: 3600, reason: 'x' }, 'cli');
    ctx.clock.now += 10 * 60_000;
    const outcome = voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve');
    expect(outcome.kind).toBe('approved');
    expect(outcome.request.accessExpiresAt).toBe(ctx.clock.now + 3600_000);
    expect(grantsOfRequest(ctx.db, request.id)[0]!.expiresAt).toBe(ctx.clock.now + 3600_000);
  });

  it('lets an approver shorten the duration', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: 7200, reason: 'x' }, 'cli');
    const outcome = voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve', { duration: 600 });
    expect(outcome.request.accessExpiresAt).toBe(ctx.clock.now + 600_000);
  });

  it('counts distinct approvers for min_approvals', () => {
    setup({ flows: [flow('two', 'prod-linux', { minApprovals: 2, approvers: { everyone: false, emails: ['a@example.com', 'b@example.com'], slackUsergroups: [] } })] });
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    expect(voteOnRequest(ctx, request.id, { email: 'a@example.com' }, 'approve')).toMatchObject({ kind: 'pending', approvals: 1 });
    expect(voteOnRequest(ctx, request.id, { email: 'A@example.com' }, 'approve')).toMatchObject({ kind: 'pending', approvals: 1 });
    expect(voteOnRequest(ctx, request.id, { email: 'b@example.com' }, 'approve').kind).toBe('approved');
  });

  it('denies with a reason and creates no grant', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    expect(() => voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'deny')).toThrow(/Say why you deny/);
    const outcome = voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'deny', { reason: 'not during the freeze' });
    expect(outcome.kind).toBe('denied');
    expect(outcome.request.decisionReason).toBe('not during the freeze');
    expect(grantsOfRequest(ctx.db, request.id)).toEqual([]);
  });

  it('refuses and audits a decision from someone who may not approve', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    expect(() => voteOnRequest(ctx, request.id, { email: 'eve@example.com' }, 'approve')).toThrow('eve@example.com is not an approver of request 1: lead@example.com can decide it.');
    expect(() => voteOnRequest(ctx, request.id, dev, 'approve')).toThrow(/yourself/);
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');
    expect(listAudit(ctx.db).map((e) => [e.actor, e.action])).toEqual([
      ['dev@example.com', 'request.created'], ['eve@example.com', 'approval.refused'], ['dev@example.com', 'approval.refused'],
    ]);
    expect(verifyAuditChain(ctx.db).ok).toBe(true);
  });

  it('gives one outcome when approve and deny race: the second is told it was already decided', () => {
    setup({ flows: [flow('f', 'prod-linux', { approvers: { everyone: false, emails: ['a@example.com', 'b@example.com'], slackUsergroups: [] } })] });
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    const first = voteOnRequest(ctx, request.id, { email: 'a@example.com' }, 'approve');
    const second = voteOnRequest(ctx, request.id, { email: 'b@example.com' }, 'deny', { reason: 'no' });
    expect([first.kind, second.kind]).toEqual(['approved', 'already_decided']);
    expect(second.request.state).toBe('approved');
    expect(grantsOfRequest(ctx.db, request.id)).toHaveLength(1);
  });
});

describe('unknown requests, refused revokes, extension allowance', () => {
  it('says how to find a request that does not exist', () => {
    setup();
    expect(() => cancelRequest(ctx, 99, 'dev@example.com')).toThrow('There is no request 99: check the number (list shows your requests).');
  });

  it('audits a refused revoke, like a refused approval', async () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve');
    const hosts = { provision: async () => undefined, revoke: async () => undefined, cleanup: async () => undefined };
    const runner = createGrantRunner(ctx, hosts, generateCaKey().caKey);
    await expect(revokeRequestAs(runner, request.id, { email: 'eve@example.com' })).rejects.toThrow(/Only dev@example.com or an approver of request 1 can revoke it/);
    expect(listAudit(ctx.db).map((e) => [e.actor, e.action]).at(-1)).toEqual(['eve@example.com', 'revoke.refused']);
    expect(getRequest(ctx.db, request.id)!.state).toBe('approved');
  });

  it('allows an extension up to the flow\'s maximum counted from the approval', () => {
    const decidedAt = Date.UTC(2026, 0, 1);
    const approved = { decidedAt, createdAt: decidedAt - 60_000, accessExpiresAt: decidedAt + 2 * 3600_000 };
    expect(extensionAllowance(approved, 8 * 3600)).toBe(6 * 3600);
    expect(extensionAllowance(approved, 3600)).toBe(0);
    expect(extensionAllowance({ ...approved, accessExpiresAt: null }, 8 * 3600)).toBe(0);
  });
});

describe('cancel and expiry', () => {
  it('lets only the requester cancel a pending request', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    expect(() => cancelRequest(ctx, request.id, 'lead@example.com')).toThrow(/Only dev@example.com can cancel/);
    expect(cancelRequest(ctx, request.id, 'dev@example.com').state).toBe('cancelled');
    expect(() => cancelRequest(ctx, request.id, 'dev@example.com')).toThrow(/already cancelled/);
  });

  it('expires requests nobody answered within request_ttl', () => {
    setup();
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x' }, 'cli');
    ctx.clock.now += 3599_000;
    expect(pendingRequestsPastTtl(ctx.db, ctx.now())).toEqual([]);
    ctx.clock.now += 1000;
    const expired = expireUnansweredRequests(ctx, pendingRequestsPastTtl(ctx.db, ctx.now()));
    expect(expired.map((r) => [r.id, r.state])).toEqual([[request.id, 'expired']]);
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('already_decided');
  });
});
