// `keyway inventory refresh` and `keyway inventory list`: a refresh through the real AWS SDK against the EC2
// stand-in is stored in the data directory's database; list shows listed servers and the cloud's, with the snapshot
// time, renames and the last refresh's failure; a failed refresh exits 1 and keeps the snapshot.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_AWS_ENV, startFakeEc2, type FakeEc2 } from '../helpers/fake-ec2.js';
import { runKeyway } from '../helpers/run-keyway.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('keyway inventory', () => {
  const temp = makeTempDir();
  let fake: FakeEc2;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fake = await startFakeEc2([
      { id: 'i-0aaa0000000000001', region: 'eu-west-1', privateIp: '10.0.0.1', tags: { Name: 'web-1', env: 'prod' } },
      { id: 'i-0aaa0000000000002', region: 'eu-west-1', privateIp: '10.0.0.2', tags: { Name: 'lab-1', env: 'prod' } },
      { id: 'i-0aaa0000000000003', region: 'eu-west-1', privateIp: '10.0.0.3', tags: { Name: 'other', env: 'dev' } },
    ]);
    const config = join(temp.dir, 'access.yaml');
    writeFileSync(config, `integrations:
  - name: lab
    servers: [{"name":"lab-1","host":"127.0.0.1"}]
    owners: [platform@example.com]
  - name: prod-ec2
    type: aws-ec2
    regions: [eu-west-1]
    tags: { env: prod }
    endpoint: ${fake.endpoint}
    owners: [platform@example.com]
flows:
  - name: ec2
    requesters: { everyone: true }
    resources: { integration: prod-ec2, tags: { env: prod } }
`);
    env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: join(temp.dir, 'data'), ...FAKE_AWS_ENV };
  });
  afterAll(async () => {
    await fake.close();
    temp.remove();
  });

  it('lists listed servers before any refresh, and says the cloud integration has no snapshot yet', async () => {
    const listed = await runKeyway(env, 'inventory', 'list');
    expect(listed).toMatchObject({ code: 0, err: expect.stringMatching(/^note: there is no Keyway database in /) });
    expect(listed.out).toContain('prod-ec2 (aws-ec2): no snapshot yet: run keyway inventory refresh');
    expect(listed.out).toMatch(/^lab\s+lab-1\s+127\.0\.0\.1:22\s+keyway\s+listed$/m);
  });

  it('refreshes into the database; list shows the snapshot with its time, cloud ids and renames, also as JSON', async () => {
    const refreshed = await runKeyway(env, 'inventory', 'refresh');
    expect(refreshed).toMatchObject({ code: 0, err: '' });
    expect(refreshed.out).toMatch(/^prod-ec2: 2 servers in \d+ ms, 1 renamed to stay unique$/);

    const listed = await runKeyway(env, 'inventory', 'list', 'prod-ec2');
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/prod-ec2 \(aws-ec2\): snapshot of \d{4}-\d\d-\d\dT\S+Z, 2 servers, listed in \d+ ms/);
    expect(listed.out).toMatch(/^prod-ec2\s+web-1\s+10\.0\.0\.1:22\s+keyway\s+\d{4}-\S+Z\s+i-0aaa0000000000001$/m);
    expect(listed.out).toMatch(/^prod-ec2\s+lab-1 \(i-0aaa0000000000002\)\s+10\.0\.0\.2:22\s+keyway\s+\S+\s+i-0aaa0000000000002; named "lab-1" in the cloud$/m);
    expect(listed.out).not.toContain('other');

    const json = JSON.parse((await runKeyway(env, 'inventory', 'list', '--json')).out) as Array<Record<string, unknown>>;
    expect(json.map((i) => [i.integration, i.type, (i.servers as unknown[]).length])).toEqual([['lab', 'ssh', 1], ['prod-ec2', 'aws-ec2', 2]]);
    expect(json[1]).toMatchObject({ snapshotAt: expect.any(String), lastRefresh: { ok: true, error: null } });
    expect((json[1]!.servers as unknown[])[0]).toMatchObject({ name: 'lab-1 (i-0aaa0000000000002)', cloudId: 'i-0aaa0000000000002', region: 'eu-west-1', tags: { Name: 'lab-1', env: 'prod' } });
  });

  it('exits 1 when the API is down, keeps the snapshot, and list says the last refresh failed', async () => {
    fake.down = true;
    try {
      const refreshed = await runKeyway(env, 'inventory', 'refresh', 'prod-ec2');
      expect(refreshed.code).toBe(1);
      expect(refreshed.out).toMatch(/^prod-ec2: refresh failed, the last snapshot stays in force: .*Unavailable/);
      const listed = await runKeyway(env, 'inventory', 'list');
      expect(listed.out).toMatch(/2 servers, listed in \d+ ms; the last refresh \(\S+\) failed: .*Unavailable/);
      expect(listed.out).toContain('web-1');
    } finally {
      fake.down = false;
    }
  });

  it('refuses an integration the config does not have, or one with nothing to refresh, in one line', async () => {
    expect(await runKeyway(env, 'inventory', 'list', 'nope')).toMatchObject({ code: 1, err: 'keyway inventory list: No integration "nope" in the config: it has lab, prod-ec2.' });
    expect(await runKeyway(env, 'inventory', 'refresh', 'lab')).toMatchObject({ code: 1, err: 'keyway inventory refresh: Integration "lab" is of type ssh: its servers are listed in the config, there is nothing to refresh.' });
  });
});
