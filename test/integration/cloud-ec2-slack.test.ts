// aws-ec2 end to end through Slack: instances the EC2 stand-in lists (reached through the real AWS SDK) are real
// sshd test hosts. A request for a discovered server is routed by its owner tag, approved, and the certificate logs
// in with the real ssh client; revoke refuses it. Tag filters decide what is requestable; the API down at a refresh
// keeps the snapshot and /healthz says so; an instance that leaves the API while granted is still revoked.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessConfig } from '../../src/core/model.js';
import { startMetricsServer } from '../../src/http-server.js';
import { getRequest } from '../../src/store/requests.js';
import { cloudInventories } from '../../src/targets/cloud/clouds.js';
import { withInventories } from '../../src/targets/cloud/inventory-config.js';
import { startInventoryRefresher, type InventoryRefresher } from '../../src/targets/cloud/inventory-refresher.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { flow } from '../helpers/access-config.js';
import { FAKE_AWS_ENV, startFakeEc2, type FakeEc2 } from '../helpers/fake-ec2.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';
import { ec2Integration } from '../helpers/ec2-integration.js';
import { PEOPLE, approvalMessageOf, callText, dmChannel, repliesTo, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const reason = rootTestSkipReason();
const { dev, lead, ana } = PEOPLE;

describe.skipIf(!!reason)(`aws-ec2 servers through Slack on real sshd hosts${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let hosts: [TestHost, TestHost];
  let fake: FakeEc2;
  let rig: SlackRig;
  let pool: ConnectionPool;
  let refresher: InventoryRefresher;
  let file: AccessConfig;
  let userKey: Awaited<ReturnType<typeof generateUserKey>>;

  beforeAll(async () => {
    hosts = (await startTestHosts(2, { name: 'ec2' })) as [TestHost, TestHost];
    const [a, b] = hosts;
    fake = await startFakeEc2([
      { id: 'i-0a1b2c3d4e5f60001', region: 'eu-west-1', privateIp: '127.0.0.1', tags: { Name: 'web-a', env: 'prod', owner: ana.email, 'keyway:ssh-port': String(a.port) } },
      { id: 'i-0a1b2c3d4e5f60002', region: 'us-east-1', privateIp: '127.0.0.1', tags: { Name: 'web-b', env: 'prod', 'keyway:ssh-port': String(b.port) } },
      { id: 'i-0a1b2c3d4e5f60003', region: 'us-east-1', privateIp: '127.0.0.1', tags: { Name: 'dev-c', env: 'dev', 'keyway:ssh-port': String(b.port) } },
      { id: 'i-0a1b2c3d4e5f60004', region: 'eu-west-1', privateIp: '127.0.0.1', state: 'stopped', tags: { Name: 'web-d', env: 'prod' } },
    ]);
    const ec2 = ec2Integration('prod-ec2', fake.endpoint, { user: a.connectorUser, resourceOwnerTag: 'owner', userKeyName: 'id_ec2' });
    file = {
      integrations: [ec2], people: [], maxPendingRequests: 5,
      flows: [flow('ec2-debug', 'prod-ec2', { requesters: { everyone: true, emails: [], slackUsergroups: [] } })],
    };
    const byPort = (port: number) => hosts.find((h) => h.port === port)!;
    rig = await startSlackRig({
      clockStart: Date.now(),
      config: file,
      hosts: (ctx) => {
        pool = new ConnectionPool({ connectorKey: (ref) => byPort(ref.server.port).connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
        return sshHostEffects({ pool, db: ctx.db, now: Date.now });
      },
    });
    // The composition root's live config: the file, with cloud servers from the snapshots in the rig's database.
    rig.ctx.config = withInventories(rig.ctx.db, () => file);
    refresher = startInventoryRefresher({ db: rig.ctx.db, config: () => file, env: FAKE_AWS_ENV, now: Date.now, logger: rig.ctx.logger, clouds: cloudInventories() });
    expect((await refresher.refreshNow()).map((r) => r.ok)).toEqual([true]);
    for (const server of rig.ctx.config().integrations[0]!.servers) {
      await bootstrapServer(pool, { integration: rig.ctx.config().integrations[0]!, server }, rig.ca.publicKeyLine);
    }
    userKey = await generateUserKey(rig.ctx.dir);
    await rig.slack.command(dev.id, `key ${userKey.publicKeyLine}`);
    await rig.settle();
  });

  afterAll(async () => {
    await refresher?.stop();
    await rig?.close();
    await pool?.close();
    await fake?.close();
    await stopAllTestHosts();
  });

  /** The certificate and ssh line of the request's grant DM, written where ssh finds them. */
  function loginFromDm(requestId: number) {
    const dm = rig.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(dev.id) && callText(c).includes(`keyway-req-${requestId}`) && callText(c).includes('-cert-v01@openssh.com')).at(-1);
    expect(dm, 'the grant DM').toBeDefined();
    const text = callText(dm!);
    const certificate = /(ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(text)![1]!;
    const [, keyName, user, host, port] = /ssh -i ~\/\.ssh\/(\S+) (\S+)@(\S+) -p (\d+)/.exec(text)!;
    const certPath = join(rig.ctx.dir, `req-${requestId}-cert.pub`);
    writeFileSync(certPath, `${certificate}\n`);
    return { keyName, target: { host: host!, port: Number(port) }, login: { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' } };
  }

  it('lists only running instances with the integration\'s tags, in every region', async () => {
    await rig.slack.command(dev.id, 'servers');
    await rig.settle();
    const listed = JSON.stringify(rig.fake.callsTo('response_url').at(-1)!.body);
    expect(listed).toContain('web-a');
    expect(listed).toContain('web-b');
    expect(listed).not.toContain('dev-c'); // env=dev
    expect(listed).not.toContain('web-d'); // stopped
    await rig.slack.command(dev.id, 'request dev-c 30m INC-16');
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toMatch(/dev-c/);
    expect(rig.ctx.db.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(0);
  });

  it('routes a request for a discovered server to the owner its tag names; the certificate logs in with ssh; revoke refuses it', async () => {
    const id = await requestByCommand(rig, dev.id, 'request web-a 30m INC-16 on EC2');
    expect(() => approvalMessageOf(rig, id, lead.id)).toThrow(/no approval message/);
    await rig.slack.click(ana.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, ana.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');

    const { keyName, target, login } = loginFromDm(id);
    expect([keyName, login.user, target]).toEqual(['id_ec2', 'dev', { host: '127.0.0.1', port: hosts[0].port }]);
    const before = await sshRun(target, login);
    expect(before, before.stderr).toMatchObject({ code: 0, stdout: 'dev\n' });

    await rig.slack.command(dev.id, `revoke ${id}`);
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toMatch(/revoked on `web-a`/);
    expect((await sshRun(target, login)).code).toBe(255);
  });

  it('keeps the snapshot when the EC2 API is down at a refresh, and /healthz says so', async () => {
    const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0 }, {
      db: rig.ctx.db, sweep: { sweeps: 1, sweepFailures: 0, lastSweepAt: Date.now() }, configError: () => undefined,
      chat: () => ({}), inventory: () => refresher.health(), now: Date.now, logger: rig.ctx.logger,
    });
    try {
      const url = `http://127.0.0.1:${(metrics.address() as { port: number }).port}`;
      expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ ok: true, inventories: { 'prod-ec2': { ok: true, servers: 2 } } });
      fake.down = true;
      expect(await refresher.refreshNow()).toEqual([expect.objectContaining({ ok: false, error: expect.stringMatching(/Unavailable/) })]);
      const health = await (await fetch(`${url}/healthz`)).json() as { ok: boolean; inventories: Record<string, unknown> };
      expect(health.ok, 'a cloud outage does not make Keyway unhealthy: revocation does not depend on it').toBe(true);
      expect(health.inventories['prod-ec2']).toMatchObject({ ok: false, code: 'refresh_failed_snapshot_kept', servers: 2, snapshotAt: expect.any(String) });
      const scraped = await (await fetch(`${url}/metrics`)).text();
      expect(scraped).toMatch(/keyway_inventory_refresh_total\{integration="prod-ec2",result="failure"\} 1/);
      expect(scraped).toMatch(/keyway_inventory_last_refresh_success\{integration="prod-ec2"\} 0/);

      // Still requestable from the snapshot, with the cloud down.
      const id = await requestByCommand(rig, dev.id, 'request web-b 30m INC-16 while EC2 is down');
      expect(getRequest(rig.ctx.db, id)!.servers).toEqual(['web-b']);
      await rig.slack.command(dev.id, `cancel ${id}`);
      await rig.settle();
    } finally {
      fake.down = false;
      await new Promise((resolve) => metrics.close(resolve));
    }
  });

  it('still revokes an instance that left the EC2 API while granted', async () => {
    const id = await requestByCommand(rig, dev.id, 'request web-b 30m INC-16 then terminated');
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    const { target, login } = loginFromDm(id);
    expect(target.port).toBe(hosts[1].port);
    expect((await sshRun(target, login)).code).toBe(0);

    const gone = fake.instances.splice(fake.instances.findIndex((i) => i.tags?.Name === 'web-b'), 1);
    try {
      expect(await refresher.refreshNow()).toEqual([expect.objectContaining({ ok: true, servers: 1, missing: 1 })]);
      expect(rig.ctx.config().integrations[0]!.servers.map((s) => s.name).sort()).toEqual(['web-a', 'web-b']);

      await rig.slack.command(dev.id, `revoke ${id}`);
      await rig.settle();
      expect(repliesTo(rig, dev.id).at(-1)).toMatch(/revoked on `web-b`/);
      expect((await sshRun(target, login)).code).toBe(255);

      // Access over: the next refresh lets the server go.
      await refresher.refreshNow();
      expect(rig.ctx.config().integrations[0]!.servers.map((s) => s.name)).toEqual(['web-a']);
    } finally {
      fake.instances.push(...gone);
    }
  });
});
