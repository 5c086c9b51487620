// rdp-host against the WinRM stand-in (test/helpers/fake-winrm.ts): the real client, real TLS with a test CA, real
// NTLMv2 and Basic handshakes, and the stand-in's record of accounts, groups and sessions as proof.
import { createServer, type Server as NetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RdpServer } from '../../src/core/model.js';
import {
  checkConnection, deleteAccount, grantAccount, revokeAccount, warnsPlainHttp, type RdpHostSettings,
} from '../../src/targets/windows/rdp/rdp-host.js';
import { KEYWAY_MARKER } from '../../src/targets/windows/rdp/remote-commands.js';
import { ACTION } from '../../src/targets/windows/rdp/wsman-messages.js';
import { FakeWinrm } from '../helpers/fake-winrm.js';
import { makeTestTls, type TestTls } from '../helpers/fake-winrm-tls.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ADMIN_PASSWORD = 'Adm1n-S3cret!winrm';
const temp = makeTempDir('keyway-rdp-');
let tls: TestTls;
const fakes: FakeWinrm[] = [];

beforeAll(() => {
  tls = makeTestTls(temp.dir);
});
afterEach(async () => {
  for (const fake of fakes) expect(fake.envelopeErrors).toEqual([]);
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
afterAll(() => temp.remove());

async function windowsServer(options: { https?: boolean; timedOutReceives?: number; outputInTwoParts?: boolean } = {}): Promise<{ fake: FakeWinrm; server: RdpServer }> {
  const { https: _https, ...behaviour } = options;
  const fake = await FakeWinrm.start({
    adminPassword: ADMIN_PASSWORD,
    ...behaviour,
    ...(options.https === false ? {} : { tls: { keyPem: tls.serverKeyPem, certPem: tls.serverCertPem } }),
  });
  fakes.push(fake);
  const server: RdpServer = { name: 'win-1', host: '127.0.0.1', user: 'Administrator', port: fake.port, winrmPort: fake.port, rdpPort: 3389, useSsl: options.https !== false, tags: {} };
  return { fake, server };
}

function settings(overrides: Partial<RdpHostSettings> = {}): RdpHostSettings {
  return { user: 'Administrator', password: ADMIN_PASSWORD, tlsCa: tls.caPem, allowUnencrypted: false, timeoutMs: 5_000, ...overrides };
}

const RDU = 'Remote Desktop Users';
const ANA = { name: 'kw-ana' };

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e as { code: string; message: string });
  if (!error) throw new Error('expected a refusal, but the call succeeded');
  return error;
}

describe('grant', () => {
  it('creates a marked local account, sets the password, enables it, adds it to Remote Desktop Users and sets its expiry', async () => {
    const { fake, server } = await windowsServer();
    const expiresAt = new Date('2026-12-01T18:30:00.000Z');
    await expect(grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU], expiresAt)).resolves.toEqual({ created: true });

    const account = fake.account('kw-ana')!;
    expect(account).toMatchObject({ description: KEYWAY_MARKER, enabled: true, passwordNeverExpires: false, userMayChangePassword: false });
    expect(account.expires?.toISOString()).toBe(expiresAt.toISOString());
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1', new Date('2026-12-01T18:00:00Z'))).toBe(true);
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1', new Date('2026-12-01T18:31:00Z'))).toBe(false);
    expect(fake.isMember(RDU, 'kw-ana')).toBe(true);
    expect(fake.requests.every((r) => r.auth === 'ntlm')).toBe(true);
  });

  it('takes a disabled Keyway account up again with a new password, without adding it twice', async () => {
    const { fake, server } = await windowsServer();
    await grantAccount(server, settings(), ANA, 'F1rst-pass!word', [RDU], null);
    fake.account('kw-ana')!.enabled = false;
    await expect(grantAccount(server, settings(), ANA, 'S3cond-pass!word', [RDU], null)).resolves.toEqual({ created: false });
    expect(fake.logonWorks('kw-ana', 'S3cond-pass!word')).toBe(true);
    expect(fake.logonWorks('kw-ana', 'F1rst-pass!word')).toBe(false);
    expect(fake.membersOf(RDU)).toEqual(['kw-ana']);
  });

  it('refuses an existing account without Keyway\'s marker and changes nothing', async () => {
    const { fake, server } = await windowsServer();
    fake.addAccount('kw-ana', 'Own3r-pass!word');
    const error = await refusal(grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU], null));
    expect(error.code).toBe('account_not_managed');
    expect(error.message).toMatch(/win-1: The account kw-ana exists but Keyway did not create it/);
    expect(fake.logonWorks('kw-ana', 'Own3r-pass!word')).toBe(true);
    expect(fake.isMember(RDU, 'kw-ana')).toBe(false);
  });

  it('sends the password only on stdin: never in a command line, a script or another request', async () => {
    const { fake, server } = await windowsServer();
    const password = "Qu0te'd-\u2019pass!";
    await grantAccount(server, settings(), ANA, password, [RDU], null);
    expect(fake.logonWorks('kw-ana', password)).toBe(true);
    const forms = [password, Buffer.from(password).toString('base64'), Buffer.from(password, 'utf16le').toString('base64')];
    const others = fake.requests.filter((r) => r.action !== ACTION.send).map((r) => r.xml).join('\n');
    for (const form of forms) expect(others).not.toContain(form);
    for (const text of [...fake.scripts, ...fake.commandLines]) expect(text).not.toContain(password);
    expect(fake.requests.filter((r) => r.action === ACTION.send)).toHaveLength(1);
  });

  it('fails clearly when a group does not exist on the server', async () => {
    const { server } = await windowsServer();
    const error = await refusal(grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', ['Jump Users'], null));
    expect(error).toMatchObject({ code: 'remote_command_failed' });
    expect(error.message).toMatch(/win-1: could not grant the local account kw-ana: Group Jump Users was not found/);
  });
});

