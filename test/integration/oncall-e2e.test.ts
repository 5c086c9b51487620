// End to end: a requester on call in a PagerDuty schedule (a local stand-in reached through api_url) asks through
// the real Slack app, is approved at once with no approver, and the certificate from the grant DM logs in to a real
// sshd test host with the real ssh client.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachOncall, createOncallResolver } from '../../src/access/oncall.js';
import { getRequest } from '../../src/store/requests.js';
import { startE2eLab, type E2eLab } from '../helpers/e2e-lab.js';
import { startFakePagerDuty, type FakePagerDuty } from '../helpers/fake-pagerduty.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { PEOPLE, callText, dmChannel, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const reason = rootTestSkipReason();
const { dev } = PEOPLE;

describe.skipIf(!!reason)(`on-call auto-approval end to end on a real sshd${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-oncall-e2e-'));
  let lab: E2eLab;
  let rig: SlackRig;
  let pd: FakePagerDuty;

  beforeAll(async () => {
    pd = await startFakePagerDuty();
    lab = await startE2eLab('oncall-e2e', 'nobody@example.com');
    const [labFlow] = lab.config.flows;
    const config = {
      ...lab.config,
      oncall: { providers: { pagerduty: { secret: { env: 'PD_TOKEN' }, apiUrl: pd.apiUrl } }, cacheSeconds: 60, timeoutSeconds: 2 },
      flows: [{ ...labFlow!, requesters: { everyone: false, emails: [], slackUsergroups: [], oncall: ['pagerduty:PSCHED1'] }, autoApproveOnCall: true, capToShift: true }],
    };
    rig = await startSlackRig({ clockStart: Date.now(), config, hosts: (ctx) => lab.hosts(ctx) });
    attachOncall(rig.ctx, createOncallResolver({ config: rig.ctx.config, env: { PD_TOKEN: pd.token }, now: rig.ctx.now }));
    await lab.bootstrap(rig.ca.publicKeyLine);
  });

  afterAll(async () => {
    await rig?.close();
    await lab?.close();
    await pd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an on-call requester is approved at once and the certificate logs in', async () => {
    const now = rig.ctx.now(); // Keyway's clock (set when the rig started): the shift's rest is measured from it
    pd.schedules.set('PSCHED1', [{ email: dev.email, start: now - 3600_000, end: now + 20 * 60_000 }]);
    const userKey = await generateUserKey(dir);
    await rig.slack.command(dev.id, `key ${userKey.publicKeyLine}`); // on call only: the shift lets them register too
    await rig.settle();

    const id = await requestByCommand(rig, dev.id, 'request e2e-1 1h INC-42 on call');
    const request = getRequest(rig.ctx.db, id)!;
    expect(request.state).toBe('approved');
    expect(request.decisionReason).toMatch(/^auto-approved: on call in PagerDuty schedule PSCHED1 \(shift ends \d\d:\d\d UTC\)$/);
    expect(request.durationSeconds).toBeLessThanOrEqual(20 * 60);

    const grantDm = rig.fake.callsTo('chat.postMessage').find((c) => c.response.channel === dmChannel(dev.id) && callText(c).includes('-cert-v01@openssh.com'));
    expect(grantDm, 'the grant DM').toBeDefined();
    const text = callText(grantDm!);
    const certificate = /(ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(text)![1]!;
    const [, , user, sshHost, port] = /ssh -i ~\/\.ssh\/(\S+) (\S+)@(\S+) -p (\d+)/.exec(text)!;
    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, `${certificate}\n`);
    const login = await sshRun({ host: sshHost!, port: Number(port) }, { user: user!, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' });
    expect(login, login.stderr).toMatchObject({ code: 0, stdout: 'dev\n' });
  });
});
