// The sweep deletes a user cleanup_after_days after their last grant on a server ended, and never while another
// grant of theirs on that server is live. Real sshd test host, real SQLite, the real sweep and grant runner; the
// test clock starts 8 days in the past, so the first grant is old by the time the second (in real time) is issued
// and the real ssh client can log in with the second one's certificate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { endAccess, provisionRequest, type GrantRunner } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();
const DAY_MS = 86_400_000;

describe.skipIf(!!reason)(`cleanup with two grants on one server${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  let hosts: TestHost[];
  let ctx: TestContext;
  let pool: ConnectionPool;
  let runner: GrantRunner;

  const lab = integration('lab', [server('clean-1', { tags: { env: 'prod' } }), server('clean-2', { tags: { env: 'prod' } })], { cleanupAfterDays: 7, owners: ['platform@example.com'] });
  const config = accessConfig({
    integrations: [lab],
    flows: [flow('lab-debug', 'lab', { resources: { integration: 'lab', servers: ['clean-1', 'clean-2'], tags: {} } })],
  });

  beforeAll(async () => {
    hosts = await startTestHosts(2, { name: 'clean' });
    hosts.forEach((host, i) => Object.assign(lab.servers[i]!, { port: host.port, user: host.connectorUser }));
    ctx = testContext(config, Date.now() - 8 * DAY_MS);
    const byName = new Map(lab.servers.map((s, i) => [s.name, hosts[i]!]));
    pool = new ConnectionPool({ connectorKey: (ref) => byName.get(ref.server.name)!.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
    await Promise.all(lab.servers.map((s) => bootstrapServer(pool, { integration: lab, server: s }, caKey.publicKeyLine)));
    runner = createGrantRunner(ctx, sshHostEffects({ pool, db: ctx.db, now: ctx.now }), caKey);
  });

  afterAll(async () => {
    await pool?.close();
    await stopAllTestHosts();
    ctx?.close();
  });

  async function approvedAndActive(email: string, servers: string[], duration: number): Promise<number> {
    const { request } = submitRequest(ctx, { email }, { servers, duration, reason: 'INC-8' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    expect((await provisionRequest(runner, request.id)).map((g) => g.state)).toEqual(servers.map(() => 'active'));
    return request.id;
  }

  const accountOn = (host: TestHost, user: string) =>
    readFileSync(join(host.dir, 'etc/passwd'), 'utf8').split('\n').some((l) => l.startsWith(`${user}:`));
  const homeOn = (host: TestHost, user: string) => existsSync(join(host.dir, 'home', user));
  const states = (requestId: number) => grantsOfRequest(ctx.db, requestId).map((g) => g.state);

  it('keeps the user while a newer grant on the same server is live, then deletes them once it too is long over', async () => {
    const [host1] = hosts as [TestHost, TestHost];
    const key = await generateUserKey(ctx.dir);
    registerKey(ctx, 'cleo@example.com', 'cleo', key.publicKeyLine);

    // Eight days ago: an hour's access, which the sweep ended at its expiry.
    const old = await approvedAndActive('cleo@example.com', ['clean-1'], 3600);
    ctx.clock.now += 3600_000;
    expect((await sweepOnce(runner)).accessEnded).toBe(1);
    expect(states(old)).toEqual(['revoked']);

    // Now (real time): a new grant on the same server. The old one ended more than cleanup_after_days ago.
    ctx.clock.now = Date.now();
    const current = await approvedAndActive('cleo@example.com', ['clean-1'], 3600);
    const report = await sweepOnce(runner);
    expect(report.usersCleaned, 'a user with a live grant on the server is not cleaned up').toBe(0);
    expect(states(old), 'the old grant is not marked cleaned').toEqual(['revoked']);
    expect(accountOn(host1, 'cleo'), 'cleo still has an account on clean-1').toBe(true);
    expect(homeOn(host1, 'cleo')).toBe(true);
    const certPath = join(ctx.dir, 'cleo-cert.pub');
    writeFileSync(certPath, `${certificateOf(ctx, current)!.line}\n`);
    const login = await sshRun(host1, { user: 'cleo', keyPath: key.privateKeyPath, certPath, command: 'id -un' });
    expect(login.stdout.trim(), `the live grant still logs in: ${login.stderr}`).toBe('cleo');

    // The live grant ends; cleanup_after_days later the user goes, and both grants are cleaned.
    await endAccess(runner, current, 'revoked', 'cleo@example.com');
    ctx.clock.now += 7 * DAY_MS - 60_000;
    expect((await sweepOnce(runner)).usersCleaned, 'not before cleanup_after_days from the LAST grant').toBe(0);
    expect(accountOn(host1, 'cleo')).toBe(true);
    ctx.clock.now += 120_000;
    expect((await sweepOnce(runner)).usersCleaned).toBe(1);
    expect(accountOn(host1, 'cleo')).toBe(false);
    expect(homeOn(host1, 'cleo')).toBe(false);
    expect([...states(old), ...states(current)]).toEqual(['cleaned', 'cleaned']);
  });

  it('deletes the user on a server where all their grants are over, while a live grant elsewhere keeps its own account', async () => {
    const [host1, host2] = hosts as [TestHost, TestHost];
    ctx.clock.now = Date.now() - 8 * DAY_MS;
    const key = await generateUserKey(ctx.dir);
    registerKey(ctx, 'dora@example.com', 'dora', key.publicKeyLine);
    const old = await approvedAndActive('dora@example.com', ['clean-1'], 3600);
    ctx.clock.now += 3600_000;
    await sweepOnce(runner);
    expect(states(old)).toEqual(['revoked']);

    ctx.clock.now = Date.now();
    const elsewhere = await approvedAndActive('dora@example.com', ['clean-2'], 3600);
    expect((await sweepOnce(runner)).usersCleaned).toBe(1);
    expect(accountOn(host1, 'dora'), 'dora is deleted on clean-1').toBe(false);
    expect(accountOn(host2, 'dora'), 'dora keeps her account on clean-2').toBe(true);
    expect(states(elsewhere)).toEqual(['active']);
  });
});
