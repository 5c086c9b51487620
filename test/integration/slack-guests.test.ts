// Who may use Keyway from Slack: guests (single- and multi-channel) and bots are requesters only under a flow
// that says allow_guests, and never approvers; and chat input that only looks like a duration is refused.
// Driven through the real Bolt app over signed HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit-log.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey } from '../helpers/access-context.js';
import type { FakeSlackUser } from '../helpers/fake-slack.js';
import { PEOPLE, approvalMessageOf, countRows, openFlow, repliesTo, requestByCommand, startSlackRig, type RigOptions, type SlackRig } from './slack-harness.js';

let rig: SlackRig;
afterEach(async () => rig?.close());

const GUEST: FakeSlackUser = { id: 'U0GUEST', email: 'guest@example.com', restricted: true };
const SINGLE_CHANNEL_GUEST: FakeSlackUser = { id: 'U0SCG', email: 'scg@example.com', ultraRestricted: true };
const BOT: FakeSlackUser = { id: 'U0BOT', email: 'bot@example.com', isBot: true };
const APP_USER: FakeSlackUser = { id: 'U0APPUSER', email: 'app@example.com', isAppUser: true };
const ALL = [GUEST, SINGLE_CHANNEL_GUEST, BOT, APP_USER];

/** Every test person in the flow by e-mail, so only their being a guest or a bot can refuse them. */
function config(allowGuests: boolean) {
  const prod = accessConfig().integrations[0]!;
  return accessConfig({
    flows: [openFlow('prod-debug', prod, {
      requesters: { everyone: false, emails: [PEOPLE.dev.email, ...ALL.map((u) => u.email!)], slackUsergroups: [] },
      approvers: { everyone: false, emails: [PEOPLE.lead.email, GUEST.email!], slackUsergroups: [] },
      allowGuests,
    })],
  });
}

async function start(options: RigOptions): Promise<SlackRig> {
  rig = await startSlackRig({ extraUsers: ALL, ...options });
  registerKey(rig.ctx, PEOPLE.dev.email, 'dev');
  for (const user of ALL) registerKey(rig.ctx, user.email!, user.id.slice(1).toLowerCase());
  return rig;
}

describe('Slack guests and bots', () => {
  it('refuses a request from a guest, a single-channel guest, a bot and an app user under a flow without allow_guests, recording nothing', async () => {
    await start({ config: config(false) });
    for (const user of ALL) await rig.slack.command(user.id, 'request web-2 1h INC-1 looking around');
    await rig.settle();
    for (const user of ALL) {
      expect(repliesTo(rig, user.id), user.id).toEqual([expect.stringMatching(/guest.*allow_guests/)]);
      expect(repliesTo(rig, user.id)[0], user.id).not.toMatch(/something went wrong/);
    }
    expect(countRows(rig, 'requests')).toBe(0);
    expect(listAudit(rig.ctx.db).filter((e) => e.action.startsWith('request.'))).toEqual([]);
    expect(rig.fake.callsTo('chat.postMessage')).toEqual([]);
  });

  it('takes a guest\'s request under a flow with allow_guests: true', async () => {
    await start({ config: config(true) });
    const id = await requestByCommand(rig, GUEST.id, 'request web-2 1h INC-1 vendor fix');
    expect(getRequest(rig.ctx.db, id)).toMatchObject({ requesterEmail: GUEST.email, state: 'pending' });
  });

  it('never lets a guest approve, even one named as an approver by e-mail', async () => {
    await start({ config: config(true) });
    const id = await requestByCommand(rig, PEOPLE.dev.id, 'request web-2 1h INC-2 disk full');
    await rig.slack.click(GUEST.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, PEOPLE.lead.id));
    await rig.settle();
    expect(repliesTo(rig, GUEST.id)).toEqual([expect.stringMatching(/guests never decide/)]);
    expect(getRequest(rig.ctx.db, id)!.state).toBe('pending');
  });
});

describe('request words that only look like a duration', () => {
  it('refuses `request web-1 -5m x` with what to type, and records nothing', async () => {
    await start({ config: config(false) });
    for (const word of ['-5m', '0m', '2x', '5mm']) {
      const answer = await rig.slack.command(PEOPLE.dev.id, `request web-2 ${word} x`);
      expect(answer.json, word).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining(`"${word}" is not a`) });
    }
    await rig.settle();
    expect(countRows(rig, 'requests')).toBe(0);
    expect(rig.fake.callsTo('chat.postMessage')).toEqual([]);
  });
});
