// Security issue 11: nothing a granted user does on the server (hold Keyway's files locked, detach processes, keep
// forking, plant mail delivery hooks) may delay or survive a revoke. Real sshd test host, real ssh client.
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
import { provisionGrant, revokeGrant, type HostsContext, type RevokeInput } from '../../src/targets/ssh/provision.js';
import { openDatabase } from '../../src/store/open-database.js';
import { integration, server } from '../helpers/access-config.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { writeRequestCertificate } from '../helpers/request-certificate.js';
import { generateUserKey, sshRun, startSshSession, type SshSession } from '../helpers/ssh-client.js';
import { startTestHost, stopAllTestHosts, type ExecResult, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();
const REVOKE_DEADLINE_MS = 15_000;

/** Rejects when the promise does not settle within ms, so no test waits for the vitest timeout. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Run as the granted user inside its SSH session: lock every file it can open under /etc/ssh/keyway (and the
// directories themselves), then leave processes behind every way it can, and keep forking.
const HOSTILE_SESSION = String.raw`
ulimit -u 150
for f in $(find /etc/ssh/keyway 2>/dev/null) /etc/ssh/keyway/.lock /etc/ssh/keyway/lock /etc/ssh/keyway/lock/keyway.lock; do
  if [ -r "$f" ]; then
    setsid flock -n "$f" sh -c 'echo "locked=$1"; exec sleep 900' _ "$f" </dev/null 2>/dev/null &
  fi
done
setsid sleep 901 </dev/null >/dev/null 2>&1 &
nohup sh -c 'trap "" HUP TERM INT; exec sleep 902' </dev/null >/dev/null 2>&1 &
( ( setsid sh -c 'exec sleep 903' </dev/null >/dev/null 2>&1 & ) & )
printf '#!/bin/sh\n"$0" </dev/null >/dev/null 2>&1 &\n' > ~/hop && chmod 0755 ~/hop
setsid ~/hop </dev/null >/dev/null 2>&1
setsid sh -c 'while :; do sleep 904 & sleep 0.2; done' </dev/null >/dev/null 2>&1 &
sleep 1
echo ready
exec sleep 600
`;

describe.skipIf(!!reason)(`revoke hardening on a real server${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  const dir = mkdtempSync(join(tmpdir(), 'keyway-revoke-hardening-'));
  let host: TestHost;
  let ref: ServerRef;
  let db: Database;
  let pool: ConnectionPool;
  let ctx: HostsContext;
  let userKey: Awaited<ReturnType<typeof generateUserKey>>;
  const sessions: SshSession[] = [];
  let serial = 0n;

  beforeAll(async () => {
    host = await startTestHost({ name: 'harden' });
    db = openDatabase(join(dir, 'data'));
    const lab = integration('lab', [server('harden-1', { port: host.port })]);
    ref = { integration: lab, server: lab.servers[0]! };
    // A revoke that waits on something the user holds must show up as a failure here, not as a hung test.
    pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, Date.now), commandTimeoutMs: REVOKE_DEADLINE_MS });
    ctx = { pool, db, now: Date.now };
    await bootstrapServer(pool, ref, caKey.publicKeyLine);
    expect((await host.exec('groupadd developers && groupadd ops')).code).toBe(0);
    userKey = await generateUserKey(dir);
  });

  afterAll(async () => {
    for (const session of sessions) session.kill();
    await pool?.close();
    await stopAllTestHosts();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const certificateFor = (requestId: number): string =>
    writeRequestCertificate({ ca: caKey, publicKeyLine: userKey.publicKeyLine, person: 'test@example.com', requestId, serial: ++serial, dir });

  const login = (user: string, certPath: string, command = 'id -un'): Promise<ExecResult> =>
    sshRun(host, { user, keyPath: userKey.privateKeyPath, certPath, command, timeoutMs: 10_000 });

  function session(user: string, certPath: string, command: string): SshSession {
    const started = startSshSession(host, { user, keyPath: userKey.privateKeyPath, certPath, command });
    sessions.push(started);
    return started;
  }

  async function exec(command: string): Promise<string> {
    const result = await host.exec(command);
    expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** "PID STATE COMMAND" of every process of the UID that is not a zombie (a zombie is dead; only its parent can reap it). */
  async function liveProcesses(uid: number): Promise<string[]> {
    const out = await exec('ps -e -o pid= -o euid= -o ruid= -o stat= -o comm=');
    return out.split('\n').map((line) => line.trim().split(/\s+/)).filter(([, euid, ruid, stat]) =>
      (Number(euid) === uid || Number(ruid) === uid) && !stat?.startsWith('Z')).map(([pid, , , stat, comm]) => `${pid} ${stat} ${comm}`);
  }

  async function revokeWithinDeadline(input: RevokeInput) {
    const started = Date.now();
    const result = await within(revokeGrant(ctx, ref, input), REVOKE_DEADLINE_MS + 2_000, 'the revoke');
    expect(Date.now() - started).toBeLessThan(REVOKE_DEADLINE_MS);
    return result;
  }

  it('revokes within 15 s a user who holds every Keyway file it can open locked and leaves detached, forking processes', async () => {
    const { uid } = await provisionGrant(ctx, ref, { linuxUser: 'mia', groups: ['developers'], principal: 'keyway-req-11' });
    const certificate = certificateFor(11);
    expect(await login('mia', certificate)).toMatchObject({ code: 0, stdout: 'mia\n' });

    const hostile = session('mia', certificate, HOSTILE_SESSION);
    try {
      await revokeTheHostileUser(uid, certificate, hostile);
    } finally {
      // Whatever happened, leave nothing of mia's running (and holding locks) for the next tests.
      await host.exec('for i in 1 2 3 4 5 6 7 8 9 10; do setpriv --reuid=mia --regid=mia --clear-groups kill -KILL -1; sleep 0.1; done');
    }
  });

  async function revokeTheHostileUser(uid: number, certificate: string, hostile: SshSession): Promise<void> {
    await hostile.waitForOutput('ready', 10_000);
    // The user really holds a lock on everything it can open there: root cannot take one either.
    const held = await exec(String.raw`for f in $(setpriv --reuid=mia --regid=mia --init-groups find /etc/ssh/keyway -readable 2>/dev/null); do
      flock -n -E 99 "$f" true && echo "$f free" || echo "$f $?"; done`);
    const heldPaths = held.trim().split('\n').filter((line) => line.endsWith(' 99')).map((line) => line.split(' ')[0]);
    expect(heldPaths).toEqual(expect.arrayContaining(['/etc/ssh/keyway', '/etc/ssh/keyway/principals', '/etc/ssh/keyway/principals/mia']));
    expect(held.trim().split('\n').filter((line) => !line.endsWith(' 99'))).toEqual([]);
    expect((await liveProcesses(uid)).length).toBeGreaterThanOrEqual(8);

    const result = await revokeWithinDeadline({
      linuxUser: 'mia', groups: ['developers'], principal: 'keyway-req-11', groupsStillGranted: [], otherActiveGrants: false,
    });
    expect(result).toMatchObject({ accountFound: true, principalRemoved: true, groupsRemoved: ['developers'], accessEnded: true });

    expect((await within(hostile.wait(), 10_000, 'the hostile session')).code).not.toBe(0);
    expect(await liveProcesses(uid)).toEqual([]);
    const refused = await login('mia', certificate);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/Permission denied/);
    // Nothing comes back a moment later either (a forking process that slipped through would).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await liveProcesses(uid)).toEqual([]);
  }

  it('revoking one of two grants ends the processes that hold its groups; the other grant still logs in', async () => {
    const { uid } = await provisionGrant(ctx, ref, { linuxUser: 'noor', groups: ['developers'], principal: 'keyway-req-21' });
    await provisionGrant(ctx, ref, { linuxUser: 'noor', groups: ['ops'], principal: 'keyway-req-22' });
    const [certificate21, certificate22] = [certificateFor(21), certificateFor(22)];
    const opsGid = (await exec('getent group ops')).split(':')[2]!;

    const revoked = session('noor', certificate22, 'setsid sleep 905 </dev/null >/dev/null 2>&1 & echo ready; exec sleep 600');
    await revoked.waitForOutput('ready', 10_000);
    const holdingOps = async () => (await exec(String.raw`for p in $(pgrep -u noor); do grep -q "^Groups:.*\b${opsGid}\b" /proc/$p/status 2>/dev/null && grep -q '^State:[[:space:]]*[^Z]' /proc/$p/status && echo $p; done; true`))
      .trim().split('\n').filter(Boolean);
    expect((await holdingOps()).length).toBeGreaterThanOrEqual(2);

    const result = await revokeWithinDeadline({
      linuxUser: 'noor', groups: ['ops'], principal: 'keyway-req-22', groupsStillGranted: ['developers'], otherActiveGrants: true,
    });
    expect(result).toMatchObject({ accountFound: true, principalRemoved: true, groupsRemoved: ['ops'], accessEnded: false });

    expect((await within(revoked.wait(), 10_000, 'the revoked session')).code).not.toBe(0);
    expect(await holdingOps()).toEqual([]);
    expect(await liveProcesses(uid)).toEqual([]);
    expect((await login('noor', certificate22)).code).toBe(255);
    const other = await login('noor', certificate21, 'id -nG');
    expect(other.code, other.stderr).toBe(0);
    expect(other.stdout.trim().split(' ')).toEqual(expect.arrayContaining(['noor', 'developers']));
    expect(other.stdout).not.toMatch(/\bops\b/);
    expect(await exec('getent shadow noor')).not.toMatch(/^noor:!/);
  });

  it('moves mail delivery hooks aside at revoke, into a root-only directory, without following symlinks', async () => {
    await provisionGrant(ctx, ref, { linuxUser: 'omar', groups: [], principal: 'keyway-req-31' });
    const planted = await login('omar', certificateFor(31),
      "echo '|/bin/sh -c evil' > ~/.forward && echo ':0' > ~/.procmailrc && echo '|evil' > ~/.qmail-default && echo 'cc x' > ~/.mailfilter");
    expect(planted.code, planted.stderr).toBe(0);

    const result = await revokeWithinDeadline({ linuxUser: 'omar', groups: [], principal: 'keyway-req-31', groupsStillGranted: [], otherActiveGrants: false });
    expect(result.hooksMoved.sort()).toEqual(['.forward', '.mailfilter', '.procmailrc', '.qmail-default']);
    const aside = result.hooksMovedTo!;
    expect(aside).toMatch(/^\/home\/omar\/\.keyway-revoked-/);
    expect(await exec('ls -A /home/omar')).not.toMatch(/^\.(forward|procmailrc|qmail-default|mailfilter)$/m);
    expect(await exec(`stat -c '%U:%G %a' ${aside}`)).toBe('root:root 700\n');
    expect(await exec(`cat ${aside}/.forward`)).toBe('|/bin/sh -c evil\n');

    // A symlink to /etc/shadow is moved as a link: root never reads or writes what it points to.
    await provisionGrant(ctx, ref, { linuxUser: 'omar', groups: [], principal: 'keyway-req-32' });
    // Revoking rewrites omar's own line of /etc/shadow (usermod --lock); everything else must stay as it was.
    const targets = 'grep -v ^omar: /etc/shadow | sha256sum; stat -c "%F %U:%G %a" /etc/shadow; stat -c "%i %F %U:%G %a %s %Y" /etc/ssh/ssh_host_ed25519_key';
    const before = await exec(targets);
    const linked = await login('omar', certificateFor(32), 'ln -s /etc/shadow ~/.forward && ln -s /etc/ssh/ssh_host_ed25519_key ~/.qmail');
    expect(linked.code, linked.stderr).toBe(0);
    const again = await revokeWithinDeadline({ linuxUser: 'omar', groups: [], principal: 'keyway-req-32', groupsStillGranted: [], otherActiveGrants: false });
    expect(again.hooksMoved.sort()).toEqual(['.forward', '.qmail']);
    expect(await exec(`readlink ${again.hooksMovedTo}/.forward ${again.hooksMovedTo}/.qmail`)).toBe('/etc/shadow\n/etc/ssh/ssh_host_ed25519_key\n');
    expect(await exec(targets)).toBe(before);
    expect((await host.exec('test -e /home/omar/.forward || test -L /home/omar/.forward')).code).toBe(1);
  });
});
