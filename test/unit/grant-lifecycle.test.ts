// The grant runner and the sweeper over a real SQLite file, with a recording stand-in for the servers
// (the same flows against real sshd hosts are in test/integration/access-*.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { provisionRequest, type GrantRunner } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { requestExtension } from '../../src/access/extend.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { moveGrant, getGrant, grantsOfRequest } from '../../src/store/grants.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { listAudit } from '../../src/store/audit-log.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';

class RecordingHosts implements HostEffects {
  calls: string[] = [];
  down = new Set<string>();
  revokeNotes: Awaited<ReturnType<HostEffects['revoke']>> = undefined;
  /** Runs inside a revoke, before it fails or returns (e.g. another Keyway process finishing the same revoke). */
  duringRevoke: (() => void) | undefined;
  private act(what: string, server: string) {
    if (this.down.has(server)) throw new Error(`${server}: connect ECONNREFUSED`);
    this.calls.push(`${what} ${server}`);
  }
  async provision(ref: Parameters<HostEffects['provision']>[0]) { this.act('provision', ref.server.name); }
  async revoke(ref: Parameters<HostEffects['revoke']>[0], _g: unknown, scope: Parameters<HostEffects['revoke']>[2]) { this.duringRevoke?.(); this.act(`revoke(other=${scope.otherGrantsLive})`, ref.server.name); return this.revokeNotes; }
  async cleanup(ref: Parameters<HostEffects['cleanup']>[0], user: string) { this.act(`cleanup ${user}`, ref.server.name); }
}

let ctx: TestContext;
afterEach(() => ctx?.close());

function setup(): { runner: GrantRunner; hosts: RecordingHosts } {
  ctx = testContext(accessConfig());
  registerKey(ctx, 'dev@example.com', 'dev');
  const hosts = new RecordingHosts();
  return { runner: createGrantRunner(ctx, hosts, generateCaKey().caKey), hosts };
}

function approved(servers: string[], duration = 3600): number {
  const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers, duration, reason: 'INC-1' }, 'test');
  const approver = request.approvers.emails[0]!;
  expect(voteOnRequest(ctx, request.id, { email: approver }, 'approve').kind).toBe('approved');
  return request.id;
}

const outboxKinds = () => dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).map((e) => e.event.kind);

describe('provisioning', () => {
  it('activates every grant, then issues one certificate and owes the requester a message', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2', 'db-1']);
    const grants = await provisionRequest(runner, id);
    expect(grants.map((g) => g.state)).toEqual(['active', 'active']);
    expect(hosts.calls.sort()).toEqual(['provision db-1', 'provision web-2']);
    const cert = certificateOf(ctx, id)!;
    expect(cert.line).toMatch(/^ssh-ed25519-cert-v01@openssh.com /);
    expect(cert.validBefore).toBe(Math.floor(grants[0]!.expiresAt / 1000));
    expect(outboxKinds()).toEqual(['approval_needed', 'request_decided', 'access_granted']);
  });

  it('records a failure with its reason and retries it on a later sweep', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2']);
    hosts.down.add('web-2');
    const [failed] = await provisionRequest(runner, id);
    expect(failed).toMatchObject({ state: 'provision_failed', attempts: 1, lastError: 'web-2: connect ECONNREFUSED' });
    expect(certificateOf(ctx, id)).toBeUndefined();
    hosts.down.clear();
    await sweepOnce(runner);
    expect(getGrant(ctx.db, failed!.id)!.state).toBe('provision_failed'); // not yet: the retry time has not come
    ctx.clock.now = failed!.nextAttemptAt!;
    const report = await sweepOnce(runner);
    expect(report.provisionRetried).toBe(1);
    expect(getGrant(ctx.db, failed!.id)!.state).toBe('active');
    expect(certificateOf(ctx, id)).toBeDefined();
  });
});

