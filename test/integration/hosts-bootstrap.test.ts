// keyway hosts bootstrap and check against real sshd test hosts: configure, verify with sshd -T, stay idempotent,
// roll back what sshd -t rejects, and refuse to touch what Keyway does not own.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { CliIO } from '../../src/cli/command.js';
import { hostsBootstrap, hostsCheck } from '../../src/cli/commands/hosts.js';
import { main } from '../../src/cli/main.js';
import type { ServerRef } from '../../src/core/model.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { checkServer } from '../../src/targets/ssh/check.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { fingerprintOfPublicKeyLine } from '../../src/targets/ssh/host-key-fingerprint.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { checkBootstrapCommand } from '../../src/targets/ssh/remote-commands.js';
import { REMOTE_PATHS } from '../../src/targets/ssh/remote-scripts.js';
import { listAudit } from '../../src/store/audit-log.js';
import { openDatabase } from '../../src/store/open-database.js';
import { integration, server } from '../helpers/access-config.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`hosts: bootstrap and check on real servers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-hosts-bootstrap-'));
  const dataDir = join(dir, 'data');
  const ca = generateCaKey();
  let hosts: TestHost[];
  let refs: ServerRef[];
  let db: Database;
  let pool: ConnectionPool;
  let env: NodeJS.ProcessEnv;

  const hostNamed = (name: string) => hosts.find((h) => h.name === name)!;
  const refNamed = (name: string) => refs.find((r) => r.server.name === name)!;

  async function cli(command: typeof hostsBootstrap, positionals: string[], values: Record<string, boolean> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = { out: (text) => out.push(text), err: (text) => err.push(text), env };
    const code = await command.run({ values, positionals }, io);
    return { code, out, err };
  }

  beforeAll(async () => {
    hosts = await startTestHosts(3, { name: 'boot' });
    db = openDatabase(dataDir);
    refs = hosts.map((host, i) => {
      const target = server(host.name, { port: host.port });
      return { integration: integration(`lab-${i + 1}`, [target]), server: target };
    });
    pool = new ConnectionPool({
      connectorKey: (ref) => hostNamed(ref.server.name).connectorPrivateKey,
      hostKeys: databaseHostKeyPins(db, Date.now),
    });
    const caKeyFile = join(dir, 'ca_key');
    writeFileSync(caKeyFile, ca.privateKeyPem, { mode: 0o600 });
    const config = join(dir, 'access.yaml');
    writeFileSync(config, ['integrations:', ...hosts.flatMap((host, i) => [
      `  - name: lab-${i + 1}`,
      `    servers: [{ name: ${host.name}, host: 127.0.0.1, port: ${host.port} }]`,
      `    secret: { file: ${host.connectorKeyPath} }`,
    ]), 'flows: []', ''].join('\n'));
    env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: dataDir, SSH_CA_KEY_FILE: caKeyFile };
  });

  afterAll(async () => {
    await pool?.close();
    await stopAllTestHosts();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rolls back a drop-in that sshd -t rejects, without reloading sshd', async () => {
    const host = hostNamed('boot-2');
    const ref = refNamed('boot-2');
    await pool.run(ref, checkBootstrapCommand(undefined)); // connect before sshd is swapped
    // An sshd too old for AuthorizedPrincipalsFile: the real one, behind a wrapper that rejects the keyword in -t.
    // The bind mount exists only in this host's mount namespace.
    const swap = await host.exec(String.raw`set -e
cp /usr/sbin/sshd /etc/ssh/real-sshd
cat > /etc/ssh/old-sshd <<'EOF'
#!/bin/sh
if [ "$1" = -t ] && grep -qs '^AuthorizedPrincipalsFile' /etc/ssh/sshd_config.d/*.conf; then
  echo "/etc/ssh/sshd_config.d/10-keyway.conf line 3: Bad configuration option: AuthorizedPrincipalsFile" >&2
  exit 255
fi
exec /etc/ssh/real-sshd "$@"
EOF
chmod 0755 /etc/ssh/old-sshd
mount --bind /etc/ssh/old-sshd /usr/sbin/sshd`);
    expect(swap.code, swap.stderr).toBe(0);
    const reloadsBefore = host.sshdLog().split('Received SIGHUP').length;
    try {
      await expect(bootstrapServer(pool, ref, ca.caKey.publicKeyLine)).rejects.toMatchObject({
        code: 'remote_command_failed',
        message: expect.stringMatching(/sshd -t rejected the new settings, so they were rolled back: .*Bad configuration option: AuthorizedPrincipalsFile/),
      });
    } finally {
      expect((await host.exec('umount /usr/sbin/sshd')).code).toBe(0);
    }
    expect((await host.exec(`test -e ${REMOTE_PATHS.dropIn} || test -e ${REMOTE_PATHS.caFile}`)).code).toBe(1);
    expect((await host.exec('ls /etc/ssh/sshd_config.d/')).stdout.trim()).toBe('00-test-host.conf');
    expect(host.sshdLog().split('Received SIGHUP').length).toBe(reloadsBefore);
  });

  it('refuses to replace another user CA that sshd already trusts', async () => {
    const host = hostNamed('boot-3');
    await host.exec("echo 'TrustedUserCAKeys /etc/ssh/other_ca.pub' > /etc/ssh/sshd_config.d/05-other-ca.conf");
    await expect(bootstrapServer(pool, refNamed('boot-3'), ca.caKey.publicKeyLine)).rejects.toMatchObject({
      code: 'remote_command_failed', message: expect.stringMatching(/already trusts another user CA \(TrustedUserCAKeys \/etc\/ssh\/other_ca\.pub\)/),
    });
    expect((await host.exec(`test -e ${REMOTE_PATHS.dropIn}`)).code).toBe(1);
  });

  it('configures every server on the first run: sshd -t, reload, and sshd -T shows the settings', async () => {
    const first = await cli(hostsBootstrap, ['boot-1', 'boot-2']);
    expect(first.err).toEqual([]);
    expect(first.out).toEqual([
      'boot-1: configured (keyway-dir, principals-dir, group, probe-account, ca-key, sshd-drop-in, sshd-reloaded)',
      // The rolled-back run already made the directories and the group on boot-2.
      'boot-2: configured (ca-key, sshd-drop-in, sshd-reloaded)',
    ]);
    expect(first.code).toBe(0);
    for (const host of [hostNamed('boot-1'), hostNamed('boot-2')]) {
      const effective = await host.exec('sshd -T | grep -E "^(trustedusercakeys|authorizedprincipalsfile|loglevel) "');
      expect(effective.stdout.trim().split('\n').sort()).toEqual([
        `authorizedprincipalsfile ${REMOTE_PATHS.principalsDir}/%u`, 'loglevel VERBOSE', `trustedusercakeys ${REMOTE_PATHS.caFile}`,
      ]);
      expect((await host.exec(`cat ${REMOTE_PATHS.caFile}`)).stdout).toBe(`${ca.caKey.publicKeyLine}\n`);
      expect((await host.exec(`stat -c '%U:%G %a' ${REMOTE_PATHS.principalsDir} ${REMOTE_PATHS.caFile} ${REMOTE_PATHS.dropIn}`)).stdout)
        .toBe('root:root 755\nroot:root 644\nroot:root 644\n');
      expect((await host.exec('getent group keyway-users')).code).toBe(0);
      // The lock is where no user can open it.
      expect((await host.exec(`stat -c '%U:%G %a' ${REMOTE_PATHS.lockDir}`)).stdout).toBe('root:root 700\n');
      // The probe account sshd -T -C needs for Match Group: a locked system account in keyway-users, no login shell.
      const probe = (await host.exec('getent passwd keyway-probe; getent shadow keyway-probe; id -nG keyway-probe')).stdout.split('\n');
      expect(probe[0]).toMatch(/^keyway-probe:x:\d{1,3}:\d+:keyway-probe:\/nonexistent:\/usr\/sbin\/nologin$/);
      expect(probe[1]).toMatch(/^keyway-probe:!:/);
      expect(probe[2]).toBe('keyway-users');
      await expect.poll(() => host.sshdLog()).toMatch(/Received SIGHUP; restarting/);
    }
    const audit = listAudit(db, {}).filter((entry) => entry.action === 'host.bootstrapped');
    expect(audit.map((entry) => entry.subject).sort()).toEqual(['server:boot-1', 'server:boot-2']);
  });

  it('changes nothing on a second run and says it is already configured', async () => {
    const host = hostNamed('boot-1');
    const before = (await host.exec(`stat -c %Y ${REMOTE_PATHS.caFile} ${REMOTE_PATHS.dropIn}`)).stdout;
    const reloads = host.sshdLog().split('Received SIGHUP').length;
    const second = await cli(hostsBootstrap, ['boot-1', 'boot-2']);
    expect(second).toEqual({ code: 0, out: ['boot-1: already configured', 'boot-2: already configured'], err: [] });
    expect((await host.exec(`stat -c %Y ${REMOTE_PATHS.caFile} ${REMOTE_PATHS.dropIn}`)).stdout).toBe(before);
    expect(host.sshdLog().split('Received SIGHUP').length).toBe(reloads);
  });

  it('reports each server on one line with keyway hosts check, and fails for servers that are not ready', async () => {
    const result = await cli(hostsCheck, [], { all: true });
    const fingerprint = (name: string) => fingerprintOfPublicKeyLine(hostNamed(name).hostPublicKey);
    expect(result.out).toEqual([
      `boot-1: ok: reachable, sudo ok, bootstrapped, host key ${fingerprint('boot-1')}`,
      `boot-2: ok: reachable, sudo ok, bootstrapped, host key ${fingerprint('boot-2')}`,
      `boot-3: FAIL: reachable, sudo ok, NOT BOOTSTRAPPED (principals-dir: no, group: no, ca-key: missing, drop-in: missing, effective: no, probe-account: missing), host key ${fingerprint('boot-3')}`,
    ]);
    expect(result.code).toBe(1);

    await hostNamed('boot-3').exec('rm /etc/sudoers.d/keyway');
    const noSudo = await checkServer(pool, refNamed('boot-3'), { pinnedHostKey: () => undefined });
    expect(noSudo).toMatchObject({ reachable: true, sudo: false, ok: false, problem: expect.stringMatching(/cannot run sudo without a password/) });
  });

  it('bootstrap --all reports a failing server and still configures the others', async () => {
    const result = await cli(hostsBootstrap, [], { all: true });
    expect(result.out.slice(0, 2)).toEqual(['boot-1: already configured', 'boot-2: already configured']);
    expect(result.out[2]).toMatch(/^boot-3: FAILED: Could not bootstrap Keyway .* on boot-3 .*cannot run sudo without a password/);
    expect(result.code).toBe(1);
  });

  it('writes a new CA key and reloads sshd when the CA changes', async () => {
    const next = generateCaKey();
    const result = await bootstrapServer(pool, refNamed('boot-1'), next.caKey.publicKeyLine);
    expect(result).toEqual({ server: 'boot-1', status: 'configured', changes: ['ca-key', 'sshd-reloaded'], warnings: [] });
    const stale = await checkServer(pool, refNamed('boot-1'), { caPublicKey: ca.caKey.publicKeyLine, pinnedHostKey: () => undefined });
    expect(stale).toMatchObject({ ok: false, notBootstrapped: ['ca-key: different'] });
  });

  it('reports and refuses a server that lacks a command Keyway needs', async () => {
    const host = hostNamed('boot-1');
    // Hidden in this host's mount namespace only: /dev/null is not executable, so gpasswd is "not installed".
    expect((await host.exec('mount --bind /dev/null /usr/bin/gpasswd')).code).toBe(0);
    try {
      const check = await checkServer(pool, refNamed('boot-1'), { pinnedHostKey: () => undefined });
      expect(check).toMatchObject({ ok: false, notBootstrapped: ['tools: missing gpasswd'] });
      await expect(bootstrapServer(pool, refNamed('boot-1'), ca.caKey.publicKeyLine)).rejects.toMatchObject({
        message: expect.stringMatching(/this server lacks commands Keyway needs: gpasswd/),
      });
    } finally {
      expect((await host.exec('umount /usr/bin/gpasswd')).code).toBe(0);
    }
  });

  it('refuses to touch an sshd configuration that is already invalid', async () => {
    const host = hostNamed('boot-2');
    await host.exec("echo 'NoSuchOption yes' > /etc/ssh/sshd_config.d/50-broken.conf");
    try {
      await expect(bootstrapServer(pool, refNamed('boot-2'), generateCaKey().caKey.publicKeyLine)).rejects.toMatchObject({
        message: expect.stringMatching(/invalid before Keyway changes anything; fix it first: .*NoSuchOption/),
      });
      expect((await host.exec(`cat ${REMOTE_PATHS.caFile}`)).stdout).toBe(`${ca.caKey.publicKeyLine}\n`);
    } finally {
      await host.exec('rm /etc/ssh/sshd_config.d/50-broken.conf');
    }
  });

  it('refuses to call a server configured while an earlier Match block lets keyway-users log in with a planted key', async () => {
    const host = hostNamed('boot-2');
    const ref = refNamed('boot-2');
    expect(await bootstrapServer(pool, ref, ca.caKey.publicKeyLine)).toMatchObject({ status: 'already_configured' });
    const planted = [
      { file: '05-x.conf', text: 'Match all\n    AuthorizedKeysFile .ssh/authorized_keys\n', setting: /AuthorizedKeysFile \.ssh\/authorized_keys/ },
      { file: '06-y.conf', text: 'Match Group keyway-users Address 10.0.0.0/8\n    AuthorizedKeysCommand /bin/echo\n    AuthorizedKeysCommandUser nobody\n', setting: /AuthorizedKeysCommand \/bin\/echo \(for a connection from 10\.1\.2\.3\)/ },
    ];
    for (const { file, text, setting } of planted) {
      writeFileSync(join(host.dir, 'etc/ssh/sshd_config.d', file), text);
      try {
        await expect(bootstrapServer(pool, ref, ca.caKey.publicKeyLine)).rejects.toMatchObject({
          code: 'remote_command_failed', message: expect.stringMatching(setting),
        });
        await expect(bootstrapServer(pool, ref, ca.caKey.publicKeyLine)).rejects.toMatchObject({
          message: expect.stringMatching(/for a member of keyway-users: .*a granted user could plant a key and keep access after revocation/),
        });
        const check = await checkServer(pool, ref, { caPublicKey: ca.caKey.publicKeyLine, pinnedHostKey: () => undefined });
        expect(check).toMatchObject({ ok: false, notBootstrapped: [], plantedKeys: [expect.stringMatching(setting)] });
        const line = (await cli(hostsCheck, ['boot-2'])).out[0];
        expect(line).toMatch(/^boot-2: FAIL: reachable, sudo ok, bootstrapped, PLANTED KEYS WORK for keyway-users \(/);
        expect(line).toMatch(setting);
      } finally {
        await host.exec(`rm /etc/ssh/sshd_config.d/${file}`);
      }
    }
    expect(await bootstrapServer(pool, ref, ca.caKey.publicKeyLine)).toMatchObject({ status: 'already_configured' });
    expect(await checkServer(pool, ref, { caPublicKey: ca.caKey.publicKeyLine, pinnedHostKey: () => undefined })).toMatchObject({ ok: true, plantedKeys: [] });
  });

  it('without a CA key, refuses with a line naming keyway ca init, and neither makes a CA nor touches the server', async () => {
    const before = await hostNamed('boot-1').exec(`cat ${REMOTE_PATHS.caFile}`);
    expect(before.stdout).toMatch(/keyway-ca/);
    const emptyDataDir = join(dir, 'no-ca-yet');
    const saved = env;
    env = { KEYWAY_CONFIG: saved.KEYWAY_CONFIG, KEYWAY_DATA_DIR: emptyDataDir };
    try {
      await expect(cli(hostsBootstrap, ['boot-1'])).rejects.toMatchObject({
        code: 'ca_key_invalid', message: expect.stringMatching(/^No CA key: .*Run `keyway ca init` to generate one/),
      });
    } finally {
      env = saved;
    }
    expect(existsSync(emptyDataDir)).toBe(false);
    expect(await hostNamed('boot-1').exec(`cat ${REMOTE_PATHS.caFile}`)).toEqual(before);
  });
});

// A new admin who runs bootstrap before `keyway ca init` is told so in one line. Bootstrap does not make the CA
// itself: run with the wrong --data-dir it would mint a second CA and replace the one every server trusts.
describe('keyway hosts bootstrap before keyway ca init', () => {
  it('exits 1 with one line that names keyway ca init, and creates no CA key', async () => {
    const temp = mkdtempSync(join(tmpdir(), 'keyway-bootstrap-no-ca-'));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const env = { KEYWAY_CONFIG: 'config/access.example.yaml', KEYWAY_DATA_DIR: join(temp, 'data') };
      const code = await main(['hosts', 'bootstrap', '--all'], { out: (t) => out.push(t), err: (t) => err.push(t), env });
      expect({ code, out, err }).toEqual({
        code: 1, out: [],
        err: [expect.stringMatching(/^keyway hosts bootstrap: No CA key: .*\/data\/ca_key does not exist .*Run `keyway ca init` to generate one/)],
      });
      expect(existsSync(join(temp, 'data', 'ca_key'))).toBe(false);
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
