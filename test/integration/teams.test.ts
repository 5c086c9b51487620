// The Teams front door: the real botbuilder endpoint over HTTP with Teams-shaped activities, a fake Bot
// Connector recording replies and card updates, a real SQLite database.
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { enqueueEvent } from '../../src/store/outbox.js';
import { getRequest } from '../../src/store/requests.js';
import type { Flow, Server } from '../../src/core/model.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { SAMPLE_KEY, registerKey } from '../helpers/access-context.js';
import { buttonsOf, personalConversationOf, textOf, TeamsSender, TENANT_ID, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { waitFor } from '../helpers/keyway-process.js';
import { authenticationFor, startFakeBotIdentity } from '../helpers/fake-bot-identity.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig, type TeamsRigOptions } from './teams-harness.js';
import { PEOPLE, approvalMessageOf, callText, dmChannel, startSlackRig, type SlackRig } from './slack-harness.js';

let rig: TeamsRig;
let slackRig: SlackRig | undefined;
afterEach(async () => {
  await rig?.close();
  await slackRig?.close();
  slackRig = undefined;
});

const { dev, lead, lead2, outsider } = TEAMS_PEOPLE;

function withFlow(extra: Partial<Flow>, servers?: Server[]): TeamsRigOptions {
  const integrations = servers ? [integration('prod-linux', servers)] : undefined;
  return { config: accessConfig({ ...(integrations ? { integrations } : {}), flows: [flow('prod-debug', 'prod-linux', { requesters: { everyone: false, emails: [dev.email], slackUsergroups: [] }, ...extra })] }) };
}

/** What the bot posted in a person's personal chat, as text, oldest first. */
function chatOf(user: FakeTeamsUser): string[] {
  return rig.connector.posted(personalConversationOf(user)).map((a) => textOf(a.body));
}

function lastCardOf(user: FakeTeamsUser) {
  const cards = rig.connector.posted(personalConversationOf(user)).filter((a) => a.body.attachments?.length);
  return cards[cards.length - 1];
}

async function say(user: FakeTeamsUser, text: string): Promise<void> {
  expect((await rig.teams.message(user, text)).status).toBe(200);
  await rig.settle();
}

async function click(user: FakeTeamsUser, value: Record<string, unknown>, cardId?: string): Promise<void> {
  expect((await rig.teams.submit(user, value, cardId)).status).toBe(200);
  await rig.settle();
}

/** dev asks for web-2 after the approvers have opened a chat with Keyway. */
async function pendingRequest(options: TeamsRigOptions = {}, approvers: FakeTeamsUser[] = [lead]): Promise<number> {
  rig = await startTeamsRig(options);
  for (const approver of approvers) await say(approver, 'help');
  await say(dev, `key ${SAMPLE_KEY}`);
  await say(dev, 'request web-2 2h INC-7 disk full');
  const row = rig.ctx.db.prepare('SELECT MAX(id) AS id FROM requests').get() as { id: number | null };
  if (row.id === null) throw new Error(`no request was created; dev was told: ${chatOf(dev).join(' | ')}`);
  return row.id;
}

describe('requesting in Teams', () => {
  it('registers a key and takes a request by command, asking the approver with a card and telling the requester who was asked', async () => {
    const id = await pendingRequest();
    expect(chatOf(dev).join('\n')).toMatch(/Registered your ssh-ed25519 key SHA256:/);
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'pending', servers: ['web-2'], durationSeconds: 7200, reason: 'INC-7 disk full', source: 'teams' });
    expect(chatOf(dev).join('\n')).toMatch(/Request #1 for `web-2` \(2h\) is waiting for lead@example\.com/);
    expect(chatOf(dev).join('\n')).toMatch(/asked lead@example\.com in Teams/);
    const card = lastCardOf(lead)!;
    expect(buttonsOf(card.body)).toEqual(['approve', 'deny']);
    expect(textOf(card.body)).toMatch(/Requester: dev@example\.com[\s\S]*Servers: web-2[\s\S]*Duration: 2h[\s\S]*Flow: prod-debug/);
    expect(textOf(card.body)).toContain('INC-7 disk full');
  });

  it('reads servers separated by a comma and a space and quoted names with spaces, and says so when a word is neither a server nor a duration', async () => {
    const servers = [server('web-1', { tags: { env: 'prod' } }), server('web-2', { tags: { env: 'prod' } }), server('My Server 1', { tags: { env: 'prod' } })];
    rig = await startTeamsRig(withFlow({ resources: { integration: 'prod-linux', servers: servers.map((s) => s.name), tags: {} } }, servers));
    await say(lead, 'help');
    await say(dev, `key ${SAMPLE_KEY}`);
    await say(dev, 'request web-1, web-2 2h fix');
    await say(dev, 'request "My Server 1" 1h x');
    await say(dev, 'request web-1 wbe-2 2h fix');
    expect(getRequest(rig.ctx.db, 1)).toMatchObject({ servers: ['web-1', 'web-2'], durationSeconds: 7200, reason: 'fix' });
    expect(getRequest(rig.ctx.db, 2)).toMatchObject({ servers: ['My Server 1'], durationSeconds: 3600, reason: 'x' });
    expect(getRequest(rig.ctx.db, 3)).toBeUndefined();
    expect(chatOf(dev).at(-1)).toMatch(/"wbe-2" is neither .*server nor a duration\. Separate servers with commas \(`request web-1, web-2 2h/);
    // Unquoted, a name with spaces is read against the servers Keyway knows.
    await say(dev, 'request My Server 1 1h y');
    expect(getRequest(rig.ctx.db, 3)).toMatchObject({ servers: ['My Server 1'], durationSeconds: 3600, reason: 'y' });
  });

  it('shows a form of only the servers this person may request, and takes the request from it', async () => {
    rig = await startTeamsRig();
    await say(lead, 'hello');
    registerKey(rig.ctx, dev.email, 'dev');
    await say(dev, 'request');
    const form = lastCardOf(dev)!;
    const choices = JSON.stringify(form.body).match(/"value":"(web-1|web-2|db-1)"/g);
    expect(choices).toEqual(['"value":"web-1"', '"value":"web-2"', '"value":"db-1"']);
    const data = (form.body.attachments[0].content.actions[0].data) as Record<string, unknown>;
    await click(dev, { ...data, servers: 'web-1,db-1', duration: '9h', reason: 'INC-9' }, form.id);
    expect(chatOf(dev).at(-1)).toMatch(/8h/); // refused: the same form may be corrected and sent again
    await click(dev, { ...data, servers: 'web-1,db-1', duration: '45m', reason: 'INC-9' }, form.id);
    await click(dev, { ...data, servers: 'web-1,db-1', duration: '45m', reason: 'INC-9' }, form.id); // a second click on the same form
    expect(getRequest(rig.ctx.db, 1)).toMatchObject({ servers: ['web-1', 'db-1'], durationSeconds: 2700, reason: 'INC-9' });
    expect(getRequest(rig.ctx.db, 2)).toBeUndefined();
    expect(chatOf(dev).at(-1)).toMatch(/already sent/);
    expect(textOf(rig.connector.activity(form.id)!.body)).toMatch(/Sent as request #1/);
  });

  it('answers an unknown server, an over-long duration and a private key with what to do, and creates nothing', async () => {
    rig = await startTeamsRig();
    registerKey(rig.ctx, dev.email, 'dev');
    await say(dev, 'request nope-1 1h x');
    await say(dev, 'request web-2 3d x');
    await say(dev, '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----');
    const told = chatOf(dev);
    expect(told[0]).toMatch(/nope-1/);
    expect(told[1]).toMatch(/8h/);
    expect(told[2]).toMatch(/private key/i);
    expect(told[2]).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    expect((rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(0);
  });

  it('works only in a personal chat', async () => {
    rig = await startTeamsRig();
    const inChannel = rig.teams.raw(dev, { text: 'list', conversation: { id: '19:team-channel', conversationType: 'channel', tenantId: TENANT_ID } });
    expect((await rig.teams.post(inChannel)).status).toBe(200);
    await rig.settle();
    expect(textOf(rig.connector.posted('19:team-channel')[0]!.body)).toMatch(/personal chat/);
  });

  it('saves how to reach a person when they install the app, and greets them with the commands', async () => {
    rig = await startTeamsRig();
    expect((await rig.teams.install(lead)).status).toBe(200);
    await rig.settle();
    expect(chatOf(lead)).toHaveLength(1); // greeted once, though Teams announces the install twice
    expect(chatOf(lead)[0]).toMatch(/request <server>/);
    expect(rig.ctx.db.prepare("SELECT email FROM chat_addresses WHERE platform = 'teams'").all()).toEqual([{ email: lead.email }]);
  });
});

describe('deciding in Teams', () => {
  it('approves on the approver\'s click: the card shows the outcome without buttons, and the requester gets the certificate', async () => {
    const id = await pendingRequest();
    const card = lastCardOf(lead)!;
    await click(lead, { keyway: 'approve', requestId: id }, card.id);
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'approved', decidedBy: lead.email });
    const updated = rig.connector.activity(card.id)!;
    expect(updated.updates).toBeGreaterThan(0);
    expect(buttonsOf(updated.body)).toEqual([]);
    expect(textOf(updated.body)).toMatch(/Approved\*\* by lead@example\.com at \{\{DATE\(/);
    const grant = chatOf(dev).find((t) => t.includes('-cert-v01@openssh.com'))!;
    expect(grant).toContain('~/.ssh/id_ed25519-cert.pub');
    expect(grant).toContain('ssh -i ~/.ssh/id_ed25519 dev@127.0.0.1 -p 22');
    expect(grant).toMatch(/```\ncat > ~\/\.ssh\/id_ed25519-cert\.pub <<'EOF'\nssh-ed25519-cert-v01@openssh\.com \S+ \S*\nEOF\n```/);
  });

  it('denies only with a reason, and tells the requester why', async () => {
    const id = await pendingRequest();
    const card = lastCardOf(lead)!;
    await click(lead, { keyway: 'deny', requestId: id, reason: '' }, card.id);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(chatOf(lead).at(-1)).toMatch(/reason/i);
    await click(lead, { keyway: 'deny', requestId: id, reason: 'use staging [link](http://evil)' }, card.id);
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ state: 'denied', decisionReason: 'use staging [link](http://evil)' });
    const denied = rig.connector.activity(card.id)!.body;
    expect(buttonsOf(denied)).toEqual([]);
    expect(JSON.stringify(denied)).toContain('{"type":"TextRun","text":"use staging [link](http://evil)"}');
    const told = chatOf(dev).find((t) => t.includes('was denied'))!;
    expect(told).toContain('denied by lead@example.com: use staging ［link］(http://evil)');
  });

  it('refuses a click from someone who may not approve, and from the requester, auditing both and changing nothing', async () => {
    const id = await pendingRequest();
    await say(outsider, 'hi');
    await click(outsider, { keyway: 'approve', requestId: id });
    await click(dev, { keyway: 'approve', requestId: id });
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(chatOf(outsider).at(-1)).toMatch(/not an approver of request 1/);
    expect(chatOf(dev).at(-1)).toMatch(/asked for request 1 yourself/);
    const refused = listAudit(rig.ctx.db, { limit: 100 }).filter((e) => e.action === 'approval.refused').map((e) => e.actor);
    expect(refused.sort()).toEqual([dev.email, outsider.email]);
  });

  it('counts two distinct approvers under min_approvals: 2, and a repeated click (the same activity) once', async () => {
    const id = await pendingRequest(withFlow({ approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] }, minApprovals: 2 }), [lead, lead2]);
    const click1 = rig.teams.raw(lead, { value: { keyway: 'approve', requestId: id } });
    expect((await rig.teams.post(click1)).status).toBe(200);
    expect((await rig.teams.post(click1)).status).toBe(200);
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
    expect(chatOf(lead).filter((t) => t.includes('1 of 2 needed')).length).toBeGreaterThanOrEqual(1);
    expect(textOf(lastCardOf(lead2)!.body)).toMatch(/Approvals: 1 of 2 needed \(lead@example\.com\)/);
    await click(lead2, { keyway: 'approve', requestId: id });
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    for (const approver of [lead, lead2]) expect(buttonsOf(lastCardOf(approver)!.body)).toEqual([]);
  });
});

describe('access in Teams', () => {
  it('warns before access ends with Extend and End it now; Extend asks the approvers for more time', async () => {
    const id = await pendingRequest();
    await click(lead, { keyway: 'approve', requestId: id });
    enqueueEvent(rig.ctx.db, { kind: 'expiry_warning', requestId: id }, rig.ctx.now());
    rig.engine.kick();
    await rig.settle();
    const warning = lastCardOf(dev)!;
    expect(textOf(warning.body)).toMatch(/Your access to `web-2` \(request #1\) ends \{\{DATE\(/);
    expect(buttonsOf(warning.body)).toEqual(['extend', 'revoke']);
    await click(dev, { keyway: 'extend', requestId: id, duration: '30m' }, warning.id);
    expect(getRequest(rig.ctx.db, 2)).toMatchObject({ state: 'pending', extendsRequestId: id, durationSeconds: 1800, source: 'teams' });
    expect(textOf(lastCardOf(lead)!.body)).toMatch(/Extension #2 of request #1/);
  });
});

describe('when the Bot Connector fails', () => {
  it('answers a message with 200 at once while the Bot Connector is slow, and replies once it answers', async () => {
    rig = await startTeamsRig();
    const release = rig.connector.hold();
    try {
      const direct = new TeamsSender(rig.endpoint, rig.connector.serviceUrl); // no waiting for Keyway's work after the answer
      const answered = await Promise.race([direct.message(dev, 'help'), new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5_000))]);
      expect(answered).toEqual({ status: 200, text: '' });
      await waitFor('the reply on its way', () => rig.connector.calls.some((c) => c.conversationId === personalConversationOf(dev)));
      expect(chatOf(dev)).toEqual([]);
    } finally {
      release();
    }
    await rig.settle();
    expect(chatOf(dev)[0]).toMatch(/request <server>/);
  });

  it('keeps the outcome owed while the Bot Connector is down, and updates every card once it is back', async () => {
    const id = await pendingRequest();
    const card = lastCardOf(lead)!;
    rig.connector.setDown(true);
    await click(lead, { keyway: 'approve', requestId: id }, card.id);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');
    expect(buttonsOf(rig.connector.activity(card.id)!.body)).toEqual(['approve', 'deny']);
    expect(rig.engine.platformStatus.teams).toMatchObject({ ok: false });
    const owed = (rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }).n;
    expect(owed).toBeGreaterThan(0);

    rig.connector.setDown(false);
    rig.ctx.clock.now += 10 * 60_000; // past the retry time
    rig.engine.kick();
    await rig.settle();
    expect(buttonsOf(rig.connector.activity(card.id)!.body)).toEqual([]);
    expect(chatOf(dev).some((t) => t.includes('-cert-v01@openssh.com'))).toBe(true);
    expect((rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }).n).toBe(0);
  });

  it('forgets an approver who removed or blocked the app, tells the requester, and does not retry forever', async () => {
    rig = await startTeamsRig(withFlow({ approvers: { everyone: false, emails: [lead.email, lead2.email], slackUsergroups: [] } }));
    await say(lead, 'hello');
    await say(lead2, 'hello');
    rig.connector.block(personalConversationOf(lead2));
    registerKey(rig.ctx, dev.email, 'dev');
    await say(dev, 'request web-2 1h INC-13');
    expect(buttonsOf(lastCardOf(lead)!.body)).toEqual(['approve', 'deny']);
    expect(chatOf(dev).join('\n')).toMatch(/asked lead@example\.com in Teams\. Not reachable: lead2@example\.com/);
    expect(rig.ctx.db.prepare("SELECT email FROM chat_addresses WHERE platform = 'teams' ORDER BY email").all()).toEqual([{ email: dev.email }, { email: lead.email }]);
    expect((rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }).n).toBe(0);
  });
});

describe('authentication', () => {
  it('refuses an activity without a valid Bot Framework token when the app id and password are configured, with no effect', async () => {
    rig = await startTeamsRig({ settings: { appId: '00000000-0000-4000-8000-000000000001', appPassword: 'not-a-real-secret', tenants: [TENANT_ID], allowUnauthenticated: false } });
    const request = rig.teams.raw(dev, { text: 'request web-2 1h INC-1' });
    expect((await rig.teams.post(request, undefined)).status).toBe(401);
    expect((await rig.teams.post(request, 'Bearer not.a.jwt')).status).toBe(401);
    expect((await rig.teams.post(request, 'Basic dXNlcjpwYXNz')).status).toBe(401);
    await rig.settle();
    expect(rig.connector.calls).toEqual([]);
    expect((rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(0);
  });

  it('accepts activities with a valid Bot Framework token and answers with a token of its own, from the request to the approver\'s card', async () => {
    const identity = await startFakeBotIdentity();
    try {
      const appId = '00000000-0000-4000-8000-000000000002';
      rig = await startTeamsRig({ settings: { appId, appPassword: 'test-password', tenants: [TENANT_ID], allowUnauthenticated: false }, authentication: authenticationFor(identity, appId, 'test-password') });
      const signed = (user: FakeTeamsUser, extra: Record<string, unknown>) =>
        rig.teams.post(rig.teams.raw(user, extra), `Bearer ${identity.channelToken({ appId, serviceUrl: rig.connector.serviceUrl })}`);
      expect((await signed(lead, { text: 'help' })).status).toBe(200);
      registerKey(rig.ctx, dev.email, 'dev');
      expect((await signed(dev, { text: 'request web-2 1h INC-12' })).status).toBe(200);
      await rig.settle();
      expect(getRequest(rig.ctx.db, 1)!.state).toBe('pending');
      expect(buttonsOf(lastCardOf(lead)!.body)).toEqual(['approve', 'deny']);
      // Every call to the Bot Connector, replies and proactive cards alike, carries a token the identity service issued to this app.
      const sends = rig.connector.calls.filter((c) => c.method !== 'GET');
      expect(sends.length).toBeGreaterThanOrEqual(3);
      for (const call of sends) expect(identity.issued.has(call.authorization?.replace(/^Bearer /, '') ?? '')).toBe(true);
      expect(identity.tokenRequests[0]).toMatchObject({ grant_type: 'client_credentials', client_id: appId });

      const other = `Bearer ${identity.channelToken({ appId: 'another-app', serviceUrl: rig.connector.serviceUrl })}`;
      const expired = `Bearer ${identity.channelToken({ appId, serviceUrl: rig.connector.serviceUrl, expiresIn: -3600 })}`;
      const elsewhere = `Bearer ${identity.channelToken({ appId, serviceUrl: 'https://evil.example/' })}`;
      for (const token of [other, expired, elsewhere]) expect((await rig.teams.post(rig.teams.raw(dev, { text: 'cancel 1' }), token)).status).toBe(401);
      expect(getRequest(rig.ctx.db, 1)!.state).toBe('pending');
    } finally {
      await identity.close();
    }
  });

  it('ignores activities from a tenant it does not serve', async () => {
    rig = await startTeamsRig({ settings: { tenants: ['another-tenant'] } });
    registerKey(rig.ctx, dev.email, 'dev');
    await say(dev, 'request web-2 1h INC-1');
    expect(rig.connector.calls).toEqual([]);
    expect((rig.ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(0);
  });

  it('refuses what is not an activity', async () => {
    rig = await startTeamsRig();
    const res = await fetch(rig.endpoint, { method: 'POST', body: '{"text":"no type"}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect((await fetch(rig.endpoint)).status).toBe(405);
  });
});

describe('Teams and Slack together', () => {
  it('asks an approver who is only on Slack there, and a Slack click gives the Teams requester the certificate in Teams', async () => {
    slackRig = await startSlackRig();
    rig = await startTeamsRig({ engine: slackRig.engine });
    registerKey(rig.ctx, dev.email, 'dev');
    await say(dev, 'request web-2 1h INC-11');
    await slackRig.settle();
    const id = 1;
    expect(chatOf(dev).join('\n')).toMatch(/Not reachable in Teams: lead@example\.com — Keyway asks them on Slack/);
    const where = approvalMessageOf(slackRig, id, PEOPLE.lead.id);
    expect((await slackRig.slack.click(PEOPLE.lead.id, 'keyway_approve', String(id), where)).status).toBe(200);
    await slackRig.settle();
    await rig.settle();
    expect(getRequest(rig.ctx.db, id), slackRig.fake.calls.map((c) => `${c.method} ${callText(c)}`).join('\n')).toMatchObject({ state: 'approved', decidedBy: lead.email });
    expect(chatOf(dev).some((t) => t.includes('-cert-v01@openssh.com'))).toBe(true);
    // The requester hears on the platform they asked on: nothing for dev on Slack.
    expect(slackRig.fake.callsTo('chat.postMessage').filter((c) => c.body.channel === dmChannel(PEOPLE.dev.id)).map(callText)).toEqual([]);
  });
});
