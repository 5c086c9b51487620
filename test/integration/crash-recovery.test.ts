// kill -9 during provisioning and during revocation: the restart finishes what the killed process left, and the
// access ends (at expiry, or at once for a revoke). Real processes killed with SIGKILL, real sshd test hosts, the real
// ssh client as proof, Slack's Web API unreachable whenever `keyway start` runs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import { startKeyway, type RunningKeyway } from '../../src/main.js';
import {
  buildKeywayCli, killKeywayChildren, openDatabaseReadOnly, slowTool, spawnKeyway, waitFor, type KeywayCli, type SlowTool,
  runKeyway,
} from '../helpers/keyway-process.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun, startSshSession, type SshSession } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();
const quiet = pino({ level: 'silent' });
const SLACK_DOWN = {
  SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-secret', PORT: '0', METRICS_ADDR: '127.0.0.1:0',
  SLACK_API_URL: 'http://127.0.0.1:9/api/', // nothing listens: Slack's Web API is unreachable
};
const LIVE_STATES = ['provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed'];

interface GrantRow { id: number; request_id: number; server: string; principal: string; state: string; expires_at: number; revoked_at: number | null }
interface Person { email: string; user: string; keyPath: string }

describe.skipIf(!!reason)(`kill -9 during provisioning and revocation${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let hosts: TestHost[];
  let temp: { dir: string; remove(): void };
  let cli: KeywayCli;
  let env: NodeJS.ProcessEnv;
  let db: Database;
  // Hold a step on host 2 open: usermod runs after the principal is removed and before the account is locked and its
  // processes ended (revoke); useradd, held once it has created the account, before the principal is written (provision).
  let usermod2: SlowTool;
  let useradd2: SlowTool;
  const running: RunningKeyway[] = [];
  const sessions: SshSession[] = [];

  const keyway = (...argv: string[]) => runKeyway(env, ...argv);

  async function newPerson(name: string): Promise<Person> {
    const key = await generateUserKey(temp.dir);
    const email = `${name}@example.com`;
    expect((await keyway('keys', 'add', email, key.publicKeyLine)).code).toBe(0);
    return { email, user: name, keyPath: key.privateKeyPath };
  }

  const grantsOf = (user: string) => db.prepare('SELECT * FROM grants WHERE linux_user = ? ORDER BY id').all(user) as GrantRow[];
  const states = (user: string) => Object.fromEntries(grantsOf(user).map((g) => [g.server, g.state]));
  const certificateOf = (requestId: number) => db.prepare(
    'SELECT certificate, valid_before FROM certificates WHERE request_id = ? AND certificate IS NOT NULL ORDER BY serial DESC LIMIT 1',
  ).get(requestId) as { certificate: string; valid_before: number } | undefined;

  function writeCertificate(person: Person, requestId: number): string {
    const cert = certificateOf(requestId);
    if (!cert) throw new Error(`request ${requestId} has no certificate`);
    const path = join(temp.dir, `${person.user}-req-${requestId}-cert.pub`);
    writeFileSync(path, cert.certificate + '\n');
    return path;
  }

  // What the server says, read from outside its namespace (its /etc is a directory under host.dir).
  const principalsOn = (host: TestHost, user: string) => {
    const file = join(host.dir, 'etc/ssh/keyway/principals', user);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  };
  const accountOn = (host: TestHost, user: string) => readFileSync(join(host.dir, 'etc/passwd'), 'utf8').split('\n').some((l) => l.startsWith(`${user}:`));
  const passwordFieldOn = (host: TestHost, user: string) =>
    readFileSync(join(host.dir, 'etc/shadow'), 'utf8').split('\n').find((l) => l.startsWith(`${user}:`))?.split(':')[1];

  async function openSession(host: TestHost, person: Person, certPath: string): Promise<SshSession> {
    const session = startSshSession(host, { user: person.user, keyPath: person.keyPath, certPath, command: 'echo ready; sleep 600' });
    sessions.push(session);
    await session.waitForOutput('ready', 15_000);
    return session;
  }

  async function expectLoginWorks(host: TestHost, person: Person, certPath: string): Promise<void> {
    const login = await sshRun(host, { user: person.user, keyPath: person.keyPath, certPath, command: 'id -un' });
    expect(login.stdout.trim(), `${host.name}: ${login.stderr}`).toBe(person.user);
  }

  async function ended(session: SshSession, what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} is still running`)), 10_000)));
    try {
      const result = await Promise.race([session.wait(), timeout]);
      expect(result.code, what).not.toBe(0);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The proof that access is over: the grants are revoked, sessions are gone, the certificate opens nothing. */
  async function expectAccessEnded(person: Person, requestId: number, certPath: string, open: SshSession[]): Promise<void> {
    expect(grantsOf(person.user).filter((g) => g.request_id === requestId).map((g) => g.state)).toEqual(['revoked', 'revoked']);
    expect(grantsOf(person.user).filter((g) => LIVE_STATES.includes(g.state))).toEqual([]);
    for (const [i, session] of open.entries()) await ended(session, `ssh session ${i + 1} of ${person.user}`);
    for (const host of hosts) {
      const login = await sshRun(host, { user: person.user, keyPath: person.keyPath, certPath, command: 'id -un' });
      expect(login.code, `${host.name} let ${person.user} in: ${login.stdout}`).not.toBe(0);
      expect(login.stderr).toMatch(/Permission denied/);
      expect(principalsOn(host, person.user)).not.toContain(`keyway-req-${requestId}`);
      expect(passwordFieldOn(host, person.user), `${person.user} on ${host.name} is locked`).toMatch(/^!/);
      expect((await host.exec(`pgrep -u ${person.user}`)).code, `processes of ${person.user} left on ${host.name}`).toBe(1);
    }
  }

  /** The restarted Keyway's expiry timer revokes every grant within 5 s of expiry, and the access is gone. */
  async function expectTimerEndsAccess(person: Person, requestId: number, expiresAt: number, certPath: string, open: SshSession[]): Promise<void> {
    await waitFor('the expiry timer to revoke both grants', () => grantsOf(person.user).every((g) => g.state === 'revoked'), expiresAt - Date.now() + 15_000, 20);
    const lag = Math.max(...grantsOf(person.user).map((g) => g.revoked_at! - expiresAt));
    expect(lag, `revoked ${lag} ms after expiry`).toBeLessThan(5_000);
    await expectAccessEnded(person, requestId, certPath, open);
  }

  /** Restart as one `keyway sweep`: it must succeed without failures; returns its report. */
  async function sweepAfterRestart(): Promise<Record<string, number>> {
    const swept = await keyway('sweep', '--json');
    expect(swept.code, swept.err).toBe(0);
    const report = JSON.parse(swept.out) as Record<string, number>;
    expect(report).toMatchObject({ failures: 0 });
    return report;
  }

  async function startRecovery(): Promise<RunningKeyway> {
    const keyway = await startKeyway({ ...env, ...SLACK_DOWN }, quiet);
    running.push(keyway);
    return keyway;
  }

  beforeAll(async () => {
    temp = makeTempDir();
    [cli, hosts] = await Promise.all([buildKeywayCli(), startTestHosts(2, { name: 'crash' })]);
    const configPath = join(temp.dir, 'access.yaml');
    writeFileSync(configPath, `integrations:
  - name: lab
    servers: ${JSON.stringify(hosts.map((h, i) => ({ name: `crash-${i + 1}`, host: h.host, port: h.port, user: h.connectorUser })))}
    owners: [platform@example.com]
`);
    // Servers of one integration share one connector key: host 2 trusts host 1's.
    const connectorPub = (await hosts[0]!.exec(`ssh-keygen -y -f ${hosts[0]!.connectorKeyPath}`)).stdout.trim();
    await hosts[1]!.exec(`echo '${connectorPub}' >> /home/${hosts[1]!.connectorUser}/.ssh/authorized_keys`);
    env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'data'), CONNECTOR_SSH_KEY_FILE: hosts[0]!.connectorKeyPath, LOG_LEVEL: 'warn' };
    expect((await keyway('ca', 'init')).code).toBe(0);
    const bootstrap = await keyway('hosts', 'bootstrap', '--all');
    expect(bootstrap.code, bootstrap.out + bootstrap.err).toBe(0);
    db = openDatabaseReadOnly(env.KEYWAY_DATA_DIR!);
    [usermod2, useradd2] = await Promise.all([slowTool(hosts[1]!, 'usermod'), slowTool(hosts[1]!, 'useradd', { after: true })]);
  }, 120_000);

  afterEach(async () => {
    usermod2?.delay(undefined);
    useradd2?.delay(undefined);
    for (const session of sessions.splice(0)) session.kill();
    await killKeywayChildren();
    await Promise.all(running.splice(0).map((k) => k.stop()));
  });

  afterAll(async () => {
    db?.close();
    await Promise.all((hosts ?? []).map((h) => h.stop()));
    cli?.remove();
    temp?.remove();
  });

  describe('during provisioning', () => {
    it('killed right after the commit that recorded the grants: the restart provisions them, and the expiry timer ends the access', async () => {
      const person = await newPerson('crashp1');
      const grant = spawnKeyway(cli, ['grant', person.email, 'crash-1', 'crash-2', '--for', '8s', '--reason', 'INC-1: crash test', '--json'], env,
        { killAfterCommitWhen: `SELECT count(*) FROM grants WHERE linux_user = '${person.user}'` });
      expect(await grant.exited, grant.output()).toMatchObject({ signal: 'SIGKILL' });
      const rows = grantsOf(person.user);
      expect(rows).toHaveLength(2);
      const requestId = rows[0]!.request_id;
      // The state is written before any effect: nothing happened on a server yet.
      expect(states(person.user)).toEqual({ 'crash-1': 'provisioning', 'crash-2': 'provisioning' });
      for (const host of hosts) expect(principalsOn(host, person.user)).toEqual([]);
      expect(certificateOf(requestId)).toBeUndefined();

      // Restart: `keyway start` (Slack unreachable) finishes the provisioning and issues the certificate.
      await startRecovery();
      await waitFor('the restart to provision both grants', () => grantsOf(person.user).every((g) => g.state === 'active') && certificateOf(requestId), 15_000, 20);
      const certPath = writeCertificate(person, requestId);
      const open = [await openSession(hosts[0]!, person, certPath), await openSession(hosts[1]!, person, certPath)];

      await expectTimerEndsAccess(person, requestId, rows[0]!.expires_at, certPath, open);
    });

    /** `keyway grant` on both hosts, SIGKILLed once host 1 is active with a certificate and host 2 waits inside `step`. */
    async function killGrantWhileHost2Waits(person: Person, step: SlowTool, forHowLong: string, what: string) {
      step.delay(1.5);
      const grant = spawnKeyway(cli, ['grant', person.email, 'crash-1', 'crash-2', '--for', forHowLong, '--reason', 'INC-2: crash test', '--json'], env);
      const rows = await waitFor(what, () => {
        grant.assertRunning();
        const grants = grantsOf(person.user);
        return grants.length === 2 && grants[0]!.state === 'active' && certificateOf(grants[0]!.request_id) && step.caller() && grants;
      }, 15_000, 2);
      await grant.kill9();
      step.delay(undefined);
      expect(states(person.user)).toEqual({ 'crash-1': 'active', 'crash-2': 'provisioning' });
      return rows;
    }

    it('killed while one server is half provisioned, and down past the expiry: a sweep after restart ends the access that was live', async () => {
      const person = await newPerson('crashp2');
      // host 2: the account exists, the principal is not written yet
      const rows = await killGrantWhileHost2Waits(person, useradd2, '5s', 'host 1 active with a certificate while host 2 is mid-provisioning');
      const requestId = rows[0]!.request_id;
      expect(accountOn(hosts[1]!, person.user)).toBe(true);

      // Access given before the crash: the certificate the killed process issued works on host 1.
      const certPath = writeCertificate(person, requestId);
      const session = await openSession(hosts[0]!, person, certPath);

      // Keyway stays down past the expiry: nothing ends the session by itself.
      const expiresAt = rows[0]!.expires_at;
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1_000));
      expect(session.child.exitCode, 'the session ended without Keyway').toBeNull();
      expect(states(person.user)).toEqual({ 'crash-1': 'active', 'crash-2': 'provisioning' });

      // Restart: one sweep (as `keyway sweep` or a cron job would run it) revokes both.
      expect(await sweepAfterRestart()).toMatchObject({ accessEnded: 1 });
      await expectAccessEnded(person, requestId, certPath, [session]);
      expect(principalsOn(hosts[1]!, person.user)).toEqual([]); // also what the orphaned server-side step wrote after the kill
    });

    it('killed after host 2 has the principal but before Keyway recorded it: the restart finishes, and the expiry ends it', async () => {
      const person = await newPerson('crashp3');
      // host 2: Keyway is killed mid-provisioning; the server-side step outlives it and writes the principal, which
      // Keyway never learns of
      const rows = await killGrantWhileHost2Waits(person, useradd2, '8s', 'host 1 active while host 2 is still provisioning');
      const requestId = rows[0]!.request_id;
      await waitFor('the orphaned step on host 2 to write the principal', () => principalsOn(hosts[1]!, person.user).includes(`keyway-req-${requestId}`), 10_000, 20);
      const certPath = writeCertificate(person, requestId);

      await startRecovery();
      await waitFor('the restart to finish provisioning host 2', () => states(person.user)['crash-2'] === 'active', 15_000, 20);
      await expectLoginWorks(hosts[1]!, person, certPath);
      const open = [await openSession(hosts[0]!, person, certPath), await openSession(hosts[1]!, person, certPath)];

      await expectTimerEndsAccess(person, requestId, rows[0]!.expires_at, certPath, open);
    });
  });

  // The waits inside each test are the bounds that fail with a reason (up to 15 s for the expiry, 15 s for the restart,
  // the sweep and the ssh checks); their sum under a loaded CI machine passed the 30 s default and failed with a bare
  // "timed out" instead. The test's own limit only has to be above that sum.
  describe('during revocation', { timeout: 90_000 }, () => {
    async function grantNow(person: Person, duration: string) {
      const granted = await keyway('grant', person.email, 'crash-1', 'crash-2', '--for', duration, '--reason', 'INC-4: crash test', '--json');
      expect(granted.code, granted.err).toBe(0);
      const result = JSON.parse(granted.out) as { request: { id: number }; grants: Array<{ state: string }> };
      expect(result.grants.map((g) => g.state)).toEqual(['active', 'active']);
      const certPath = writeCertificate(person, result.request.id);
      const open = [await openSession(hosts[0]!, person, certPath), await openSession(hosts[1]!, person, certPath)];
      return { requestId: result.request.id, certPath, open };
    }

    it('`keyway revoke` killed once it recorded revoking: a sweep after restart finishes, and the still-valid certificate is refused', async () => {
      const person = await newPerson('crashr1');
      const { requestId, certPath, open } = await grantNow(person, '10m');
      const revoke = spawnKeyway(cli, ['revoke', String(requestId)], env);
      await waitFor('a grant in revoking', () => {
        revoke.assertRunning();
        return Object.values(states(person.user)).includes('revoking');
      }, 15_000, 2);
      await revoke.kill9();
      expect(await revoke.exited, revoke.output()).toMatchObject({ signal: 'SIGKILL' });
      expect(Object.values(states(person.user))).toContain('revoking');
      // The certificate is valid for minutes more: only the revocation can make the server refuse it.
      expect(certificateOf(requestId)!.valid_before).toBeGreaterThan(Date.now() / 1000 + 300);

      expect((await sweepAfterRestart()).revokeRetried).toBeGreaterThanOrEqual(1);
      await expectAccessEnded(person, requestId, certPath, open);
    });

    // The process kills itself right after the named commit: no race with a poller, the same point every run.
    it.each([
      ['it recorded the revoke (audit log, message to the requester)', 'crashr4',
        (id: number) => `SELECT count(*) FROM outbox WHERE kind = 'access_ended' AND request_id = ${id}`],
      ['the first grant was recorded revoking', 'crashr5',
        (id: number) => `SELECT count(*) FROM grants WHERE request_id = ${id} AND state = 'revoking'`],
    ])('`keyway revoke` killed right after %s: a sweep after restart revokes every grant of the request', async (_point, name, when) => {
      const person = await newPerson(name);
      const { requestId, certPath, open } = await grantNow(person, '10m');
      const revoke = spawnKeyway(cli, ['revoke', String(requestId)], env, { killAfterCommitWhen: when(requestId) });
      expect(await revoke.exited, revoke.output()).toMatchObject({ signal: 'SIGKILL' });
      const audit = db.prepare("SELECT action FROM audit_log WHERE subject = ? ORDER BY seq").all(`request:${requestId}`) as Array<{ action: string }>;
      expect(audit.map((e) => e.action), 'the audit log says the access was revoked').toContain('access.revoked');
      expect(certificateOf(requestId)!.valid_before).toBeGreaterThan(Date.now() / 1000 + 300);

      await sweepAfterRestart();
      await expectAccessEnded(person, requestId, certPath, open);
    });

    it('`keyway revoke` killed while the server had removed the principal and ended the session but not yet locked the account (and the server-side step died too)', async () => {
      const person = await newPerson('crashr2');
      const { requestId, certPath, open } = await grantNow(person, '10m');
      usermod2.delay(60);
      const revoke = spawnKeyway(cli, ['revoke', String(requestId)], env);
      await waitFor('host 2 to be mid-revoke', () => {
        revoke.assertRunning();
        return usermod2.caller();
      }, 15_000, 2);
      await revoke.kill9();
      await usermod2.killCaller();
      usermod2.delay(undefined);
      expect(states(person.user)['crash-2']).toBe('revoking');
      // Half done on host 2: the principal is gone and the user's processes were killed before the account is locked
      // (a revoke ends sessions before it changes anything a full disk could stop), but the account is still open.
      expect(principalsOn(hosts[1]!, person.user)).not.toContain(`keyway-req-${requestId}`);
      expect(passwordFieldOn(hosts[1]!, person.user)).not.toMatch(/^!/);
      await waitFor('the host 2 session to be ended by the revoke before the account is locked', () => open[1]!.child.exitCode !== null, 5_000, 20);

      await sweepAfterRestart();
      await expectAccessEnded(person, requestId, certPath, open);
    });

    it('`keyway start` killed while its expiry timer was revoking: the next start takes over and ends the access', async () => {
      const person = await newPerson('crashr3');
      const { requestId, certPath, open } = await grantNow(person, '5s');
      const expiresAt = grantsOf(person.user)[0]!.expires_at;
      usermod2.delay(60);
      const server = spawnKeyway(cli, ['start'], { ...env, ...SLACK_DOWN });
      await waitFor('the timer of keyway start to be revoking on host 2',
        () => {
          server.assertRunning();
          return usermod2.caller() && states(person.user)['crash-2'] === 'revoking';
        },
        expiresAt - Date.now() + 15_000, 5).catch((error: Error) => {
        throw new Error(`${error.message}; keyway start said:\n${server.output()}`);
      });
      await server.kill9();
      await usermod2.killCaller();
      usermod2.delay(undefined);
      // The revoke had killed the session before it reached the account lock; the account is still open.
      await waitFor('the host 2 session to be ended by the revoke before the account is locked', () => open[1]!.child.exitCode !== null, 5_000, 20);
      expect(passwordFieldOn(hosts[1]!, person.user)).not.toMatch(/^!/);

      // The killed process still holds the sweeper lease in the database; a start on this machine sees it is gone.
      await startRecovery();
      await waitFor('the restart to finish the revoke', () => grantsOf(person.user).every((g) => g.state === 'revoked'), 15_000, 20);
      await expectAccessEnded(person, requestId, certPath, open);
    });
  });
});
