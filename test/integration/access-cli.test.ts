// keyway hosts bootstrap, grant (break-glass), revoke and sweep against real sshd test hosts, with the real ssh client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeyway } from '../helpers/run-keyway.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { startTestHosts, type TestHost } from '../helpers/test-host.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`keyway grant, revoke and sweep on real servers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let hosts: TestHost[];
  let temp: { dir: string; remove(): void };
  let env: NodeJS.ProcessEnv;
  let userKey: { privateKeyPath: string; publicKeyLine: string };

  const keyway = (...argv: string[]) => runKeyway(env, ...argv);

  beforeAll(async () => {
    temp = makeTempDir();
    hosts = await startTestHosts(2, { name: 'cli' });
    const configPath = join(temp.dir, 'access.yaml');
    writeFileSync(configPath, `integrations:
  - name: lab
    servers: ${JSON.stringify(hosts.map((h, i) => ({ name: `lab-${i + 1}`, host: h.host, port: h.port, user: h.connectorUser })))}
    owners: [platform@example.com]
`);
    // Both hosts trust host 1's connector key, as servers of one integration share one connector key.
    const connectorPub = (await hosts[0]!.exec(`cat ${hosts[0]!.connectorKeyPath}.pub 2>/dev/null || ssh-keygen -y -f ${hosts[0]!.connectorKeyPath}`)).stdout.trim();
    await hosts[1]!.exec(`echo '${connectorPub}' >> /home/${hosts[1]!.connectorUser}/.ssh/authorized_keys`);
    env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'data'), CONNECTOR_SSH_KEY_FILE: hosts[0]!.connectorKeyPath };
    expect((await keyway('ca', 'init')).code).toBe(0);
    userKey = await generateUserKey(temp.dir);
    expect((await keyway('keys', 'add', 'ops@example.com', userKey.publicKeyLine)).code).toBe(0);
  });

  afterAll(async () => {
    await Promise.all((hosts ?? []).map((h) => h.stop()));
    temp?.remove();
  });

  it('bootstraps, then says already configured', async () => {
    const first = await keyway('hosts', 'bootstrap', '--all');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/lab-1.*configured/);
    const second = await keyway('hosts', 'bootstrap', '--all');
    expect(second.out.match(/already configured/g)).toHaveLength(2);
  });

  it('grants break-glass access that the certificate it prints opens, and revoke takes it back', async () => {
    const granted = await keyway('grant', 'ops@example.com', 'lab-1', '--for', '10m', '--reason', 'INC-9: database down', '--json');
    expect(granted.code).toBe(0);
    const result = JSON.parse(granted.out);
    expect(result.grants.map((g: { state: string }) => g.state)).toEqual(['active']);
    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, result.certificate + '\n');
    const login = { user: 'ops', keyPath: userKey.privateKeyPath, certPath, command: 'id -un' };
    expect((await sshRun(hosts[0]!, login)).stdout.trim()).toBe('ops');
    expect((await sshRun(hosts[1]!, login)).code).not.toBe(0);

    const revoked = await keyway('revoke', String(result.request.id));
    expect(revoked).toMatchObject({ code: 0, out: 'lab-1: revoked' });
    expect((await sshRun(hosts[0]!, login)).code).not.toBe(0);
    const audit = await keyway('audit', '--json');
    expect(JSON.parse(audit.out).map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['access.break_glass', 'grant.active', 'access.revoked', 'grant.revoked']));
  });

  it('records revoke_failed when the server is down, and a later sweep finishes the revoke', async () => {
    const granted = JSON.parse((await keyway('grant', 'ops@example.com', 'lab-2', '--for', '10m', '--reason', 'INC-10', '--json')).out);
    expect(granted.grants[0].state).toBe('active');
    await hosts[1]!.stopSshd();
    const failed = await keyway('revoke', String(granted.request.id));
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/^lab-2: revoke_failed \(.*the sweeper retries\)$/);
    await hosts[1]!.startSshd();
    // The retry time has not come yet; move past it by rewriting it, as waiting would take 15 s.
    const db = (await import('../../src/store/open-database.js')).openDatabase(env.KEYWAY_DATA_DIR!);
    db.prepare("UPDATE grants SET next_attempt_at = 0 WHERE state = 'revoke_failed'").run();
    db.close();
    const swept = await keyway('sweep', '--json');
    expect(swept.code).toBe(0);
    expect(JSON.parse(swept.out)).toMatchObject({ revokeRetried: 1, failures: 0 });
    const grants = JSON.parse((await keyway('grants', 'list', '--all', '--json')).out);
    expect(grants.find((g: { requestId: number }) => g.requestId === granted.request.id).state).toBe('revoked');
    const principals = await hosts[1]!.exec('cat /etc/ssh/keyway/principals/ops 2>/dev/null || true');
    expect(principals.stdout).not.toContain(`keyway-req-${granted.request.id}`);
  });

  it('refuses an unknown server and a duration over the break-glass cap, changing nothing', async () => {
    expect(await keyway('grant', 'ops@example.com', 'nope', '--for', '1h', '--reason', 'x')).toMatchObject({ code: 1, err: expect.stringMatching(/no server called "nope"/) });
    expect(await keyway('grant', 'ops@example.com', 'lab-1', '--for', '2d', '--reason', 'x')).toMatchObject({ code: 1, err: expect.stringMatching(/longer than break-glass allows/) });
  });
});
