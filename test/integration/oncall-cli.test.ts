// keyway oncall who [FLOW]: who is on call now in each schedule a flow names, asked of the PagerDuty stand-in as a
// request would ask; a failing provider is said, with exit 1.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeyway } from '../helpers/run-keyway.js';
import { createOncallResolver } from '../../src/access/oncall.js';
import { loadAccessConfig } from '../../src/config/load.js';
import { startFakePagerDuty, type FakePagerDuty } from '../helpers/fake-pagerduty.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('keyway oncall who', () => {
  const temp = makeTempDir();
  let pd: FakePagerDuty;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
    const now = Date.now();
    pd.schedules.set('PSCHED1', [{ email: 'ana@example.com', start: now - 3_600_000, end: now + 7_200_000 }]);
    pd.schedules.set('PLEADS', []);
    const config = join(temp.dir, 'access.yaml');
    writeFileSync(config, [
      'oncall:',
      `  pagerduty: { secret: { env: PD_TOKEN }, api_url: "${pd.apiUrl}" }`,
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1, tags: { env: prod } }]',
      'flows:',
      '  - name: oncall-debug',
      '    requesters: { oncall: [pagerduty:PSCHED1] }',
      '    resources: { integration: prod, servers: [web-1] }',
      '    approvers: { oncall: [pagerduty:PLEADS] }',
      '  - name: plain',
      '    requesters: { emails: [dev@example.com] }',
      '    resources: { integration: prod, servers: [web-1] }',
      '    approvers: { emails: [lead@example.com] }',
      '',
    ].join('\n'));
    env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: join(temp.dir, 'data'), PD_TOKEN: pd.token };
  });
  afterAll(async () => {
    await pd?.close();
    temp.remove();
  });

  const keyway = (...argv: string[]) => runKeyway(env, ...argv);

  it('prints who is on call in each schedule the flow names, with the end of the shift', async () => {
    const result = await keyway('oncall', 'who', 'oncall-debug');
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/pagerduty:PSCHED1\s+ana@example\.com\s+\d{4}-\d\d-\d\dT/);
    expect(result.out).toMatch(/pagerduty:PLEADS\s+nobody on call now/);
    expect(pd.calls.at(-1)!.searchParams.getAll('include[]')).toContain('users');
  });

  it('says when a flow names no schedule, and refuses an unknown flow', async () => {
    expect(await keyway('oncall', 'who', 'plain')).toMatchObject({ code: 0, out: 'The flow plain names no on-call schedule.' });
    const unknown = await keyway('oncall', 'who', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no flow called "nope"/);
  });

  it('does not keep a token it could not read: one put in place later counts at the next question', async () => {
    const config = loadAccessConfig(env.KEYWAY_CONFIG!);
    const later: NodeJS.ProcessEnv = {};
    const resolver = createOncallResolver({ config: () => config, env: later, now: () => Date.now() });
    const [before] = await resolver.whoIsOnCall(['pagerduty:PSCHED1']);
    expect(before!.failure).toMatch(/PD_TOKEN/);
    later.PD_TOKEN = pd.token;
    const [after] = await resolver.whoIsOnCall(['pagerduty:PSCHED1']);
    expect(after).toMatchObject({ schedule: 'pagerduty:PSCHED1', shifts: [expect.objectContaining({ email: 'ana@example.com' })] });
    expect(after!.failure).toBeUndefined();
  });

  it('says a failing provider counts nobody as on call, and exits 1', async () => {
    pd.failWith = 401;
    try {
      const result = await keyway('oncall', 'who', '--json');
      expect(result.code).toBe(1);
      const answers = JSON.parse(result.out) as Array<{ schedule: string; shifts: unknown[]; failure?: string }>;
      expect(answers.map((a) => [a.schedule, a.shifts.length, typeof a.failure])).toEqual([['pagerduty:PSCHED1', 0, 'string'], ['pagerduty:PLEADS', 0, 'string']]);
    } finally {
      pd.failWith = undefined;
    }
  });
});
