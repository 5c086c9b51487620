// Asking for access on Slack: the slash command, the modal, their validation, and the signature checks.
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { currentKey } from '../../src/store/people.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, integration, server } from '../helpers/access-config.js';
import { registerKey, SAMPLE_KEY } from '../helpers/access-context.js';
import { formValue } from '../helpers/slack-requests.js';
import {
  PEOPLE, approvalMessageOf, capturedLogger, openFlow, buttonsOf, callText, countRows, dmChannel, modalAnswers, repliesTo, requestByCommand, startSlackRig,
  type RigOptions, type SlackRig,
} from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

async function start(options: RigOptions = {}): Promise<SlackRig> {
  rig = await startSlackRig(options);
  registerKey(rig.ctx, PEOPLE.dev.email, 'dev');
  return rig;
}

const { dev, lead, ana, outsider } = PEOPLE;

describe('/ssh-access request', () => {
  it('acknowledges at once, stores the request and DMs the approver Approve and Deny buttons', async () => {
    await start();
    const answer = await rig.slack.command(dev.id, 'request web-2 2h INC-42 disk full');
    expect(answer).toMatchObject({ status: 200, text: '' });
    await rig.settle();

    const request = getRequest(rig.ctx.db, 1)!;
    expect(request).toMatchObject({ state: 'pending', requesterEmail: dev.email, servers: ['web-2'], durationSeconds: 7200, reason: 'INC-42 disk full', source: 'slack' });
    expect(repliesTo(rig, dev.id)).toEqual([expect.stringMatching(/Request #1 for `web-2` \(2h\) is waiting for lead@example.com/)]);
    expect(rig.fake.callsTo('response_url')[0]!.body.response_type).toBe('ephemeral');

    const dm = rig.fake.callsTo('chat.postMessage').find((c) => c.body.channel === dmChannel(lead.id))!;
    expect(buttonsOf(dm.body)).toEqual(['keyway_approve', 'keyway_deny']);
    for (const name of [dev.email, 'web-2', '2h', 'INC-42 disk full', 'prod-debug', 'own group only']) expect(callText(dm)).toContain(name);
    expect(approvalMessageOf(rig, 1, lead.id).channel).toBe(dmChannel(lead.id));
  });

  it('asks the owner named in the server\'s tag before the flow\'s approvers', async () => {
    await start();
    await requestByCommand(rig, dev.id, 'request web-1 1h owner check');
    expect(rig.fake.callsTo('chat.postMessage').map((c) => c.body.channel)).toEqual([dmChannel(ana.id)]);
  });

  it('lets members of a requester user group in, found through usergroups.users.list', async () => {
    await start({ extraUsers: [{ id: 'U0GROUPIE', email: 'groupie@example.com' }], usergroups: { S0DEVS: ['U0GROUPIE'] } });
    registerKey(rig.ctx, 'groupie@example.com', 'groupie');
    const id = await requestByCommand(rig, 'U0GROUPIE', 'request web-2 1h via group');
    expect(getRequest(rig.ctx.db, id)!.requesterEmail).toBe('groupie@example.com');
    expect(rig.fake.callsTo('usergroups.users.list').map((c) => c.body.usergroup)).toContain('S0DEVS');
  });

  it('reads servers separated by a comma and a space, quoted names with spaces (curly quotes too), and says so when a word is neither a server nor a duration', async () => {
    const prod = integration('prod-linux', [server('web-1', { tags: { env: 'prod' } }), server('web-2', { tags: { env: 'prod' } }), server('My Server 1', { tags: { env: 'prod' } })]);
    await start({ config: accessConfig({ integrations: [prod], flows: [openFlow('prod-debug', prod)] }) });
    const both = await requestByCommand(rig, dev.id, 'request web-1, web-2 2h fix');
    expect(getRequest(rig.ctx.db, both)).toMatchObject({ servers: ['web-1', 'web-2'], durationSeconds: 7200, reason: 'fix' });
    const spaced = await requestByCommand(rig, dev.id, 'request “My Server 1” 1h x');
    expect(getRequest(rig.ctx.db, spaced)).toMatchObject({ servers: ['My Server 1'], durationSeconds: 3600, reason: 'x' });

    const answer = await rig.slack.command(dev.id, 'request web-1 wbe-2 2h fix');
    expect(answer).toMatchObject({ status: 200 });
    expect(String(answer.json?.text)).toMatch(/"wbe-2" is neither .*server nor a duration\. Separate servers with commas \(`\/ssh-access request web-1, web-2 2h/);
    expect(countRows(rig, 'requests')).toBe(2);
    // Unquoted, a name with spaces is read against the servers Keyway knows.
    const unquoted = await requestByCommand(rig, dev.id, 'request My Server 1 1h y');
    expect(getRequest(rig.ctx.db, unquoted)).toMatchObject({ servers: ['My Server 1'], durationSeconds: 3600, reason: 'y' });
  });

  it('shows a reason that fakes formatting and mentions ("*Approved* <!channel> ~x~") as inert literal text to the approver', async () => {
    await start();
    const fake = '*Approved* <!channel> ~x~ <@U0LEAD>';
    await requestByCommand(rig, dev.id, `request web-2 2h ${fake}`);
    const dm = rig.fake.callsTo('chat.postMessage').find((c) => c.body.channel === dmChannel(lead.id))!;
    const blocks = dm.body.blocks as Array<{ type: string; text?: { type: string; text: string }; fields?: Array<{ text: string }>; elements?: Array<{ elements?: Array<{ text?: string }> }> }>;
    const mrkdwn = blocks.flatMap((b) => [b.text?.type === 'mrkdwn' ? b.text.text : '', ...(b.fields ?? []).map((f) => f.text)]).join('\n');
    for (const part of ['*Approved*', '<!channel>', '~x~', '<@U0LEAD>']) expect(mrkdwn).not.toContain(part);
    const literal = blocks.filter((b) => b.type === 'rich_text').flatMap((b) => b.elements ?? []).flatMap((e) => e.elements ?? []).map((e) => e.text).join('');
    expect(literal).toBe(`Reason: ${fake}`);
  });

  it('refuses an unknown server, saying how to find the right name, and stores nothing', async () => {
    await start();
    await rig.slack.command(dev.id, 'request nope 1h x');
    await rig.settle();
    expect(repliesTo(rig, dev.id)).toEqual([expect.stringMatching(/no server called "nope".*\/ssh-access servers/)]);
    expect(countRows(rig, 'requests')).toBe(0);
  });

  it('refuses a duration over the flow\'s maximum, naming the maximum', async () => {
    await start();
    await rig.slack.command(dev.id, 'request web-2 9h x');
    await rig.settle();
    expect(repliesTo(rig, dev.id)).toEqual([expect.stringMatching(/9h is longer than the flow prod-debug allows \(8h at most\): ask for 8h or less/)]);
    expect(countRows(rig, 'requests')).toBe(0);
  });

  it('refuses a person no flow allows, in the command and in the modal', async () => {
    await start();
    registerKey(rig.ctx, outsider.email, 'outsider');
    await rig.slack.command(outsider.id, 'request web-2 1h x');
    await rig.slack.command(outsider.id, '');
    await rig.settle();
    const replies = repliesTo(rig, outsider.id);
    expect(replies).toHaveLength(2);
    expect(replies.join('\n')).toMatch(/add you to a flow/);
    expect(rig.fake.callsTo('views.open')).toEqual([]);
    expect(countRows(rig, 'requests')).toBe(0);
  });

  it('answers usage mistakes in the acknowledgement itself', async () => {
    await start();
    const answer = await rig.slack.command(dev.id, 'request web-2 2hours x');
    expect(answer.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/not a duration: use a number and a unit/) });
    const help = await rig.slack.command(dev.id, 'help');
    expect(String(help.json?.text)).toContain('/ssh-access request <server>');
  });

  it('apologises with a reference, and no details, when something unexpected fails', async () => {
    await start();
    rig.fake.failNext('users.info', 'fatal_error');
    await rig.slack.command(dev.id, 'list');
    await rig.settle();
    expect(repliesTo(rig, dev.id)).toEqual([expect.stringMatching(/^Sorry, something went wrong on Keyway's side \(reference [0-9a-f]{8}\)/)]);
  });
});

describe('/ssh-access key, servers and list', () => {
  it('registers a public key and refuses a pasted private key with the advice to rotate it', async () => {
    await start({ config: accessConfig({ flows: [openFlow('everyone', accessConfig().integrations[0]!)] }) });
    await rig.slack.command(ana.id, `key ${SAMPLE_KEY}`);
    await rig.slack.command(lead.id, 'key -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----');
    await rig.settle();
    expect(repliesTo(rig, ana.id)).toEqual([expect.stringMatching(/Registered your ssh-ed25519 key SHA256:.*Linux user is `ana`/)]);
    expect(repliesTo(rig, lead.id)).toEqual([expect.stringMatching(/PRIVATE key.*compromised.*ssh-keygen -t ed25519/)]);
    expect(JSON.stringify(rig.fake.calls)).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA\\n-----END');
    expect(currentKey(rig.ctx.db, lead.email)).toBeUndefined();
    expect(listAudit(rig.ctx.db).map((e) => [e.action, e.actor])).toEqual([['key.registered', ana.email]]);
  });

  it('refuses a key from someone no flow lets request, and a Linux name another person has, saying what to do', async () => {
    const people = [{ email: 'henk@example.com', linuxUser: 'dev' }];
    await start({ config: accessConfig({ people, flows: [openFlow('everyone', accessConfig().integrations[0]!, { requesters: { everyone: false, emails: [dev.email, 'henk@example.com'], slackUsergroups: [] } })] }), extraUsers: [{ id: 'U0HENK', email: 'henk@example.com' }] });
    await rig.slack.command(ana.id, `key ${SAMPLE_KEY}`);
    await rig.slack.command('U0HENK', `key ${SAMPLE_KEY}`);
    await rig.settle();
    expect(repliesTo(rig, ana.id)).toEqual([expect.stringMatching(/No access flow lets ana@example.com request any server.*add you/)]);
    expect(repliesTo(rig, 'U0HENK')).toEqual([expect.stringMatching(/"dev" already belongs to another person.*people: entry such as \{ email: henk@example.com, linux_user: <another name> \}/)]);
    expect(currentKey(rig.ctx.db, ana.email)).toBeUndefined();
    expect(currentKey(rig.ctx.db, 'henk@example.com')).toBeUndefined();
    expect(listAudit(rig.ctx.db)).toEqual([]);
  });

  it('says how to find a request that does not exist', async () => {
    await start();
    await rig.slack.command(dev.id, 'revoke 99');
    await rig.settle();
    expect(repliesTo(rig, dev.id)).toEqual(['There is no request #99: `/ssh-access list` shows your requests.']);
  });

  it('lists only the servers the person may request', async () => {
    const staging = integration('staging', [server('stg-1')]);
    await start({ config: accessConfig({ integrations: [...accessConfig().integrations, staging], flows: [...accessConfig().flows, openFlow('staging', staging, { requesters: { everyone: false, emails: ['someone@example.com'], slackUsergroups: [] } })] }) });
    await rig.slack.command(dev.id, 'servers');
    await rig.settle();
    const [reply] = rig.fake.callsTo('response_url');
    expect(callText(reply!)).toMatch(/web-1.*web-2.*db-1/);
    expect(callText(reply!)).not.toContain('stg-1');
  });
});

describe('the request modal', () => {
  it('opens with only the requestable servers and creates the request on submit', async () => {
    const staging = integration('staging', [server('stg-1')]);
    await start({ config: accessConfig({ integrations: [...accessConfig().integrations, staging], flows: [...accessConfig().flows, openFlow('staging', staging, { requesters: { everyone: false, emails: ['someone@example.com'], slackUsergroups: [] } })] }) });
    await rig.slack.command(dev.id, '');
    await rig.settle();
    const opened = rig.fake.callsTo('views.open')[0]!;
    expect(opened.body.trigger_id).toMatch(/\./);
    const menu = opened.body.view.blocks[0].element;
    expect(menu.type).toBe('multi_static_select');
    expect(menu.options.map((o: { value: string }) => o.value)).toEqual(['web-1', 'web-2', 'db-1']);
    expect(JSON.stringify(opened.body.view)).not.toContain('"block_id":"key"');

    const submitted = await rig.slack.submit(dev.id, 'keyway_request', {
      servers: { keyway_servers: formValue.options(['web-2', 'db-1']) }, duration: { duration: formValue.text('30m') }, reason: { reason: formValue.text('INC-7') },
    });
    expect(submitted.status).toBe(200);
    expect(submitted.json).toMatchObject({ response_action: 'update' });
    expect(JSON.stringify(submitted.json)).toContain('Working on it');
    await rig.settle();
    expect(rig.fake.callsTo('views.update')[0]!.body.view_id).toBe('VMODAL');
    expect(modalAnswers(rig)).toEqual([expect.stringContaining('Request #1 for `web-2`, `db-1` (30m) is waiting for lead@example.com')]);
    expect(getRequest(rig.ctx.db, 1)).toMatchObject({ servers: ['web-2', 'db-1'], durationSeconds: 1800, reason: 'INC-7' });
    expect(rig.fake.callsTo('chat.postMessage').map((c) => c.body.channel)).toEqual([dmChannel(lead.id)]);
  });

  it('shows form mistakes on their field at once, and refusals that need to know who asks in the modal after it', async () => {
    await start();
    const form = (duration: string, reason: string, servers = ['web-2']) => ({
      servers: { keyway_servers: formValue.options(servers) }, duration: { duration: formValue.text(duration) }, reason: { reason: formValue.text(reason) },
    });
    const badDuration = await rig.slack.submit(dev.id, 'keyway_request', form('soon', 'x', []));
    expect(badDuration.json).toEqual({ response_action: 'errors', errors: { duration: expect.stringMatching(/not a duration/), servers: 'Choose at least one server.' } });
    const privateKey = await rig.slack.submit(dev.id, 'keyway_request', form('1h', 'INC-1 -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----'));
    expect(privateKey.json).toEqual({ response_action: 'errors', errors: { reason: expect.stringMatching(/reason holds a PRIVATE key.*compromised.*ssh-keygen -t ed25519/) } });
    expect(rig.fake.calls.some((c) => c.method.startsWith('users.'))).toBe(false); // none of that needed Slack

    const tooLong = await rig.slack.submit(dev.id, 'keyway_request', form('9h', 'x'));
    const noReason = await rig.slack.submit(dev.id, 'keyway_request', form('', ''));
    expect([tooLong.json, noReason.json]).toMatchObject([{ response_action: 'update' }, { response_action: 'update' }]);
    await rig.settle();
    expect(modalAnswers(rig)).toEqual([expect.stringMatching(/longer than .* \(8h at most\)/), expect.stringMatching(/needs a reason/)]);
    expect(countRows(rig, 'requests')).toBe(0);
    expect(JSON.stringify(listAudit(rig.ctx.db))).not.toContain('PRIVATE KEY');
  });

  it('asks for a public key when none is registered, refuses a private one, and registers a good one with the request', async () => {
    await start({ config: accessConfig({ flows: [openFlow('everyone', accessConfig().integrations[0]!)] }) });
    await rig.slack.command(ana.id, '');
    await rig.settle();
    expect(JSON.stringify(rig.fake.callsTo('views.open')[0]!.body.view)).toContain('"block_id":"key"');
    const values = (key: string) => ({
      servers: { keyway_servers: formValue.options(['web-2']) }, duration: { duration: formValue.text('1h') }, reason: { reason: formValue.text('x') }, key: { key: formValue.text(key) },
    });
    const privateKey = await rig.slack.submit(ana.id, 'keyway_request', values('-----BEGIN OPENSSH PRIVATE KEY-----\nxyz\n-----END OPENSSH PRIVATE KEY-----'));
    expect(privateKey.json).toEqual({ response_action: 'errors', errors: { key: expect.stringMatching(/PRIVATE key/) } });
    expect(currentKey(rig.ctx.db, ana.email)).toBeUndefined();
    const good = await rig.slack.submit(ana.id, 'keyway_request', values(SAMPLE_KEY));
    expect(good.json).toMatchObject({ response_action: 'update' });
    await rig.settle();
    expect(currentKey(rig.ctx.db, ana.email)).toBeDefined();
    expect(getRequest(rig.ctx.db, 1)!.requesterEmail).toBe(ana.email);
  });

  it('acknowledges a submitted form before asking Slack who submitted it, then shows the answer in the modal', async () => {
    await start();
    const release = rig.fake.hold('users.info');
    const submitted = await rig.slack.submit(dev.id, 'keyway_request', {
      servers: { keyway_servers: formValue.options(['web-2']) }, duration: { duration: formValue.text('30m') }, reason: { reason: formValue.text('INC-7') },
    });
    expect(submitted.json).toMatchObject({ response_action: 'update' });
    expect(countRows(rig, 'requests')).toBe(0);
    release();
    await rig.settle();
    expect(modalAnswers(rig)).toEqual([expect.stringContaining('Request #1 for `web-2` (30m) is waiting for lead@example.com')]);
  });

  it('searches the servers as the person types when there are too many for a menu', async () => {
    const many = Array.from({ length: 120 }, (_, i) => server(`node-${i}`));
    await start({ config: accessConfig({ integrations: [integration('fleet', many)], flows: [openFlow('fleet', integration('fleet', many))] }) });
    await rig.slack.command(dev.id, '');
    await rig.settle();
    expect(rig.fake.callsTo('views.open')[0]!.body.view.blocks[0].element.type).toBe('multi_external_select');
    const found = await rig.slack.suggest(dev.id, 'keyway_servers', 'servers', 'node-11');
    expect((found.json as { options: Array<{ value: string }> }).options.map((o) => o.value)).toEqual(['node-11', 'node-110', 'node-111', 'node-112', 'node-113', 'node-114', 'node-115', 'node-116', 'node-117', 'node-118', 'node-119']);
  });
});

describe('request authenticity', () => {
  it('answers 401 to a forged signature and a stale timestamp, and changes nothing', async () => {
    await start();
    const before = rig.fake.calls.length;
    const forged = await rig.slack.command(dev.id, 'request web-2 1h x', { signature: `v0=${'0'.repeat(64)}` });
    const wrongSecret = await rig.slack.command(dev.id, 'request web-2 1h x', { secret: 'not-the-secret' });
    const stale = await rig.slack.command(dev.id, 'request web-2 1h x', { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const staleClick = await rig.slack.click(lead.id, 'keyway_approve', '1', { channel: 'D0LEAD', ts: '1.1' }, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    await rig.settle();
    expect([forged.status, wrongSecret.status, stale.status, staleClick.status]).toEqual([401, 401, 401, 401]);
    expect(rig.fake.calls.length).toBe(before);
    expect(countRows(rig, 'requests')).toBe(0);
    expect(listAudit(rig.ctx.db)).toEqual([]);
  });

  it('ignores, and audits, a payload made for another Slack app (its id known from bots.info, as auth.test does not say it)', async () => {
    await start();
    expect(rig.fake.callsTo('auth.test')[0]!.response).not.toHaveProperty('app_id');
    expect(rig.fake.callsTo('bots.info')[0]!.body.bot).toBe('B0KEYWAY');
    await rig.slack.command(dev.id, 'request web-2 1h x', { extra: { api_app_id: 'A0SOMEOTHER' } });
    await rig.settle();
    expect(countRows(rig, 'requests')).toBe(0);
    expect(listAudit(rig.ctx.db).map((e) => [e.action, e.details.why])).toEqual([['slack.payload_refused', 'another app']]);
  });

  it('ignores, and audits, a payload from another workspace', async () => {
    await start();
    await rig.slack.command(dev.id, 'request web-2 1h x', { extra: { team_id: 'T0ELSEWHERE' } });
    await rig.settle();
    expect(countRows(rig, 'requests')).toBe(0);
    expect(listAudit(rig.ctx.db).map((e) => [e.action, e.details.why])).toEqual([['slack.payload_refused', 'another workspace']]);
  });

  it('refuses every payload, logging why, while it does not know its own app id — and serves again once it does', async () => {
    const { logger, lines } = capturedLogger();
    await start({ logger, prepareFake: (fake) => fake.failNext('bots.info', 'missing_scope', 100) });
    await rig.slack.command(dev.id, 'request web-2 1h x');
    await rig.settle();
    expect(countRows(rig, 'requests')).toBe(0);
    expect(listAudit(rig.ctx.db).map((e) => [e.action, e.details.why])).toEqual([['slack.payload_refused', 'own app id unknown']]);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toContain('Keyway does not know its own Slack app id, so it refuses every Slack payload until it does: check that the app has the users:read scope (manifests/slack-app.yaml) and reinstall it');

    rig.fake.failNext('bots.info', 'missing_scope', 0); // the scope is granted
    await requestByCommand(rig, dev.id, 'request web-2 1h x');
    expect(countRows(rig, 'requests')).toBe(1);
  });

  it('refuses a user of another workspace even when their e-mail is an approver\'s', async () => {
    await start({ extraUsers: [{ id: 'U0STRANGER', email: lead.email, teamId: 'T0ELSEWHERE' }] });
    const id = await requestByCommand(rig, dev.id, 'request web-2 1h x');
    await rig.slack.click('U0STRANGER', 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    expect(repliesTo(rig, 'U0STRANGER')).toEqual([expect.stringMatching(/belongs to another workspace than the one Keyway serves/)]);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
  });
});
