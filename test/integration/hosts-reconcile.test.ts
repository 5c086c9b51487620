// keyway hosts reconcile after a restored older database: access the database no longer knows (principals, and
// accounts marked keyway-managed) is listed by --dry-run, which changes nothing, and taken back by --yes (the real ssh
// client is refused, the processes are gone, the account is locked but never deleted); an unmarked account and a
// grant the database knows are never touched. Real sshd test host, real SQLite, the real grant runner and CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeyway } from '../helpers/run-keyway.js';
import { provisionRequest, type GrantRunner } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { loadAccessConfig } from '../../src/config/load.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestHost, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`keyway hosts reconcile${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  let host: TestHost;
  let ctx: TestContext;
  let pool: ConnectionPool;
  let runner: GrantRunner;
  let env: NodeJS.ProcessEnv;
  let configDir: { dir: string; remove(): void };
  const people = new Map<string, { keyPath: string; certPath: string; requestId: number; uid: number }>();

  const keyway = (...argv: string[]) => runKeyway(env, ...argv);

  beforeAll(async () => {
    host = await startTestHost({ name: 'recon' });
    configDir = makeTempDir();
    const configPath = join(configDir.dir, 'access.yaml');
    writeFileSync(configPath, [
      'integrations:',
      '  - name: lab',
      '    type: ssh',
      `    servers: [{ name: recon-1, host: 127.0.0.1, port: ${host.port}, user: ${host.connectorUser} }]`,
      `    secret: { file: ${host.connectorKeyPath} }`,
      '    uid_range: 60000-64999',
      'flows:',
      '  - name: lab-debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: lab, servers: [recon-1] }',
      '    approvers: { emails: [lead@example.com] }',
      '    max_duration: 8h',
      '',
    ].join('\n'));
    const config = loadAccessConfig(configPath);
    ctx = testContext(config, Date.now());
    env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: ctx.dir };
    pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
    await bootstrapServer(pool, { integration: config.integrations[0]!, server: config.integrations[0]!.servers[0]! }, caKey.publicKeyLine);
    runner = createGrantRunner(ctx, sshHostEffects({ pool, db: ctx.db, now: ctx.now }), caKey);

    // Three grants through the grant runner; each person leaves a detached process running on the server.
    for (const name of ['alice', 'bob', 'carol']) {
      const key = await generateUserKey(ctx.dir);
      registerKey(ctx, `${name}@example.com`, name, key.publicKeyLine);
      const { request } = submitRequest(ctx, { email: `${name}@example.com` }, { servers: ['recon-1'], duration: 3600, reason: 'INC-14' }, 'test');
      expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
      expect((await provisionRequest(runner, request.id)).map((g) => g.state)).toEqual(['active']);
      const certPath = join(ctx.dir, `${name}-cert.pub`);
      writeFileSync(certPath, `${certificateOf(ctx, request.id)!.line}\n`);
      const uid = Number((await host.exec(`id -u ${name}`)).stdout.trim());
      people.set(name, { keyPath: key.privateKeyPath, certPath, requestId: request.id, uid });
    }
    // An account Keyway did not create (no marker), with a process of its own.
    await host.exec('useradd -m -u 1500 -p "*" dave');
    // A principal no grant of this database has, in the principals file of that unmarked account.
    await host.exec('printf "keyway-req-900\\n" > /etc/ssh/keyway/principals/dave');
    for (const name of ['alice', 'bob', 'carol', 'dave']) await startSleeper(name);
  }, 60_000);

  afterAll(async () => {
    await pool?.close();
    await stopAllTestHosts();
    ctx?.close();
    configDir?.remove();
  });

  async function startSleeper(user: string): Promise<void> {
    const result = await host.exec(`setpriv --reuid=$(id -u ${user}) --regid=$(id -g ${user}) --clear-groups setsid sleep 1000 </dev/null >/dev/null 2>&1 &`);
    expect(result.code, result.stderr).toBe(0);
  }
  const processesOf = async (user: string) => Number((await host.exec(`pgrep -c -u ${user} || true`)).stdout.trim());
  const shadowOf = async (user: string) => (await host.exec(`getent shadow ${user}`)).stdout.trim().split(':');
  const login = (name: string) => {
    const p = people.get(name)!;
    return sshRun(host, { user: name, keyPath: p.keyPath, certPath: p.certPath, command: 'id -un' });
  };
  const principal = (name: string) => `keyway-req-${people.get(name)!.requestId}`;

  it('lists what a restored older database does not know, changes nothing with --dry-run, and takes it back with --yes', async () => {
    for (const name of ['alice', 'bob', 'carol']) expect((await login(name)).stdout.trim(), name).toBe(name);

    // The restored database is older: it never heard of alice's and bob's grants, nor of their accounts.
    ctx.db.prepare('DELETE FROM grants WHERE request_id IN (?, ?)').run(people.get('alice')!.requestId, people.get('bob')!.requestId);
    ctx.db.prepare("DELETE FROM managed_users WHERE linux_user IN ('alice', 'bob')").run();

    const plan = [
      `recon-1: principal ${principal('alice')} for alice: no live grant → would remove`,
      `recon-1: principal ${principal('bob')} for bob: no live grant → would remove`,
      'recon-1: principal keyway-req-900 for dave: no live grant → would remove',
      `recon-1: account alice (UID ${people.get('alice')!.uid}) marked keyway-managed, unknown to this database → would lock and end its processes`,
      `recon-1: account bob (UID ${people.get('bob')!.uid}) marked keyway-managed, unknown to this database → would lock and end its processes`,
    ];
    const dry = await keyway('hosts', 'reconcile', 'recon-1', '--dry-run');
    expect(dry.errs).toEqual([]);
    expect(dry.code).toBe(0);
    expect(dry.outs.slice(0, -1)).toEqual(plan);
    expect(dry.outs.at(-1)).toMatch(/^Dry run: nothing changed \(5 findings\)\. .*never deletes accounts or homes/);
    // Nothing changed: the forgotten certificate still logs in, its processes run, the account is open.
    expect((await login('alice')).stdout.trim()).toBe('alice');
    expect(await processesOf('alice')).toBeGreaterThan(0);
    expect((await shadowOf('alice'))[1]).toBe('*');
    expect(listAudit(ctx.db).filter((e) => e.action.startsWith('reconcile.'))).toEqual([]);

    if (!process.stdin.isTTY) {
      // Without --yes and without a terminal to ask on: the plan, nothing removed, exit 1 (unknown access is left).
      const unasked = await keyway('hosts', 'reconcile', '--all');
      expect(unasked.code).toBe(1);
      expect(unasked.outs.slice(0, -1)).toEqual(plan);
      expect(unasked.outs.at(-1)).toMatch(/^Nothing changed: stdin is not a terminal/);
      expect((await login('bob')).stdout.trim()).toBe('bob');
    }

    const done = await keyway('hosts', 'reconcile', 'recon-1', '--yes');
    expect(done.errs).toEqual([]);
    // The plan first, then what was done.
    expect(done.outs).toEqual([
      ...plan,
      ...plan.map((line) => line.replace(/dave: no live grant → would remove$/, 'dave: no live grant → removed (the account is not marked keyway-managed: left untouched)')
        .replace(/ → would remove$/, ' → removed').replace(/ → would lock and end its processes$/, ' → locked, processes ended')),
      expect.stringMatching(/^Reconcile never deletes accounts or homes/),
    ]);
    expect(done.code).toBe(0);

    for (const name of ['alice', 'bob']) {
      const refused = await login(name);
      expect(refused.code, `${name}'s certificate is refused: ${refused.stdout}`).not.toBe(0);
      expect(await processesOf(name), `${name}'s processes are gone`).toBe(0);
      const shadow = await shadowOf(name);
      expect(shadow[1]!.startsWith('!'), `${name} is locked: ${shadow.join(':')}`).toBe(true);
      expect(shadow[7], `${name} is expired`).toBe('1');
      expect(existsSync(join(host.dir, 'home', name)), `${name}'s home stays`).toBe(true);
      expect((await host.exec(`getent passwd ${name}`)).code, `${name}'s account stays`).toBe(0);
    }
    // The grant the database knows, and the account Keyway did not create, are untouched.
    expect((await login('carol')).stdout.trim()).toBe('carol');
    expect(await processesOf('carol')).toBeGreaterThan(0);
    expect(grantsOfRequest(ctx.db, people.get('carol')!.requestId).map((g) => g.state)).toEqual(['active']);
    expect(await processesOf('dave')).toBeGreaterThan(0);
    expect((await shadowOf('dave'))[1]).toBe('*');
    expect((await host.exec('cat /etc/ssh/keyway/principals/dave')).code, "the stray principal is gone from Keyway's file").not.toBe(0);

    const audited = listAudit(ctx.db).filter((e) => e.action.startsWith('reconcile.'));
    expect(audited.map((e) => [e.action, e.actor, e.subject, e.details])).toEqual([
      ['reconcile.principal_removed', expect.stringMatching(/^cli:/), 'server:recon-1', { integration: 'lab', linuxUser: 'alice', principal: principal('alice') }],
      ['reconcile.principal_removed', expect.stringMatching(/^cli:/), 'server:recon-1', { integration: 'lab', linuxUser: 'bob', principal: principal('bob') }],
      ['reconcile.principal_removed', expect.stringMatching(/^cli:/), 'server:recon-1', { integration: 'lab', linuxUser: 'dave', principal: 'keyway-req-900' }],
      ['reconcile.account_locked', expect.stringMatching(/^cli:/), 'server:recon-1', { integration: 'lab', linuxUser: 'alice', uid: people.get('alice')!.uid }],
      ['reconcile.account_locked', expect.stringMatching(/^cli:/), 'server:recon-1', { integration: 'lab', linuxUser: 'bob', uid: people.get('bob')!.uid }],
    ]);
  }, 120_000);
});
