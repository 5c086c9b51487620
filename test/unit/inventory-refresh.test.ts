// Cloud inventory refreshes through the real AWS SDK against the local EC2 stand-in, into a real SQLite database:
// what the live config then shows, how names are made unique, what a failed refresh keeps, and what becomes of
// servers that leave the cloud while granted.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import type { AccessConfig } from '../../src/core/model.js';
import { findServer } from '../../src/core/lookup.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest, moveGrant } from '../../src/store/grants.js';
import { lastRefreshes, latestSnapshot } from '../../src/store/inventory-snapshots.js';
import { cloudInventories } from '../../src/targets/cloud/clouds.js';
import { withInventories } from '../../src/targets/cloud/inventory-config.js';
import { refreshAllInventories, type RefreshDeps } from '../../src/targets/cloud/inventory-refresh.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { ec2Integration } from '../helpers/ec2-integration.js';
import { FAKE_AWS_ENV, startFakeEc2, type FakeEc2, type FakeInstance } from '../helpers/fake-ec2.js';

const instance = (id: string, region: string, name: string | undefined, extra: Partial<FakeInstance> = {}): FakeInstance => ({
  id, region, privateIp: `10.1.0.${Number.parseInt(id.slice(-2), 16)}`, publicIp: `203.0.113.${Number.parseInt(id.slice(-2), 16)}`,
  privateDns: `ip-${id}.ec2.internal`, tags: { env: 'prod', ...(name !== undefined && { Name: name }) }, ...extra,
});

