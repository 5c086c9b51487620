// Grants remember what they were made on (issue 13): a grant's server, connector user and account are stored with
// it before the server is first touched, so a server removed from the config, or a whole integration removed, is
// still revoked (the real ssh client is refused after) and its user cleaned up. Real sshd test hosts, real SQLite,
// the composition root's SSH driver with connector keys from the config and the environment as in production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { endAccess, provisionRequest } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { composeKeyway, type Composed } from '../../src/compose.js';
import type { AccessConfig } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();
const DAY_MS = 86_400_000;

describe.skipIf(!!reason)(`a grant on a server that has left the config${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  let hosts: [TestHost, TestHost];
  let ctx: TestContext;
  let keyway: Composed;
  let current: AccessConfig;
  let full: AccessConfig;

  beforeAll(async () => {
    hosts = (await startTestHosts(2, { name: 'gone' })) as [TestHost, TestHost];
    const [a, b] = hosts;
    // lab-a names its own connector key; lab-b too, and the default CONNECTOR key (the environment) is b's, so a
    // revoke on a's server can only work with lab-a's secret, and one on b's after lab-b is gone only with the default.
    const labA = integration('lab-a', [server('gone-1', { port: a.port, user: a.connectorUser, tags: { env: 'prod' } })], { secret: { file: a.connectorKeyPath }, cleanupAfterDays: 1 });
    const labB = integration('lab-b', [server('gone-2', { port: b.port, user: b.connectorUser, tags: { env: 'prod' } })], { secret: { file: b.connectorKeyPath }, cleanupAfterDays: 1 });
    full = accessConfig({ integrations: [labA, labB], flows: [flow('a-debug', 'lab-a'), flow('b-debug', 'lab-b')] });
    current = full;
    ctx = testContext(full, Date.now());
    keyway = composeKeyway({
      env: { CONNECTOR_SSH_KEY_FILE: b.connectorKeyPath }, db: ctx.db, config: () => current, ca: caKey, logger: ctx.logger, now: ctx.now,
    });
    await bootstrapServer(keyway.pool!, { integration: labA, server: labA.servers[0]! }, caKey.publicKeyLine);
    await bootstrapServer(keyway.pool!, { integration: labB, server: labB.servers[0]! }, caKey.publicKeyLine);
  });

  afterAll(async () => {
    await keyway?.close();
    await stopAllTestHosts();
    ctx?.close();
  });

  const accountOn = (host: TestHost, user: string) =>
    readFileSync(join(host.dir, 'etc/passwd'), 'utf8').split('\n').some((l) => l.startsWith(`${user}:`));

  async function grantedAndLoggedIn(email: string, user: string, serverName: string, host: TestHost) {
    const key = await generateUserKey(ctx.dir);
    registerKey(ctx, email, user, key.publicKeyLine);
    const { request } = submitRequest(ctx, { email }, { servers: [serverName], duration: 3600, reason: 'INC-13' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    expect((await provisionRequest(keyway.runner, request.id)).map((g) => g.state)).toEqual(['active']);
    const certPath = join(ctx.dir, `${user}-cert.pub`);
    writeFileSync(certPath, `${certificateOf(ctx, request.id)!.line}\n`);
    const login = { user, keyPath: key.privateKeyPath, certPath, command: 'id -un' };
    const before = await sshRun(host, login);
    expect(before.stdout.trim(), `the grant logs in: ${before.stderr}`).toBe(user);
    return { requestId: request.id, login };
  }

  async function revokedCleanedAndRefused(requestId: number, user: string, host: TestHost, login: Parameters<typeof sshRun>[1]) {
    const revoked = await endAccess(keyway.runner, requestId, 'revoked', 'lead@example.com');
    expect(revoked.map((g) => [g.state, g.lastError]), 'revoked with nothing from the config').toEqual([['revoked', null]]);
    const after = await sshRun(host, login);
    expect(after.code, `the same login is refused after the revoke: ${after.stdout}`).not.toBe(0);

    ctx.clock.now += 2 * DAY_MS;
    try {
      expect((await sweepOnce(keyway.runner)).usersCleaned, 'the user is cleaned up after cleanup_after_days').toBe(1);
    } finally {
      ctx.clock.now = Date.now();
    }
    expect(accountOn(host, user), `${user} is deleted from the server`).toBe(false);
    expect(grantsOfRequest(ctx.db, requestId).map((g) => g.state)).toEqual(['cleaned']);
  }

  it('stores the target with the grant before the server is touched: kind, address, connector user and account (and revokes with the config as it was)', async () => {
    const [a] = hosts;
    const { requestId, login } = await grantedAndLoggedIn('ann@example.com', 'ann', 'gone-1', a);
    const [grant] = grantsOfRequest(ctx.db, requestId);
    expect(grant!.targetKind).toBe('ssh');
    expect(grant!.targetAddress).toBe(`127.0.0.1:${a.port}`);
    expect(grant!.targetAccount).toEqual({
      linuxUser: 'ann', groups: ['Default'], principal: `keyway-req-${requestId}`, host: '127.0.0.1', port: a.port,
      connectorUser: a.connectorUser, cleanupAfterDays: 1,
    });
    await revokedCleanedAndRefused(requestId, 'ann', a, login);
  });

  it('revokes and cleans up a grant whose server was removed from the config, with the integration\'s own connector key', async () => {
    const [a] = hosts;
    const { requestId, login } = await grantedAndLoggedIn('bo@example.com', 'bo', 'gone-1', a);
    current = { ...full, integrations: full.integrations.map((i) => (i.name === 'lab-a' ? { ...i, servers: [] } : i)) };
    try {
      await revokedCleanedAndRefused(requestId, 'bo', a, login);
      const deleted = listAudit(ctx.db, { limit: 1000 }).filter((e) => e.action === 'user.deleted' && e.subject === 'server:gone-1');
      expect(deleted.at(-1)?.details).toMatchObject({ user: 'bo' });
    } finally {
      current = full;
    }
  });

  it('revokes and cleans up a grant whose whole integration was removed, with the default connector key', async () => {
    const [, b] = hosts;
    const { requestId, login } = await grantedAndLoggedIn('cy@example.com', 'cy', 'gone-2', b);
    current = { ...full, integrations: full.integrations.filter((i) => i.name !== 'lab-b'), flows: full.flows.filter((f) => f.resources.integration !== 'lab-b') };
    try {
      await revokedCleanedAndRefused(requestId, 'cy', b, login);
    } finally {
      current = full;
    }
  });
});
