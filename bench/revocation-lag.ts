// Revocation lag on real sshd test hosts: how long after a grant's expiry the host stops accepting its certificate.
// 100 requests (one server each) are approved one after another, so that their expiries are spread over ~20 s, each at
// its own time; the real scheduler (a timer armed at the next expiry) sweeps and revokes them over SSH. Measured per
// grant: expiry → the revoke command returned on the host (principal removed, account locked, processes ended).
// The real OpenSSH client checks a sample. A certificate is valid until its grant's expiry (to the second), so its
// own end would refuse it anyway; the sample also polls a twin of the certificate (same key, principal and CA,
// valid for an hour — what a server whose clock lags would still accept) until refused, which only the revoke can do.
// Needs root, like the integration tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { certificateOf } from '../src/targets/ssh/certificates.js';
import type { AccessContext } from '../src/access/context.js';
import { createEngine } from '../src/access/engine.js';
import { createGrantRunner } from '../test/helpers/grant-runner.js';
import type { HostEffects } from '../src/targets/ssh/host-effects.js';
import { registerPublicKey } from '../src/access/people.js';
import { submitRequest, voteOnRequest } from '../src/access/requests.js';
import { startScheduler, type Scheduler } from '../src/access/scheduler.js';
import { generateCaKey } from '../src/ca/ca-key.js';
import { signCertificate, validityWindow } from '../src/ca/certificate.js';
import { parseUserPublicKey } from '../src/ca/user-key.js';
import { findServer } from '../src/core/policy.js';
import { bootstrapServer } from '../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../src/targets/ssh/open-pool.js';
import { grantsOfRequest, type Grant } from '../src/store/grants.js';
import { openDatabase } from '../src/store/open-database.js';
import { accessConfig, flow, integration, server } from '../test/helpers/access-config.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { generateUserKey, sshRun } from '../test/helpers/ssh-client.js';
import { startTestHosts, type TestHost } from '../test/helpers/test-host.js';

const HOSTS = 4;
const PEOPLE = 25; // each asks for each host once: 100 grants, one per request, one per user and host
const GRANTS = HOSTS * PEOPLE;
const SPACING_MS = 200; // between approvals, so between expiries
const ACCESS_SECONDS = 20; // longer than the approval phase: provisioning is over before the first expiry
const SAMPLE_EVERY = 10; // grants checked with the real ssh client
const SETTLE_MS = 20_000; // how long after the last expiry to wait for the revokes

type Timing = { startedAt: number; doneAt: number };