describe('revoke and cleanup', () => {
  it('removes the group, disables the account, changes the password and logs off its sessions (and no one else\'s)', async () => {
    const { fake, server } = await windowsServer();
    await grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU], null);
    fake.addSession('kw-ana');
    fake.addSession('kw-ana');
    const bob = fake.addSession('kw-bob');

    await expect(revokeAccount(server, settings(), ANA, [RDU], [], 'N3w-random!pass')).resolves.toEqual({ loggedOff: 2 });
    const account = fake.account('kw-ana')!;
    expect(account.enabled).toBe(false);
    expect(account.password).toBe('N3w-random!pass');
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1')).toBe(false);
    expect(fake.isMember(RDU, 'kw-ana')).toBe(false);
    expect(fake.sessionsOf('kw-ana')).toEqual([]);
    expect(fake.sessionsOf('kw-bob')).toEqual([bob]);
  });

  it('keeps the groups other live grants need, and leaves the account enabled with its password and sessions', async () => {
    const { fake, server } = await windowsServer();
    await grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU, 'Users'], null);
    const session = fake.addSession('kw-ana');
    await expect(revokeAccount(server, settings(), ANA, [RDU, 'Users'], [RDU], null)).resolves.toEqual({ loggedOff: 0 });
    expect(fake.isMember(RDU, 'kw-ana')).toBe(true);
    expect(fake.isMember('Users', 'kw-ana')).toBe(false);
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1')).toBe(true);
    expect(fake.sessionsOf('kw-ana')).toEqual([session]);
  });

  it('counts an absent account as revoked', async () => {
    const { server } = await windowsServer();
    await expect(revokeAccount(server, settings(), ANA, [RDU], [], 'N3w-random!pass')).resolves.toEqual({ loggedOff: 0 });
  });

  it('refuses to revoke an account without the marker', async () => {
    const { fake, server } = await windowsServer();
    fake.addAccount('kw-ana', 'Own3r-pass!word');
    fake.groups.get(RDU)!.add('kw-ana');
    expect((await refusal(revokeAccount(server, settings(), ANA, [RDU], [], 'N3w-random!pass'))).code).toBe('account_not_managed');
    expect(fake.account('kw-ana')).toMatchObject({ enabled: true, password: 'Own3r-pass!word' });
    expect(fake.isMember(RDU, 'kw-ana')).toBe(true);
  });

  it('cleanup deletes a Keyway account; a second cleanup finds nothing', async () => {
    const { fake, server } = await windowsServer();
    await grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU], null);
    await revokeAccount(server, settings(), ANA, [RDU], [], 'N3w-random!pass');
    await expect(deleteAccount(server, settings(), ANA)).resolves.toEqual({ deleted: true });
    expect(fake.account('kw-ana')).toBeUndefined();
    await expect(deleteAccount(server, settings(), ANA)).resolves.toEqual({ deleted: false });
  });

  it('cleanup refuses an account without Keyway\'s marker and leaves it in place', async () => {
    const { fake, server } = await windowsServer();
    fake.addAccount('kw-ana', 'Own3r-pass!word', 'Ana, added by hand');
    const error = await refusal(deleteAccount(server, settings(), ANA));
    expect(error.code).toBe('account_not_managed');
    expect(fake.account('kw-ana')).toBeDefined();
  });
});

