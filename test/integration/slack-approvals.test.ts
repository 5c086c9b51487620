// Deciding on Slack: Approve and Deny clicks, who may click, min_approvals, double and concurrent clicks.
import { afterEach, describe, expect, it } from 'vitest';
import type { Flow } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { undeliveredCount } from '../../src/store/outbox.js';
import { getRequest, votesOf } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey } from '../helpers/access-context.js';
import { formValue } from '../helpers/slack-requests.js';
import {
  PEOPLE, approvalMessageOf, buttonsOf, callText, capturedLogger, dmChannel, repliesTo, requestByCommand, startSlackRig, type RigOptions, type SlackRig,
} from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

const { dev, lead, lead2, outsider } = PEOPLE;

function withFlow(extra: Partial<Flow>): RigOptions {
  return { config: accessConfig({ flows: [flow('prod-debug', 'prod-linux', { requesters: { everyone: false, emails: [dev.email], slackUsergroups: [] }, ...extra })] }) };
}

async function pendingRequest(options: RigOptions = {}, text = 'request web-2 2h INC-42'): Promise<number> {
  rig = await startSlackRig(options);
  registerKey(rig.ctx, dev.email, 'dev');
  return requestByCommand(rig, dev.id, text);
}

function messageNow(where: { channel: string; ts: string }) {
  return rig.fake.message(where.channel, where.ts)!.body;
}

function actionsAudit(): string[] {
  return listAudit(rig.ctx.db, { limit: 500 }).map((e) => `${e.action} ${e.actor}`);
}

