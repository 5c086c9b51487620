// rdp with `domain:` against a real Samba AD DC (the windows-dc side) and a WinRM stand-in (the server), through the
// real Slack app: the person's domain account kw-<user> is prepared in Keyway's OU and added as KEYWAY\kw-<user> to
// the server's Remote Desktop Users; no local account is made. The DMed password binds to the DC. Revoke takes the
// account out of the group and, when no grant of the person in the domain is left, disables it (the password fails);
// with a live windows-dc grant of the same person it stays enabled until that one ends. Cleanup then deletes it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/access/sweeper.js';
import type { RdpIntegration, WindowsDcIntegration } from '../../src/core/model.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { getRequest } from '../../src/store/requests.js';
import { fromFileTime, KEYWAY_MARKER } from '../../src/targets/windows/ad/directory.js';
import { windowsDcDriver } from '../../src/targets/windows/ad/windows-dc-driver.js';
import { rdpDriver } from '../../src/targets/windows/rdp/rdp-driver.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { FakeWinrm } from '../helpers/fake-winrm.js';
import { makeTestTls } from '../helpers/fake-winrm-tls.js';
import { delegatedConnector } from '../helpers/samba-connector.js';
import { sambaSkipReason, startSambaDc, type SambaDc } from '../helpers/samba-dc.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { PEOPLE, approveAs, callText, capturedLogger, dmChannel, passwordFromDm, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const skip = sambaSkipReason();
const OU = 'OU=Keyway,DC=keyway,DC=test';
const USERS = 'CN=Users,DC=keyway,DC=test';
const RDU = 'Remote Desktop Users';
const ADMIN_PASSWORD = 'Adm1n-S3cret!winrm';
const HOUR = 3_600_000;