describe('domain accounts', () => {
  it('adds DOMAIN\\kw-user to the local group on grant and removes it (and its sessions) on revoke', async () => {
    const { fake, server } = await windowsServer();
    const account = { name: 'kw-ana', domain: 'CORP' };
    await grantAccount(server, settings(), account, null, [RDU], null);
    expect(fake.isMember(RDU, 'CORP\\kw-ana')).toBe(true);
    expect(fake.account('kw-ana')).toBeUndefined();
    fake.addSession('kw-ana');
    await expect(revokeAccount(server, settings(), account, [RDU], [], null)).resolves.toEqual({ loggedOff: 1 });
    expect(fake.isMember(RDU, 'CORP\\kw-ana')).toBe(false);
    expect(fake.sessionsOf('kw-ana')).toEqual([]);
  });
});

describe('transport security', () => {
  it('refuses plain HTTP without allow_unencrypted, before connecting', async () => {
    const { fake, server } = await windowsServer({ https: false });
    const error = await refusal(grantAccount(server, settings(), ANA, 'Gr4nt-pass!word1', [RDU], null));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/plain HTTP \(use_ssl: false\).*allow_unencrypted: true/);
    expect(fake.connectionCount).toBe(0);
    expect(warnsPlainHttp(server, settings())).toBe(false);
  });

  it('works over plain HTTP with allow_unencrypted, and says to warn', async () => {
    const { fake, server } = await windowsServer({ https: false });
    const opted = settings({ allowUnencrypted: true });
    await grantAccount(server, opted, ANA, 'Gr4nt-pass!word1', [RDU], null);
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1')).toBe(true);
    expect(warnsPlainHttp(server, opted)).toBe(true);
    expect(warnsPlainHttp({ ...server, useSsl: true }, opted)).toBe(false);
  });

  it('refuses a server whose certificate another CA issued (and one checked against the system roots)', async () => {
    const { fake, server } = await windowsServer();
    for (const tlsCa of [tls.otherCaPem, undefined]) {
      const error = await refusal(checkConnection(server, { ...settings(), ...(tlsCa === undefined ? { tlsCa: undefined } : { tlsCa }) }, [RDU]));
      expect(error.code).toBe('host_key_mismatch');
      expect(error.message).toMatch(/certificate Keyway does not trust.*tls_ca_file/);
    }
    expect(fake.requests).toEqual([]);
  });

  it('refuses a certificate that does not name the host it was reached at', async () => {
    // The certificate names 127.0.0.1 and localhost; the stand-in listens on 127.0.0.2 (loopback too).
    const fake = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, tls: { keyPem: tls.serverKeyPem, certPem: tls.serverCertPem }, listenHost: '127.0.0.2' });
    fakes.push(fake);
    const server: RdpServer = { name: 'win-2', host: '127.0.0.2', user: 'Administrator', port: fake.port, winrmPort: fake.port, rdpPort: 3389, useSsl: true, tags: {} };
    const error = await refusal(checkConnection(server, settings(), [RDU]));
    expect(error.code).toBe('host_key_mismatch');
    expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(fake.requests).toEqual([]);
  });

  it.each(['ntlm', 'basic'] as const)('a wrong admin password gives a clear %s login error that does not contain it', async (auth) => {
    const { fake, server } = await windowsServer();
    const wrong = 'Wr0ng-admin!secret';
    const error = await refusal(grantAccount(server, settings({ auth, password: wrong }), ANA, 'Gr4nt-pass!word1', [RDU], null));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/refused the login of Administrator.*check the rdp integration's user and secret/);
    expect(error.message).not.toContain(wrong);
    expect(error.message).not.toContain(Buffer.from(`Administrator:${wrong}`).toString('base64'));
    expect(fake.loginFailures.length).toBeGreaterThan(0);
    expect(fake.account('kw-ana')).toBeUndefined();
  });

  it('Basic works over TLS', async () => {
    const { fake, server } = await windowsServer();
    await grantAccount(server, settings({ auth: 'basic' }), ANA, 'Gr4nt-pass!word1', [RDU], null);
    expect(fake.logonWorks('kw-ana', 'Gr4nt-pass!word1')).toBe(true);
    expect(fake.requests.every((r) => r.auth === 'basic')).toBe(true);
  });

  it('NTLM fails clearly when the server offers only Basic', async () => {
    const fake = await FakeWinrm.start({ adminPassword: ADMIN_PASSWORD, tls: { keyPem: tls.serverKeyPem, certPem: tls.serverCertPem }, ntlm: false });
    fakes.push(fake);
    const server: RdpServer = { name: 'win-3', host: '127.0.0.1', user: 'Administrator', port: fake.port, winrmPort: fake.port, rdpPort: 3389, useSsl: true, tags: {} };
    const error = await refusal(checkConnection(server, settings(), [RDU]));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toMatch(/does not offer NTLM \(it offers: Basic realm="WSMAN"\)/);
    expect(fake.requests).toEqual([]);
  });

  it('says a server that refuses the connection cannot be reached (an outage, retried later)', async () => {
    const closed: NetServer = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const server: RdpServer = { name: 'win-gone', host: '127.0.0.1', user: 'Administrator', port, winrmPort: port, rdpPort: 3389, useSsl: true, tags: {} };
    const error = await refusal(checkConnection(server, settings(), [RDU]));
    expect(error).toMatchObject({ code: 'host_unreachable', kind: 'outage' });
    expect(error.message).toMatch(/WinRM on 127\.0\.0\.1:\d+ cannot be reached: ECONNREFUSED/);
  });

  it('gives up on a server that accepts the connection but never answers, within the deadline', async () => {
    const silent: NetServer = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const server: RdpServer = { name: 'win-silent', host: '127.0.0.1', user: 'Administrator', port, winrmPort: port, rdpPort: 3389, useSsl: true, tags: {} };
      const started = Date.now();
      const error = await refusal(checkConnection(server, settings({ timeoutMs: 800 }), [RDU]));
      expect(error.code).toBe('host_unreachable');
      expect(error.message).toMatch(/no answer within 800 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.close();
    }
  });
});