describe('approving', () => {
  it('approves on the approver\'s click, updates the message without buttons and DMs the requester the certificate', async () => {
    const id = await pendingRequest();
    const where = approvalMessageOf(rig, id, lead.id);
    const click = await rig.slack.click(lead.id, 'keyway_approve', String(id), where);
    expect(click).toMatchObject({ status: 200, text: '' });
    await rig.settle();

    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'approved', decidedBy: lead.email });
    expect((rig.hosts as unknown as { provisioned: string[] }).provisioned).toEqual(['web-2:dev']);
    const decided = messageNow(where);
    expect(buttonsOf(decided)).toEqual([]);
    expect(JSON.stringify(decided)).toMatch(/Approved\* by lead@example.com at <!date\^\d+\^\{date_short_pretty\} at \{time\}\|/);

    const toDev = rig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === dmChannel(dev.id));
    const grant = toDev.find((c) => callText(c).includes('-cert-v01@openssh.com'))!;
    expect(callText(grant)).toContain('~/.ssh/id_ed25519-cert.pub');
    expect(callText(grant)).toContain('ssh -i ~/.ssh/id_ed25519 dev@127.0.0.1 -p 22');
    expect(callText(grant)).toMatch(/<!date\^\d+\^/);
    // The "approved, preparing access…" note became "access is ready".
    const progress = toDev.find((c) => callText(c).includes('Preparing access'))!;
    expect(JSON.stringify(rig.fake.message(progress.response.channel as string, progress.response.ts as string)!.body)).toContain('Access is ready');
  });

  it('needs two distinct approvers under min_approvals: 2, showing progress on every approval message', async () => {
    const id = await pendingRequest(withFlow({ approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] }, minApprovals: 2 }));
    const first = approvalMessageOf(rig, id, lead.id);
    const second = approvalMessageOf(rig, id, lead2.id);

    await rig.slack.click(lead.id, 'keyway_approve', String(id), first);
    await rig.slack.click(lead.id, 'keyway_approve', String(id), first);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(votesOf(rig.ctx.db, id).map((v) => v.approverEmail)).toEqual([lead.email]);
    for (const where of [first, second]) {
      expect(buttonsOf(messageNow(where))).toEqual(['keyway_approve', 'keyway_deny']);
      expect(JSON.stringify(messageNow(where))).toContain('Approvals: 1 of 2 needed (lead@example.com)');
    }

    await rig.slack.click(lead2.id, 'keyway_approve', String(id), second);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    for (const where of [first, second]) {
      expect(buttonsOf(messageNow(where))).toEqual([]);
      const outcome = JSON.stringify(messageNow(where)).match(/Approved\* by ([^"]*) at <!date/)?.[1];
      expect(outcome?.split(', ').sort()).toEqual([lead.email, lead2.email].sort());
    }
    expect(actionsAudit().filter((a) => a.startsWith('approval.approve'))).toEqual([`approval.approve ${lead.email}`, `approval.approve ${lead2.email}`]);
  });

  it('skips the approval step for an auto-approve flow and says so', async () => {
    const id = await pendingRequest(withFlow({ autoApprove: true }));
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    expect(repliesTo(rig, dev.id)).toEqual([expect.stringMatching(/approved automatically by the flow prod-debug: no approval step/)]);
    expect(rig.fake.callsTo('chat.postMessage').filter((c) => buttonsOf(c.body).includes('keyway_approve'))).toEqual([]);
    expect(rig.fake.callsTo('chat.postMessage').some((c) => callText(c).includes('Approved automatically'))).toBe(true);
  });

  it('asks the members of an approver user group, never the requester, and honours a member\'s click', async () => {
    const id = await pendingRequest({ ...withFlow({ approvers: { everyone: false, emails: [], slackUsergroups: ['S0LEADS'] } }), usergroups: { S0LEADS: [lead2.id, dev.id] } });
    expect(rig.fake.callsTo('chat.postMessage').map((c) => c.body.channel)).toEqual([dmChannel(lead2.id)]);
    await rig.slack.click(lead2.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead2.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'approved', decidedBy: lead2.email });
  });

  it('posts to the flow\'s approval channel instead of DMs, where only an approver\'s click counts', async () => {
    const id = await pendingRequest(withFlow({ approvalChannel: 'C0APPROVALS' }));
    expect(rig.fake.callsTo('chat.postMessage').map((c) => c.body.channel)).toEqual(['C0APPROVALS']);
    const where = approvalMessageOf(rig, id, 'C0APPROVALS');
    await rig.slack.click(outsider.id, 'keyway_approve', String(id), where);
    await rig.slack.click(lead.id, 'keyway_approve', String(id), where);
    await rig.settle();
    expect(repliesTo(rig, outsider.id)).toEqual([expect.stringMatching(/not an approver/)]);
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'approved', decidedBy: lead.email });
    expect(buttonsOf(messageNow(where))).toEqual([]);
  });

  it('DMs the approvers instead, and gives up the notify_channel line, when Slack refuses a channel for good — logging each once', async () => {
    const { logger, lines } = capturedLogger();
    const id = await pendingRequest({
      ...withFlow({ approvalChannel: 'C0PRIVATE', notifyChannel: 'C0GONE' }), logger,
      prepareFake: (fake) => (fake.refusePostsTo('C0PRIVATE', 'not_in_channel'), fake.refusePostsTo('C0GONE', 'channel_not_found')),
    });
    expect(rig.fake.callsTo('chat.postMessage').map((c) => [c.body.channel, c.response.ok])).toEqual([['C0PRIVATE', false], [dmChannel(lead.id), true]]);
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    rig.ctx.clock.now += 3600_000;
    rig.engine.kick();
    await rig.settle();
    expect(undeliveredCount(rig.ctx.db)).toBe(0);
    expect(rig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === 'C0GONE')).toHaveLength(1);
    expect(lines.filter((l) => l.level === 50).map((l) => [l.channel, l.error])).toEqual([['C0PRIVATE', 'not_in_channel'], ['C0GONE', 'channel_not_found']]);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
  });

  it('keeps an approval, and tells the approver nothing, when updating the approval messages fails right after the vote', async () => {
    const id = await pendingRequest();
    const where = approvalMessageOf(rig, id, lead.id);
    rig.fake.failNext('chat.update', 'internal_error');
    await rig.slack.click(lead.id, 'keyway_approve', String(id), where);
    await rig.settle();
    expect(rig.fake.callsTo('chat.update')[0]!.response).toMatchObject({ ok: false });
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    expect(repliesTo(rig, lead.id)).toEqual([]);
    expect(buttonsOf(messageNow(where))).toEqual([]);
  });

  it('looks up only the user groups that can change the answer: none for an approver by e-mail, the request\'s approver groups otherwise', async () => {
    const id = await pendingRequest({
      ...withFlow({ requesters: { everyone: false, emails: [dev.email], slackUsergroups: ['S0DEVS'] }, approvers: { everyone: false, emails: [lead.email], slackUsergroups: ['S0LEADS'] }, minApprovals: 2 }),
      usergroups: { S0DEVS: [], S0LEADS: [lead2.id] }, cacheTtlMs: 0,
    });
    const lookups = () => rig.fake.callsTo('usergroups.users.list').map((c) => c.body.usergroup as string);
    const before = lookups().length;
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    expect(lookups().slice(before)).toEqual([]);
    await rig.slack.click(lead2.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead2.id));
    await rig.settle();
    expect(lookups().slice(before)).toEqual(['S0LEADS']);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
  });

  it('posts a line per decision to the flow\'s notify_channel', async () => {
    const id = await pendingRequest(withFlow({ notifyChannel: '#access-log' }));
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    const lines = rig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === '#access-log');
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.body.text)).toMatch(/#1 dev@example.com → `web-2` for 2h \(flow prod-debug\): :white_check_mark: Approved by lead@example.com/);
  });
});

