// Revoking one grant through the access layer (the grant runner, as `keyway revoke`, Slack and Teams do) keeps the
// groups another live grant of the same person gives on that server. Real sshd test host, real SQLite, the real
// ssh client with the certificates Keyway issued as the proof.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grantBreakGlass } from '../../src/access/break-glass.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { endAccess, provisionRequest, type GrantRunner } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`revoking one of two live grants${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  let host: TestHost;
  let ctx: TestContext;
  let pool: ConnectionPool;
  let runner: GrantRunner;

  // The integration gives `developers` to every grant; the flow adds `ops`. A break-glass grant gets the
  // integration's groups only: so one person can hold [developers] and [developers, ops] on one server.
  const lab = integration('lab', [server('keep-1', { tags: { env: 'prod' } })], { userGroups: ['developers'], owners: ['platform@example.com'] });
  const config = accessConfig({
    integrations: [lab],
    flows: [flow('lab-debug', 'lab', { resources: { integration: 'lab', servers: ['keep-1'], tags: {} }, grantGroups: ['ops'] })],
  });

  beforeAll(async () => {
    host = await startTestHost({ name: 'keep' });
    lab.servers[0]!.port = host.port;
    lab.servers[0]!.user = host.connectorUser;
    ctx = testContext(config, Date.now()); // real time: sshd checks the certificates' validity
    pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
    await bootstrapServer(pool, { integration: lab, server: lab.servers[0]! }, caKey.publicKeyLine);
    const groups = await host.exec('groupadd developers && groupadd ops');
    expect(groups.code, groups.stderr).toBe(0);
    runner = createGrantRunner(ctx, sshHostEffects({ pool, db: ctx.db, now: ctx.now }), caKey);
  });

  afterAll(async () => {
    await pool?.close();
    await host?.stop();
    ctx?.close();
  });

  async function person(user: string) {
    const key = await generateUserKey(ctx.dir);
    const email = `${user}@example.com`;
    registerKey(ctx, email, user, key.publicKeyLine);
    return { email, user, keyPath: key.privateKeyPath };
  }

  /** dev-style request under the flow: groups [developers, ops]. */
  async function flowGrant(email: string): Promise<number> {
    const { request } = submitRequest(ctx, { email }, { servers: ['keep-1'], duration: 3600, reason: 'INC-5' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    expect((await provisionRequest(runner, request.id)).map((g) => g.state)).toEqual(['active']);
    return request.id;
  }

  /** Break-glass: groups [developers]. */
  async function breakGlass(email: string): Promise<number> {
    const request = grantBreakGlass(ctx, 'cli:root', email, ['keep-1'], 3600, 'INC-5: break-glass');
    expect((await provisionRequest(runner, request.id)).map((g) => g.state)).toEqual(['active']);
    return request.id;
  }

  function certificatePath(requestId: number): string {
    const path = join(ctx.dir, `req-${requestId}-cert.pub`);
    writeFileSync(path, `${certificateOf(ctx, requestId)!.line}\n`);
    return path;
  }

  const groupsOn = async (user: string) => (await host.exec(`id -nG ${user}`)).stdout.trim().split(/\s+/);
  const principalsOn = async (user: string) => (await host.exec(`cat /etc/ssh/keyway/principals/${user}`)).stdout.split('\n').filter(Boolean);

  it('keeps a group the other live grant gives, removes the one only the revoked grant gave, and the other certificate still logs in', async () => {
    const ana = await person('ana');
    const kept = await breakGlass(ana.email);
    const revoked = await flowGrant(ana.email);
    expect(await groupsOn('ana')).toEqual(expect.arrayContaining(['developers', 'ops']));

    await endAccess(runner, revoked, 'revoked', ana.email);
    expect(grantsOfRequest(ctx.db, revoked).map((g) => g.state)).toEqual(['revoked']);
    expect(grantsOfRequest(ctx.db, kept).map((g) => g.state)).toEqual(['active']);

    const groups = await groupsOn('ana');
    expect(groups, 'developers is still given by the break-glass grant').toContain('developers');
    expect(groups, 'ops was given only by the revoked grant').not.toContain('ops');
    expect(await principalsOn('ana')).toEqual([`keyway-req-${kept}`]);
    const login = await sshRun(host, { user: 'ana', keyPath: ana.keyPath, certPath: certificatePath(kept), command: 'id -nG' });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout.trim().split(/\s+/)).toContain('developers');
  });

  it('keeps every group of the revoked grant that the other live grant also gives', async () => {
    const bob = await person('bob');
    const revoked = await breakGlass(bob.email);
    const kept = await flowGrant(bob.email);

    await endAccess(runner, revoked, 'revoked', 'lead@example.com');
    expect(grantsOfRequest(ctx.db, revoked).map((g) => g.state)).toEqual(['revoked']);
    expect(await groupsOn('bob')).toEqual(expect.arrayContaining(['developers', 'ops']));
    expect(await principalsOn('bob')).toEqual([`keyway-req-${kept}`]);

    // And when the last grant goes, so do its groups.
    await endAccess(runner, kept, 'revoked', 'lead@example.com');
    const groups = await groupsOn('bob');
    expect(groups).not.toContain('developers');
    expect(groups).not.toContain('ops');
  });
});
