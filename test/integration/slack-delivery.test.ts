// After the decision: expiry, revocation, extension, failures, Slack outages, and the App Home.
import { afterEach, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/access/sweeper.js';
import { enqueueEvent, undeliveredCount } from '../../src/store/outbox.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey } from '../helpers/access-context.js';
import { formValue } from '../helpers/slack-requests.js';
import {
  PEOPLE, approvalMessageOf, buttonsOf, callText, dmChannel, recordingHosts, repliesTo, requestByCommand, startSlackRig, type RigOptions, type SlackRig,
} from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

const { dev, lead, lead2, platform } = PEOPLE;

async function pendingRequest(options: RigOptions = {}, text = 'request web-2 2h INC-42'): Promise<number> {
  rig = await startSlackRig(options);
  registerKey(rig.ctx, dev.email, 'dev');
  return requestByCommand(rig, dev.id, text);
}

async function approvedRequest(options: RigOptions = {}): Promise<number> {
  const id = await pendingRequest(options);
  await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
  await rig.settle();
  return id;
}

function dmsTo(userId: string): string[] {
  return rig.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(userId)).map((c) => String(c.body.text));
}

async function sweep(): Promise<void> {
  await sweepOnce(rig.engine.runner);
  rig.engine.kick();
  await rig.settle();
}

