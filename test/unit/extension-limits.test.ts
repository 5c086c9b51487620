// requestExtension itself keeps an access within its flow's max_duration, counted from the approval, whatever
// front door (Slack command, Slack modal, Teams card) asks. Real SQLite, clock moved by the test.
import { afterEach, describe, expect, it } from 'vitest';
import { requestExtension } from '../../src/access/extend.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { listRequests } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { userErrorOf } from '../helpers/user-error.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

const dev = { email: 'dev@example.com' };
const lead = { email: 'lead@example.com' };

/** A 2h access under a flow allowing 8h in all, approved 10 minutes after it was asked for (or at once, if auto-approved). */
function runningAccess(extra: Parameters<typeof flow>[2] = {}): number {
  ctx = testContext(accessConfig({ flows: [flow('prod-debug', 'prod-linux', { maxDuration: 8 * 3600, ...extra })] }));
  registerKey(ctx, dev.email, 'dev');
  const submitted = submitRequest(ctx, dev, { servers: ['web-2'], duration: 2 * 3600, reason: 'INC-1' }, 'test');
  ctx.clock.now += 10 * 60_000;
  if (submitted.kind === 'pending') expect(voteOnRequest(ctx, submitted.request.id, lead, 'approve').kind).toBe('approved');
  else expect(submitted.kind, 'an auto-approving flow approves at once').toBe('approved');
  return submitted.request.id;
}

const requestCount = () => listRequests(ctx.db, { limit: 100 }).length;

describe('requestExtension and max_duration', () => {
  it('refuses 7h more on a 2h access in an 8h flow, saying how much it allows, and stores nothing', () => {
    const id = runningAccess();
    const error = userErrorOf(() => requestExtension(ctx, dev, id, 7 * 3600));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toMatch(new RegExp(`extend request ${id} by 6h at most`));
    expect(requestCount()).toBe(1);
  });

  it('takes exactly what is left, and refuses one second more', () => {
    const id = runningAccess();
    expect(userErrorOf(() => requestExtension(ctx, dev, id, 6 * 3600 + 1)).code).toBe('duration_too_long');
    expect(requestExtension(ctx, dev, id, 6 * 3600)).toMatchObject({ kind: 'pending', request: { extendsRequestId: id, durationSeconds: 6 * 3600 } });
  });

  it('counts from the approval, not from now: time that passed does not make room', () => {
    const id = runningAccess();
    ctx.clock.now += 100 * 60_000;
    expect(userErrorOf(() => requestExtension(ctx, dev, id, 6 * 3600 + 60)).code).toBe('duration_too_long');
  });

  it('counts approved extensions: after 5h more, 1h is left', () => {
    const id = runningAccess();
    const first = requestExtension(ctx, dev, id, 5 * 3600);
    expect(voteOnRequest(ctx, first.request.id, lead, 'approve').kind).toBe('approved');
    const error = userErrorOf(() => requestExtension(ctx, dev, id, 2 * 3600));
    expect(error.message).toMatch(/by 1h at most/);
    expect(requestExtension(ctx, dev, id, 3600).kind).toBe('pending');
  });

  it('refuses any extension of an access that already has the whole maximum, pointing to a new request', () => {
    ctx = testContext(accessConfig({ flows: [flow('prod-debug', 'prod-linux', { maxDuration: 2 * 3600 })] }));
    registerKey(ctx, dev.email, 'dev');
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: 2 * 3600, reason: 'INC-1' }, 'test');
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('approved');
    const error = userErrorOf(() => requestExtension(ctx, dev, request.id, 60));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toMatch(/already has the 2h its flow allows: make a new request/);
  });

  it('refuses an auto-approved flow the same way: no longer access without anyone asked', () => {
    const id = runningAccess({ autoApprove: true });
    expect(userErrorOf(() => requestExtension(ctx, dev, id, 7 * 3600)).code).toBe('duration_too_long');
    expect(requestCount()).toBe(1);
  });
});
