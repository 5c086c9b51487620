// The rdp kind driven through the real Slack app against WinRM stand-ins (test/helpers/fake-winrm.ts: HTTPS with a
// test CA, NTLMv2, the accounts, groups and sessions the commands change): a request for a Windows server is approved,
// the DM holds the password, host, port, username and the .rdp file; the stand-in shows the account enabled, in Remote
// Desktop Users, expiring at the grant's end, the password valid; after expiry it is out of the group, disabled, its
// password changed and its sessions logged off; cleanup deletes it. An account of the same name without Keyway's
// marker is refused and left as it was; plain HTTP is refused without the opt-in; `keyway grant --json` prints the
// credentials. The password is in no log line, no other message and not in the SQLite files.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepOnce } from '../../src/access/sweeper.js';
import { startKeyway } from '../../src/main.js';
import type { AccessConfig, RdpIntegration } from '../../src/core/model.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { getRequest } from '../../src/store/requests.js';
import { KEYWAY_MARKER } from '../../src/targets/windows/rdp/remote-commands.js';
import { plainHttpWarnings, rdpDriver } from '../../src/targets/windows/rdp/rdp-driver.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { FakeWinrm } from '../helpers/fake-winrm.js';
import { makeTestTls, type TestTls } from '../helpers/fake-winrm-tls.js';
import { runKeyway } from '../helpers/run-keyway.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { PEOPLE, approveAs, callText, capturedLogger, dmChannel, passwordFromDm, requestByCommand, startSlackRig, type SlackRig } from './slack-harness.js';

const ADMIN_PASSWORD = 'Adm1n-S3cret!winrm';
const RDU = 'Remote Desktop Users';
const HOUR = 3_600_000;

