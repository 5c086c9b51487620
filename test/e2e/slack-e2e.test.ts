// End to end on Slack: the slash command, the approver's button, the grant DM — and the certificate from that
// DM logs in to a real sshd test host with the real ssh client, using the ssh line the DM gives; after
// `/ssh-access revoke` the same login fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRequest } from '../../src/store/requests.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { startE2eLab, type E2eLab } from '../helpers/e2e-lab.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { PEOPLE, approvalMessageOf, callText, dmChannel, repliesTo, requestByCommand, startSlackRig, type SlackRig } from '../integration/slack-harness.js';

const reason = rootTestSkipReason();
const { dev, lead } = PEOPLE;

describe.skipIf(!!reason)(`Slack end to end on a real sshd${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-slack-e2e-'));
  let lab: E2eLab;
  let rig: SlackRig;

  beforeAll(async () => {
    lab = await startE2eLab('slack-e2e', dev.email);
    rig = await startSlackRig({ clockStart: Date.now(), config: lab.config, hosts: (ctx) => lab.hosts(ctx) });
    await lab.bootstrap(rig.ca.publicKeyLine);
  });

  afterAll(async () => {
    await rig?.close();
    await lab?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('slash command → approver\'s button → grant DM whose certificate and ssh line log in; revoke ends it', async () => {
    const userKey = await generateUserKey(dir);
    await rig.slack.command(dev.id, `key ${userKey.publicKeyLine}`);
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toMatch(/Registered your ssh-ed25519 key/);

    const id = await requestByCommand(rig, dev.id, 'request e2e-1 30m e2e proof');
    await rig.slack.click(lead.id, 'keyway_approve', String(id), approvalMessageOf(rig, id, lead.id));
    await rig.settle();
    expect(getRequest(rig.ctx.db, id)!.state).toBe('approved');

    const grantDm = rig.fake.callsTo('chat.postMessage').find((c) => c.response.channel === dmChannel(dev.id) && callText(c).includes('-cert-v01@openssh.com'));
    expect(grantDm, 'the grant DM').toBeDefined();
    const text = callText(grantDm!);
    expect(text).toContain('~/.ssh/id_e2e-cert.pub');
    expect(text).toContain('This is the e2e lab.');
    const certificate = /(ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(text)![1]!;
    const [, keyName, user, sshHost, port] = /ssh -i ~\/\.ssh\/(\S+) (\S+)@(\S+) -p (\d+)/.exec(text)!;
    expect([keyName, user, sshHost, Number(port)]).toEqual(['id_e2e', 'dev', '127.0.0.1', lab.host.port]);

    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, `${certificate}\n`);
    const target = { host: sshHost!, port: Number(port) };
    const login = await sshRun(target, { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' });
    expect(login, login.stderr).toMatchObject({ code: 0, stdout: 'dev\n' });

    await rig.slack.command(dev.id, `revoke ${id}`);
    await rig.settle();
    expect(repliesTo(rig, dev.id).at(-1)).toMatch(/revoked on `e2e-1`/);
    const after = await sshRun(target, { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' });
    expect(after.code).toBe(255);
  });
});
