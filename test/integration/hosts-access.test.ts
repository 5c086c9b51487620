// Grants made real and taken back on real sshd test hosts; the proof is always the real ssh client with a Keyway
// certificate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { ServerRef } from '../../src/core/model.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { cleanupUser, provisionGrant, revokeGrant, type HostsContext } from '../../src/targets/ssh/provision.js';
import { liveManagedUser } from '../../src/store/managed-users.js';
import { openDatabase } from '../../src/store/open-database.js';
import { integration, server } from '../helpers/access-config.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { writeRequestCertificate } from '../helpers/request-certificate.js';
import { generateUserKey, sshRun, startSshSession } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`hosts: provision, revoke and cleanup on real servers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  const dir = mkdtempSync(join(tmpdir(), 'keyway-hosts-access-'));
  let hostA: TestHost;
  let hostB: TestHost;
  let refA: ServerRef;
  let refB: ServerRef;
  let db: Database;
  let pool: ConnectionPool;
  let ctx: HostsContext;
  let userKey: Awaited<ReturnType<typeof generateUserKey>>;
  let serial = 0n;

  beforeAll(async () => {
    [hostA, hostB] = (await startTestHosts(2, { name: 'access' })) as [TestHost, TestHost];
    db = openDatabase(join(dir, 'data'));
    const lab = integration('lab', [server('access-1', { port: hostA.port }), server('access-2', { port: hostB.port })]);
    refA = { integration: lab, server: lab.servers[0]! };
    refB = { integration: lab, server: lab.servers[1]! };
    const hostOf = new Map([['access-1', hostA], ['access-2', hostB]]);
    pool = new ConnectionPool({ connectorKey: (ref) => hostOf.get(ref.server.name)!.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, Date.now) });
    ctx = { pool, db, now: Date.now };
    await Promise.all([refA, refB].map((ref) => bootstrapServer(pool, ref, caKey.publicKeyLine)));
    await Promise.all([hostA, hostB].map((host) => host.exec('groupadd developers && groupadd ops')));
    userKey = await generateUserKey(dir);
  });

  afterAll(async () => {
    await pool?.close();
    await stopAllTestHosts();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The certificate Keyway would issue for request `requestId`, written next to the user's key. */
  const certificateFor = (requestId: number): string =>
    writeRequestCertificate({ ca: caKey, publicKeyLine: userKey.publicKeyLine, person: 'ana@example.com', requestId, serial: ++serial, dir });

  const login = (host: TestHost, user: string, certPath: string | undefined, command = 'id -un', tty = false) =>
    sshRun(host, { user, keyPath: userKey.privateKeyPath, certPath, command, tty });

  const groupsOf = async (host: TestHost, user: string) => (await host.exec(`id -nG ${user}`)).stdout.trim().split(' ');

  it('provisions a grant: the real ssh client logs in with the certificate, gets a pty and the granted groups', async () => {
    const result = await provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['developers'], principal: 'keyway-req-1' });
    expect(result).toEqual({ created: true, uid: 60000, groups: ['developers'] });

    const session = await login(hostA, 'ana', certificateFor(1), 'tty; id -nG', true);
    expect(session.code, session.stderr).toBe(0);
    expect(session.stdout).toMatch(/^\/dev\/pts\/\d+\r?\n/);
    expect(session.stdout).toMatch(/\bdevelopers\b/);
    expect(hostA.sshdLog()).toMatch(/Accepted publickey for ana .* ID keyway-req-1_ana@example\.com \(serial \d+\) CA ED25519/);
    expect(await groupsOf(hostA, 'ana')).toEqual(expect.arrayContaining(['ana', 'keyway-users', 'developers']));
    const passwd = (await hostA.exec('getent passwd ana')).stdout.trim();
    expect(passwd).toBe('ana:x:60000:60000:keyway-managed:/home/ana:/bin/bash');
    expect(liveManagedUser(db, 'lab', 'access-1', 'ana')?.uid).toBe(60000);
  });

  it('does not let a key planted in ~/.ssh/authorized_keys in', async () => {
    const plant = await hostA.exec(`install -d -m 0700 -o ana -g ana /home/ana/.ssh && echo '${userKey.publicKeyLine}' > /home/ana/.ssh/authorized_keys && chown ana:ana /home/ana/.ssh/authorized_keys && chmod 600 /home/ana/.ssh/authorized_keys`);
    expect(plant.code, plant.stderr).toBe(0);
    const attempt = await login(hostA, 'ana', undefined);
    expect(attempt.code).toBe(255);
    expect(attempt.stderr).toMatch(/Permission denied/);
  });

  it('scopes a certificate to the servers of its request', async () => {
    await provisionGrant(ctx, refB, { linuxUser: 'ana', groups: ['Default'], principal: 'keyway-req-2' });
    const wrongServer = await login(hostB, 'ana', join(dir, 'cert-1.pub'));
    expect(wrongServer.code).toBe(255);
    expect(wrongServer.stderr).toMatch(/Permission denied/);
    const rightServer = await login(hostB, 'ana', certificateFor(2));
    expect(rightServer, rightServer.stderr).toMatchObject({ code: 0, stdout: 'ana\n' });
    expect((await login(hostA, 'ana', join(dir, 'cert-2.pub'))).code).toBe(255);
    expect(await groupsOf(hostB, 'ana')).not.toContain('developers');
  });

  it('keeps access and groups another active grant gives when one grant is revoked', async () => {
    await provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['developers', 'ops'], principal: 'keyway-req-3' });
    expect(await groupsOf(hostA, 'ana')).toEqual(expect.arrayContaining(['developers', 'ops']));
    const certificate3 = certificateFor(3);
    expect((await login(hostA, 'ana', certificate3)).code).toBe(0);

    const result = await revokeGrant(ctx, refA, {
      linuxUser: 'ana', groups: ['developers', 'ops'], principal: 'keyway-req-3', groupsStillGranted: ['developers'], otherActiveGrants: true,
    });
    expect(result).toEqual({ accountFound: true, principalRemoved: true, groupsRemoved: ['ops'], accessEnded: false, hooksMoved: [], hooksMovedTo: undefined });
    expect((await login(hostA, 'ana', certificate3)).code).toBe(255);
    expect((await login(hostA, 'ana', join(dir, 'cert-1.pub'))).code).toBe(0);
    const groups = await groupsOf(hostA, 'ana');
    expect(groups).toContain('developers');
    expect(groups).not.toContain('ops');
  });

  it('revoke ends access: the still-valid certificate is refused, sessions and processes end, groups go', async () => {
    const session = startSshSession(hostA, {
      user: 'ana', keyPath: userKey.privateKeyPath, certPath: join(dir, 'cert-1.pub'),
      command: 'setsid sleep 900 </dev/null >/dev/null 2>&1 & echo ready; sleep 600',
    });
    await session.waitForOutput('ready');
    expect(Number((await hostA.exec('pgrep -c -u ana')).stdout)).toBeGreaterThanOrEqual(2);

    const result = await revokeGrant(ctx, refA, {
      linuxUser: 'ana', groups: ['developers'], principal: 'keyway-req-1', groupsStillGranted: [], otherActiveGrants: false,
    });
    expect(result).toEqual({ accountFound: true, principalRemoved: true, groupsRemoved: ['developers'], accessEnded: true, hooksMoved: [], hooksMovedTo: undefined });

    const ended = await session.wait();
    expect(ended.code).not.toBe(0);
    expect((await hostA.exec('pgrep -u ana')).code).toBe(1);
    const refused = await login(hostA, 'ana', join(dir, 'cert-1.pub'));
    expect(refused.code).toBe(255);
    expect(await groupsOf(hostA, 'ana')).not.toContain('developers');
    expect((await hostA.exec('getent shadow ana')).stdout).toMatch(/^ana:!/);
    expect((await hostA.exec('cat /etc/ssh/keyway/principals/ana')).code).not.toBe(0);

    // A retry after a partial or complete revoke succeeds and changes nothing.
    const again = await revokeGrant(ctx, refA, {
      linuxUser: 'ana', groups: ['developers'], principal: 'keyway-req-1', groupsStillGranted: [], otherActiveGrants: false,
    });
    expect(again).toEqual({ accountFound: true, principalRemoved: false, groupsRemoved: [], accessEnded: true, hooksMoved: [], hooksMovedTo: undefined });
  });

  it('a new grant reopens a revoked account', async () => {
    const result = await provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['Default'], principal: 'keyway-req-4' });
    expect(result).toEqual({ created: false, uid: 60000, groups: [] });
    expect(await login(hostA, 'ana', certificateFor(4))).toMatchObject({ code: 0, stdout: 'ana\n' });
  });

  it('cleanup deletes the account and its home, and its UID is never handed out again', async () => {
    await revokeGrant(ctx, refA, { linuxUser: 'ana', groups: [], principal: 'keyway-req-4', groupsStillGranted: [], otherActiveGrants: false });
    expect(await cleanupUser(ctx, refA, 'ana')).toEqual({ deleted: true });
    expect((await hostA.exec('getent passwd ana')).code).toBe(2);
    expect((await hostA.exec('test -e /home/ana')).code).toBe(1);
    expect(liveManagedUser(db, 'lab', 'access-1', 'ana')).toBeUndefined();
    expect(await cleanupUser(ctx, refA, 'ana')).toEqual({ deleted: false });

    const again = await provisionGrant(ctx, refA, { linuxUser: 'ana', groups: [], principal: 'keyway-req-5' });
    expect(again.created).toBe(true);
    expect(again.uid).toBe(60001);
    // UIDs are tracked per server: the other server's first account also got 60000.
    expect(liveManagedUser(db, 'lab', 'access-2', 'ana')?.uid).toBe(60000);
  });

  it('refuses root, system accounts, accounts Keyway did not create and marked accounts it has no record of', async () => {
    await expect(provisionGrant(ctx, refA, { linuxUser: 'root', groups: [], principal: 'keyway-req-6' }))
      .rejects.toMatchObject({ code: 'username_invalid' });
    await expect(provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['root'], principal: 'keyway-req-6' }))
      .rejects.toMatchObject({ code: 'config_invalid' });

    expect((await hostA.exec("useradd -m -p '*' bob && useradd -r -p '*' svcbackup && useradd -m -p '*' -c keyway-managed -u 61000 mallory")).code).toBe(0);
    const before = (await hostA.exec('getent passwd bob svcbackup mallory; getent shadow bob svcbackup mallory; id -nG bob')).stdout;

    await expect(provisionGrant(ctx, refA, { linuxUser: 'bob', groups: ['developers'], principal: 'keyway-req-6' }))
      .rejects.toMatchObject({ code: 'account_not_managed', message: expect.stringMatching(/^Refused to provision bob .* on access-1 .*: bob already exists and was not created by Keyway/) });
    await expect(provisionGrant(ctx, refA, { linuxUser: 'svcbackup', groups: [], principal: 'keyway-req-6' }))
      .rejects.toMatchObject({ code: 'account_not_managed', message: expect.stringMatching(/system account/) });
    await expect(provisionGrant(ctx, refA, { linuxUser: 'mallory', groups: [], principal: 'keyway-req-6' }))
      .rejects.toMatchObject({ code: 'account_not_managed', message: expect.stringMatching(/no record of creating it/) });
    await expect(revokeGrant(ctx, refA, { linuxUser: 'bob', groups: [], principal: 'keyway-req-6', groupsStillGranted: [], otherActiveGrants: false }))
      .rejects.toMatchObject({ code: 'account_not_managed' });
    expect(await cleanupUser(ctx, refA, 'bob')).toEqual({ deleted: false });

    expect((await hostA.exec('getent passwd bob svcbackup mallory; getent shadow bob svcbackup mallory; id -nG bob')).stdout).toBe(before);
    expect((await hostA.exec('ls /etc/ssh/keyway/principals')).stdout.trim().split('\n')).toEqual(['ana']);

  });

  it('judges groups to add as config check does, and can always take back groups a grant stored', async () => {
    // docker gives root: refused unless the integration opts in, exactly as `keyway config check` refuses it.
    await expect(provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['docker'], principal: 'keyway-req-9' }))
      .rejects.toMatchObject({ code: 'config_invalid', message: expect.stringMatching(/docker.*allow_privileged_groups/s) });
    // A grant stored under an older, laxer config names root: its revoke still runs and removes the principal.
    await provisionGrant(ctx, refA, { linuxUser: 'ana', groups: ['Default'], principal: 'keyway-req-9' });
    const result = await revokeGrant(ctx, refA, { linuxUser: 'ana', groups: ['root', 'developers'], principal: 'keyway-req-9', groupsStillGranted: [], otherActiveGrants: true });
    expect(result.principalRemoved).toBe(true);
    expect((await hostA.exec('id -nG ana')).stdout.split(' ')).not.toContain('root');
  });

  it('skips UIDs the server already uses, and refuses groups the server does not have', async () => {
    // The UID Keyway would hand out next (refused grants above gave up the UIDs chosen for them) is taken on the server.
    const next = (db.prepare("SELECT MAX(uid) FROM managed_users WHERE server = 'access-1'").pluck().get() as number) + 1;
    expect((await hostA.exec(`useradd -M -p '*' -u ${next} squatter`)).code).toBe(0);
    expect(await provisionGrant(ctx, refA, { linuxUser: 'dave', groups: [], principal: 'keyway-req-8' })).toMatchObject({ created: true, uid: next + 1 });

    await expect(provisionGrant(ctx, refA, { linuxUser: 'erin', groups: ['nosuchgroup'], principal: 'keyway-req-9' })).rejects.toMatchObject({
      code: 'remote_command_failed',
      message: expect.stringMatching(/^Could not provision erin for keyway-req-9 on access-1 .*: the group nosuchgroup does not exist on this server/),
    });
    expect((await hostA.exec('getent passwd erin')).code).toBe(2);
  });

  it('fails a revoke with host_unreachable while the server is down, and the retry completes it', async () => {
    await provisionGrant(ctx, refB, { linuxUser: 'carol', groups: ['developers'], principal: 'keyway-req-7' });
    const certificate = certificateFor(7);
    expect((await login(hostB, 'carol', certificate)).code).toBe(0);

    await hostB.stopSshd();
    // A server that goes down takes its connections with it.
    await hostB.exec("pkill -KILL -f '^sshd: keyway'");
    const revoke = { linuxUser: 'carol', groups: ['developers'], principal: 'keyway-req-7', groupsStillGranted: [], otherActiveGrants: false };
    await expect(revokeGrant(ctx, refB, revoke)).rejects.toMatchObject({
      code: 'host_unreachable', message: expect.stringMatching(/^Cannot reach server access-2 \(keyway@127\.0\.0\.1:\d+\): connect ECONNREFUSED/),
    });

    await hostB.startSshd();
    expect(await revokeGrant(ctx, refB, revoke)).toMatchObject({ accountFound: true, principalRemoved: true, accessEnded: true, hooksMoved: [], hooksMovedTo: undefined });
    expect((await login(hostB, 'carol', certificate)).code).toBe(255);
  });
});
