// Who may use Keyway from Teams, and the largest certificate it sends: a guest of the tenant requests only under
// a flow with allow_guests; a 4096-bit RSA certificate (signed by a 4096-bit RSA CA) arrives whole.
// Driven through the real botbuilder endpoint with Teams-shaped activities.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { caKeyFromKeyObject } from '../../src/ca/ca-key.js';
import { sshPublicKeyBlob } from '../../src/ca/ssh-public-key.js';
import { createEngine } from '../../src/access/engine.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { AccessConfig } from '../../src/core/model.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext } from '../helpers/access-context.js';
import { personalConversationOf, textOf, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { openFlow, recordingHosts } from './slack-harness.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from './teams-harness.js';

let rig: TeamsRig;
let ownContext: { close(): void } | undefined;
afterEach(async () => {
  await rig?.close();
  ownContext?.close();
  ownContext = undefined;
});

const { dev, lead, guest } = TEAMS_PEOPLE;

function chatOf(user: FakeTeamsUser): string[] {
  return rig.connector.posted(personalConversationOf(user)).map((a) => textOf(a.body));
}

async function say(user: FakeTeamsUser, text: string): Promise<void> {
  expect((await rig.teams.message(user, text)).status).toBe(200);
  await rig.settle();
}

function guestConfig(allowGuests: boolean): AccessConfig {
  const prod = accessConfig().integrations[0]!;
  return accessConfig({
    flows: [openFlow('prod-debug', prod, {
      requesters: { everyone: false, emails: [dev.email, guest.email], slackUsergroups: [] },
      approvers: { everyone: false, emails: [lead.email], slackUsergroups: [] }, allowGuests,
    })],
  });
}

describe('Teams guests', () => {
  it('refuses a guest\'s request under a flow without allow_guests, with what to do, and records nothing', async () => {
    rig = await startTeamsRig({ config: guestConfig(false) });
    registerKey(rig.ctx, guest.email, 'guest');
    await say(guest, 'request web-2 1h INC-1 vendor fix');
    expect(chatOf(guest).join('\n')).toMatch(/guest.*allow_guests/);
    expect(chatOf(guest).join('\n')).not.toMatch(/something went wrong/i);
    expect(rig.ctx.db.prepare('SELECT COUNT(*) FROM requests').pluck().get()).toBe(0);
  });

  it('takes a guest\'s request under a flow with allow_guests: true', async () => {
    rig = await startTeamsRig({ config: guestConfig(true) });
    registerKey(rig.ctx, guest.email, 'guest');
    await say(lead, 'hello');
    await say(guest, 'request web-2 1h INC-1 vendor fix');
    expect(getRequest(rig.ctx.db, 1)).toMatchObject({ requesterEmail: guest.email, state: 'pending' });
  });
});

describe('the Teams request form', () => {
  it('caps the reason at the 500 characters Keyway accepts', async () => {
    rig = await startTeamsRig({ config: guestConfig(false) });
    await say(dev, 'request');
    const form = rig.connector.posted(personalConversationOf(dev)).find((a) => a.body.attachments?.length)!;
    expect(JSON.stringify(form.body)).toContain('"id":"reason","label":"Reason"');
    const inputs = (form.body.attachments[0].content.body as Array<{ id?: string; maxLength?: number }>).filter((e) => e.id === 'reason');
    expect(inputs).toEqual([expect.objectContaining({ maxLength: 500, isMultiline: true })]);
  });
});

describe('the Teams certificate message', () => {
  it('carries a 4096-bit RSA certificate whole, on a line of its own inside the install block', async () => {
    const rsa = () => generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey;
    const servers = Array.from({ length: 8 }, (_, i) => server(`web-${i}-in-the-primary-datacenter-${'x'.repeat(8)}`));
    const big = integration('big-linux', servers);
    const ctx = ownContext = testContext(accessConfig({ integrations: [big], flows: [openFlow('big', big, { approvers: { everyone: false, emails: [lead.email], slackUsergroups: [] } })] }));
    const engine = createEngine(createGrantRunner(ctx, recordingHosts(), caKeyFromKeyObject(rsa())), []);
    rig = await startTeamsRig({ engine });
    registerKey(rig.ctx, dev.email, 'dev', `ssh-rsa ${sshPublicKeyBlob(createPublicKey(rsa())).toString('base64')} dev@laptop`);
    await say(lead, 'hello');
    await say(dev, `request ${servers.map((s) => s.name).join(',')} 1h INC-9`);
    const card = rig.connector.posted(personalConversationOf(lead)).filter((a) => a.body.attachments?.length).at(-1)!;
    expect((await rig.teams.submit(lead, { keyway: 'approve', requestId: 1 }, card.id)).status).toBe(200);
    await rig.settle();

    const certificate = rig.ctx.db.prepare('SELECT certificate FROM certificates WHERE request_id = 1').pluck().get() as string;
    expect(certificate).toMatch(/^ssh-rsa-cert-v01@openssh\.com \S+ keyway-req-1:dev@example\.com:\S+$/);
    expect(certificate.length).toBeGreaterThan(2900);
    const grant = chatOf(dev).find((t) => t.includes('-cert-v01@openssh.com'));
    expect(grant).toBeDefined();
    expect(grant!).toContain(`\`\`\`\ncat > ~/.ssh/id_ed25519-cert.pub <<'EOF'\n${certificate}\nEOF\n\`\`\``);
  });
});
