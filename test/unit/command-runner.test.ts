// The one command runner (access/command-runner.ts) as each platform calls it: Slack with a caller whose user
// groups are looked up on demand, Teams with a caller it already knows in full (knownCaller).
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  alreadyDecided, answerCommand, checkExtension, extensionFormOf, knownCaller, pendingRequestOf, voteAs, type Caller, type CommandReply,
} from '../../src/access/command-runner.js';
import type { GrantRunner } from '../../src/access/grant-runner.js';
import { submitRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { createGrantRunner } from '../helpers/grant-runner.js';

const unusedHosts = {
  provision: () => Promise.reject(new Error('unused')), revoke: () => Promise.reject(new Error('unused')), cleanup: () => Promise.reject(new Error('unused')),
};
const silent = pino({ level: 'silent' });

let ctx: TestContext;
let runner: GrantRunner;

beforeEach(() => {
  ctx = testContext(accessConfig());
  registerKey(ctx, 'dev@example.com', 'dev');
  runner = createGrantRunner(ctx, unusedHosts, generateCaKey().caKey);
});
afterEach(() => ctx.close());

const dev = knownCaller({ email: 'dev@example.com' });
const lead = knownCaller({ email: 'lead@example.com' });

function run(caller: Caller, command: Parameters<typeof answerCommand>[2], progress?: (reply: CommandReply) => Promise<void>): Promise<CommandReply> {
  return answerCommand(runner, caller, command, 'teams', silent, progress);
}

describe('command runner: a caller the platform knows in full (Teams)', () => {
  it('is the same person whatever user groups are asked for', async () => {
    const caller = knownCaller({ email: 'dev@example.com', guest: true });
    expect(await caller.email()).toBe('dev@example.com');
    expect(await caller.personWith(['S0DEVS'])).toEqual({ email: 'dev@example.com', guest: true });
  });

  it('submits a request for the known person and says it waits for the approvers', async () => {
    const reply = await run(dev, { kind: 'request', servers: ['web-2'], duration: 3600, reason: 'INC-42' });
    expect(reply).toMatchObject({ kind: 'submitted', outcome: 'pending', request: { requesterEmail: 'dev@example.com', servers: ['web-2'] } });
  });

  it('lists the servers the known person may request, and offers the form with them', async () => {
    const servers = await run(dev, { kind: 'servers' });
    expect(servers.kind === 'servers' && servers.servers.map((s) => s.server.name).sort()).toEqual(['db-1', 'web-1', 'web-2']);
    expect(await run(dev, { kind: 'modal' })).toMatchObject({ kind: 'request_form', needsKey: false });
    expect(await run(lead, { kind: 'modal' })).toEqual({ kind: 'request_form', servers: [], needsKey: true });
  });

  it('shows the approvals waiting for the known approver in their list', async () => {
    const id = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: 'INC-42' }, 'teams').request.id;
    const reply = await run(lead, { kind: 'list' });
    expect(reply.kind === 'list' && reply.mine.toApprove.map((r) => r.id)).toEqual([id]);
    const mine = await run(dev, { kind: 'list' });
    expect(mine.kind === 'list' && mine.mine.pending.map((r) => r.id)).toEqual([id]);
  });

  it('cancels only the requester\'s own request', async () => {
    const id = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: 'INC-42' }, 'teams').request.id;
    expect(await run(lead, { kind: 'cancel', requestId: id })).toMatchObject({ kind: 'refused' });
    expect(await run(dev, { kind: 'cancel', requestId: id })).toMatchObject({ kind: 'cancelled', request: { id, state: 'cancelled' } });
  });

  it('refuses a revoke of an unknown request before saying anything of progress', async () => {
    const said: CommandReply[] = [];
    const reply = await run(dev, { kind: 'revoke', requestId: 99 }, async (early) => void said.push(early));
    expect(reply).toEqual({ kind: 'refused', message: expect.stringMatching(/no request #99/) });
    expect(said).toEqual([]);
  });

  it('answers an unexpected failure with an apology reference, not its details', async () => {
    const broken: Caller = { email: () => Promise.reject(new Error('directory down')), personWith: () => Promise.reject(new Error('directory down')) };
    expect(await run(broken, { kind: 'list' })).toEqual({ kind: 'apology', reference: expect.stringMatching(/^[0-9a-f]{8}$/) });
  });
});

describe('command runner: card and button actions, the same for every platform', () => {
  function pendingId(): number {
    return submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: 'INC-42' }, 'teams').request.id;
  }

  it('refuses a vote from the requester, whatever the button says', async () => {
    await expect(voteAs(runner, dev, pendingId(), 'approve')).rejects.toMatchObject({ code: 'not_approver' });
  });

  it('asks for a reason only after the denier is found eligible, then denies, then says it is decided', async () => {
    const id = pendingId();
    await expect(voteAs(runner, dev, id, 'deny')).rejects.toMatchObject({ code: 'not_approver' });
    await expect(voteAs(runner, lead, id, 'deny')).rejects.toMatchObject({ code: 'reason_required' });
    expect(await voteAs(runner, lead, id, 'deny', 'not during the freeze')).toMatchObject({ kind: 'denied' });
    const again = await voteAs(runner, lead, id, 'approve');
    expect(again.kind).toBe('already_decided');
    expect(alreadyDecided(again.request)).toBe(`Request #${id} is already denied by lead@example.com: nothing more to do.`);
    expect(() => pendingRequestOf(runner, id)).toThrow(/already denied/);
  });

  it('refuses a vote on a request that does not exist', async () => {
    await expect(voteAs(runner, lead, 99, 'approve')).rejects.toMatchObject({ code: 'unknown_request' });
  });

  it('offers an extension only to the requester of running access, and never past the flow\'s maximum', async () => {
    const id = pendingId();
    await expect(extensionFormOf(runner, lead, id)).rejects.toMatchObject({ code: 'not_allowed' });
    await expect(extensionFormOf(runner, dev, id)).rejects.toMatchObject({ code: 'invalid_transition' });
    expect(() => checkExtension(runner, id, 9 * 3600)).toThrow(expect.objectContaining({ code: 'duration_too_long' }));
    expect(() => checkExtension(runner, 99, 600)).toThrow(expect.objectContaining({ code: 'unknown_request' }));
  });
});
