// The certificate Keyway actually issues for an approved request, read back with OpenSSH's `ssh-keygen -L`
// (not Keyway's own encoder): what it names, how long it is valid, what it permits. Real SQLite, real CA key,
// the real grant runner; the servers' side is a stand-in (the login proof is in test/integration/).
import { afterEach, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { provisionRequest } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import type { Flow } from '../../src/core/model.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { readCertificate } from '../helpers/read-certificate.js';

const acceptingHosts: HostEffects = { provision: async () => undefined, revoke: async () => undefined, cleanup: async () => undefined };

let ctx: TestContext;
afterEach(() => ctx?.close());

/** dev asks for web-2 and lead approves; returns the request id once its grant is active. */
async function issuedFor(options: { flow?: Partial<Flow>; duration?: number; approvedFor?: number } = {}): Promise<number> {
  const config = accessConfig({ flows: [flow('prod-debug', 'prod-linux', options.flow ?? {})] });
  ctx = testContext(config);
  registerKey(ctx, 'dev@example.com', 'dev');
  const runner = createGrantRunner(ctx, acceptingHosts, generateCaKey().caKey);
  const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: options.duration ?? 3600, reason: 'INC-1' }, 'test');
  ctx.clock.now += 90_000; // approved a minute and a half after the request: the certificate starts from the approval
  const decided = voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve', { duration: options.approvedFor });
  expect(decided.kind).toBe('approved');
  expect((await provisionRequest(runner, request.id)).map((g) => g.state)).toEqual(['active']);
  return request.id;
}

function issued(requestId: number) {
  const cert = certificateOf(ctx, requestId);
  if (!cert) throw new Error(`request ${requestId} has no certificate`);
  return { stored: cert, seen: readCertificate(cert.line) };
}

describe('the certificate issued for an approved request', () => {
  it('names exactly the request principal: not the Linux user, nor anything else', async () => {
    const id = await issuedFor();
    const { seen } = issued(id);
    expect(seen.type).toBe('ssh-ed25519-cert-v01@openssh.com user certificate');
    expect(seen.principals).toEqual([`keyway-req-${id}`]);
    const linuxUser = getRequest(ctx.db, id)!.linuxUser;
    expect(linuxUser).toBe('dev');
    expect(seen.principals, 'the Linux user would open every server where that account exists').not.toContain(linuxUser);
  });

  it('ends exactly when the access does, and starts shortly before the approval', async () => {
    const id = await issuedFor({ duration: 7200 });
    const approvedAt = ctx.now();
    const { seen } = issued(id);
    const expiresAt = getRequest(ctx.db, id)!.accessExpiresAt!;
    expect(expiresAt).toBe(approvedAt + 7200_000);
    expect(seen.validBefore).toBe(Math.floor(expiresAt / 1000));
    expect(seen.validAfter).toBeLessThanOrEqual(Math.floor(approvedAt / 1000));
    expect(seen.validAfter, 'backdated by minutes, not hours').toBeGreaterThan(Math.floor(approvedAt / 1000) - 3600);
  });

  it('ends at the shorter time an approver chose, not the time asked for', async () => {
    const id = await issuedFor({ duration: 4 * 3600, approvedFor: 1800 });
    const { seen } = issued(id);
    expect(seen.validBefore).toBe(Math.floor(ctx.now() / 1000) + 1800);
  });

  it('carries the serial it was recorded under, a key ID naming request and person, and only permit-pty', async () => {
    const id = await issuedFor();
    const { stored, seen } = issued(id);
    expect(seen.serial).toBe(stored.serial);
    expect(seen.keyId).toBe(`keyway-req-${id}:dev@example.com:web-2`);
    expect(seen.extensions).toEqual(['permit-pty']);
    expect(seen.criticalOptions).toEqual([]);
    const granted = dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).map((e) => e.event).filter((e) => e.kind === 'access_granted');
    expect(granted).toEqual([{ kind: 'access_granted', requestId: id, serial: stored.serial }]);
  });

  it('permits agent and port forwarding only when the flow allows them, and pins a source address the flow names', async () => {
    const id = await issuedFor({ flow: { allowAgentForwarding: true, allowPortForwarding: true, sourceAddress: ['10.0.0.0/8'] } });
    const { seen } = issued(id);
    expect([...seen.extensions].sort()).toEqual(['permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty']);
    expect(seen.criticalOptions).toEqual(['source-address 10.0.0.0/8']);
    expect(seen.principals).toEqual([`keyway-req-${id}`]);
  });
});