describe('ending access', () => {
  it('revokes at expiry, and only then', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2'], 600);
    await provisionRequest(runner, id);
    ctx.clock.now += 599_000;
    expect((await sweepOnce(runner)).accessEnded).toBe(0);
    ctx.clock.now += 1_000;
    expect((await sweepOnce(runner)).accessEnded).toBe(1);
    expect(grantsOfRequest(ctx.db, id).map((g) => g.state)).toEqual(['revoked']);
    expect(hosts.calls).toContain('revoke(other=false) web-2');
    expect(outboxKinds()).toContain('access_ended');
  });

  it('records no failure for a revoke another process finished meanwhile: its outcome stands, nobody is alarmed', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2'], 600);
    const [grant] = await provisionRequest(runner, id);
    hosts.down.add('web-2');
    hosts.duringRevoke = () => void moveGrant(ctx.db, grant!.id, 'revoking', 'revoked', { at: ctx.now() });
    ctx.clock.now += 600_000;
    await sweepOnce(runner);
    expect(getGrant(ctx.db, grant!.id)!.state).toBe('revoked');
    expect(listAudit(ctx.db).map((e) => e.action)).not.toContain('grant.revoke_failed');
    expect(outboxKinds()).not.toContain('revoke_failing');
  });

  it('audits the files a revoke moved aside (mail delivery hooks) and where they went', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2'], 600);
    await provisionRequest(runner, id);
    hosts.revokeNotes = { movedAside: ['.forward', '.procmailrc'], movedTo: '/home/dev/.keyway-revoked-a1B2c3' };
    ctx.clock.now += 600_000;
    await sweepOnce(runner);
    const revoked = listAudit(ctx.db).find((e) => e.action === 'grant.revoked')!;
    expect(revoked.details).toMatchObject({ server: 'web-2', movedAside: ['.forward', '.procmailrc'], movedTo: '/home/dev/.keyway-revoked-a1B2c3' });
  });

  it('warns the requester once, ten minutes before expiry, and again when an extension moves the expiry', async () => {
    const { runner } = setup();
    const id = approved(['web-2'], 3600);
    await provisionRequest(runner, id);
    const warnings = () => dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).filter((e) => e.event.kind === 'expiry_warning').map((e) => e.event);
    ctx.clock.now += 50 * 60_000 - 1;
    expect((await sweepOnce(runner)).expiryWarnings).toBe(0);
    ctx.clock.now += 1;
    expect((await sweepOnce(runner)).expiryWarnings).toBe(1);
    expect((await sweepOnce(runner)).expiryWarnings).toBe(0);
    expect(warnings()).toEqual([{ kind: 'expiry_warning', requestId: id }]);

    const extension = requestExtension(ctx, { email: 'dev@example.com' }, id, 1800);
    const approver = extension.request.approvers.emails[0]!;
    expect(voteOnRequest(ctx, extension.request.id, { email: approver }, 'approve').kind).toBe('approved');
    expect((await sweepOnce(runner)).expiryWarnings).toBe(0); // the new expiry is 40 minutes away
    ctx.clock.now += 30 * 60_000;
    expect((await sweepOnce(runner)).expiryWarnings).toBe(1);
    expect(warnings()).toHaveLength(2);
  });

  it('warns a short grant a quarter of its length before it ends', async () => {
    const { runner } = setup();
    const id = approved(['web-2'], 600);
    await provisionRequest(runner, id);
    ctx.clock.now += 450_000 - 1;
    expect((await sweepOnce(runner)).expiryWarnings).toBe(0);
    ctx.clock.now += 1;
    expect((await sweepOnce(runner)).expiryWarnings).toBe(1);
  });

  it('keeps retrying a revoke on a server that is down, and finishes when it is back', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2'], 60);
    await provisionRequest(runner, id);
    hosts.down.add('web-2');
    ctx.clock.now += 60_000;
    await sweepOnce(runner);
    const [grant] = grantsOfRequest(ctx.db, id);
    expect(grant).toMatchObject({ state: 'revoke_failed', lastError: 'web-2: connect ECONNREFUSED' });
    expect(outboxKinds()).toContain('revoke_failing');
    ctx.clock.now = grant!.nextAttemptAt!;
    await sweepOnce(runner); // still down: stays failed, attempt counted
    expect(getGrant(ctx.db, grant!.id)).toMatchObject({ state: 'revoke_failed', attempts: 2 });
    hosts.down.clear();
    ctx.clock.now = getGrant(ctx.db, grant!.id)!.nextAttemptAt!;
    await sweepOnce(runner);
    expect(getGrant(ctx.db, grant!.id)!.state).toBe('revoked');
  });

  it('finishes a revoke that a crash interrupted', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2']);
    await provisionRequest(runner, id);
    const [grant] = grantsOfRequest(ctx.db, id);
    moveGrant(ctx.db, grant!.id, 'active', 'revoking', { at: ctx.now() }); // the process died here
    await sweepOnce(createGrantRunner(ctx, hosts, generateCaKey().caKey));
    expect(getGrant(ctx.db, grant!.id)!.state).toBe('revoked');
  });

  it("keeps the user's access when another grant on the same server is live", async () => {
    const { runner, hosts } = setup();
    const first = approved(['web-2'], 600);
    const second = approved(['web-2'], 3600);
    await provisionRequest(runner, first);
    await provisionRequest(runner, second);
    ctx.clock.now += 600_000;
    await sweepOnce(runner);
    expect(hosts.calls).toContain('revoke(other=true) web-2');
    expect(grantsOfRequest(ctx.db, second)[0]!.state).toBe('active');
  });

  it('deletes the user after cleanup_after_days with no live grant', async () => {
    const { runner, hosts } = setup();
    const id = approved(['web-2'], 60);
    await provisionRequest(runner, id);
    ctx.clock.now += 60_000;
    await sweepOnce(runner);
    ctx.clock.now += 7 * 86_400_000 - 1;
    expect((await sweepOnce(runner)).usersCleaned).toBe(0);
    ctx.clock.now += 1;
    expect((await sweepOnce(runner)).usersCleaned).toBe(1);
    expect(hosts.calls).toContain('cleanup dev web-2');
    expect(grantsOfRequest(ctx.db, id)[0]!.state).toBe('cleaned');
  });
});
