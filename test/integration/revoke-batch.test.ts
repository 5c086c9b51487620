// Performance issue 15: the grants due on one server are provisioned and revoked in one remote run per server, and
// still recorded per grant: a bad grant in a batch (an account Keyway did not create, an account whose UID changed)
// fails alone, with its own reason, and is retried; the others are done. Real sshd test hosts, real SQLite, the
// real ssh client with the certificates Keyway issued as the proof.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginEndingAccess, provisionGrants, revokeGrants, type GrantRunner } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects, type HostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { getGrant, grantsOfRequest, type Grant } from '../../src/store/grants.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun, startSshSession, type SshSession } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

interface Person { email: string; user: string; keyPath: string }

describe.skipIf(!!reason)(`grants batched per server${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  let hosts: TestHost[];
  let ctx: TestContext;
  let pool: ConnectionPool;
  let runner: GrantRunner;
  const batches: string[] = [];
  const sessions: SshSession[] = [];
  const people: Record<string, Person> = {};
  const requests: Record<string, number[]> = {};

  const lab = integration('lab', [server('batch-1'), server('batch-2')], { userGroups: ['developers'] });
  const config = accessConfig({
    integrations: [lab],
    flows: [flow('lab-debug', 'lab', { requesters: { everyone: true, emails: [], slackUsergroups: [] }, resources: { integration: 'lab', servers: ['batch-1', 'batch-2'], tags: {} } })],
  });

  beforeAll(async () => {
    hosts = await startTestHosts(2, { name: 'batch' });
    hosts.forEach((host, i) => Object.assign(lab.servers[i]!, { port: host.port, user: host.connectorUser }));
    ctx = testContext(config, Date.now()); // real time: sshd checks the certificates' validity
    pool = new ConnectionPool({ connectorKey: (ref) => hosts[lab.servers.findIndex((s) => s.name === ref.server.name)]!.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
    for (const s of lab.servers) await bootstrapServer(pool, { integration: lab, server: s }, caKey.publicKeyLine);
    for (const host of hosts) expect((await host.exec('groupadd developers')).code).toBe(0);
    // eve already has an account on batch-2 that Keyway did not create.
    expect((await hosts[1]!.exec("useradd -m -s /bin/bash -p '*' eve")).code).toBe(0);
    const real = sshHostEffects({ pool, db: ctx.db, now: ctx.now });
    const recording: HostEffects = {
      ...real,
      provisionBatch: (ref, grants) => {
        batches.push(`provision ${ref.server.name} ${grants.length}`);
        return real.provisionBatch!(ref, grants);
      },
      revokeBatch: (ref, items) => {
        batches.push(`revoke ${ref.server.name} ${items.length}`);
        return real.revokeBatch!(ref, items);
      },
    };
    runner = createGrantRunner(ctx, recording, caKey);
    for (const user of ['ana', 'ben', 'carl', 'mallory', 'eve']) {
      const key = await generateUserKey(ctx.dir);
      people[user] = { email: `${user}@example.com`, user, keyPath: key.privateKeyPath };
      registerKey(ctx, `${user}@example.com`, user, key.publicKeyLine);
    }
  });

  afterAll(async () => {
    for (const session of sessions) session.kill();
    await pool?.close();
    await stopAllTestHosts();
    ctx?.close();
  });

  function approve(user: string, servers: string[]): number {
    const { request } = submitRequest(ctx, { email: people[user]!.email }, { servers, duration: 3600, reason: 'INC-15' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    (requests[user] ??= []).push(request.id);
    return request.id;
  }

  const hostOf = (name: string): TestHost => hosts[lab.servers.findIndex((s) => s.name === name)]!;
  const allGrants = (): Grant[] => Object.values(requests).flat().flatMap((id) => grantsOfRequest(ctx.db, id));
  const grantOf = (user: string, serverName: string, nth = 0): Grant =>
    allGrants().filter((g) => g.linuxUser === user && g.server === serverName)[nth]!;

  function certificatePath(requestId: number): string {
    const path = join(ctx.dir, `req-${requestId}-cert.pub`);
    writeFileSync(path, `${certificateOf(ctx, requestId)!.line}\n`);
    return path;
  }

  const login = (user: string, requestId: number, serverName: string) =>
    sshRun(hostOf(serverName), { user, keyPath: people[user]!.keyPath, certPath: certificatePath(requestId), command: 'id -un', timeoutMs: 10_000 });

  async function liveProcesses(host: TestHost, user: string): Promise<string[]> {
    const uid = (await host.exec(`id -u ${user}`)).stdout.trim();
    const out = (await host.exec('ps -e -o pid= -o euid= -o ruid= -o stat= -o comm=')).stdout;
    return out.split('\n').map((line) => line.trim().split(/\s+/))
      .filter(([, euid, ruid, stat]) => (euid === uid || ruid === uid) && !stat?.startsWith('Z')).map((f) => f.join(' '));
  }

  it('provisions the grants of a burst in one batch per server; the account Keyway did not create fails alone', async () => {
    for (const user of ['ana', 'ben', 'carl', 'mallory']) approve(user, ['batch-1', 'batch-2']);
    approve('ben', ['batch-1', 'batch-2']); // ben holds two grants on each server
    approve('eve', ['batch-2']);
    const states = await provisionGrants(runner, allGrants().map((g) => g.id));
    expect(batches.sort()).toEqual(['provision batch-1 5', 'provision batch-2 6']);
    expect([...states.values()].filter((s) => s === 'active')).toHaveLength(10);

    const eve = getGrant(ctx.db, grantOf('eve', 'batch-2').id)!;
    expect(eve.state).toBe('provision_failed');
    expect(eve.lastError).toMatch(/eve already exists and was not created by Keyway/);
    // The UID chosen for eve before the server was asked names no account of Keyway's: no live record is kept.
    expect(ctx.db.prepare("SELECT COUNT(*) FROM managed_users WHERE server = 'batch-2' AND linux_user = 'eve' AND deleted_at IS NULL").pluck().get()).toBe(0);
    for (const user of ['ana', 'ben', 'carl', 'mallory']) {
      for (const name of ['batch-1', 'batch-2']) {
        expect(grantOf(user, name).state, `${user} on ${name}`).toBe('active');
        const result = await login(user, requests[user]![0]!, name);
        expect(result.stdout.trim(), `${user} on ${name}: ${result.stderr}`).toBe(user);
      }
    }
    expect((await login('ben', requests.ben![1]!, 'batch-2')).stdout.trim()).toBe('ben');
    expect((await hostOf('batch-1').exec('id -nG ana')).stdout).toMatch(/\bdevelopers\b/);
  });

  it('revokes a batch with a bad grant: the others are revoked, the bad one is revoke_failed with its own reason; certificates refused, no process left', async () => {
    // Sessions and a detached process that the revoke must end.
    for (const user of ['ana', 'ben', 'carl']) {
      for (const name of ['batch-1', 'batch-2']) {
        const session = startSshSession(hostOf(name), {
          user, keyPath: people[user]!.keyPath, certPath: certificatePath(requests[user]![0]!),
          command: "setsid sleep 901 </dev/null >/dev/null 2>&1 & echo ready; exec sleep 600",
        });
        sessions.push(session);
        await session.waitForOutput('ready');
      }
    }
    // mallory's account on batch-1 is no longer the one Keyway created (its UID changed under it).
    expect((await hostOf('batch-1').exec('usermod -u 61999 mallory')).code).toBe(0);
    batches.length = 0;

    // As the sweeper does for everything due at once: every ending recorded, then one revoke call for all.
    const ids = Object.values(requests).flat().flatMap((id) => beginEndingAccess(runner, id, 'revoked', 'test'));
    const states = await revokeGrants(runner, ids, 'test');
    expect(batches.sort()).toEqual(['revoke batch-1 5', 'revoke batch-2 6']);

    const mallory = getGrant(ctx.db, grantOf('mallory', 'batch-1').id)!;
    expect(mallory).toMatchObject({ state: 'revoke_failed', attempts: 1 });
    expect(mallory.lastError).toMatch(/mallory has UID 61999, not the UID \d+ Keyway created it with/);
    expect(mallory.nextAttemptAt).toEqual(expect.any(Number)); // retried
    const eve = getGrant(ctx.db, grantOf('eve', 'batch-2').id)!;
    expect(eve.state).toBe('revoke_failed');
    expect(eve.lastError).toMatch(/eve already exists and was not created by Keyway/);
    expect([...states.values()].filter((s) => s === 'revoked')).toHaveLength(ids.length - 2);

    for (const user of ['ana', 'ben', 'carl']) {
      for (const name of ['batch-1', 'batch-2']) {
        expect(grantOf(user, name).state).toBe('revoked');
        for (const requestId of requests[user]!) {
          const refused = await login(user, requestId, name);
          expect(refused.code, `${user} on ${name}`).not.toBe(0);
          expect(refused.stderr).toMatch(/Permission denied/);
        }
        expect(await liveProcesses(hostOf(name), user), `${user} on ${name}`).toEqual([]);
        expect((await hostOf(name).exec(`id -nG ${user}`)).stdout).not.toMatch(/\bdevelopers\b/);
        expect((await hostOf(name).exec(`getent shadow ${user}`)).stdout).toMatch(new RegExp(`^${user}:!`));
      }
    }
    for (const session of sessions) expect((await session.wait()).code).not.toBe(0);
    // Even the refused grant lost its principal first: mallory's certificate opens nothing on batch-1 either.
    expect((await login('mallory', requests.mallory![0]!, 'batch-1')).code).not.toBe(0);
    expect(grantOf('mallory', 'batch-2').state).toBe('revoked');
  });

  it('retries the failed grant on its own once the server is right again', async () => {
    const uid = ctx.db.prepare("SELECT uid FROM managed_users WHERE server = 'batch-1' AND linux_user = 'mallory'").pluck().get() as number;
    expect((await hostOf('batch-1').exec(`usermod -u ${uid} mallory`)).code).toBe(0);
    const id = grantOf('mallory', 'batch-1').id;
    expect((await revokeGrants(runner, [id], 'system')).get(id)).toBe('revoked');
    expect((await hostOf('batch-1').exec('getent shadow mallory')).stdout).toMatch(/^mallory:!/);
  });
});
