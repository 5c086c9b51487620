// The Teams request form with more servers than a card can list: the first 100 as choices, the rest found by Teams'
// dynamic type-ahead (Input.ChoiceSet choices.data Data.Query), which Keyway answers over the real botbuilder
// endpoint with only the servers this person may request, a page of at most 15 at a time.
import { afterEach, describe, expect, it } from 'vitest';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey } from '../helpers/access-context.js';
import { personalConversationOf, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from './teams-harness.js';

const { dev, outsider } = TEAMS_PEOPLE;
let rig: TeamsRig | undefined;
afterEach(async () => rig?.close());

const fleet = integration('fleet', Array.from({ length: 1_000 }, (_, n) => server(`node-${n}`, { tags: { env: 'prod' } })), { owners: ['platform@example.com'] });
const config = accessConfig({ integrations: [fleet], flows: [flow('fleet-debug', 'fleet', { requesters: { everyone: false, emails: [dev.email], slackUsergroups: [] } })] });

function search(user: FakeTeamsUser, queryText: string, queryOptions = { skip: 0, top: 15 }, dataset = 'keyway.servers') {
  return rig!.teams.post(rig!.teams.raw(user, { type: 'invoke', name: 'application/search', value: { queryText, queryOptions, dataset } }));
}

describe('the Teams server picker with many servers', () => {
  it('lists the first 100 in the card and lets Teams search the rest, within Teams\' card size', async () => {
    rig = await startTeamsRig({ config });
    registerKey(rig.ctx, dev.email, 'dev');
    expect((await rig.teams.message(dev, 'request')).status).toBe(200);
    const form = rig.connector.posted(personalConversationOf(dev)).filter((a) => a.body.attachments?.length).at(-1)!;
    const picker = (form.body.attachments[0].content.body as Array<Record<string, unknown>>).find((e) => e.id === 'servers')!;
    expect((picker.choices as unknown[]).length).toBe(100);
    expect(picker).toMatchObject({ style: 'filtered', 'choices.data': { type: 'Data.Query', dataset: 'keyway.servers' } });
    expect(Buffer.byteLength(JSON.stringify(form.body))).toBeLessThan(28 * 1024);
  });

  it('answers a search with the matching servers the person may request, a page at a time', async () => {
    rig = await startTeamsRig({ config });
    const answer = await search(dev, 'node-99');
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as { type: string; value: { results: Array<{ title: string; value: string }> } };
    expect(body.type).toBe('application/vnd.microsoft.search.searchResponse');
    expect(body.value.results.map((r) => r.value)).toEqual(['node-99', ...Array.from({ length: 10 }, (_, i) => `node-99${i}`)]);
    expect(body.value.results[0]!.title).toBe('node-99 (fleet)');

    const page2 = JSON.parse((await search(dev, 'node-1', { skip: 15, top: 50 })).text) as typeof body;
    expect(page2.value.results).toHaveLength(15); // Teams shows 15 at most
    expect(page2.value.results[0]!.value).toBe('node-104') // node-1, node-10…19, node-100…103 were the first page;

    // Someone no flow lets request gets nothing, and an unknown dataset is refused.
    expect((JSON.parse((await search(outsider, 'node')).text) as typeof body).value.results).toEqual([]);
    expect((await search(dev, 'node', undefined, 'other')).status).toBe(400);
  });
});
