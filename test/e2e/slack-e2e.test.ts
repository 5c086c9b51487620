// End to end on Slack: the slash command, the approver's button, the grant DM — and the certificate from that
// DM logs in to a real sshd test host with the real ssh client, using the ssh line the DM gives; after
// `/ssh-access revoke` the same login fails.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapServer } from '../../src/hosts/bootstrap.js';
import { ConnectionPool } from '../../src/hosts/connection-pool.js';
import { sshHostEffects } from '../../src/hosts/host-effects.js';
import { databaseHostKeyPins } from '../../src/hosts/open-pool.js';
import { getRequest } from '../../src/store/requests.js';
import { flow, integration, server } from '../helpers/access-config.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';
import { PEOPLE, approvalMessageOf, callText, dmChannel, repliesTo, requestByCommand, startSlackRig, type SlackRig } from '../integration/slack-harness.js';

const reason = rootTestSkipReason();
const { dev, lead } = PEOPLE;

describe.skipIf(!!reason)(`Slack end to end on a real sshd${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-slack-e2e-'));
  let host: TestHost;
  let pool: ConnectionPool | undefined;
  let rig: SlackRig;

  beforeAll(async () => {
    [host] = (await startTestHosts(1, { name: 'slack-e2e' })) as [TestHost];
    const lab = integration('lab', [server('e2e-1', { host: '127.0.0.1', port: host.port, user: host.connectorUser })], { userKeyName: 'id_e2e', customAccessDetails: 'This is the e2e lab.' });
    rig = await startSlackRig({
      clockStart: Date.now(),
      config: { integrations: [lab], people: [], flows: [flow('lab', 'lab', { resources: { integration: 'lab', servers: ['e2e-1'], tags: {} }, requesters: { everyone: false, emails: [dev.email], slackUsergroups: [] } })] },
      hosts: (ctx) => {
        pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
        return sshHostEffects({ pool, db: ctx.db, now: Date.now });
      },
    });
    await bootstrapServer(pool!, { integration: lab, server: lab.servers[0]! }, rig.ca.publicKeyLine);
  });

  afterAll(async () => {
    await rig?.close();
    await pool?.close();
    await stopAllTestHosts();
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
    expect([keyName, user, sshHost, Number(port)]).toEqual(['id_e2e', 'dev', '127.0.0.1', host.port]);

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