interface Probe {
  acceptedBefore: boolean;
  /** How long the accepted login before expiry took (ssh's own time: the resolution of the ssh-observed lag). */
  loginMs?: number;
  twinAcceptedBefore: boolean;
  /** Date.now() at the end of the first refused login with the still-valid twin, or undefined. */
  twinRefusedAt?: number;
  twinAttempts: number;
  refusedAfter: boolean;
  /** The same certificate was refused while still within its own validity (so the revoke refused it). */
  refusedWhileValid: boolean;
  expiresAt: number;
  error?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(label: string, samples: number[], p99 = true): string {
  const ms = [...samples].sort((a, b) => a - b);
  const f = (n: number) => `${n.toFixed(0).padStart(6)} ms`;
  return `    ${label.padEnd(34)} p50 ${f(percentile(ms, 50))}${p99 ? `   p99 ${f(percentile(ms, 99))}` : ''}   max ${f(ms.at(-1) ?? Number.NaN)}`;
}

export async function benchRevocationLag(): Promise<string[]> {
  const skip = rootTestSkipReason();
  if (skip) return [`  skipped: ${skip}`];

  const began = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-revocation-'));
  const db = openDatabase(join(dir, 'data'));
  let hosts: TestHost[] = [];
  let pool: ConnectionPool | undefined;
  let scheduler: Scheduler | undefined;
  let engine: ReturnType<typeof createEngine> | undefined;
  try {
    hosts = await startTestHosts(HOSTS, { name: 'lag' });
    const hostOf = new Map(hosts.map((h) => [h.name, h]));
    const emails = Array.from({ length: PEOPLE }, (_, i) => `lag${String(i + 1).padStart(2, '0')}@example.com`);
    const config = accessConfig({
      integrations: [integration('bench-linux', hosts.map((h) => server(h.name, { host: h.host, port: h.port, user: h.connectorUser, tags: { env: 'bench' } })))],
      flows: [flow('bench-lag', 'bench-linux', {
        requesters: { everyone: false, emails, slackUsergroups: [] },
        resources: { integration: 'bench-linux', servers: [], tags: { env: 'bench' } },
        defaultDuration: ACCESS_SECONDS,
      })],
    });
    const ctx: AccessContext = { db, config: () => config, now: () => Date.now(), logger: pino({ level: 'silent' }) };
    pool = new ConnectionPool({ connectorKey: (ref) => hostOf.get(ref.server.name)!.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, ctx.now) });
    const { caKey } = generateCaKey();
    await Promise.all(hosts.map((h) => bootstrapServer(pool!, findServer(config, h.name)!, caKey.publicKeyLine)));
    const keys = await Promise.all(emails.map(() => generateUserKey(dir)));
    emails.forEach((email, i) => registerPublicKey(ctx, email, keys[i]!.publicKeyLine, 'bench'));
    const setupMs = Date.now() - began;

    // The real host effects over SSH, timed: when each grant's revoke started and when it returned.
    const real = sshHostEffects({ pool, db, now: ctx.now });
    const revokes = new Map<number, Timing>();
    const hostEffects: HostEffects = {
      provision: (ref, grant) => real.provision(ref, grant),
      cleanup: (ref, user) => real.cleanup(ref, user),
      async revoke(ref, grant, scope) {
        const startedAt = Date.now();
        await real.revoke(ref, grant, scope);
        revokes.set(grant.id, { startedAt, doneAt: Date.now() });
      },
      provisionBatch: (ref, grants) => real.provisionBatch!(ref, grants),
      // Grants due on one host at once are revoked in one batch: each is timed from the batch's start to its end.
      async revokeBatch(ref, items) {
        const startedAt = Date.now();
        const outcomes = await real.revokeBatch!(ref, items);
        const doneAt = Date.now();
        items.forEach(({ grant }, i) => {
          if (outcomes[i]!.ok) revokes.set(grant.id, { startedAt, doneAt });
        });
        return outcomes;
      },
    };
    engine = createEngine(createGrantRunner(ctx, hostEffects, caKey), []);
    scheduler = startScheduler(engine);

    // With the real ssh client: the certificate works before expiry; after expiry its still-valid twin is tried
    // back to back until refused; then the same certificate is refused too.
    const probe = async (index: number, requestId: number, host: TestHost, key: { privateKeyPath: string; publicKeyLine: string }): Promise<Probe> => {
      let cert = certificateOf(ctx, requestId);
      for (let waited = 0; !cert && waited < 10_000; waited += 20) {
        await sleep(20);
        cert = certificateOf(ctx, requestId);
      }
      const [grant] = grantsOfRequest(db, requestId);
      const result: Probe = { acceptedBefore: false, twinAcceptedBefore: false, twinAttempts: 0, refusedAfter: false, refusedWhileValid: false, expiresAt: grant!.expiresAt };
      if (!cert) return { ...result, error: `no certificate for request ${requestId} (grant ${grant?.state} ${grant?.lastError ?? ''})` };
      const certPath = join(dir, `probe-${index}-cert.pub`);
      const twinPath = join(dir, `probe-${index}-twin-cert.pub`);
      writeFileSync(certPath, `${cert.line}\n`);
      const twin = signCertificate(caKey, {
        publicKey: parseUserPublicKey(key.publicKeyLine), serial: BigInt(1_000_000 + index), keyId: `bench-twin-${requestId}`,
        principals: [grant!.principal], ...validityWindow(new Date(), 3600),
      });
      writeFileSync(twinPath, `${twin.line}\n`);
      const login = (path: string) => sshRun(host, { user: grant!.linuxUser, keyPath: key.privateKeyPath, certPath: path, command: 'true', timeoutMs: 10_000 });
      const before = Date.now();
      result.acceptedBefore = (await login(certPath)).code === 0;
      result.loginMs = Date.now() - before;
      result.twinAcceptedBefore = (await login(twinPath)).code === 0;
      await sleep(grant!.expiresAt - Date.now());
      while (Date.now() < grant!.expiresAt + SETTLE_MS) {
        result.twinAttempts++;
        if ((await login(twinPath)).code !== 0) {
          result.twinRefusedAt = Date.now();
          break;
        }
      }
      result.refusedAfter = (await login(certPath)).code !== 0;
      result.refusedWhileValid = result.refusedAfter && Date.now() < cert.validBefore * 1000;
      return result;
    };

    // 100 requests approved SPACING_MS apart; host i % HOSTS, person i / HOSTS: consecutive expiries on different hosts.
    const probes: Array<Promise<Probe>> = [];
    const requests: number[] = [];
    const start = Date.now() + 100;
    for (let i = 0; i < GRANTS; i++) {
      await sleep(start + i * SPACING_MS - Date.now());
      const host = hosts[i % HOSTS]!;
      const person = Math.floor(i / HOSTS);
      const asked = submitRequest(ctx, { email: emails[person]! }, { servers: [host.name], duration: ACCESS_SECONDS, reason: `bench revocation lag ${i}` }, 'bench');
      voteOnRequest(ctx, asked.request.id, { email: 'lead@example.com' }, 'approve');
      engine.kick();
      requests.push(asked.request.id);
      if (i % SAMPLE_EVERY === SAMPLE_EVERY - 1) probes.push(probe(i, asked.request.id, host, keys[person]!));
    }
    const approvedMs = Date.now() - start;

    const grants = (): Grant[] => requests.flatMap((id) => grantsOfRequest(db, id));
    const lastExpiry = Math.max(...grants().map((g) => g.expiresAt));
    const open = (g: Grant) => g.state !== 'revoked' && g.state !== 'revoke_failed';
    while (grants().some(open) && Date.now() < lastExpiry + SETTLE_MS) await sleep(100);
    const probed = await Promise.all(probes);

    const all = grants();
    const expiries = all.map((g) => g.expiresAt).sort((a, b) => a - b);
    const timed = all.flatMap((g) => {
      const t = revokes.get(g.id);
      return t && g.state === 'revoked' ? [{ grant: g, ...t }] : [];
    });
    const lag = timed.map((t) => t.doneAt - t.grant.expiresAt);
    const waiting = timed.map((t) => t.startedAt - t.grant.expiresAt);
    const overSsh = timed.map((t) => t.doneAt - t.startedAt);
    const recorded = timed.map((t) => t.grant.revokedAt! - t.grant.expiresAt);
    const retried = all.filter((g) => g.attempts > 0).length;
    const everActive = all.filter((g) => g.activeAt !== null).length;
    const twinLag = probed.flatMap((p) => (p.twinRefusedAt === undefined ? [] : [p.twinRefusedAt - p.expiresAt]));
    const loginMs = probed.flatMap((p) => (p.loginMs === undefined ? [] : [p.loginMs])).sort((a, b) => a - b);
    const count = (f: (p: Probe) => boolean) => `${probed.filter(f).length}/${probed.length}`;
    const errors = probed.flatMap((p) => (p.error ? [p.error] : []));

    const lines = [
      `  ${HOSTS} test hosts started and bootstrapped, ${PEOPLE} people with keys (${setupMs} ms); ${GRANTS} requests of one server each approved over ${(approvedMs / 1000).toFixed(1)} s for ${ACCESS_SECONDS} s: `
        + `${new Set(expiries).size} distinct expiries over ${((expiries.at(-1)! - expiries[0]!) / 1000).toFixed(1)} s, ${GRANTS / HOSTS} per host, one grant per Linux user and host`,
      `  revocation lag over ${timed.length} grants (expiry → revoked on the host: the revoke's SSH command returned — principal removed, account locked, processes ended;`,
      `  the real scheduler's expiry timer → sweep → revoke), ssh refusal verified for ${probed.length}:`,
      summary('expiry → revoked on host', lag),
      `    ${'revocation lag p50 / p99'.padEnd(34)} ${percentile([...lag].sort((a, b) => a - b), 50).toFixed(0)} ms / ${percentile([...lag].sort((a, b) => a - b), 99).toFixed(0)} ms   (target p99 ≤ 500 ms: ${percentile([...lag].sort((a, b) => a - b), 99) <= 500 ? 'met' : 'NOT met'})`,
      summary('  of which: expiry → revoke began', waiting),
      summary('  of which: revoke over SSH', overSsh),
      summary('expiry → revoked_at in SQLite', recorded),
      `  real ssh client, every ${SAMPLE_EVERY}th grant: before expiry the certificate accepted ${count((p) => p.acceptedBefore)} and its twin (same key, principal and CA, valid 1 h) accepted ${count((p) => p.twinAcceptedBefore)};`,
      `  from expiry the twin tried back to back until refused: refused ${count((p) => p.twinRefusedAt !== undefined)} (${probed.reduce((n, p) => n + p.twinAttempts, 0)} logins)`,
      summary('expiry → ssh refused (twin)', twinLag, false) + `   (end of the first refused login; one ssh login takes ~${percentile(loginMs, 50).toFixed(0)} ms here)`,
      `  then the same certificate refused ${count((p) => p.refusedAfter)} (${count((p) => p.refusedWhileValid)} while it was still within its own validity, so by the revoke)`,
      `  ${all.filter((g) => g.state === 'revoked').length}/${GRANTS} grants revoked (${everActive} had been active), ${retried} needed a retry after a failed provision or revoke, ${scheduler.status.sweeps} sweeps; part took ${((Date.now() - began) / 1000).toFixed(1)} s`,
    ];
    for (const error of errors) lines.push(`  probe error: ${error}`);
    return lines;
  } finally {
    scheduler?.stop();
    await engine?.idle();
    await pool?.close();
    await Promise.all(hosts.map((h) => h.stop()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
