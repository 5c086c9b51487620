// The connection pool against real sshd test hosts: pinning, reuse, queueing under MaxSessions, timeouts, outages,
// and a changed host key refused until `keyway hosts trust` re-pins it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostsTrust } from '../../src/cli/commands/hosts.js';
import type { ServerRef } from '../../src/core/model.js';
import { ConnectionPool, type ConnectionPoolOptions } from '../../src/targets/ssh/connection-pool.js';
import { fingerprintOfPublicKeyLine } from '../../src/targets/ssh/host-key-fingerprint.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { checkBootstrapCommand, type RemoteCommand } from '../../src/targets/ssh/remote-commands.js';
import { getPinnedHostKey } from '../../src/store/host-keys.js';
import { openDatabase } from '../../src/store/open-database.js';
import { integration, server } from '../helpers/access-config.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

// The pool takes only built commands; these probes stand in for them to measure queueing and timeouts.
const probe = (text: string) => ({ purpose: `run ${text}`, text }) as unknown as RemoteCommand;

/** The first line sshd sends, or '' when nothing listens. */
function sshBanner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(''));
    socket.once('data', (chunk) => {
      resolve(chunk.toString('latin1'));
      socket.destroy();
    });
  });
}

describe.skipIf(!!reason)(`hosts: connection pool on real servers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-hosts-connection-'));
  const dataDir = join(dir, 'data');
  let hostA: TestHost;
  let hostB: TestHost;
  let refA: ServerRef;
  let refB: ServerRef;
  let db: Database;
  const pools: ConnectionPool[] = [];

  function newPool(options: Partial<ConnectionPoolOptions> = {}): ConnectionPool {
    const hostOf = new Map([['conn-1', hostA], ['conn-2', hostB]]);
    const pool = new ConnectionPool({
      connectorKey: (ref) => hostOf.get(ref.server.name)!.connectorPrivateKey,
      hostKeys: databaseHostKeyPins(db, Date.now),
      ...options,
    });
    pools.push(pool);
    return pool;
  }

  async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
    const started = performance.now();
    const result = await work();
    return [result, performance.now() - started];
  }

  beforeAll(async () => {
    [hostA, hostB] = (await startTestHosts(2, { name: 'conn' })) as [TestHost, TestHost];
    db = openDatabase(dataDir);
    refA = { integration: integration('lab-1', [server('conn-1', { port: hostA.port })]), server: server('conn-1', { port: hostA.port }) };
    refB = { integration: integration('lab-2', [server('conn-2', { port: hostB.port })]), server: server('conn-2', { port: hostB.port }) };
  });

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close()));
    await stopAllTestHosts();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pins the host key on first contact', async () => {
    const pool = newPool();
    expect(getPinnedHostKey(db, 'lab-1', 'conn-1')).toBeUndefined();
    const result = await pool.run(refA, checkBootstrapCommand(undefined));
    expect(result.code, result.stderr).toBe(0);
    expect(getPinnedHostKey(db, 'lab-1', 'conn-1')).toMatchObject({
      host: '127.0.0.1', port: hostA.port, fingerprint: fingerprintOfPublicKeyLine(hostA.hostPublicKey),
    });
  });

  it('runs many commands over one connection, at most 6 at a time (sshd allows 10 sessions)', async () => {
    const pool = newPool();
    // Each command records how many of them are running when it starts.
    const command = probe('n=$(pgrep -c -f "^sleep 0.3$" || true); echo "$n"; sleep 0.3');
    const [results, elapsed] = await timed(() => Promise.all(Array.from({ length: 20 }, () => pool.run(refA, command))));
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(pool.connectionsOpened).toBe(1);
    expect(Math.max(...results.map((r) => Number(r.stdout)))).toBeLessThanOrEqual(5);
    expect(elapsed).toBeGreaterThanOrEqual(4 * 300 - 50); // 20 commands, 6 at a time: four rounds
    expect(hostA.sshdLog()).not.toMatch(/no more sessions/);
  });

  it('waits and retries when sshd refuses a channel for lack of sessions', async () => {
    const reload = async () => {
      const before = hostA.sshdLog().split('Received SIGHUP').length;
      expect((await hostA.exec('kill -HUP "$(cat /run/sshd.pid)"')).code).toBe(0);
      await expect.poll(() => hostA.sshdLog().split('Received SIGHUP').length).toBeGreaterThan(before);
      await expect.poll(() => sshBanner(hostA.port)).toMatch(/^SSH-2\.0-/);
    };
    await hostA.exec("echo 'MaxSessions 2' > /etc/ssh/sshd_config.d/05-max-sessions.conf");
    await reload();
    try {
      const pool = newPool();
      const results = await Promise.all(Array.from({ length: 6 }, () => pool.run(refA, probe('sleep 0.2; echo done'))));
      expect(results.map((r) => r.stdout)).toEqual(Array(6).fill('done\n'));
      expect(pool.connectionsOpened).toBe(1);
      expect(hostA.sshdLog()).toMatch(/no more sessions/);
    } finally {
      await hostA.exec('rm /etc/ssh/sshd_config.d/05-max-sessions.conf');
      await reload();
    }
  });

  it('bounds concurrency across servers', async () => {
    const pool = newPool({ maxConcurrentCommands: 2 });
    const [results, elapsed] = await timed(() => Promise.all([refA, refB, refA, refB].map((ref) => pool.run(ref, probe('sleep 0.3')))));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(pool.connectionsOpened).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(2 * 300 - 50);
  });

  it('closes an idle connection and opens a new one when needed', async () => {
    const pool = newPool({ idleTimeoutMs: 200 });
    await pool.run(refA, probe('true'));
    expect(pool.openConnections).toBe(1);
    await expect.poll(() => pool.openConnections, { timeout: 3000 }).toBe(0);
    expect((await pool.run(refA, probe('echo again'))).stdout).toBe('again\n');
    expect(pool.connectionsOpened).toBe(2);
  });

  it('times out a command that hangs, drops its connection and recovers on the next command', async () => {
    const pool = newPool();
    await expect(pool.run(refA, probe('sleep 30'), { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'remote_command_failed', message: expect.stringMatching(/^Run sleep 30 on conn-1 .* did not finish within 0\.5 s; the connection was closed\.$/),
    });
    expect(pool.openConnections).toBe(0);
    expect((await pool.run(refA, probe('echo fine'))).stdout).toBe('fine\n');
  });

  it('says which server is unreachable and why', async () => {
    const pool = newPool({ connectTimeoutMs: 2000 });
    await hostB.stopSshd();
    try {
      await expect(pool.run(refB, probe('true'))).rejects.toMatchObject({
        code: 'host_unreachable', message: expect.stringMatching(/^Cannot reach server conn-2 \(keyway@127\.0\.0\.1:\d+\): connect ECONNREFUSED/),
      });
    } finally {
      await hostB.startSshd();
    }
    expect((await pool.run(refB, probe('echo back'))).stdout).toBe('back\n');
  });

  it('says when the server refuses the connector key, without showing the key', async () => {
    const otherKey = await generateUserKey(dir);
    const pool = newPool({ connectorKey: () => readFileSync(otherKey.privateKeyPath, 'utf8') });
    const failure = await pool.run(refA, probe('true')).catch((error: Error) => error);
    expect(failure).toMatchObject({ code: 'host_unreachable', message: expect.stringMatching(/refused the connector key for keyway/) });
    expect((failure as Error).message).not.toMatch(/PRIVATE KEY/);
  });

  it('refuses a changed host key, naming both fingerprints, until keyway hosts trust re-pins it', async () => {
    const pinned = fingerprintOfPublicKeyLine(hostB.hostPublicKey);
    await newPool().run(refB, probe('true'));
    expect(getPinnedHostKey(db, 'lab-2', 'conn-2')?.fingerprint).toBe(pinned);

    // The server is reinstalled: same address, new host key.
    await hostB.stopSshd();
    await hostB.exec("pkill -KILL -f '^sshd: keyway' || true");
    const rekey = await hostB.exec("rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -C reinstalled -f /etc/ssh/ssh_host_ed25519_key && cat /etc/ssh/ssh_host_ed25519_key.pub");
    expect(rekey.code, rekey.stderr).toBe(0);
    await hostB.startSshd();
    const presented = fingerprintOfPublicKeyLine(rekey.stdout);

    const pool = newPool();
    const failure = await pool.run(refB, probe('true')).catch((error: Error) => error);
    expect(failure).toMatchObject({ code: 'host_key_mismatch' });
    const message = (failure as Error).message;
    expect(message).toContain('conn-2');
    expect(message).toContain(pinned);
    expect(message).toContain(presented);
    expect(message).toContain('keyway hosts trust conn-2');
    expect(getPinnedHostKey(db, 'lab-2', 'conn-2')?.fingerprint).toBe(pinned);

    // keyway hosts trust, with the configuration and database an operator would have.
    const config = join(dir, 'access.yaml');
    writeFileSync(config, [
      'integrations:',
      '  - name: lab-2',
      `    servers: [{ name: conn-2, host: 127.0.0.1, port: ${hostB.port} }]`,
      `    secret: { file: ${hostB.connectorKeyPath} }`,
      'flows: []',
      '',
    ].join('\n'));
    const io = { out: [] as string[], err: [] as string[] };
    const cli = { out: (text: string) => io.out.push(text), err: (text: string) => io.err.push(text), env: { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: dataDir } };

    const wrong = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    await expect(hostsTrust.run({ values: { fingerprint: wrong }, positionals: ['conn-2'] }, cli)).rejects.toMatchObject({
      code: 'host_key_mismatch', message: expect.stringContaining(`presented the host key ${presented}, not ${wrong}: nothing was pinned`),
    });
    expect(getPinnedHostKey(db, 'lab-2', 'conn-2')?.fingerprint).toBe(pinned);

    expect(await hostsTrust.run({ values: { fingerprint: presented }, positionals: ['conn-2'] }, cli)).toBeUndefined();
    expect(io.out[0]).toBe(`Pinned the host key of conn-2: ${presented} (was ${pinned}).`);
    expect(getPinnedHostKey(db, 'lab-2', 'conn-2')?.fingerprint).toBe(presented);
    expect((await newPool().run(refB, probe('echo trusted'))).stdout).toBe('trusted\n');
  });
});