describe('the remote shell', () => {
  it('polls Receive through w:TimedOut faults and joins output handed out over several Receives', async () => {
    const { fake, server } = await windowsServer({ timedOutReceives: 2, outputInTwoParts: true });
    await expect(checkConnection(server, settings(), [RDU, 'Jump Users'])).resolves.toEqual({
      computer: 'WIN-RDP1', admin: true, localAccounts: true, missingGroups: ['Jump Users'],
    });
    expect(fake.requests.map((r) => r.action.split('/').pop())).toEqual(['Create', 'Command', 'Receive', 'Receive', 'Receive', 'Receive', 'Signal', 'Delete']);
  });
});

describe('validation before any request', () => {
  it.each([
    ['Administrator', RDU], ['kw-ana;whoami', RDU], ["kw-ana'", RDU], ['kw-a-name-far-too-long', RDU], ['kw-Ana', RDU],
    ['kw-ana', 'Administrators'], ['kw-ana', "Remote Desktop Users'; Remove-LocalUser x"], ['kw-ana', 'Backup Operators'],
    ['kw-ana', 'Users$(calc)'], ['kw-ana', ''],
  ])('refuses account %j with group %j without contacting the server', async (name, group) => {
    const { fake, server } = await windowsServer();
    const error = await refusal(grantAccount(server, settings(), { name }, 'Gr4nt-pass!word1', [group], null));
    expect(['username_invalid', 'config_invalid']).toContain(error.code);
    expect(fake.connectionCount).toBe(0);
  });

  it('refuses a hostile domain name without contacting the server', async () => {
    const { fake, server } = await windowsServer();
    const error = await refusal(grantAccount(server, settings(), { name: 'kw-ana', domain: "CORP'x" }, null, [RDU], null));
    expect(error.code).toBe('config_invalid');
    expect(fake.connectionCount).toBe(0);
  });
});

describe('check', () => {
  it('reports the computer, admin rights, the LocalAccounts cmdlets and missing groups', async () => {
    const { server } = await windowsServer();
    await expect(checkConnection(server, settings(), [RDU, 'Jump Users'])).resolves.toEqual({
      computer: 'WIN-RDP1', admin: true, localAccounts: true, missingGroups: ['Jump Users'],
    });
  });
});
