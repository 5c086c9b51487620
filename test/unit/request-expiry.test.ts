// Requests nobody answers expire through the sweep, at the flow's own request_ttl: a second check beside
// access-requests.test.ts (which calls expireUnansweredRequests directly). Real SQLite, clock moved by the test.
import { afterEach, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { requestExtension } from '../../src/access/extend.js';
import { type GrantRunner } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';

const noHosts: HostEffects = { provision: async () => undefined, revoke: async () => undefined, cleanup: async () => undefined };
const dev = { email: 'dev@example.com' };
const lead = { email: 'lead@example.com' };

let ctx: TestContext;
afterEach(() => ctx?.close());

function setup(requestTtl: number): GrantRunner {
  ctx = testContext(accessConfig({ flows: [flow('prod-debug', 'prod-linux', { requestTtl })] }));
  registerKey(ctx, dev.email, 'dev');
  return createGrantRunner(ctx, noHosts, generateCaKey().caKey);
}

describe('unanswered requests', () => {
  it("expire on the sweep at the flow's request_ttl (15m here), not before, and tell the requester", async () => {
    const runner = setup(15 * 60);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-3' }, 'test');
    ctx.clock.now += 15 * 60_000 - 1;
    expect((await sweepOnce(runner)).requestsExpired).toBe(0);
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');

    ctx.clock.now += 1;
    expect((await sweepOnce(runner)).requestsExpired).toBe(1);
    expect(getRequest(ctx.db, request.id)).toMatchObject({ state: 'expired', decidedBy: 'system' });
    expect(listAudit(ctx.db, { subject: `request:${request.id}` }).map((e) => [e.actor, e.action])).toEqual([
      ['dev@example.com', 'request.created'], ['system', 'request.expired'],
    ]);
    expect(dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).map((e) => e.event)).toContainEqual({ kind: 'request_decided', requestId: request.id });
    expect((await sweepOnce(runner)).requestsExpired, 'an expired request is not expired again').toBe(0);
  });

  it('cannot be approved once expired, and give no grant', async () => {
    const runner = setup(600);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-3' }, 'test');
    ctx.clock.now += 600_000;
    await sweepOnce(runner);
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('already_decided');
    expect(grantsOfRequest(ctx.db, request.id)).toEqual([]);
  });

  it('leave answered requests alone', async () => {
    const runner = setup(600);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-3' }, 'test');
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('approved');
    ctx.clock.now += 600_000;
    expect((await sweepOnce(runner)).requestsExpired).toBe(0);
    expect(getRequest(ctx.db, request.id)!.state).toBe('approved');
  });

  it('include an extension nobody answered before the access it extends ended', async () => {
    const runner = setup(3600);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: 1800, reason: 'INC-3' }, 'test');
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('approved');
    ctx.clock.now += 20 * 60_000;
    const extension = requestExtension(ctx, dev, request.id, 1800);
    // The ttl is an hour, but the access ends in 10 minutes: the extension cannot wait longer than that.
    ctx.clock.now += 10 * 60_000 - 1;
    await sweepOnce(runner);
    expect(getRequest(ctx.db, extension.request.id)!.state).toBe('pending');
    ctx.clock.now += 1;
    await sweepOnce(runner);
    expect(getRequest(ctx.db, extension.request.id)!.state).toBe('expired');
  });
});
