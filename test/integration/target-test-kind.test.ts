// A target kind that src/ does not know — "vault", defined in test/helpers/vault-kind.ts and registered from this
// test — goes request → approval → grant → credential message → expiry → revoke → cleanup through the real Slack
// app and the real Teams endpoint: access/, store/ and chat/ are kind-agnostic (issue 13).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/access/sweeper.js';
import type { Integration } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { personalConversationOf, textOf, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { VAULT_PASSWORD, vaultKind } from '../helpers/vault-kind.js';
import { PEOPLE, approvalMessageOf, callText, dmChannel, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from './teams-harness.js';

const vaults = { ...integration('vaults', [server('vault-1', { host: 'vault.internal', tags: { env: 'prod' } })], { cleanupAfterDays: 0 }), type: 'vault' } as unknown as Integration;
const config = accessConfig({
  integrations: [vaults],
  flows: [flow('vault-debug', 'vaults', { requesters: { everyone: false, emails: [PEOPLE.dev.email], slackUsergroups: [] } })],
});

describe('a test-only target kind through the real Slack app and the real Teams endpoint', () => {
  const calls: string[] = [];
  let slack: SlackRig;
  let teams: TeamsRig;
  const teamsChatOf = (user: FakeTeamsUser) => teams.connector.posted(personalConversationOf(user)).map((a) => textOf(a.body));
  const slackDmsTo = (userId: string) => slack.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(userId)).map(callText);

  beforeAll(async () => {
    slack = await startSlackRig({ config, drivers: [['vault', vaultKind(calls)]] });
    teams = await startTeamsRig({ engine: slack.engine });
  });

  afterAll(async () => {
    await teams?.close();
    await slack?.close();
  });

  async function expireAndClean(requestId: number): Promise<void> {
    slack.ctx.clock.now = getRequest(slack.ctx.db, requestId)!.accessExpiresAt!;
    await sweepOnce(slack.engine.runner); // expiry: revoke
    await sweepOnce(slack.engine.runner); // cleanup_after_days: 0
    slack.engine.kick();
    await slack.engine.idle();
    await Promise.all([slack.settle(), teams.settle()]);
    expect(grantsOfRequest(slack.ctx.db, requestId).map((g) => [g.state, g.targetKind, g.targetAddress])).toEqual([['cleaned', 'vault', 'vault://vault.internal']]);
  }

  it('on Slack: no SSH key needed, the password reaches only the requester, and access ends and is cleaned up', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request vault-1 1h INC-13 rotate the vault');
    expect(slackDmsTo(PEOPLE.lead.id).join('\n')).toContain('vault-1');
    await slack.slack.click(PEOPLE.lead.id, 'keyway_approve', String(id), approvalMessageOf(slack, id, PEOPLE.lead.id));
    await slack.settle();
    await slack.engine.idle();

    const credential = slackDmsTo(PEOPLE.dev.id).find((text) => text.includes(VAULT_PASSWORD));
    expect(credential, 'the credential DM').toBeDefined();
    expect(credential).toContain('vault login vault://vault.internal');
    expect(credential).toContain('Vault access');
    const elsewhere = slack.fake.calls.filter((c) => c.response.channel !== dmChannel(PEOPLE.dev.id)).map(callText);
    expect(elsewhere.join('\n'), 'the password in any other message').not.toContain(VAULT_PASSWORD);
    expect(calls).toEqual(['provision vault-1 kw-dev', 'credential vault-1']);

    await expireAndClean(id);
    expect(calls.slice(2)).toEqual(['revoke vault-1 other=false', 'cleanup vault-1']);
    expect(slackDmsTo(PEOPLE.dev.id).at(-1)).toMatch(/time is up|expired|ended/i);
    expect(listAudit(slack.ctx.db, { subject: 'vault:vault-1' }).map((e) => e.action)).toEqual(['vault.account_deleted']);
  });

  it('on Teams: request, approval card, credential message, expiry and cleanup', async () => {
    calls.length = 0;
    const { dev, lead } = TEAMS_PEOPLE;
    await teams.teams.message(lead, 'hello');
    await teams.teams.message(dev, 'request vault-1 1h INC-14 rotate the vault again');
    await teams.settle();
    await slack.engine.idle();
    const id = (slack.ctx.db.prepare('SELECT MAX(id) AS id FROM requests').get() as { id: number }).id;
    expect(getRequest(slack.ctx.db, id)).toMatchObject({ state: 'pending', source: 'teams' });

    const card = teams.connector.posted(personalConversationOf(lead)).find((a) => a.body.attachments?.length);
    expect(card, 'the approval card').toBeDefined();
    await teams.teams.submit(lead, { keyway: 'approve', requestId: id }, card!.id);
    await teams.settle();
    await slack.engine.idle();
    await teams.settle();

    const credential = teamsChatOf(dev).find((text) => text.includes(VAULT_PASSWORD));
    expect(credential, 'the credential message').toBeDefined();
    expect(credential).toContain('vault login vault://vault.internal');
    expect(teamsChatOf(lead).join('\n')).not.toContain(VAULT_PASSWORD);
    expect(calls).toEqual(['provision vault-1 kw-dev', 'credential vault-1']);

    await expireAndClean(id);
    expect(calls.slice(2)).toEqual(['revoke vault-1 other=false', 'cleanup vault-1']);
    expect(teamsChatOf(dev).at(-1)).toMatch(/time is up/);
  });
});
