// A grant whose expiry passes is revoked within seconds by `keyway start`'s expiry timer, not by the minute cron,
// also while Slack's Web API is unreachable. Real sshd test host, real ssh client, real SQLite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { startKeyway, type RunningKeyway } from '../../src/main.js';
import { openDatabase } from '../../src/store/open-database.js';
import { openDatabaseReadOnly, runKeyway } from '../helpers/keyway-process.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun, startSshSession, type SshSession } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();
const quiet = pino({ level: 'silent' });
const SLACK_DOWN = {
  SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-secret', PORT: '0', METRICS_ADDR: '127.0.0.1:0',
  SLACK_API_URL: 'http://127.0.0.1:9/api/', // nothing listens: Slack's Web API is unreachable
};
/** The most a timer-driven revoke may lag the expiry. */
const MAX_LAG_MS = 5_000;
const MINUTE_MS = 60_000;

/**
 * Waits, if need be, until the next `ms` fit in the current minute (with a second to spare), so that the minute
 * cron (which fires at second 0) cannot run between a grant's creation and its revoke: not to find the expiry for
 * the timer, nor to do the revoke itself.
 */
async function roomInTheMinute(ms: number): Promise<void> {
  const intoMinute = Date.now() % MINUTE_MS;
  if (intoMinute + ms + 1_000 <= MINUTE_MS) return;
  await new Promise((r) => setTimeout(r, MINUTE_MS - intoMinute + 1_500)); // past second 0, and past that cron's sweep
}

interface GrantRow { id: number; request_id: number; state: string; expires_at: number; revoked_at: number | null }

