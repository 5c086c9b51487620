// The same bot registration can be reached from Web Chat or Direct Line: an activity from a channel other than
// `msteams` is ignored even with a valid Bot Framework token, because only Teams vouches for a Teams user. The real
// botbuilder endpoint over HTTP with botbuilder's own token checks against a local identity service whose keys
// are endorsed for those channels (test/helpers/endorsing-identity.ts), a fake Bot Connector, a real SQLite database.
import { afterEach, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/store/requests.js';
import { registerKey } from '../helpers/access-context.js';
import { startEndorsingBotIdentity } from '../helpers/endorsing-identity.js';
import { authenticationFor, type FakeBotIdentity } from '../helpers/fake-bot-identity.js';
import { TENANT_ID, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from './teams-harness.js';

const APP_ID = '00000000-0000-4000-8000-000000000003';
const { dev, lead } = TEAMS_PEOPLE;

let rig: TeamsRig | undefined;
let identity: FakeBotIdentity | undefined;
afterEach(async () => {
  await rig?.close();
  await identity?.close();
  rig = undefined;
  identity = undefined;
});

async function authenticatedRig(): Promise<TeamsRig> {
  // Keys endorsed for these channels too, as Microsoft's are: botbuilder lets the token through, Keyway must not.
  identity = await startEndorsingBotIdentity(['msteams', 'webchat', 'directline', 'emulator']);
  rig = await startTeamsRig({
    settings: { appId: APP_ID, appPassword: 'test-password', tenants: [TENANT_ID], allowUnauthenticated: false },
    authentication: authenticationFor(identity, APP_ID, 'test-password'),
  });
  registerKey(rig.ctx, dev.email, 'dev');
  return rig;
}

/** Posts an activity from `channelId` carrying a valid token for this bot; returns the HTTP status. */
async function signed(user: FakeTeamsUser, channelId: string, extra: Record<string, unknown>): Promise<number> {
  const token = identity!.channelToken({ appId: APP_ID, serviceUrl: rig!.connector.serviceUrl });
  const status = (await rig!.teams.post(rig!.teams.raw(user, { channelId, ...extra }), `Bearer ${token}`)).status;
  await rig!.settle();
  return status;
}

const requestCount = () => (rig!.ctx.db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
const sends = () => rig!.connector.calls.filter((c) => c.method !== 'GET');

describe('Teams: channels other than msteams', () => {
  it.each(['webchat', 'directline', 'emulator'])('ignores an authenticated request from the %s channel: no request, no reply', async (channelId) => {
    await authenticatedRig();
    expect(await signed(lead, channelId, { text: 'help' })).toBeLessThan(300);
    expect(await signed(dev, channelId, { text: 'request web-2 1h INC-21' })).toBeLessThan(300);
    expect(requestCount()).toBe(0);
    expect(rig!.connector.calls, 'nothing was asked of or sent to the Bot Connector').toEqual([]);
    expect(rig!.ctx.db.prepare("SELECT COUNT(*) AS n FROM chat_addresses WHERE platform = 'teams'").get()).toEqual({ n: 0 });
  });

  it('ignores an approval click from Web Chat, while the same click from Teams approves', async () => {
    await authenticatedRig();
    expect(await signed(lead, 'msteams', { text: 'help' })).toBe(200);
    expect(await signed(dev, 'msteams', { text: 'request web-2 1h INC-22' })).toBe(200);
    expect(getRequest(rig!.ctx.db, 1)!.state).toBe('pending');
    const before = sends().length;

    expect(await signed(lead, 'webchat', { value: { keyway: 'approve', requestId: 1 } })).toBeLessThan(300);
    expect(getRequest(rig!.ctx.db, 1)!.state, 'a Web Chat click decides nothing').toBe('pending');
    expect(sends().length).toBe(before);

    expect(await signed(lead, 'msteams', { value: { keyway: 'approve', requestId: 1 } })).toBe(200);
    expect(getRequest(rig!.ctx.db, 1)).toMatchObject({ state: 'approved', decidedBy: lead.email });
  });
});