describe('cloud inventory refresh (EC2 stand-in, real SDK, real SQLite)', () => {
  let fake: FakeEc2;
  let ctx: TestContext;
  let file: AccessConfig;
  let deps: RefreshDeps;

  beforeAll(async () => {
    fake = await startFakeEc2();
  });
  afterAll(async () => fake.close());

  beforeEach(() => {
    fake.instances = [
      instance('i-0000000000000a01', 'eu-west-1', 'app-1', { tags: { env: 'prod', Name: 'app-1', owner: 'ana@example.com', team: 'app' } }),
      instance('i-0000000000000a02', 'eu-west-1', 'api'),
      instance('i-0000000000000b03', 'us-east-1', 'api'),
      instance('i-0000000000000b04', 'us-east-1', 'db-1'), // a listed server's name
      instance('i-0000000000000b05', 'us-east-1', undefined),
      instance('i-0000000000000b06', 'us-east-1', 'bad, name'),
      instance('i-0000000000000a07', 'eu-west-1', 'stopped', { state: 'stopped' }),
      instance('i-0000000000000a08', 'eu-west-1', 'dev-box', { tags: { env: 'dev', Name: 'dev-box' } }),
      instance('i-0000000000000c09', 'ap-south-1', 'elsewhere'),
    ];
    fake.down = false;
    fake.calls.length = 0;
    fake.pageLimit = 1000;
    file = accessConfig();
    file = { ...file, integrations: [...file.integrations, ec2Integration('prod-ec2', fake.endpoint)], flows: [...file.flows, flow('ec2-debug', 'prod-ec2')] };
    ctx = testContext(file, Date.now());
    ctx.config = withInventories(ctx.db, () => file);
    deps = { db: ctx.db, config: () => file, env: FAKE_AWS_ENV, now: ctx.now, logger: ctx.logger, clouds: cloudInventories() };
  });
  afterEach(() => ctx.close());

  const names = () => ctx.config().integrations.find((i) => i.name === 'prod-ec2')!.servers.map((s) => s.name).sort();

  it('lists running, tagged instances of every region into the live config, every tag a server tag, names made unique', async () => {
    expect(names()).toEqual([]);
    const [result] = await refreshAllInventories(deps);
    expect(result).toMatchObject({ integration: 'prod-ec2', ok: true, servers: 6, renamed: 4, missing: 0 });
    expect(fake.calls.map((c) => [c.region, c.filters])).toEqual([
      ['eu-west-1', { 'instance-state-name': ['running'], 'tag:env': ['prod'] }],
      ['us-east-1', { 'instance-state-name': ['running'], 'tag:env': ['prod'] }],
    ]);
    expect(names()).toEqual([
      'api (i-0000000000000a02)', 'api (i-0000000000000b03)', 'app-1', 'db-1 (i-0000000000000b04)', 'i-0000000000000b05', 'i-0000000000000b06',
    ]);
    // The listed db-1 keeps its name; the discovered one is found under the suffixed name.
    expect(findServer(ctx.config(), 'db-1')!.integration.name).toBe('prod-linux');
    const web = findServer(ctx.config(), 'app-1')!;
    expect(web.integration.name).toBe('prod-ec2');
    expect(web.server).toEqual({ name: 'app-1', host: '10.1.0.1', port: 22, user: 'keyway', tags: { env: 'prod', Name: 'app-1', owner: 'ana@example.com', team: 'app' } });
    const snapshot = latestSnapshot(ctx.db, 'prod-ec2')!;
    expect(snapshot.takenAt).toBeGreaterThan(0);
    expect(snapshot.servers.find((s) => s.name === 'i-0000000000000b06')).toMatchObject({ discoveredName: 'bad, name', region: 'us-east-1' });
  });

  it('connects to the address the integration names, and on the port an instance tag gives', async () => {
    fake.instances = [instance('i-0000000000000a01', 'eu-west-1', 'app-1', { tags: { env: 'prod', Name: 'app-1', 'keyway:ssh-port': '2222' } })];
    file = { ...file, integrations: file.integrations.map((i) => (i.type === 'aws-ec2' ? { ...i, address: 'public' as const, nameTag: 'Hostname' } : i)) };
    await refreshAllInventories(deps);
    expect(ctx.config().integrations[1]!.servers).toEqual([expect.objectContaining({ name: 'i-0000000000000a01', host: '203.0.113.1', port: 2222 })]);
  });

  it('follows NextToken through every page', async () => {
    fake.instances = Array.from({ length: 23 }, (_, n) => instance(`i-00000000000001${n.toString(16).padStart(2, '0')}`, 'eu-west-1', `node-${n}`));
    fake.pageLimit = 5;
    await refreshAllInventories(deps);
    expect(names()).toHaveLength(23);
    expect(fake.calls.filter((c) => c.region === 'eu-west-1').map((c) => c.nextToken !== undefined)).toEqual([false, true, true, true, true]);
  });

  it('keeps the last snapshot when the API is down, and says so', async () => {
    await refreshAllInventories(deps);
    const before = latestSnapshot(ctx.db, 'prod-ec2')!;
    fake.down = true;
    const [result] = await refreshAllInventories(deps);
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/EC2 DescribeInstances in (eu-west-1|us-east-1) failed: Unavailable/) });
    expect(latestSnapshot(ctx.db, 'prod-ec2')).toEqual(before);
    expect(names()).toHaveLength(6);
    expect(lastRefreshes(ctx.db).get('prod-ec2')).toMatchObject({ ok: false, failuresInRow: 1 });
    fake.down = false;
    await refreshAllInventories(deps);
    expect(lastRefreshes(ctx.db).get('prod-ec2')).toMatchObject({ ok: true, failuresInRow: 0, error: null });
  });

  async function grantOn(serverName: string) {
    registerKey(ctx, 'dev@example.com', 'dev');
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: [serverName], duration: 3600, reason: 'INC-16' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    return grantsOfRequest(ctx.db, request.id)[0]!;
  }

  it('keeps a server that leaves the cloud while granted (marked missing), and drops one nobody has access to', async () => {
    await refreshAllInventories(deps);
    const grant = await grantOn('app-1');
    fake.instances = fake.instances.filter((i) => !['i-0000000000000a01', 'i-0000000000000a02'].includes(i.id));
    const [result] = await refreshAllInventories(deps);
    expect(result).toMatchObject({ ok: true, missing: 1 });
    expect(names()).toContain('app-1');
    expect(latestSnapshot(ctx.db, 'prod-ec2')!.servers.find((s) => s.name === 'app-1')!.missingSince).toBeGreaterThan(0);
    // The other api instance is now the only one: plain "api" (names depend only on the current answer).
    expect(names()).toContain('api');
    expect(names()).not.toContain('api (i-0000000000000a02)');

    // Access ended: the next refresh lets it go.
    moveGrant(ctx.db, grant.id, 'provisioning', 'revoking', { at: ctx.now() });
    moveGrant(ctx.db, grant.id, 'revoking', 'revoked', { at: ctx.now() });
    await refreshAllInventories(deps);
    expect(names()).not.toContain('app-1');
  });

  it('marks a failing revoke on an instance EC2 reports terminated as gone, instead of retrying it for ever', async () => {
    await refreshAllInventories(deps);
    const grant = await grantOn('app-1');
    moveGrant(ctx.db, grant.id, 'provisioning', 'revoking', { at: ctx.now() });
    moveGrant(ctx.db, grant.id, 'revoking', 'revoke_failed', { at: ctx.now(), error: 'connect ETIMEDOUT' });
    // Stopped, not terminated: still retried.
    fake.instances = fake.instances.map((i) => (i.id === 'i-0000000000000a01' ? { ...i, state: 'stopped' as const } : i));
    expect((await refreshAllInventories(deps))[0]).toMatchObject({ missing: 1, gone: 0 });
    expect(grantsOfRequest(ctx.db, grant.requestId)[0]!.state).toBe('revoke_failed');

    fake.instances = fake.instances.map((i) => (i.id === 'i-0000000000000a01' ? { ...i, state: 'terminated' as const } : i));
    expect((await refreshAllInventories(deps))[0]).toMatchObject({ missing: 1, gone: 1 });
    expect(grantsOfRequest(ctx.db, grant.requestId)[0]!.state).toBe('cleaned');
    expect(listAudit(ctx.db, { subject: `grant:${grant.id}` }).at(-1)).toMatchObject({ action: 'grant.revoked', details: { gone: true, instance: 'i-0000000000000a01' } });
    await refreshAllInventories(deps);
    expect(names()).not.toContain('app-1');
  });

  it('gives a name another integration already uses an id suffix, and leaves listed servers alone', async () => {
    const second = ec2Integration('prod-ec2-b', fake.endpoint, { regions: ['eu-west-1'] });
    file = { ...file, integrations: [...file.integrations, second], flows: [...file.flows, flow('b-debug', 'prod-ec2-b')] };
    await refreshAllInventories(deps);
    const b = ctx.config().integrations.find((i) => i.name === 'prod-ec2-b')!.servers.map((s) => s.name);
    expect(b).toContain('app-1 (i-0000000000000a01)');
    expect(names()).toContain('app-1');
  });
});