describe('after the decision', () => {
  it('tells the requester and updates the approval message when nobody answers in time', async () => {
    const id = await pendingRequest();
    rig.ctx.clock.now += 3600_000 + 1;
    await sweep();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('expired');
    expect(dmsTo(dev.id)).toEqual([expect.stringMatching(/request #1 for `web-2` expired: nobody answered in time\. Ask again/)]);
    const message = rig.fake.message(dmChannel(lead.id), approvalMessageOf(rig, id, lead.id).ts)!.body;
    expect(buttonsOf(message)).toEqual([]);
    expect(JSON.stringify(message)).toContain('Expired* at');
  });

  it('revokes from the command, reporting progress in place, and DMs the end of access', async () => {
    const id = await approvedRequest();
    await rig.slack.command(dev.id, `revoke ${id}`);
    await rig.settle();
    const replies = rig.fake.callsTo('response_url').filter((c) => c.tag?.startsWith(`command-${dev.id}`)).slice(1);
    expect(replies.map((c) => [c.body.text, c.body.replace_original])).toEqual([
      ['Revoking the access of request #1…', false],
      [':lock: Access of request #1 revoked on `web-2`.', true],
    ]);
    expect((rig.hosts as ReturnType<typeof recordingHosts>).revoked).toEqual(['web-2:dev']);
    expect(dmsTo(dev.id).at(-1)).toMatch(/access to `web-2` \(request #1\) has ended: revoked by dev@example.com/);
  });

  it('DMs the end of access when the time is up', async () => {
    const id = await approvedRequest();
    rig.ctx.clock.now = getRequest(rig.ctx.db, id)!.accessExpiresAt! + 1;
    await sweep();
    expect(dmsTo(dev.id).at(-1)).toMatch(/has ended: its time is up/);
  });

  it('warns before expiry with an Extend button whose modal asks the approvers for more time', async () => {
    const id = await approvedRequest();
    enqueueEvent(rig.ctx.db, { kind: 'expiry_warning', requestId: id }, rig.ctx.now());
    rig.engine.kick();
    await rig.settle();
    const warning = rig.fake.callsTo('chat.postMessage').find((c) => callText(c).includes('ends <!date'))!;
    expect(buttonsOf(warning.body)).toEqual(['keyway_extend', 'keyway_revoke']);

    await rig.slack.click(dev.id, 'keyway_extend', String(id), { channel: warning.response.channel as string, ts: warning.response.ts as string });
    await rig.settle();
    const modal = rig.fake.callsTo('views.open')[0]!.body.view;
    expect(modal.callback_id).toBe('keyway_extend_duration');
    expect(JSON.stringify(modal)).toContain('The flow allows 6h more at most.');

    const tooMuch = await rig.slack.submit(dev.id, 'keyway_extend_duration', { duration: { duration: formValue.text('7h') } }, modal.private_metadata);
    expect(tooMuch.json).toEqual({ response_action: 'errors', errors: { duration: expect.stringMatching(/extend request 1 by 6h at most/) } });
    const ok = await rig.slack.submit(dev.id, 'keyway_extend_duration', { duration: { duration: formValue.text('1h') } }, modal.private_metadata);
    expect(ok.json).toMatchObject({ response_action: 'update' });
    await rig.settle();
    expect(getRequest(rig.ctx.db, 2)).toMatchObject({ state: 'pending', extendsRequestId: id, durationSeconds: 3600 });
    expect(dmsTo(lead.id).at(-1)).toMatch(/Extension #2 of request #1 from dev@example.com/);
  });

  it('tells the requester and the integration owners when provisioning fails', async () => {
    const hosts = { ...recordingHosts(), provision: async () => { throw new Error('connect ECONNREFUSED 127.0.0.1:22'); } };
    await approvedRequest({ hosts });
    expect(dmsTo(dev.id).at(-1)).toMatch(/could not prepare your access on `web-2` \(request #1\) yet/);
    expect(dmsTo(platform.id)).toEqual([expect.stringMatching(/Provisioning dev for request #1 .* failed:\n• grant 1 on `web-2`: connect ECONNREFUSED/)]);
  });

  it('updates every approval message when the requester cancels', async () => {
    const id = await pendingRequest();
    await rig.slack.command(dev.id, `cancel ${id}`);
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toBe('Request #1 for `web-2` is cancelled.');
    const message = rig.fake.message(dmChannel(lead.id), approvalMessageOf(rig, id, lead.id).ts)!.body;
    expect(JSON.stringify(message)).toContain('Cancelled* by the requester');
    expect(buttonsOf(message)).toEqual([]);
  });
});

describe('when Slack is unreachable', () => {
  it('keeps the messages in the outbox and delivers each exactly once when Slack is back', async () => {
    rig = await startSlackRig({ config: accessConfig({ flows: [flow('prod-debug', 'prod-linux', { approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] } })] }) });
    registerKey(rig.ctx, dev.email, 'dev');
    await requestByCommand(rig, dev.id, 'request db-1 1h look-ups are warm now');
    expect(undeliveredCount(rig.ctx.db)).toBe(0);

    rig.fake.setDown(true);
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h z');
    expect(undeliveredCount(rig.ctx.db)).toBe(1);
    rig.fake.setDown(false);
    rig.fake.failNext('chat.postMessage', 'internal_error', 1);
    rig.ctx.clock.now += 60_000;
    rig.engine.kick();
    await rig.settle();
    expect(undeliveredCount(rig.ctx.db)).toBe(1);
    rig.ctx.clock.now += 60_000;
    rig.engine.kick();
    await rig.settle();
    expect(undeliveredCount(rig.ctx.db)).toBe(0);
    const approvalDms = rig.fake.callsTo('chat.postMessage').filter((c) => c.response.ok === true && buttonsOf(c.body).includes('keyway_approve') && callText(c).includes(`request #${id}`));
    expect(approvalDms.map((c) => c.body.channel).sort()).toEqual([dmChannel(lead.id), dmChannel(lead2.id)].sort());
  });
});

describe('the App Home', () => {
  it('shows my access, my pending requests and the approvals waiting for me, and acts from there', async () => {
    const id = await approvedRequest();
    const pending = await requestByCommand(rig, dev.id, 'request db-1 1h second');
    await rig.slack.event({ type: 'app_home_opened', user: dev.id, channel: dmChannel(dev.id), tab: 'home', event_ts: '1.1' });
    await rig.slack.event({ type: 'app_home_opened', user: lead.id, channel: dmChannel(lead.id), tab: 'home', event_ts: '1.2' });
    await rig.settle();
    const [devHome, leadHome] = rig.fake.callsTo('views.publish');
    expect(devHome!.body.user_id).toBe(dev.id);
    expect(buttonsOf(devHome!.body.view)).toEqual(['keyway_open_request', 'keyway_extend', 'keyway_revoke', 'keyway_cancel']);
    expect(callText(devHome!)).toContain(`*#${id}* \`web-2\` as \`dev\``);
    expect(callText(devHome!)).toContain(`*#${pending}* \`db-1\``);
    expect(buttonsOf(leadHome!.body.view)).toEqual(['keyway_open_request', 'keyway_approve', 'keyway_deny']);

    await rig.slack.click(lead.id, 'keyway_approve', String(pending), 'home');
    await rig.settle();
    expect(getRequest(rig.ctx.db, pending)!.state).toBe('approved');
    const republished = rig.fake.callsTo('views.publish').filter((c) => c.body.user_id === lead.id).at(-1)!;
    expect(callText(republished)).toContain('Nothing waits for your approval.');

    await rig.slack.click(lead.id, 'keyway_approve', String(pending), 'home');
    await rig.settle();
    expect(dmsTo(lead.id).at(-1)).toMatch(/Request #2 is already approved by lead@example.com/);
  });

  it('says on the Home tab why Keyway cannot serve someone, instead of staying silent', async () => {
    rig = await startSlackRig({ extraUsers: [{ id: 'U0NOMAIL' }] });
    await rig.slack.event({ type: 'app_home_opened', user: 'U0NOMAIL', channel: 'D0NOMAIL', tab: 'home', event_ts: '1.3' });
    await rig.settle();
    const [home] = rig.fake.callsTo('views.publish');
    expect(home!.body.user_id).toBe('U0NOMAIL');
    expect(callText(home!)).toMatch(/cannot see an e-mail address on your Slack profile/);
  });
});
