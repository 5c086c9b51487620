// An extension past the flow's max_duration is refused whichever way it is asked for: the Slack command
// `/ssh-access extend N 7h`, the Teams Extend button and the Teams `extend` command (the Slack modal has its own
// test in slack-delivery). The real Bolt app and botbuilder endpoint over HTTP, a real SQLite database.
import { afterEach, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/store/requests.js';
import { SAMPLE_KEY, registerKey } from '../helpers/access-context.js';
import { buttonsOf as cardButtonsOf, personalConversationOf, textOf, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { PEOPLE, approvalMessageOf, countRows, repliesTo, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from './teams-harness.js';

let slack: SlackRig | undefined;
let teams: TeamsRig | undefined;
afterEach(async () => {
  await slack?.close();
  await teams?.close();
  slack = undefined;
  teams = undefined;
});

describe('Slack: /ssh-access extend', () => {
  /** dev's 2h access to web-2 under prod-debug (8h at most), approved by lead. */
  async function approvedInSlack(): Promise<number> {
    slack = await startSlackRig();
    registerKey(slack.ctx, PEOPLE.dev.email, 'dev');
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request web-2 2h INC-42');
    expect((await slack.slack.click(PEOPLE.lead.id, 'keyway_approve', String(id), approvalMessageOf(slack, id, PEOPLE.lead.id))).status).toBe(200);
    await slack.settle();
    expect(getRequest(slack.ctx.db, id)!.state).toBe('approved');
    return id;
  }

  it('refuses 7h more on a 2h access in an 8h flow, saying how much is left, and asks nobody', async () => {
    const id = await approvedInSlack();
    const asked = slack!.fake.callsTo('chat.postMessage').length;
    expect((await slack!.slack.command(PEOPLE.dev.id, `extend ${id} 7h`)).status).toBe(200);
    await slack!.settle();
    expect(repliesTo(slack!, PEOPLE.dev.id).at(-1)).toMatch(new RegExp(`extend request ${id} by 6h at most`));
    expect(countRows(slack!, 'requests')).toBe(1);
    expect(slack!.fake.callsTo('chat.postMessage').length, 'no approver was asked').toBe(asked);
  });

  it('takes an extension within the limit and asks the approvers', async () => {
    const id = await approvedInSlack();
    expect((await slack!.slack.command(PEOPLE.dev.id, `extend ${id} 6h`)).status).toBe(200);
    await slack!.settle();
    expect(getRequest(slack!.ctx.db, id + 1)).toMatchObject({ state: 'pending', extendsRequestId: id, durationSeconds: 6 * 3600 });
  });
});

describe('Teams: Extend', () => {
  const { dev, lead } = TEAMS_PEOPLE;

  async function say(user: FakeTeamsUser, text: string): Promise<void> {
    expect((await teams!.teams.message(user, text)).status).toBe(200);
    await teams!.settle();
  }

  async function click(user: FakeTeamsUser, value: Record<string, unknown>, cardId?: string): Promise<void> {
    expect((await teams!.teams.submit(user, value, cardId)).status).toBe(200);
    await teams!.settle();
  }

  const chatOf = (user: FakeTeamsUser) => teams!.connector.posted(personalConversationOf(user)).map((a) => textOf(a.body));
  const requestCount = () => (teams!.ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;

  async function approvedInTeams(): Promise<number> {
    teams = await startTeamsRig();
    await say(lead, 'help');
    await say(dev, `key ${SAMPLE_KEY}`);
    await say(dev, 'request web-2 2h INC-7 disk full');
    const id = 1;
    expect(getRequest(teams.ctx.db, id)!.state).toBe('pending');
    await click(lead, { keyway: 'approve', requestId: id });
    expect(getRequest(teams.ctx.db, id)!.state).toBe('approved');
    return id;
  }

  it('refuses the Extend button asking 7h more on a 2h access in an 8h flow, and asks nobody', async () => {
    const id = await approvedInTeams();
    const cardsToLead = teams!.connector.posted(personalConversationOf(lead)).length;
    await click(dev, { keyway: 'extend', requestId: id, duration: '7h' });
    expect(chatOf(dev).at(-1)).toMatch(new RegExp(`extend request ${id} by 6h at most`));
    expect(requestCount()).toBe(1);
    expect(teams!.connector.posted(personalConversationOf(lead)).length, 'no approver was asked').toBe(cardsToLead);
  });

  it('refuses the `extend` command past the maximum too, and takes one within it', async () => {
    const id = await approvedInTeams();
    await say(dev, `extend ${id} 7h`);
    expect(chatOf(dev).at(-1)).toMatch(/by 6h at most/);
    expect(requestCount()).toBe(1);
    await say(dev, `extend ${id} 30m`);
    expect(getRequest(teams!.ctx.db, 2)).toMatchObject({ state: 'pending', extendsRequestId: id, durationSeconds: 1800, source: 'teams' });
    const card = teams!.connector.posted(personalConversationOf(lead)).filter((a) => a.body.attachments?.length).at(-1)!;
    expect(cardButtonsOf(card.body)).toEqual(['approve', 'deny']);
  });
});
