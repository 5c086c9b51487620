// End to end on Teams: a request in the personal chat, the approver's card, the grant message — and the
// certificate from that message logs in to a real sshd test host with the real ssh client, using the ssh line
// the message gives; after `revoke` the same login fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/store/requests.js';
import { personalConversationOf, textOf, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { startE2eLab, type E2eLab } from '../helpers/e2e-lab.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { TEAMS_PEOPLE, startTeamsRig, type TeamsRig } from '../integration/teams-harness.js';

const reason = rootTestSkipReason();
const { dev, lead } = TEAMS_PEOPLE;

describe.skipIf(!!reason)(`Teams end to end on a real sshd${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-teams-e2e-'));
  let lab: E2eLab;
  let rig: TeamsRig;
  const chatOf = (user: FakeTeamsUser) => rig.connector.posted(personalConversationOf(user)).map((a) => a.body);

  beforeAll(async () => {
    lab = await startE2eLab('teams-e2e', dev.email);
    rig = await startTeamsRig({ clockStart: Date.now(), config: lab.config, hosts: (ctx) => lab.hosts(ctx) });
    await lab.bootstrap(rig.ca!.publicKeyLine);
  });

  afterAll(async () => {
    await rig?.close();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('request in Teams → approval card → grant message whose certificate and ssh line log in; revoke ends it', async () => {
    const userKey = await generateUserKey(dir);
    await rig.teams.message(lead, 'hello');
    await rig.teams.message(dev, `key ${userKey.publicKeyLine}`);
    await rig.teams.message(dev, 'request e2e-1 30m e2e proof');
    await rig.settle();
    const card = chatOf(lead).find((a) => a.attachments?.length);
    expect(card, 'the approval card').toBeDefined();
    const cardId = rig.connector.posted(personalConversationOf(lead)).find((a) => a.body === card)!.id;
    await rig.teams.submit(lead, { keyway: 'approve', requestId: 1 }, cardId);
    await rig.settle();
    expect(getRequest(rig.ctx.db, 1)!.state).toBe('approved');

    const grant = chatOf(dev).map(textOf).find((t) => t.includes('-cert-v01@openssh.com'));
    expect(grant, 'the grant message').toBeDefined();
    expect(grant).toContain('~/.ssh/id_e2e-cert.pub');
    expect(grant).toContain('This is the e2e lab.');
    const certificate = /(ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(grant!)![1]!;
    const [, keyName, user, sshHost, port] = /ssh -i ~\/\.ssh\/(\S+) (\S+)@(\S+) -p (\d+)/.exec(grant!)!;
    expect([keyName, user, sshHost, Number(port)]).toEqual(['id_e2e', 'dev', '127.0.0.1', lab.host.port]);

    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, `${certificate}\n`);
    const target = { host: sshHost!, port: Number(port) };
    const login = await sshRun(target, { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' });
    expect(login, login.stderr).toMatchObject({ code: 0, stdout: 'dev\n' });

    await rig.teams.message(dev, 'revoke 1');
    await rig.settle();
    expect(chatOf(dev).map(textOf).join('\n')).toMatch(/revoked on `e2e-1`/);
    const after = await sshRun(target, { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' });
    expect(after.code).toBe(255);
  });
});