describe.skipIf(skip !== undefined)(`rdp through a windows-dc domain, real Samba AD DC and a WinRM stand-in${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const temp = makeTempDir('keyway-rdp-domain-');
  const logs = capturedLogger();
  let dc: SambaDc;
  let win1: FakeWinrm;
  let slack: SlackRig;

  const dmTexts = (userId: string) => slack.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(userId)).map(callText);
  const account = async (name: string) => (await dc.search('DC=keyway,DC=test', `(sAMAccountName=${name})`, ['memberOf', 'userAccountControl', 'accountExpires', 'description']))[0];



  beforeAll(async () => {
    dc = await startSambaDc();
    await dc.modify([
      `dn: ${OU}`, 'objectClass: organizationalUnit', 'ou: Keyway', '',
      `dn: CN=Server Admins,${USERS}`, 'objectClass: group', 'sAMAccountName: Server Admins', '',
    ].join('\n'), true);
    const connector = await delegatedConnector(dc, ['Server Admins']);
    const bindSecret = join(temp.dir, 'bind-password');
    writeFileSync(bindSecret, `${connector.password}\n`, { mode: 0o600 });

    const tls = makeTestTls(temp.dir);
    const caFile = join(temp.dir, 'winrm-ca.pem');
    writeFileSync(caFile, tls.caPem);
    const winrmSecret = join(temp.dir, 'winrm-admin-password');
    writeFileSync(winrmSecret, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    win1 = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, computerName: 'WIN-1', tls: { keyPem: tls.serverKeyPem, certPem: tls.serverCertPem } });

    const common = {
      userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60000, max: 64999 },
      cleanupAfterDays: 1, owners: ['platform@example.com'], allowPrivilegedGroups: false,
    };
    const corp: WindowsDcIntegration = {
      ...common, name: 'corp', type: 'windows-dc', url: dc.ldapsUrl, startTls: false, bindDn: connector.dn, baseDn: dc.baseDn, ou: OU,
      groups: ['Server Admins'], tlsCaFile: dc.caFile, rdpPort: 3389, secret: { file: bindSecret },
      servers: [{ name: 'Server Admins', host: dc.ip, port: 636, user: connector.dn, tags: {} }],
    };
    const desktops: RdpIntegration = {
      ...common, name: 'desktops', type: 'rdp', user: 'Administrator', secret: { file: winrmSecret }, tlsCaFile: caFile, allowUnencrypted: false,
      servers: [{ name: 'win-1', host: '127.0.0.1', user: 'Administrator', port: win1.port, winrmPort: win1.port, rdpPort: 3389, useSsl: true, tags: {} }],
      userGroups: [RDU], domain: 'corp',
    };
    const requesters = { everyone: false, emails: [PEOPLE.dev.email], slackUsergroups: [] };
    const config = accessConfig({
      integrations: [corp, desktops],
      flows: [
        flow('ad-groups', 'corp', { requesters, resources: { integration: 'corp', servers: ['Server Admins'], tags: {} } }),
        flow('windows', 'desktops', { requesters, resources: { integration: 'desktops', servers: ['win-1'], tags: {} } }),
      ],
    });
    slack = await startSlackRig({ config, clockStart: Date.now(), drivers: [['windows-dc', windowsDcDriver({ env: {} })], ['rdp', rdpDriver({ env: {} })]] });
    (slack.ctx as { logger: Logger }).logger = logs.logger;
  }, 240_000);

  afterAll(async () => {
    await slack?.close();
    expect(win1?.envelopeErrors ?? []).toEqual([]);
    await win1?.close();
    await dc?.stop();
    temp.remove();
  });

  it('adds KEYWAY\\kw-dev to Remote Desktop Users with a DMed password that binds to the DC; revoke takes it out and disables the account', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request win-1 1h INC-17 check the desktop');
    await approveAs(slack, PEOPLE.lead.id, id);
    const [grant] = grantsOfRequest(slack.ctx.db, id);
    expect(grant!.state, grant!.lastError ?? '').toBe('active');

    const password = passwordFromDm(slack, PEOPLE.dev.id);
    const dm = dmTexts(PEOPLE.dev.id).find((t) => t.includes(password))!;
    for (const part of ['Remote Desktop access', 'host: 127.0.0.1', 'port: 3389', 'user: KEYWAY\\kw-dev', 'full address:s:127.0.0.1:3389', 'username:s:KEYWAY\\kw-dev', 'win-1.rdp']) {
      expect(dm, part).toContain(JSON.stringify(part).slice(1, -1)); // the DM's text is the message's JSON
    }
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });
    expect(win1.isMember(RDU, 'KEYWAY\\kw-dev')).toBe(true);
    expect(win1.account('kw-dev'), 'no local account').toBeUndefined();

    const end = getRequest(slack.ctx.db, id)!.accessExpiresAt!;
    const created = (await account('kw-dev'))!;
    expect(created.dn).toEqual([`CN=kw-dev,${OU}`]);
    expect(created.description).toEqual([KEYWAY_MARKER]);
    expect(created.userAccountControl).toEqual(['512']);
    expect(fromFileTime(created.accountExpires![0]!)).toBe(end);
    expect(created.memberOf ?? []).toEqual([]); // an rdp grant gives no domain group
    // The password is only in the requester's DM: not in other messages, logs or the database.
    expect(slack.fake.calls.filter((c) => c.response.channel !== dmChannel(PEOPLE.dev.id)).map(callText).join('\n')).not.toContain(password);
    expect(JSON.stringify(logs.lines)).not.toContain(password);
    for (const file of ['keyway.db', 'keyway.db-wal'].map((f) => join(slack.ctx.dir, f)).filter(existsSync)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(password, 'utf8')) || bytes.includes(Buffer.from(password, 'utf16le')), file).toBe(false);
    }

    slack.ctx.clock.now = end;
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => [g.state, g.lastError])).toEqual([['revoked', null]]);
    expect(win1.isMember(RDU, 'KEYWAY\\kw-dev')).toBe(false);
    expect((await account('kw-dev'))!.userAccountControl).toEqual(['514']);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: false });
  });

  it('keeps the domain account enabled while a windows-dc grant of the same person lives; cleanup deletes it after both ended', async () => {
    const adRequest = await requestByCommand(slack, PEOPLE.dev.id, 'request "Server Admins" 3h INC-18 domain work');
    await approveAs(slack, PEOPLE.lead.id, adRequest);
    const rdpRequest = await requestByCommand(slack, PEOPLE.dev.id, 'request win-1 1h INC-18 and the desktop');
    await approveAs(slack, PEOPLE.lead.id, rdpRequest);
    for (const id of [adRequest, rdpRequest]) {
      const [grant] = grantsOfRequest(slack.ctx.db, id);
      expect(grant!.state, grant!.lastError ?? '').toBe('active');
    }
    const adEnd = getRequest(slack.ctx.db, adRequest)!.accessExpiresAt!;
    const rdpEnd = getRequest(slack.ctx.db, rdpRequest)!.accessExpiresAt!;
    expect(rdpEnd).toBeLessThan(adEnd);
    // The account lasts as long as the longest of the two grants, whichever came last.
    expect(fromFileTime((await account('kw-dev'))!.accountExpires![0]!)).toBe(adEnd);
    const password = passwordFromDm(slack, PEOPLE.dev.id); // the latest: the rdp request's, which replaced the first
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });
    expect(win1.isMember(RDU, 'KEYWAY\\kw-dev')).toBe(true);

    slack.ctx.clock.now = rdpEnd;
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, rdpRequest).map((g) => g.state)).toEqual(['revoked']);
    expect(grantsOfRequest(slack.ctx.db, adRequest).map((g) => g.state)).toEqual(['active']);
    expect(win1.isMember(RDU, 'KEYWAY\\kw-dev')).toBe(false);
    const kept = (await account('kw-dev'))!;
    expect(kept.userAccountControl).toEqual(['512']);
    expect(fromFileTime(kept.accountExpires![0]!)).toBe(adEnd);
    expect(kept.memberOf).toEqual([`CN=Server Admins,${USERS}`]);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });

    // Later, the live windows-dc grant still needs the account: nothing is cleaned up.
    slack.ctx.clock.now = adEnd - 1;
    await sweepOnce(slack.engine.runner);
    expect(await account('kw-dev')).toBeDefined();

    slack.ctx.clock.now = adEnd;
    await sweepOnce(slack.engine.runner);
    expect((await account('kw-dev'))!.userAccountControl).toEqual(['514']);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: false });

    slack.ctx.clock.now = adEnd + 24 * HOUR; // cleanup_after_days: 1 after the last grant in the domain ended
    await sweepOnce(slack.engine.runner);
    expect(await account('kw-dev')).toBeUndefined();
    expect(grantsOfRequest(slack.ctx.db, rdpRequest).map((g) => g.state)).toEqual(['cleaned']);
    expect(grantsOfRequest(slack.ctx.db, adRequest).map((g) => g.state)).toEqual(['cleaned']);
  });
});
