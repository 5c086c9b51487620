// Certificates owed after a crash or an extension: the sweep finds approved access whose certificate was never
// signed (the process died between activating a grant and signing), or whose certificate ends before the access
// does (an extension was approved), and issues one. Real SQLite, real CA key; the certificate is read back with
// OpenSSH's ssh-keygen -L.
import { afterEach, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { requestExtension } from '../../src/access/extend.js';
import { provisionRequest, type GrantRunner } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { grantsOfRequest, moveGrant } from '../../src/store/grants.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { readCertificate } from '../helpers/read-certificate.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

function recordingHosts(): HostEffects & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    provision: async (ref) => void calls.push(`provision ${ref.server.name}`),
    revoke: async (ref) => void calls.push(`revoke ${ref.server.name}`),
    cleanup: async (ref, user) => void calls.push(`cleanup ${user} ${ref.server.name}`),
  };
}

/** A new process after a crash: same database and CA, nothing in memory. */
function restarted(hosts: HostEffects, ca = generateCaKey().caKey): GrantRunner {
  return createGrantRunner(ctx, hosts, ca);
}

function approved(servers: string[], duration = 3600): number {
  const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers, duration, reason: 'INC-1' }, 'test');
  expect(voteOnRequest(ctx, request.id, { email: request.approvers.emails[0]! }, 'approve').kind).toBe('approved');
  return request.id;
}

const granted = () => dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).map((e) => e.event).filter((e) => e.kind === 'access_granted');

describe('after a crash', () => {
  it('issues the certificate of a grant that became active just before the crash, once', async () => {
    ctx = testContext(accessConfig());
    registerKey(ctx, 'dev@example.com', 'dev');
    const ca = generateCaKey().caKey;
    const id = approved(['web-2']);
    // The server step finished and the grant was recorded active; the process died before signing.
    const [grant] = grantsOfRequest(ctx.db, id);
    expect(moveGrant(ctx.db, grant!.id, 'provisioning', 'active', { at: ctx.now() })).toBe(true);
    expect(certificateOf(ctx, id)).toBeUndefined();

    const hosts = recordingHosts();
    const report = await sweepOnce(restarted(hosts, ca));
    expect(report.certificatesIssued).toBe(1);
    const cert = certificateOf(ctx, id);
    expect(cert, 'the sweep after the restart signed the certificate').toBeDefined();
    const seen = readCertificate(cert!.line);
    expect(seen.principals).toEqual([`keyway-req-${id}`]);
    expect(seen.validBefore).toBe(Math.floor(getRequest(ctx.db, id)!.accessExpiresAt! / 1000));
    expect(granted()).toEqual([{ kind: 'access_granted', requestId: id, serial: cert!.serial }]);
    expect(hosts.calls, 'the active grant is not provisioned again').toEqual([]);

    expect((await sweepOnce(restarted(hosts, ca))).certificatesIssued, 'a second sweep signs nothing more').toBe(0);
    expect(granted()).toHaveLength(1);
  });

  it('issues it when one grant of a multi-server request is active and another still failing', async () => {
    ctx = testContext(accessConfig());
    registerKey(ctx, 'dev@example.com', 'dev');
    const id = approved(['web-2', 'db-1']);
    const [first, second] = grantsOfRequest(ctx.db, id);
    moveGrant(ctx.db, first!.id, 'provisioning', 'active', { at: ctx.now() });
    moveGrant(ctx.db, second!.id, 'provisioning', 'provision_failed', { at: ctx.now(), error: 'connect ECONNREFUSED', nextAttemptAt: ctx.now() + 3_600_000, countAttempt: true });
    await sweepOnce(restarted(recordingHosts()));
    expect(certificateOf(ctx, id), 'access on the working server is delivered while the other is retried').toBeDefined();
  });

  it('signs nothing for a request none of whose grants is active yet', async () => {
    ctx = testContext(accessConfig());
    registerKey(ctx, 'dev@example.com', 'dev');
    const waiting = approved(['web-2']);
    const [grant] = grantsOfRequest(ctx.db, waiting);
    moveGrant(ctx.db, grant!.id, 'provisioning', 'provision_failed', { at: ctx.now(), error: 'down', nextAttemptAt: ctx.now() + 3_600_000, countAttempt: true });
    const report = await sweepOnce(restarted(recordingHosts()));
    expect(report.certificatesIssued).toBe(0);
    expect(certificateOf(ctx, waiting)).toBeUndefined();
  });
});

describe('after an approved extension', () => {
  it('delivers a new certificate for the same principal that ends at the new expiry', async () => {
    ctx = testContext(accessConfig());
    registerKey(ctx, 'dev@example.com', 'dev');
    const hosts = recordingHosts();
    const runner = restarted(hosts);
    const id = approved(['web-2'], 3600);
    await provisionRequest(runner, id);
    const before = certificateOf(ctx, id)!;
    const oldEnd = getRequest(ctx.db, id)!.accessExpiresAt!;

    ctx.clock.now += 50 * 60_000;
    const extension = requestExtension(ctx, { email: 'dev@example.com' }, id, 1800);
    expect(voteOnRequest(ctx, extension.request.id, { email: extension.request.approvers.emails[0]! }, 'approve').kind).toBe('approved');
    const report = await sweepOnce(runner);
    expect(report.certificatesIssued).toBe(1);

    const after = certificateOf(ctx, id)!;
    expect(after.serial).toBeGreaterThan(before.serial);
    expect(after.line).not.toBe(before.line);
    const seen = readCertificate(after.line);
    expect(seen.principals).toEqual([`keyway-req-${id}`]);
    expect(seen.validBefore).toBe(Math.floor((oldEnd + 1800_000) / 1000));
    expect(seen.validBefore).toBeGreaterThan(readCertificate(before.line).validBefore);
    expect(granted().map((e) => e.kind === 'access_granted' && e.serial)).toEqual([before.serial, after.serial]);
    expect(grantsOfRequest(ctx.db, id).map((g) => g.expiresAt)).toEqual([oldEnd + 1800_000]);
    expect(hosts.calls).toEqual(['provision web-2']);
    expect((await sweepOnce(runner)).certificatesIssued, 'one new certificate per extension').toBe(0);
  });
});