describe('denying', () => {
  it('asks the approver for a reason in a modal, then tells everyone, reason included', async () => {
    const id = await pendingRequest();
    const where = approvalMessageOf(rig, id, lead.id);
    await rig.slack.click(lead.id, 'keyway_deny', String(id), where);
    await rig.settle();
    const opened = rig.fake.callsTo('views.open')[0]!;
    expect(opened.body.view).toMatchObject({ callback_id: 'keyway_deny_reason', private_metadata: JSON.stringify({ requestId: id }) });
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');

    const empty = await rig.slack.submit(lead.id, 'keyway_deny_reason', { reason: { reason: formValue.text(' ') } }, opened.body.view.private_metadata);
    expect(empty.json).toEqual({ response_action: 'errors', errors: { reason: expect.stringMatching(/Say why you deny/) } });
    const leaked = await rig.slack.submit(lead.id, 'keyway_deny_reason', { reason: { reason: formValue.text('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----') } }, opened.body.view.private_metadata);
    expect(leaked.json).toEqual({ response_action: 'errors', errors: { reason: expect.stringMatching(/reason holds a PRIVATE key.*compromised/) } });

    const submitted = await rig.slack.submit(lead.id, 'keyway_deny_reason', { reason: { reason: formValue.text('use staging first') } }, opened.body.view.private_metadata);
    expect(submitted).toMatchObject({ status: 200, text: '' });
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'denied', decidedBy: lead.email, decisionReason: 'use staging first' });
    expect(buttonsOf(messageNow(where))).toEqual([]);
    expect(JSON.stringify(messageNow(where))).toMatch(/Denied\* by lead@example.com at <!date.*: use staging first/);
    const toDev = rig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === dmChannel(dev.id));
    expect(toDev.map((c) => String(c.body.text))).toEqual([expect.stringMatching(/denied by lead@example.com: use staging first/)]);
    expect((rig.hosts as unknown as { provisioned: string[] }).provisioned).toEqual([]);
  });
});

