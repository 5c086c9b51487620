import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootTestSkipReason } from '../helpers/root.js';
import { sshRun } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!!reason)(`test host${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const machinePasswd = existsSync('/etc/passwd') ? readFileSync('/etc/passwd') : Buffer.alloc(0);
  let hosts: TestHost[] = [];
  let host1: TestHost;
  let host2: TestHost;

  beforeAll(async () => {
    hosts = await startTestHosts(2);
    [host1, host2] = hosts as [TestHost, TestHost];
  });
  afterAll(stopAllTestHosts);

  const login = (host: TestHost, command: string) =>
    sshRun(host, { user: host.connectorUser, keyPath: host.connectorKeyPath, command });

  it('starts two hosts at once on different loopback ports with their own host keys', () => {
    expect(host1.name).toBe('host-1');
    expect(host2.name).toBe('host-2');
    expect(host1.port).not.toBe(host2.port);
    expect(host1.hostPublicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(host1.hostPublicKey).not.toBe(host2.hostPublicKey);
    expect(host1.connectorPrivateKey).toContain('BEGIN OPENSSH PRIVATE KEY');
  });

  it('lets the real ssh client log in as the connector, which has passwordless sudo', async () => {
    for (const host of hosts) {
      const result = await login(host, 'sudo -n id -u; hostname');
      expect(result, result.stderr).toMatchObject({ code: 0, stdout: `0\n${host.name}\n` });
    }
    expect(host1.sshdLog()).toMatch(/Accepted publickey for keyway from 127\.0\.0\.1/);
  });

  it('keeps users private to each host and leaves the machine /etc/passwd untouched', async () => {
    const created = await host1.exec('useradd -m -p "*" alice && id -u alice');
    expect(created.code, created.stderr).toBe(0);
    expect((await host1.exec('getent passwd alice')).code).toBe(0);
    expect((await host2.exec('getent passwd alice')).code).toBe(2);
    expect(readFileSync('/etc/passwd').equals(machinePasswd)).toBe(true);
    expect(readFileSync('/etc/passwd', 'utf8')).not.toMatch(/^(alice|keyway):/m);
  });

  it('stopSshd makes logins fail and startSshd brings them back on the same port', async () => {
    const port = host2.port;
    await host2.stopSshd();
    const down = await login(host2, 'true');
    expect(down.code).toBe(255);
    expect(down.stderr).toMatch(/Connection refused/);
    expect((await login(host1, 'true')).code).toBe(0);

    await host2.startSshd();
    expect(host2.port).toBe(port);
    expect((await login(host2, 'true')).code).toBe(0);
  });

  it('reloads sshd on SIGHUP via /run/sshd.pid', async () => {
    const reload = await host1.exec('kill -HUP "$(cat /run/sshd.pid)"');
    expect(reload.code, reload.stderr).toBe(0);
    await expect.poll(() => host1.sshdLog()).toMatch(/Received SIGHUP; restarting/);
    await expect.poll(async () => (await login(host1, 'true')).code, { timeout: 5000 }).toBe(0);
  });

  it('stop() leaves no process behind and removes the dir', async () => {
    const unsharePids = hosts.map((h) => h.unsharePid);
    for (const pid of unsharePids) expect(alive(pid)).toBe(true);
    await Promise.all(hosts.map((h) => h.stop()));
    await host1.stop(); // idempotent
    for (const pid of unsharePids) expect(alive(pid)).toBe(false);
    for (const host of hosts) expect(existsSync(host.dir)).toBe(false);
    expect((await login(host1, 'true')).code).toBe(255);
    expect(readFileSync('/etc/passwd').equals(machinePasswd)).toBe(true);
  });
});