describe.skipIf(!!reason)(`the expiry timer${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let host: TestHost;
  let temp: { dir: string; remove(): void };
  let env: NodeJS.ProcessEnv;
  const running: RunningKeyway[] = [];
  const sessions: SshSession[] = [];

  const keyway = (...argv: string[]) => runKeyway(env, ...argv);

  async function newPerson(name: string) {
    const key = await generateUserKey(temp.dir);
    expect((await keyway('keys', 'add', `${name}@example.com`, key.publicKeyLine)).code).toBe(0);
    return { email: `${name}@example.com`, user: name, keyPath: key.privateKeyPath };
  }

  /** Break-glass on the command line; returns the grant, the certificate's path and an open ssh session. */
  async function grantAndLogIn(person: { email: string; user: string; keyPath: string }, seconds: number) {
    const granted = await keyway('grant', person.email, 'timer-1', '--for', `${seconds}s`, '--reason', 'INC-7: timer test', '--json');
    expect(granted.code, granted.err).toBe(0);
    const result = JSON.parse(granted.out) as { request: { id: number }; grants: GrantRow[]; certificate: string };
    expect(result.grants.map((g) => g.state)).toEqual(['active']);
    const certPath = join(temp.dir, `${person.user}-cert.pub`);
    writeFileSync(certPath, result.certificate + '\n');
    const session = startSshSession(host, { user: person.user, keyPath: person.keyPath, certPath, command: 'echo ready; sleep 600' });
    sessions.push(session);
    await session.waitForOutput('ready', 15_000);
    let endedAt: number | undefined;
    void session.wait().then(() => (endedAt = Date.now()));
    return { requestId: result.request.id, certPath, session, sessionEndedAt: () => endedAt };
  }

  function grantOf(requestId: number): GrantRow {
    const db = openDatabaseReadOnly(env.KEYWAY_DATA_DIR!);
    try {
      return db.prepare('SELECT * FROM grants WHERE request_id = ?').get(requestId) as GrantRow;
    } finally {
      db.close();
    }
  }

  /** Waits until the grant is revoked or MAX_LAG_MS + 3 s past its expiry; returns the grant as it is then. */
  async function revokedOrLate(requestId: number): Promise<GrantRow> {
    const deadline = grantOf(requestId).expires_at + MAX_LAG_MS + 3_000;
    for (;;) {
      const grant = grantOf(requestId);
      if (grant.state === 'revoked' || Date.now() > deadline) return grant;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    temp = makeTempDir();
    host = await startTestHost({ name: 'timer-1' });
    const configPath = join(temp.dir, 'access.yaml');
    writeFileSync(configPath, `integrations:
  - name: lab
    servers: ${JSON.stringify([{ name: 'timer-1', host: host.host, port: host.port, user: host.connectorUser }])}
    owners: [platform@example.com]
`);
    env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'data'), CONNECTOR_SSH_KEY_FILE: host.connectorKeyPath };
    expect((await keyway('ca', 'init')).code).toBe(0);
    const bootstrap = await keyway('hosts', 'bootstrap', '--all');
    expect(bootstrap.code, bootstrap.out + bootstrap.err).toBe(0);
  });

  afterEach(async () => {
    for (const session of sessions.splice(0)) session.kill();
    await Promise.all(running.splice(0).map((k) => k.stop()));
  });

  afterAll(async () => {
    await host?.stop();
    temp?.remove();
  });

  it('revokes a grant within seconds of its expiry, while Slack is unreachable, and the certificate is refused', async () => {
    const person = await newPerson('timer1');
    await roomInTheMinute(3_000 + 5_000 + MAX_LAG_MS); // grant and start, the 5 s grant, the most lag allowed
    const { requestId, certPath, session, sessionEndedAt } = await grantAndLogIn(person, 5);
    const keyway = await startKeyway({ ...env, ...SLACK_DOWN }, quiet);
    running.push(keyway);
    const expiresAt = grantOf(requestId).expires_at;
    expect(grantOf(requestId).state, 'still active before the expiry').toBe('active');

    const grant = await revokedOrLate(requestId);
    expect(grant.state, `not revoked ${Date.now() - expiresAt} ms after the expiry`).toBe('revoked');
    const lag = grant.revoked_at! - expiresAt;
    expect(lag, `revoked ${lag} ms after the expiry`).toBeGreaterThanOrEqual(0);
    expect(lag, `revoked ${lag} ms after the expiry`).toBeLessThan(MAX_LAG_MS);
    expect(Math.floor(grant.revoked_at! / MINUTE_MS), 'no minute cron ran between the expiry and the revoke').toBe(Math.floor(expiresAt / MINUTE_MS));

    // On the server: the open session was ended, and the certificate no longer logs in.
    await session.wait();
    expect(sessionEndedAt()! - expiresAt, 'the ssh session ended within seconds of the expiry').toBeLessThan(MAX_LAG_MS + 1_000);
    const login = await sshRun(host, { user: person.user, keyPath: person.keyPath, certPath, command: 'id -un' });
    expect(login.code).not.toBe(0);
    expect(login.stderr).toMatch(/Permission denied/);
    const principals = await host.exec(`cat /etc/ssh/keyway/principals/${person.user} 2>/dev/null || true`);
    expect(principals.stdout).not.toContain(`keyway-req-${requestId}`);

    // Slack was down the whole time: the requester's "access ended" message is still owed, and /healthz says why.
    const db = openDatabaseReadOnly(env.KEYWAY_DATA_DIR!);
    const owed = db.prepare("SELECT delivered_at FROM outbox WHERE kind = 'access_ended' AND request_id = ?").all(requestId) as Array<{ delivered_at: number | null }>;
    db.close();
    expect(owed).toEqual([{ delivered_at: null }]);
    const health = (await (await fetch(`http://127.0.0.1:${keyway.metricsPort}/healthz`)).json()) as { chat: { slack: { ok: boolean } } };
    expect(health.chat.slack.ok).toBe(false);
  });

  it('revokes within seconds a grant that `keyway grant` made while keyway start was already running', async () => {
    const person = await newPerson('timer2');
    // What the first test still owes on Slack would keep the engine busy with retries, and the end of each engine
    // run re-arms the timer: mark it delivered, so that nothing but the fix under test can find the new expiry.
    const db = openDatabase(env.KEYWAY_DATA_DIR!);
    db.prepare('UPDATE outbox SET delivered_at = ? WHERE delivered_at IS NULL').run(Date.now());
    db.close();
    const keyway = await startKeyway({ ...env, ...SLACK_DOWN }, quiet);
    running.push(keyway);
    await new Promise((r) => setTimeout(r, 1_000)); // the start's sweep and engine run are done
    // No minute cron (it sweeps, and so re-arms the timer) between the grant and the latest revoke allowed.
    await roomInTheMinute(2_000 + 4_000 + MAX_LAG_MS);
    // The break-glass grant comes from another process (here: the CLI code on its own database connection), as an
    // admin would run it while keyway start runs.
    const { requestId, session } = await grantAndLogIn(person, 4);
    const expiresAt = grantOf(requestId).expires_at;
    const grantCreatedAt = expiresAt - 4_000;

    const grant = await revokedOrLate(requestId);
    expect(grant.state, `not revoked ${Date.now() - expiresAt} ms after the expiry (only the minute cron would find it)`).toBe('revoked');
    const lag = grant.revoked_at! - expiresAt;
    expect(lag, `revoked ${lag} ms after the expiry`).toBeLessThan(MAX_LAG_MS);
    expect(Math.floor(grant.revoked_at! / MINUTE_MS), 'no minute cron ran between the grant and the revoke').toBe(Math.floor(grantCreatedAt / MINUTE_MS));
    await session.wait();
  });
});
