// On-call schedules through the real Slack app: a requester on call in a PagerDuty schedule is approved at once
// (duration capped at the shift's end, the notify channel told why); someone off call waits for an approver; an
// on-call approver's click counts; a provider that fails (401, 429, down) makes nobody on call and the request says
// why; and a burst of requests within the cache time makes one provider call. The providers are local stand-ins
// (test/helpers/fake-pagerduty.ts, fake-opsgenie.ts) reached through api_url.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachOncall, createOncallResolver } from '../../src/access/oncall.js';
import type { AccessConfig } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { startFakeOpsgenie, type FakeOpsgenie } from '../helpers/fake-opsgenie.js';
import { startFakePagerDuty, type FakePagerDuty } from '../helpers/fake-pagerduty.js';
import { generateUserKey } from '../helpers/ssh-client.js';
import { PEOPLE, approvalMessageOf, callText, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const { dev, lead, lead2, outsider } = PEOPLE;
const HOUR = 3600 * 1000;
const T0 = Date.UTC(2026, 10, 23, 12);

function onCallConfig(pd: FakePagerDuty, og: FakeOpsgenie): AccessConfig {
  const base = accessConfig();
  return {
    ...base,
    oncall: {
      providers: { pagerduty: { secret: { env: 'PD_TOKEN' }, apiUrl: pd.apiUrl }, opsgenie: { secret: { env: 'OG_KEY' }, apiUrl: og.apiUrl } },
      cacheSeconds: 60, timeoutSeconds: 2,
    },
    flows: [flow('oncall-debug', 'prod-linux', {
      resources: { integration: 'prod-linux', servers: ['web-2'], tags: {} },
      requesters: { everyone: false, emails: [dev.email], slackUsergroups: [], oncall: ['pagerduty:PSCHED1', 'opsgenie:og-sre'] },
      approvers: { everyone: false, emails: [lead.email], slackUsergroups: [], oncall: ['pagerduty:PAPPR'] },
      autoApproveOnCall: true, capToShift: true, maxDuration: 8 * 3600, notifyChannel: '#access-log',
    })],
  };
}

describe('on-call schedules through Slack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-oncall-'));
  let pd: FakePagerDuty;
  let og: FakeOpsgenie;
  let rig: SlackRig;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
    og = await startFakeOpsgenie();
  });
  afterAll(async () => {
    await pd.close();
    await og.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await rig?.close();
    pd.schedules.clear();
    og.schedules.clear();
    pd.calls.length = 0;
    pd.failWith = undefined;
  });

  async function start(env: NodeJS.ProcessEnv = { PD_TOKEN: pd.token, OG_KEY: og.key }, config = onCallConfig(pd, og)): Promise<void> {
    rig = await startSlackRig({ config, clockStart: T0 });
    // The key first (dev is a requester by e-mail), so the provider's stand-in sees only the calls under test.
    attachOncall(rig.ctx, createOncallResolver({ config: rig.ctx.config, env: {}, now: rig.ctx.now }));
    const key = await generateUserKey(dir);
    await rig.slack.command(dev.id, `key ${key.publicKeyLine}`);
    await rig.settle();
    attachOncall(rig.ctx, createOncallResolver({ config: rig.ctx.config, env, now: rig.ctx.now }));
  }

  it('approves an on-call requester at once, caps the duration at the shift end, and tells the notify channel why', async () => {
    await start();
    pd.schedules.set('PSCHED1', [{ email: dev.email, start: T0 - HOUR, end: T0 + 2 * HOUR }]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 4h INC-7 outage');
    const request = getRequest(rig.ctx.db, id)!;
    expect(request.state).toBe('approved');
    expect(request.decisionReason).toBe('auto-approved: on call in PagerDuty schedule PSCHED1 (shift ends 14:00 UTC)');
    expect(request.accessExpiresAt).toBe(T0 + 2 * HOUR);
    expect(request.durationSeconds).toBe(2 * 3600);
    const notice = rig.fake.callsTo('chat.postMessage').find((c) => c.body.channel === '#access-log');
    expect(notice && callText(notice)).toContain('on call in PagerDuty schedule PSCHED1');
    expect(listAudit(rig.ctx.db, { subject: `request:${id}` }).find((e) => e.action === 'request.approved')?.details).toMatchObject({ note: request.decisionReason });
    // The call PagerDuty got: the schedule, the users included, a moment's window, paging.
    const call = pd.calls.find((u) => u.searchParams.getAll('schedule_ids[]').includes('PSCHED1'))!;
    expect(call.searchParams.getAll('include[]')).toEqual(['users']);
    expect(call.searchParams.get('since')).toBe(new Date(T0).toISOString());
    expect(call.searchParams.get('offset')).toBe('0');
  });

  it('approves someone on call in an Opsgenie schedule (no shift end: the flow\'s duration stands)', async () => {
    await start();
    og.schedules.set('og-sre', [dev.email]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 3h INC-8');
    const request = getRequest(rig.ctx.db, id)!;
    expect(request.state).toBe('approved');
    expect(request.decisionReason).toBe('auto-approved: on call in Opsgenie schedule og-sre');
    expect(request.durationSeconds).toBe(3 * 3600);
  });

  it('reads every page of PagerDuty\'s answer', async () => {
    await start();
    const others = Array.from({ length: 230 }, (_, i) => ({ email: `sre${i}@example.com`, start: T0 - HOUR, end: T0 + HOUR }));
    pd.schedules.set('PSCHED1', [...others, { email: dev.email, start: T0 - HOUR, end: T0 + HOUR }]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 30m INC-9');
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    expect(pd.calls.filter((u) => u.searchParams.getAll('schedule_ids[]').includes('PSCHED1')).map((u) => u.searchParams.get('offset'))).toEqual(['0', '100', '200']);
  });

  it('lets someone off call wait for an approver', async () => {
    await start();
    pd.schedules.set('PSCHED1', [{ email: 'someone@example.com', start: T0 - HOUR, end: T0 + HOUR }]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-10');
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(approvalMessageOf(rig, id, lead.id)).toBeDefined();
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
  });

  it('counts an on-call approver\'s click, resolved at click time, and refuses one who is not on call', async () => {
    await start();
    pd.schedules.set('PAPPR', [{ email: lead2.email, start: T0 - HOUR, end: T0 + HOUR }]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-11');
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    const message = approvalMessageOf(rig, id, lead2.id); // whoever is on call now is asked
    await rig.slack.click(outsider.id, 'keyway_approve', String(id), message);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    await rig.slack.click(lead2.id, 'keyway_approve', String(id), message);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!).toMatchObject({ state: 'approved', decidedBy: lead2.email });
  });

  it('refuses the click of an approver whose shift ended after the request was sent', async () => {
    await start();
    pd.schedules.set('PAPPR', [{ email: lead2.email, start: T0 - HOUR, end: T0 + 30 * 60 * 1000 }]);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-12');
    rig.ctx.clock.now = T0 + 31 * 60 * 1000; // the shift is over; the cached answer is too old to matter
    await rig.slack.click(lead2.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead2.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
  });

  it.each([
    ['answers 401', (fake: FakePagerDuty) => void (fake.failWith = 401), /PagerDuty answered HTTP 401/],
    ['answers 429', (fake: FakePagerDuty) => void (fake.failWith = 429), /PagerDuty answered HTTP 429: rate limited/],
    ['answers 500', (fake: FakePagerDuty) => void (fake.failWith = 500), /PagerDuty answered HTTP 500/],
  ])('when PagerDuty %s nobody is on call: the request goes to people and says why', async (_what, breakIt, why) => {
    await start();
    pd.schedules.set('PSCHED1', [{ email: dev.email, start: T0 - HOUR, end: T0 + HOUR }]);
    breakIt(pd);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-13');
    const request = getRequest(rig.ctx.db, id)!;
    expect(request.state).toBe('pending');
    expect(request.reason).toMatch(/^INC-13 \[not auto-approved: the on-call check failed \(PagerDuty schedule PSCHED1: /);
    expect(request.reason).toMatch(why);
    expect(callText(rig.fake.callsTo('chat.postMessage').find((c) => c.body.channel === approvalMessageOf(rig, id, lead.id).channel)!)).toContain('on-call check failed');
  });

  it('when PagerDuty cannot be reached nobody is on call (a wrong token too)', async () => {
    const down = onCallConfig(pd, og);
    down.oncall!.providers.pagerduty = { secret: { env: 'PD_TOKEN' }, apiUrl: 'http://127.0.0.1:1' };
    await start(undefined, down);
    og.schedules.set('og-sre', []);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h INC-14');
    expect(getRequest(rig.ctx.db, id)!).toMatchObject({ state: 'pending' });
    expect(getRequest(rig.ctx.db, id)!.reason).toMatch(/PagerDuty could not be reached/);
  });

  it('makes one provider call per schedule for 20 requests within the cache time', async () => {
    await start();
    pd.schedules.set('PSCHED1', [{ email: dev.email, start: T0 - HOUR, end: T0 + 8 * HOUR }]);
    og.schedules.set('og-sre', []);
    for (let i = 0; i < 20; i += 1) {
      await rig.slack.command(dev.id, `request web-2 10m burst ${i}`);
      rig.ctx.clock.now += 1000;
    }
    await rig.settle();
    const approved = rig.ctx.db.prepare("SELECT COUNT(*) AS n FROM requests WHERE state = 'approved'").get() as { n: number };
    expect(approved.n).toBe(20);
    expect(pd.calls.filter((u) => u.searchParams.getAll('schedule_ids[]').includes('PSCHED1'))).toHaveLength(1);
    expect(pd.calls.filter((u) => u.searchParams.getAll('schedule_ids[]').includes('PAPPR'))).toHaveLength(1);
  });
});