describe('rdp servers through Slack, against WinRM stand-ins', () => {
  const temp = makeTempDir('keyway-rdp-access-');
  const logs = capturedLogger();
  let tls: TestTls;
  let caFile: string;
  let secretFile: string;
  let win1: FakeWinrm;
  let win2: FakeWinrm;
  let slack: SlackRig;

  const dmTexts = (userId: string) => slack.fake.callsTo('chat.postMessage').filter((c) => c.response.channel === dmChannel(userId)).map(callText);



  function expectNowhereElse(password: string, userId: string): void {
    const elsewhere = slack.fake.calls.filter((c) => c.response.channel !== dmChannel(userId)).map(callText);
    expect(elsewhere.join('\n')).not.toContain(password);
    expect(JSON.stringify(logs.lines)).not.toContain(password);
    for (const file of ['keyway.db', 'keyway.db-wal'].map((f) => join(slack.ctx.dir, f)).filter(existsSync)) {
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(password, 'utf8')), file).toBe(false);
      expect(bytes.includes(Buffer.from(password, 'utf16le')), file).toBe(false);
    }
  }

  function rdpIntegration(servers: Array<{ name: string; fake: FakeWinrm; useSsl?: boolean }>, extra: Partial<RdpIntegration> = {}): RdpIntegration {
    return {
      name: 'desktops', type: 'rdp', user: 'Administrator', secret: { file: secretFile }, tlsCaFile: caFile, allowUnencrypted: false,
      servers: servers.map(({ name, fake, useSsl = true }) => ({ name, host: '127.0.0.1', user: 'Administrator', port: fake.port, winrmPort: fake.port, rdpPort: 3389, useSsl, tags: {} })),
      userGroups: [RDU], loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60000, max: 64999 },
      cleanupAfterDays: 1, owners: ['platform@example.com'], allowPrivilegedGroups: false, ...extra,
    };
  }

  function rdpConfig(integration: RdpIntegration): AccessConfig {
    return accessConfig({
      integrations: [integration],
      flows: [flow('windows', integration.name, {
        requesters: { everyone: false, emails: [PEOPLE.dev.email, PEOPLE.ana.email], slackUsergroups: [] },
        resources: { integration: integration.name, servers: integration.servers.map((s) => s.name), tags: {} },
      })],
    });
  }

  beforeAll(async () => {
    tls = makeTestTls(temp.dir);
    caFile = join(temp.dir, 'winrm-ca.pem');
    writeFileSync(caFile, tls.caPem);
    secretFile = join(temp.dir, 'winrm-admin-password');
    writeFileSync(secretFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
    const https = { tls: { keyPem: tls.serverKeyPem, certPem: tls.serverCertPem } };
    win1 = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, computerName: 'WIN-1', ...https });
    win2 = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, computerName: 'WIN-2', ...https });
    // On win-2 someone else's account has the name Keyway would give ana (no Keyway marker).
    win2.addAccount('kw-ana', 'Her0wn-password!', 'Ana\'s own account');
    const config = rdpConfig(rdpIntegration([{ name: 'win-1', fake: win1 }, { name: 'win-2', fake: win2 }]));
    slack = await startSlackRig({ config, clockStart: Date.now(), drivers: [['rdp', rdpDriver({ env: {} })]] });
    (slack.ctx as { logger: Logger }).logger = logs.logger;
  }, 60_000);

  afterAll(async () => {
    await slack?.close();
    for (const fake of [win1, win2]) {
      expect(fake?.envelopeErrors ?? []).toEqual([]);
      await fake?.close();
    }
    temp.remove();
  });

  it('DMs a password that logs on to both servers, with host, port, user and the .rdp file; expiry takes it back and logs off; cleanup deletes', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request win-1,win-2 1h INC-17 check the desktops');
    await approveAs(slack, PEOPLE.lead.id, id);
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => [g.server, g.state, g.lastError])).toEqual([['win-1', 'active', null], ['win-2', 'active', null]]);

    const password = passwordFromDm(slack, PEOPLE.dev.id);
    const dm = dmTexts(PEOPLE.dev.id).find((t) => t.includes(password))!;
    for (const part of ['Remote Desktop access', 'host: 127.0.0.1', 'port: 3389', 'user: kw-dev', 'full address:s:127.0.0.1:3389', 'username:s:kw-dev', 'win-1.rdp', 'win-2.rdp']) {
      expect(dm, part).toContain(part);
    }
    const end = getRequest(slack.ctx.db, id)!.accessExpiresAt!;
    for (const fake of [win1, win2]) {
      const account = fake.account('kw-dev')!;
      expect(account).toMatchObject({ enabled: true, description: KEYWAY_MARKER, password });
      expect(account.expires?.getTime()).toBe(end);
      expect(fake.isMember(RDU, 'kw-dev')).toBe(true);
      expect(fake.logonWorks('kw-dev', password)).toBe(true);
      expect(fake.requests.every((r) => r.auth === 'ntlm')).toBe(true);
    }
    expectNowhereElse(password, PEOPLE.dev.id);

    const session = win1.addSession('kw-dev');
    slack.ctx.clock.now = end;
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => g.state)).toEqual(['revoked', 'revoked']);
    for (const fake of [win1, win2]) {
      const account = fake.account('kw-dev')!;
      expect(account.enabled).toBe(false);
      expect(account.password).not.toBe(password);
      expect(fake.isMember(RDU, 'kw-dev')).toBe(false);
      expect(fake.logonWorks('kw-dev', password)).toBe(false);
    }
    expect(win1.sessions.has(session)).toBe(false);
    expect(win1.sessionsOf('kw-dev')).toEqual([]);
    expectNowhereElse(password, PEOPLE.dev.id);

    slack.ctx.clock.now = end + 24 * HOUR; // cleanup_after_days: 1
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => g.state)).toEqual(['cleaned', 'cleaned']);
    expect(win1.account('kw-dev')).toBeUndefined();
    expect(win2.account('kw-dev')).toBeUndefined();
  }, 60_000);

  it('a revoke keeps the account while another request on the server lives; the last revoke ends it', async () => {
    const first = await requestByCommand(slack, PEOPLE.dev.id, 'request win-1 1h INC-19 first');
    await approveAs(slack, PEOPLE.lead.id, first);
    const second = await requestByCommand(slack, PEOPLE.dev.id, 'request win-1 2h INC-19 second');
    await approveAs(slack, PEOPLE.lead.id, second);
    const password = passwordFromDm(slack, PEOPLE.dev.id); // the latest password is the one that works
    expect(win1.logonWorks('kw-dev', password)).toBe(true);
    expect(win1.account('kw-dev')!.expires?.getTime()).toBe(getRequest(slack.ctx.db, second)!.accessExpiresAt);
    const session = win1.addSession('kw-dev');

    await slack.slack.command(PEOPLE.dev.id, `revoke ${first}`);
    await slack.settle();
    await slack.engine.idle();
    expect(grantsOfRequest(slack.ctx.db, first)[0]!.state).toBe('revoked');
    expect(win1.isMember(RDU, 'kw-dev')).toBe(true);
    expect(win1.logonWorks('kw-dev', password)).toBe(true);
    expect(win1.sessions.has(session)).toBe(true);

    await slack.slack.command(PEOPLE.dev.id, `revoke ${second}`);
    await slack.settle();
    await slack.engine.idle();
    expect(grantsOfRequest(slack.ctx.db, second)[0]!.state).toBe('revoked');
    expect(win1.logonWorks('kw-dev', password)).toBe(false);
    expect(win1.isMember(RDU, 'kw-dev')).toBe(false);
    expect(win1.sessions.has(session)).toBe(false);
  }, 60_000);

  it('refuses an account of the same name without Keyway\'s marker and leaves it as it was; the other server still works', async () => {
    const before = { ...win2.account('kw-ana')! };
    const id = await requestByCommand(slack, PEOPLE.ana.id, 'request win-1,win-2 1h INC-18 reports');
    await approveAs(slack, PEOPLE.lead.id, id);
    const grants = grantsOfRequest(slack.ctx.db, id);
    expect(grants.map((g) => [g.server, g.state])).toEqual([['win-1', 'active'], ['win-2', 'provision_failed']]);
    expect(grants[1]!.lastError).toContain('Keyway did not create it');
    expect(win2.account('kw-ana')).toEqual(before);
    expect(win2.isMember(RDU, 'kw-ana')).toBe(false);
    const password = passwordFromDm(slack, PEOPLE.ana.id);
    expect(win1.logonWorks('kw-ana', password)).toBe(true);
    expect(win2.logonWorks('kw-ana', password)).toBe(false);
    const dm = dmTexts(PEOPLE.ana.id).find((t) => t.includes(password))!;
    expect(dm).toContain('win-1.rdp');
    expect(dm).not.toContain('win-2.rdp');

    await slack.slack.command(PEOPLE.ana.id, `revoke ${id}`);
    await slack.settle();
    await slack.engine.idle();
    expect(win1.logonWorks('kw-ana', password)).toBe(false);
    expect(win2.account('kw-ana')).toEqual(before);
  }, 60_000);

  it('sends a fresh password for every server once a server that was not ready is granted after the first message', async () => {
    win2.accounts.delete('kw-ana');
    const id = await requestByCommand(slack, PEOPLE.ana.id, 'request win-1,win-2 1h INC-22 later');
    win2.addAccount('kw-ana', 'Her0wn-password!', 'not Keyway\'s');
    await approveAs(slack, PEOPLE.lead.id, id);
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => g.state)).toEqual(['active', 'provision_failed']);
    const first = passwordFromDm(slack, PEOPLE.ana.id);

    win2.accounts.delete('kw-ana'); // the admin removes the account in the way
    const sentBefore = slack.fake.callsTo('chat.postMessage').length;
    slack.ctx.clock.now += 10 * 60_000;
    await sweepOnce(slack.engine.runner);
    slack.engine.kick();
    await slack.engine.idle();
    await slack.settle();
    expect(grantsOfRequest(slack.ctx.db, id).map((g) => g.state)).toEqual(['active', 'active']);
    const second = passwordFromDm(slack, PEOPLE.ana.id, sentBefore);
    expect(second).not.toBe(first);
    expect(win1.logonWorks('kw-ana', second)).toBe(true);
    expect(win2.logonWorks('kw-ana', second)).toBe(true);
    expect(dmTexts(PEOPLE.ana.id).find((t) => t.includes(second))).toContain('win-2.rdp');

    await slack.slack.command(PEOPLE.ana.id, `revoke ${id}`);
    await slack.settle();
    await slack.engine.idle();
    expect(win2.logonWorks('kw-ana', second)).toBe(false);
  }, 60_000);

  it('refuses to revoke without the integration in the config (so the sweeper retries), and revokes once it is back', async () => {
    const id = await requestByCommand(slack, PEOPLE.dev.id, 'request win-2 1h INC-23 config');
    await approveAs(slack, PEOPLE.lead.id, id);
    const password = passwordFromDm(slack, PEOPLE.dev.id);
    const ctx = slack.ctx as { config: () => AccessConfig };
    const config = ctx.config();
    ctx.config = () => ({ ...config, integrations: [] });
    slack.ctx.clock.now = getRequest(slack.ctx.db, id)!.accessExpiresAt!;
    await sweepOnce(slack.engine.runner);
    const [failed] = grantsOfRequest(slack.ctx.db, id);
    expect(failed!.state).toBe('revoke_failed');
    expect(failed!.lastError).toContain('rdp integration desktops is no longer in the config');
    expect(win2.account('kw-dev')).toMatchObject({ enabled: true, password });

    ctx.config = () => config;
    slack.ctx.clock.now = failed!.nextAttemptAt! + 1;
    await sweepOnce(slack.engine.runner);
    expect(grantsOfRequest(slack.ctx.db, id)[0]!.state).toBe('revoked');
    expect(win2.account('kw-dev')).toMatchObject({ enabled: false });
    expect(win2.account('kw-dev')!.password).not.toBe(password);
  }, 60_000);

  it('refuses plain-HTTP WinRM without allow_unencrypted (config check and driver), and warns about it with the opt-in', async () => {
    const plain = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, computerName: 'WIN-PLAIN' });
    try {
      const yaml = (useSsl: boolean, allow: boolean) => [
        'integrations:',
        '  - name: lab-desktops',
        '    type: rdp',
        '    user: Administrator',
        '    secret: { env: WINRM_PASSWORD }',
        `    servers: [{ name: win-plain, host: 127.0.0.1, winrm_port: ${plain.port}, use_ssl: ${useSsl} }]`,
        ...(allow ? ['    allow_unencrypted: true'] : []),
        '    owners: [platform@example.com]',
        '',
      ].join('\n');
      const configPath = join(temp.dir, 'plain.yaml');
      writeFileSync(configPath, yaml(false, false));
      const env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'plain-data'), WINRM_PASSWORD: ADMIN_PASSWORD };
      const refused = await runKeyway(env, 'config', 'check');
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('use_ssl: false: plain-HTTP WinRM sends the admin password');

      const integration = rdpIntegration([{ name: 'win-plain', fake: plain, useSsl: false }], { name: 'lab' });
      expect(plainHttpWarnings(rdpConfig({ ...integration, allowUnencrypted: false }))).toEqual([]);
      const [warning, ...more] = plainHttpWarnings(rdpConfig({ ...integration, allowUnencrypted: true }));
      expect(more).toEqual([]);
      expect(warning).toContain('rdp integration lab has allow_unencrypted: true');
      expect(warning).toContain(`win-plain (http://127.0.0.1:${plain.port})`);

      writeFileSync(configPath, yaml(false, true));
      expect((await runKeyway(env, 'config', 'check')).code).toBe(0);
      const startLogs = capturedLogger();
      const started = await startKeyway({
        KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'plain-start'), PORT: '0', METRICS_ADDR: '127.0.0.1:0', WINRM_PASSWORD: ADMIN_PASSWORD,
        SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-secret', SLACK_API_URL: 'http://127.0.0.1:9/api/',
      }, startLogs.logger);
      await started.stop();
      const warned = startLogs.lines.filter((l) => l.level === 40 && String(l.msg).includes('allow_unencrypted'));
      expect(warned.map((l) => l.msg)).toEqual([expect.stringContaining(`rdp integration lab-desktops has allow_unencrypted: true and reaches win-plain (http://127.0.0.1:${plain.port})`)]);
      expect((await runKeyway(env, 'ca', 'init')).code).toBe(0);
      const granted = await runKeyway(env, 'grant', 'ops@example.com', 'win-plain', '--for', '10m', '--reason', 'INC-24: lab', '--json');
      expect(granted.code, granted.err).toBe(0);
      const result = JSON.parse(granted.out) as { request: { id: number }; credentials: Array<{ password: string }> };
      const { password } = result.credentials[0]!;
      expect(plain.logonWorks('kw-ops', password)).toBe(true);

      // The opt-in is withdrawn while the grant reached the server over plain HTTP: the driver sends nothing over it.
      writeFileSync(configPath, yaml(true, false));
      const sent = plain.requests.length;
      const revoke = await runKeyway(env, 'revoke', String(result.request.id), '--reason', 'done', '--json');
      expect(revoke.out + revoke.err).toContain('no longer has allow_unencrypted: true');
      expect(plain.requests.length).toBe(sent);
      expect(plain.logonWorks('kw-ops', password)).toBe(true);
    } finally {
      expect(plain.envelopeErrors).toEqual([]);
      await plain.close();
    }
  }, 60_000);

  it('keyway grant --json prints the credentials of an rdp server; hosts check logs in over WinRM; revoke ends it', async () => {
    const gone = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD });
    const gonePort = gone.port;
    await gone.close();
    const configPath = join(temp.dir, 'access.yaml');
    writeFileSync(configPath, [
      'integrations:',
      '  - name: desktops',
      '    type: rdp',
      '    user: Administrator',
      '    secret: { env: WINRM_PASSWORD }',
      `    tls_ca_file: ${caFile}`,
      '    servers:',
      `      - { name: win-1, host: 127.0.0.1, winrm_port: ${win1.port}, rdp_port: 13389 }`,
      `      - { name: win-gone, host: 127.0.0.1, winrm_port: ${gonePort} }`,
      '    owners: [platform@example.com]',
      '',
    ].join('\n'));
    const env = { KEYWAY_CONFIG: configPath, KEYWAY_DATA_DIR: join(temp.dir, 'cli-data'), WINRM_PASSWORD: ADMIN_PASSWORD };
    expect((await runKeyway(env, 'config', 'check')).code).toBe(0);
    expect((await runKeyway(env, 'ca', 'init')).code).toBe(0);

    const checked = await runKeyway(env, 'hosts', 'check', 'win-1');
    expect(checked.code, checked.err).toBe(0);
    expect(checked.out).toContain('win-1: ok: WinRM login ok (computer WIN-1), administrator, LocalAccounts cmdlets present, groups present');

    const granted = await runKeyway(env, 'grant', 'ops@example.com', 'win-1', '--for', '10m', '--reason', 'INC-21: desktop down', '--json');
    expect(granted.code, granted.err).toBe(0);
    const result = JSON.parse(granted.out) as { request: { id: number }; grants: Array<{ state: string }>; credentials: Array<{ target: string; username: string; password: string; connect: string[] }> };
    expect(result.grants.map((g) => g.state)).toEqual(['active']);
    expect(result.credentials).toEqual([expect.objectContaining({ target: 'win-1', username: 'kw-ops' })]);
    const { password, connect } = result.credentials[0]!;
    expect(connect).toEqual(expect.arrayContaining(['host: 127.0.0.1', 'port: 13389', 'user: kw-ops', 'full address:s:127.0.0.1:13389']));
    expect(win1.logonWorks('kw-ops', password)).toBe(true);
    expect(win1.isMember(RDU, 'kw-ops')).toBe(true);

    expect((await runKeyway(env, 'revoke', String(result.request.id), '--reason', 'done')).code).toBe(0);
    expect(win1.logonWorks('kw-ops', password)).toBe(false);
    expect(win1.isMember(RDU, 'kw-ops')).toBe(false);

    const down = await runKeyway(env, 'hosts', 'check', 'win-gone');
    expect(down.code).toBe(1);
    expect(down.out).toContain('win-gone: FAIL: UNREACHABLE');
  }, 60_000);
});
