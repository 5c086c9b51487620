// The windows-dc kind against a real Samba AD domain controller, driven through the real Slack app: a request for an
// AD group is approved, the password DMed to the requester binds over LDAPS, the account kw-<user> is in the group
// with accountExpires at the grant's end; after expiry the same password fails, the account is out of the group and
// disabled; cleanup deletes it. An account of the same name outside Keyway's OU is refused and left as it was. The
// password is never in the SQLite file, the logs or anyone else's messages.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/access/sweeper.js';
import type { WindowsDcIntegration } from '../../src/core/model.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { getRequest } from '../../src/store/requests.js';
import { fromFileTime, KEYWAY_MARKER } from '../../src/targets/windows/ad/directory.js';
import { windowsDcDriver } from '../../src/targets/windows/ad/windows-dc-driver.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { runKeyway } from '../helpers/run-keyway.js';
import { sambaSkipReason, startSambaDc, type SambaDc } from '../helpers/samba-dc.js';
import { delegatedConnector } from '../helpers/samba-connector.js';
import { PEOPLE, approveAs, callText, capturedLogger, dmChannel, passwordFromDm, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const skip = sambaSkipReason();
const OU = 'OU=Keyway,DC=keyway,DC=test';
const USERS = 'CN=Users,DC=keyway,DC=test';
const HOUR = 3_600_000;

describe.skipIf(skip !== undefined)(`windows-dc against a real Samba AD DC, through Slack${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dc: SambaDc;
  let slack: SlackRig;
  let connectorDn: string;
  let connectorPassword: string;
  const logs = capturedLogger();

  const dmTexts = (userId: string) => slack.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(userId)).map(callText);
  const account = async (name: string) => (await dc.search('DC=keyway,DC=test', `(sAMAccountName=${name})`, ['memberOf', 'userAccountControl', 'accountExpires', 'description', 'pwdLastSet']))[0];



  beforeAll(async () => {
    dc = await startSambaDc();
    await dc.modify([
      `dn: ${OU}`, 'objectClass: organizationalUnit', 'ou: Keyway', '',
      `dn: CN=Server Admins,${USERS}`, 'objectClass: group', 'sAMAccountName: Server Admins', '',
      `dn: CN=SQL Readers,${USERS}`, 'objectClass: group', 'sAMAccountName: SQL Readers', '',
      // Someone else's account with the name Keyway would give ana, outside Keyway's OU (marker and all).
      `dn: CN=kw-ana,${USERS}`, 'objectClass: user', 'sAMAccountName: kw-ana', `description: ${KEYWAY_MARKER}`, '',
    ].join('\n'), true);
    const connector = await delegatedConnector(dc, ['Server Admins', 'SQL Readers']);
    connectorDn = connector.dn;
    connectorPassword = connector.password;
    const secretFile = join(dc.dir, 'bind-password');
    writeFileSync(secretFile, `${connector.password}\n`, { mode: 0o600 });
    const corp: WindowsDcIntegration = {
      name: 'corp', type: 'windows-dc', url: dc.ldapsUrl, startTls: false, bindDn: connector.dn, baseDn: dc.baseDn, ou: OU,
      groups: ['Server Admins', 'SQL Readers'], tlsCaFile: dc.caFile, rdpPort: 3389, secret: { file: secretFile },
      servers: ['Server Admins', 'SQL Readers'].map((name) => ({ name, host: dc.ip, port: 636, user: connector.dn, tags: {} })),
      userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60000, max: 64999 },
      cleanupAfterDays: 1, owners: ['platform@example.com'], allowPrivilegedGroups: false,
    };
    const config = accessConfig({
      integrations: [corp],
      flows: [flow('ad-groups', 'corp', {
        requesters: { everyone: false, emails: [PEOPLE.dev.email, PEOPLE.ana.email], slackUsergroups: [] },
        resources: { integration: 'corp', servers: ['Server Admins', 'SQL Readers'], tags: {} },
      })],
    });
    slack = await startSlackRig({ config, clockStart: Date.now(), drivers: [['windows-dc', windowsDcDriver({ env: {} })]] });
    (slack.ctx as { logger: Logger }).logger = logs.logger;
  }, 240_000);

  afterAll(async () => {
    await slack?.close();
    await dc?.stop();
  });

  it('grants the group with a DMed password that binds, and after expiry the password fails, the account is out and disabled, then deleted', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request "Server Admins" 1h INC-17 check the domain');
    await approveAs(slack, PEOPLE.lead.id, id);
    const [grant] = grantsOfRequest(slack.ctx.db, id);
    expect(grant!.state, grant!.lastError ?? '').toBe('active');

    const password = passwordFromDm(slack, PEOPLE.dev.id);
    const dm = dmTexts(PEOPLE.dev.id).find((t) => t.includes(password))!;
    expect(dm).toContain('kw-dev@keyway.test');
    expect(dm).toContain(dc.ldapsUrl);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });
    expect(await dc.bindWorks('kw-dev@keyway.test', `${password}x`)).toMatchObject({ ok: false });

    const created = (await account('kw-dev'))!;
    expect(created.dn).toEqual([`CN=kw-dev,${OU}`]);
    expect(created.memberOf).toEqual([`CN=Server Admins,${USERS}`]);
    expect(created.userAccountControl).toEqual(['512']);
    expect(created.description).toEqual([KEYWAY_MARKER]);
    const end = getRequest(slack.ctx.db, id)!.accessExpiresAt!;
    expect(fromFileTime(created.accountExpires![0]!)).toBe(end);

    // Nobody but the requester sees it; it is in no log line and nowhere in the database files.
    const elsewhere = slack.fake.calls.filter((c) => c.response.channel !== dmChannel(PEOPLE.dev.id)).map(callText);
    expect(elsewhere.join('\n')).not.toContain(password);
    expect(JSON.stringify(logs.lines)).not.toContain(password);
    for (const file of ['keyway.db', 'keyway.db-wal'].map((f) => join(slack.ctx.dir, f)).filter(existsSync)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(password, 'utf8')), file).toBe(false);
      expect(bytes.includes(Buffer.from(password, 'utf16le')), file).toBe(false);
    }

    slack.ctx.clock.now = end;
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id)[0]!.state).toBe('revoked');
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: false });
    const revoked = (await account('kw-dev'))!;
    expect(revoked.memberOf).toBeUndefined();
    expect(revoked.userAccountControl).toEqual(['514']);

    slack.ctx.clock.now = end + 24 * HOUR; // cleanup_after_days: 1
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id)[0]!.state).toBe('cleaned');
    expect(await account('kw-dev')).toBeUndefined();
  }, 120_000);

  it('keeps the account while another request still gives a group: a revoke takes only its own group away', async () => {
    const first = await requestByCommand(slack, PEOPLE.dev.id, 'request "Server Admins" 1h INC-19 first');
    await approveAs(slack, PEOPLE.lead.id, first);
    const second = await requestByCommand(slack, PEOPLE.dev.id, 'request "SQL Readers" 2h INC-19 second');
    await approveAs(slack, PEOPLE.lead.id, second);
    const password = passwordFromDm(slack, PEOPLE.dev.id); // the latest password is the one that works
    expect((await account('kw-dev'))!.memberOf!.sort()).toEqual([`CN=SQL Readers,${USERS}`, `CN=Server Admins,${USERS}`]);

    await slack.slack.command(PEOPLE.dev.id, `revoke ${first}`);
    await slack.settle();
    await slack.engine.idle();
    expect(grantsOfRequest(slack.ctx.db, first)[0]!.state).toBe('revoked');
    const kept = (await account('kw-dev'))!;
    expect(kept.memberOf).toEqual([`CN=SQL Readers,${USERS}`]);
    expect(kept.userAccountControl).toEqual(['512']);
    expect(fromFileTime(kept.accountExpires![0]!)).toBe(getRequest(slack.ctx.db, second)!.accessExpiresAt);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });

    await slack.slack.command(PEOPLE.dev.id, `revoke ${second}`);
    await slack.settle();
    await slack.engine.idle();
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: false });
    expect((await account('kw-dev'))!.userAccountControl).toEqual(['514']);
  }, 120_000);

  it('sets and sends a fresh password when the first could not be delivered (as after a crash before the send)', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request "Server Admins" 1h INC-20 again');
    const before = (await account('kw-dev'))!.pwdLastSet;
    slack.fake.refusePostsTo(dmChannel(PEOPLE.dev.id), 'fatal_error');
    await approveAs(slack, PEOPLE.lead.id, id);
    expect(grantsOfRequest(slack.ctx.db, id)[0]!.state).toBe('active');
    const undelivered = (await account('kw-dev'))!.pwdLastSet;
    expect(undelivered, 'a password was set for the message that failed').not.toEqual(before);

    const sentBefore = slack.fake.callsTo('chat.postMessage').length;
    slack.fake.refusePostsTo(dmChannel(PEOPLE.dev.id), '');
    slack.ctx.clock.now += 10 * 60_000;
    slack.engine.kick();
    await slack.engine.idle();
    await slack.settle();
    const password = passwordFromDm(slack, PEOPLE.dev.id, sentBefore);
    expect((await account('kw-dev'))!.pwdLastSet).not.toEqual(undelivered);
    expect(await dc.bindWorks('kw-dev@keyway.test', password)).toMatchObject({ ok: true });
  }, 120_000);

  it('keyway grant --json prints the one-time password for a Windows target, to the terminal only, and revoke ends it', async () => {
    const configPath = join(dc.dir, 'access.yaml');
    writeFileSync(configPath, [
      'integrations:',
      '  - name: corp',
      '    type: windows-dc',
      `    url: ${dc.ldapsUrl}`,
      `    bind_dn: ${connectorDn}`,
      '    secret: { env: CORP_BIND_PASSWORD }',
      `    base_dn: ${dc.baseDn}`,
      `    ou: ${OU}`,
      '    groups: [Server Admins, SQL Readers]',
      `    tls_ca_file: ${dc.caFile}`,
      '    owners: [platform@example.com]',
      '',
    ].join('\n'));
    const env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(dc.dir, 'cli-data'), CORP_BIND_PASSWORD: connectorPassword };
    expect((await runKeyway(env, 'config', 'check')).code).toBe(0);
    expect((await runKeyway(env, 'ca', 'init')).code).toBe(0);
    const granted = await runKeyway(env, 'grant', 'ops@example.com', 'SQL Readers', '--for', '10m', '--reason', 'INC-21: domain down', '--json');
    expect(granted.code, granted.err).toBe(0);
    const result = JSON.parse(granted.out) as { request: { id: number }; grants: Array<{ state: string }>; credentials: Array<{ target: string; username: string; password: string }> };
    expect(result.grants.map((g) => g.state)).toEqual(['active']);
    expect(result.credentials).toEqual([expect.objectContaining({ target: 'SQL Readers', username: 'kw-ops@keyway.test' })]);
    const { password } = result.credentials[0]!;
    expect(await dc.bindWorks('kw-ops@keyway.test', password)).toMatchObject({ ok: true });
    expect((await account('kw-ops'))!.memberOf).toEqual([`CN=SQL Readers,${USERS}`]);
    // No chat message is owed for it: a second copy would replace the printed password.
    const db = new Database(join(dc.dir, 'cli-data', 'keyway.db'), { readonly: true });
    expect(db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'access_granted'").get()).toEqual({ n: 0 });
    db.close();

    expect((await runKeyway(env, 'revoke', String(result.request.id), '--reason', 'done')).code).toBe(0);
    expect(await dc.bindWorks('kw-ops@keyway.test', password)).toMatchObject({ ok: false });
  }, 120_000);

  it('refuses an account of the same name outside Keyway\'s OU and leaves it as it was', async () => {
    const before = await account('kw-ana');
    const id = await requestByCommand(slack, PEOPLE.ana.id, 'request "SQL Readers" 1h INC-18 read the reports');
    await approveAs(slack, PEOPLE.lead.id, id);
    const [grant] = grantsOfRequest(slack.ctx.db, id);
    expect(grant!.state).toBe('provision_failed');
    expect(grant!.lastError).toContain(`outside Keyway's OU ${OU}`);
    expect(await account('kw-ana')).toEqual(before);
    expect(before!.memberOf).toBeUndefined();
    expect(dmTexts(PEOPLE.ana.id).join('\n')).not.toContain('Your password');
  }, 120_000);
});