describe('who may click', () => {
  it('refuses, and audits, a click from someone who is not an approver', async () => {
    const id = await pendingRequest();
    const where = approvalMessageOf(rig, id, lead.id);
    await rig.slack.click(outsider.id, 'keyway_approve', String(id), where);
    await rig.slack.click(outsider.id, 'keyway_deny', String(id), where);
    await rig.settle();
    expect(repliesTo(rig, outsider.id)).toEqual([
      expect.stringMatching(/outsider@example.com is not an approver of request 1/), expect.stringMatching(/not an approver/),
    ]);
    expect(rig.fake.callsTo('response_url').every((c) => c.body.response_type === 'ephemeral' && c.body.replace_original === false)).toBe(true);
    expect(rig.fake.callsTo('views.open')).toEqual([]);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(buttonsOf(messageNow(where))).toEqual(['keyway_approve', 'keyway_deny']);
    expect(actionsAudit().filter((a) => a.startsWith('approval.refused'))).toEqual([`approval.refused ${outsider.email}`, `approval.refused ${outsider.email}`]);
  });

  it('refuses the requester\'s own click, even when they are among the approvers', async () => {
    const id = await pendingRequest(withFlow({ approvers: { everyone: false, emails: [lead.email, dev.email], slackUsergroups: [] } }));
    await rig.slack.click(dev.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toMatch(/You asked for request 1 yourself, so you cannot decide it/);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(actionsAudit()).toContain(`approval.refused ${dev.email}`);
  });

  it('accepts the requester\'s click when the flow allows self-approval', async () => {
    const id = await pendingRequest(withFlow({ allowSelfApproval: true, approvers: { everyone: false, emails: [dev.email], slackUsergroups: [] } }));
    await rig.slack.click(dev.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, dev.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'approved', decidedBy: dev.email });
  });

  it('takes who clicked from Slack\'s user, not from the button: a forged value only names the request', async () => {
    const id = await pendingRequest();
    const payload = rig.slack.clickPayload(outsider.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.slack.interactive({ ...payload, actions: [{ ...(payload.actions as object[])[0], value: JSON.stringify({ id, approver: lead.email }) }] });
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(repliesTo(rig, outsider.id)).toEqual([expect.stringMatching(/does not name a request/)]);
  });
});

describe('repeated and simultaneous clicks', () => {
  it('approves once on a double click and tells the second click it is already decided', async () => {
    const id = await pendingRequest();
    const where = approvalMessageOf(rig, id, lead.id);
    const clicks = await Promise.all([rig.slack.click(lead.id, 'keyway_approve', String(id), where), rig.slack.click(lead.id, 'keyway_approve', String(id), where)]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    await rig.settle();
    expect(actionsAudit().filter((a) => a.startsWith('request.approved'))).toEqual([`request.approved ${lead.email}`]);
    expect(repliesTo(rig, lead.id)).toEqual([expect.stringMatching(/Request #1 is already approved by lead@example.com/)]);
    expect((rig.hosts as unknown as { provisioned: string[] }).provisioned).toEqual(['web-2:dev']);
  });

  it('ignores a payload whose trigger_id it has seen (a replay)', async () => {
    const id = await pendingRequest(withFlow({ approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] }, minApprovals: 2 }));
    const payload = rig.slack.clickPayload(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    const answers = [await rig.slack.interactive(payload), await rig.slack.interactive(payload)];
    await rig.settle();
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(actionsAudit().filter((a) => a.startsWith('approval.'))).toEqual([`approval.approve ${lead.email}`]);
    const updates = rig.fake.callsTo('chat.update');
    expect(updates).toHaveLength(2); // one refresh of each approval message, none for the replay
  });

  it('gives one outcome when one approver approves while another submits a denial', async () => {
    const id = await pendingRequest(withFlow({ approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] } }));
    await rig.slack.click(lead2.id, 'keyway_deny', String(id), approvalMessageOf(rig, id, lead2.id));
    await rig.settle();
    const metadata = rig.fake.callsTo('views.open')[0]!.body.view.private_metadata as string;

    const [approve, deny] = await Promise.all([
      rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id)),
      rig.slack.submit(lead2.id, 'keyway_deny_reason', { reason: { reason: formValue.text('not today') } }, metadata),
    ]);
    await rig.settle();
    const request = getRequest(rig.ctx.db, id)!;
    const decisions = actionsAudit().filter((a) => a.startsWith('request.approved') || a.startsWith('request.denied'));
    expect(decisions).toHaveLength(1);
    if (request.state === 'approved') {
      // Refused on the form when the approval was in before the submission arrived, else by DM after it.
      const refusals = [JSON.stringify(deny.json), ...rig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === dmChannel(lead2.id)).map(callText)];
      expect(refusals.filter((r) => /already approved by lead@example.com/.test(r))).toHaveLength(1);
    } else {
      expect(request.state).toBe('denied');
      expect(approve.status).toBe(200);
      expect(repliesTo(rig, lead.id)).toEqual([expect.stringMatching(/already denied by lead2@example.com/)]);
    }
    const outcome = request.state === 'approved' ? 'Approved' : 'Denied';
    for (const who of [lead.id, lead2.id]) {
      const body = messageNow(approvalMessageOf(rig, id, who));
      expect(buttonsOf(body)).toEqual([]);
      expect(JSON.stringify(body)).toContain(`${outcome}*`);
    }
  });
});
