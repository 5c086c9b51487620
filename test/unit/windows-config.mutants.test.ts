// The Windows integration types in access.yaml (src/config/windows-schemas.ts), pinned down to the exact parsed values
// and the exact sentence and line of each refusal. Written for the mutants that survived `npm run mutate`.
//
// The loader is imported inside the tests, not at the top: a change that breaks the module as it loads (a schema
// built from `undefined`) must fail a test; a test file that fails to load counts as no failed test to StrykerJS.
import { describe, expect, it } from 'vitest';
import type { AccessConfig, RdpIntegration, WindowsDcIntegration } from '../../src/core/model.js';

const DN = {
  bind: 'CN=keyway-svc,OU=Service,DC=corp,DC=example,DC=com',
  base: 'DC=corp,DC=example,DC=com',
  ou: 'OU=Keyway,DC=corp,DC=example,DC=com',
};

/** A windows-dc integration, one field a line: line 4 is url, 5 bind_dn, 7 base_dn, 8 ou, 9 groups, 11 the first extra. */
function dc(fields: { url?: string; bind_dn?: string; base_dn?: string; ou?: string; groups?: string } = {}, extra: string[] = []): string[] {
  return [
    'integrations:',
    '  - name: corp',
    '    type: windows-dc',
    `    url: ${fields.url ?? 'ldaps://dc1.corp.example.com'}`,
    `    bind_dn: ${fields.bind_dn ?? DN.bind}`,
    '    secret: { env: CORP_BIND_PASSWORD }',
    `    base_dn: ${fields.base_dn ?? DN.base}`,
    `    ou: ${fields.ou ?? DN.ou}`,
    `    groups: ${fields.groups ?? '[Server Admins, SQL Readers]'}`,
    '    owners: [ops@example.com]',
    ...extra,
  ];
}

/** An rdp integration, one field a line: line 2 is the entry, 4 servers, 5 user, 8 the first extra. */
function rdp(servers = '[{ name: ws-1, host: 10.0.0.7 }]', extra: string[] = [], user = 'KEYWAY\\winrm-admin'): string[] {
  return [
    'integrations:',
    '  - name: desktops',
    '    type: rdp',
    `    servers: ${servers}`,
    `    user: ${user}`,
    '    secret: { env: WINRM_PASSWORD }',
    '    owners: [ops@example.com]',
    ...extra,
  ];
}

async function parse(lines: string[]): Promise<AccessConfig> {
  const { parseAccessConfig } = await import('../../src/config/load.js');
  return parseAccessConfig(`${lines.join('\n')}\n`, '/etc/keyway/access.yaml', () => '[]');
}

/** Every problem of a config that must be refused, as `line: sentence`. */
async function problems(lines: string[]): Promise<string[]> {
  const { ConfigError } = await import('../../src/config/config-error.js');
  try {
    await parse(lines);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.line}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError, the config was accepted');
}

async function dcOf(lines: string[]): Promise<WindowsDcIntegration> {
  return (await parse(lines)).integrations[0] as WindowsDcIntegration;
}

async function rdpOf(lines: string[]): Promise<RdpIntegration> {
  return (await parse(lines)).integrations[0] as RdpIntegration;
}

const NOT_LDAP = (url: string) => `4: url "${url}" is not an LDAP URL like ldaps://dc1.corp.example.com (or ldap://… with start_tls: true)`;
const UNSHARED = { loginShell: '/bin/bash', userKeyName: 'id_ed25519', uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: ['ops@example.com'] };

describe('type: windows-dc, what it reads', () => {
  it('is exactly the integration written, its groups the servers at the domain controller, nothing else added', async () => {
    expect(await dcOf(dc())).toStrictEqual({
      name: 'corp', secret: { env: 'CORP_BIND_PASSWORD' }, userGroups: ['Default'], ...UNSHARED, allowPrivilegedGroups: false,
      type: 'windows-dc', url: 'ldaps://dc1.corp.example.com', startTls: false, bindDn: DN.bind, baseDn: DN.base, ou: DN.ou,
      groups: ['Server Admins', 'SQL Readers'], rdpPort: 3389,
      servers: [
        { name: 'Server Admins', host: 'dc1.corp.example.com', port: 636, user: DN.bind, tags: {} },
        { name: 'SQL Readers', host: 'dc1.corp.example.com', port: 636, user: DN.bind, tags: {} },
      ],
    });
  });

  it('takes the DNs without the spaces around them', async () => {
    const corp = await dcOf(dc({ bind_dn: `"  ${DN.bind}  "`, base_dn: `" ${DN.base}"`, ou: `"${DN.ou} "` }));
    expect([corp.bindDn, corp.baseDn, corp.ou, corp.servers[0]!.user]).toEqual([DN.bind, DN.base, DN.ou, DN.bind]);
  });

  it('reads the port from the url, else 636 for ldaps:// and 389 for ldap://', async () => {
    const address = async (url: string, extra: string[] = []) => (await dcOf(dc({ url }, extra))).servers.map((s) => [s.host, s.port]);
    expect(await address('ldaps://dc1.corp.example.com:3269')).toEqual([['dc1.corp.example.com', 3269], ['dc1.corp.example.com', 3269]]);
    expect(await address('ldap://dc1.corp.example.com', ['    start_tls: true'])).toEqual([['dc1.corp.example.com', 389], ['dc1.corp.example.com', 389]]);
    expect(await address('ldaps://dc1.corp.example.com:1/')).toEqual([['dc1.corp.example.com', 1], ['dc1.corp.example.com', 1]]);
    expect(await address('ldaps://dc1.corp.example.com:65535')).toEqual([['dc1.corp.example.com', 65535], ['dc1.corp.example.com', 65535]]);
  });

  it('takes an IPv6 domain controller in brackets, and shows it without them', async () => {
    expect((await dcOf(dc({ url: 'ldaps://[fd00::5]' }))).servers[0]).toMatchObject({ host: 'fd00::5', port: 636 });
    expect((await dcOf(dc({ url: 'ldaps://[fd00::5]:1636' }))).servers[0]).toMatchObject({ host: 'fd00::5', port: 1636 });
  });

  it('keeps tls_ca_file and the rdp_port given', async () => {
    const corp = await dcOf(dc({}, ['    tls_ca_file: /etc/keyway/corp-ca.pem', '    rdp_port: 13389']));
    expect([corp.tlsCaFile, corp.rdpPort]).toEqual(['/etc/keyway/corp-ca.pem', 13389]);
  });
});

describe('type: windows-dc, what it refuses', () => {
  it('refuses a url that is not exactly scheme://host[:port][/], on the url line, saying what is wrong', async () => {
    const SCHEME = 'it must start with ldaps:// (or ldap:// with start_tls: true)';
    const HOST = 'the host is not a host name, an IPv4 address or an IPv6 address in [brackets]';
    const remove = (rest: string) => `Keyway takes only the server and port: remove "${rest}" (the base DN goes in base_dn)`;
    const badPort = (port: string) => `the port "${port}" is not a whole number from 1 to 65535`;
    for (const [url, why] of [
      ['xldaps://dc1.corp.example.com', SCHEME], // something before the scheme
      ['https://dc1.corp.example.com', SCHEME],
      ['ldaps:/dc1.corp.example.com', SCHEME],
      ['ldaps://dc1.corp.example.com/DC=corp,DC=example,DC=com', remove('/DC=corp,DC=example,DC=com')], // a path after the host
      ['ldaps://dc1.corp.example.com:636?one', remove('?one')], // a query
      ['ldaps://dc1.corp.example.com#x', remove('#x')],
      ['ldaps://dc[1.corp.example.com', HOST], // a bracket that is no IPv6 address
      ['ldaps://dc]1.corp.example.com', HOST],
      ['ldaps://[]', HOST],
      ['ldaps://[fd00::g]', HOST],
      ['ldaps://dc1;reboot', HOST], // no hostname
      ['ldaps://', HOST],
      ['ldaps://dc1.corp.example.com:0', badPort('0')],
      ['ldaps://dc1.corp.example.com:65536', badPort('65536')],
      ['ldaps://dc1.corp.example.com:123456/', badPort('123456')],
      ['ldaps://dc1.corp.example.com:ldaps', badPort('ldaps')],
      ['ldaps://[fd00::1]:0', badPort('0')],
      ['ldap://dc1.corp.example.com/DC=corp', remove('/DC=corp')], // the same reasons for ldap:// as for ldaps://
      ['ldap://dc1.corp.example.com:0', badPort('0')],
      ['ldaps://dc1.corp.example.com:1e3', badPort('1e3')],
      ['ldaps://dc1.corp.example.com:0x10', badPort('0x10')],
      ['ldaps://dc1.corp.example.com:', badPort('')],
      // A port that is right does not take the blame for a host that is wrong.
      ['ldaps://dc;1:636', HOST],
      ['ldaps://dc;1:1', HOST],
      ['ldaps://dc;1:65535', HOST],
    ] as const) {
      expect(await problems(dc({ url: `"${url}"` })), url).toEqual([`${NOT_LDAP(url)}: ${why}`]);
    }
  });

  it('refuses plain LDAP without start_tls, and start_tls on an ldaps:// url, each on its own line', async () => {
    expect(await problems(dc({ url: 'ldap://dc1.corp.example.com' }))).toEqual([
      '4: url "ldap://dc1.corp.example.com" is plain LDAP, which would send passwords in clear: use ldaps://, or set start_tls: true',
    ]);
    expect(await problems(dc({}, ['    start_tls: true']))).toEqual([
      '11: start_tls is for ldap:// URLs; an ldaps:// URL is TLS from the start: remove start_tls',
    ]);
  });

  it('names the field of a DN it cannot read', async () => {
    expect(await problems(dc({ bind_dn: 'keyway-svc' }))).toEqual(['5: bind_dn: "keyway-svc" is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: a part has no "="']);
    expect(await problems(dc({ base_dn: 'corp.example.com' }))).toEqual(['7: base_dn: "corp.example.com" is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: a part has no "="']);
    expect(await problems(dc({ ou: 'Keyway' }))).toEqual(['8: ou: "Keyway" is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: a part has no "="']);
  });

  it('refuses an ou outside base_dn, or the whole domain, on the ou line', async () => {
    expect(await problems(dc({ ou: 'OU=Keyway,DC=other,DC=com' }))).toEqual([`8: ou "OU=Keyway,DC=other,DC=com" is not under base_dn "${DN.base}"`]);
    expect(await problems(dc({ ou: 'dc=CORP, dc=example, dc=com' }))).toEqual([
      "8: ou must be an OU of its own below base_dn, where only Keyway's accounts live, not the whole domain",
    ]);
  });

  it('refuses no groups, and a group named twice in any case, on that entry', async () => {
    expect(await problems(dc({ groups: '[]' }))).toEqual(['9: groups must list at least one AD group people may request']);
    expect(await problems(dc({ groups: ['', '      - Server Admins', '      - SQL Readers', '      - server admins'].join('\n') }))).toEqual([
      '12: groups names "server admins" twice',
    ]);
  });

  it('refuses an rdp_port that is no TCP port, naming it', async () => {
    for (const value of ['0', '65536', '3389.5', 'rdp']) {
      expect(await problems(dc({}, [`    rdp_port: ${value}`])), value).toEqual(['11: rdp_port must be a whole number from 1 to 65535']);
    }
  });

  it('refuses an empty tls_ca_file', async () => {
    expect(await problems(dc({}, ['    tls_ca_file: ""']))).toEqual(['11: tls_ca_file must be a path to a PEM file']);
  });
});

describe('type: rdp, what it reads', () => {
  it('is exactly the integration written, each server with its WinRM and RDP ports, nothing else added', async () => {
    const servers = [
      '',
      '      - { name: ws-1, host: 10.0.0.7 }',
      '      - { name: ws-2, host: ws-2.corp.example.com, winrm_port: 15986, rdp_port: 13389, tags: { env: prod } }',
      '      - { name: ws-3, host: 10.0.0.9, use_ssl: false }',
    ].join('\n');
    expect(await rdpOf(rdp(servers, ['    allow_unencrypted: true']))).toStrictEqual({
      name: 'desktops', secret: { env: 'WINRM_PASSWORD' }, userGroups: ['Remote Desktop Users'], ...UNSHARED, allowPrivilegedGroups: false,
      type: 'rdp', user: 'KEYWAY\\winrm-admin', allowUnencrypted: true,
      servers: [
        { name: 'ws-1', host: '10.0.0.7', user: 'KEYWAY\\winrm-admin', port: 5986, tags: {}, winrmPort: 5986, rdpPort: 3389, useSsl: true },
        { name: 'ws-2', host: 'ws-2.corp.example.com', user: 'KEYWAY\\winrm-admin', port: 15986, tags: { env: 'prod' }, winrmPort: 15986, rdpPort: 13389, useSsl: true },
        { name: 'ws-3', host: '10.0.0.9', user: 'KEYWAY\\winrm-admin', port: 5985, tags: {}, winrmPort: 5985, rdpPort: 3389, useSsl: false },
      ],
    });
  });

  it('keeps tls_ca_file, domain and allow_privileged_groups when given', async () => {
    const lines = [...dc(), ...rdp(undefined, ['    tls_ca_file: /etc/keyway/winrm-ca.pem', '    domain: corp', '    allow_privileged_groups: true']).slice(1)];
    const desktops = (await parse(lines)).integrations[1] as RdpIntegration;
    expect([desktops.tlsCaFile, desktops.domain, desktops.allowPrivilegedGroups]).toEqual(['/etc/keyway/winrm-ca.pem', 'corp', true]);
  });

  it('takes user names as Windows writes them', async () => {
    for (const user of ['winrm-admin', 'KEYWAY\\winrm-admin', 'winrm-admin@corp.example.com', 'x'.repeat(256)]) {
      expect((await rdpOf(rdp(undefined, [], user))).user).toBe(user);
    }
  });
});

describe('type: rdp, what it refuses', () => {
  it('refuses a user that is empty, too long, or not one clean line', async () => {
    expect(await problems(rdp(undefined, [], '""'))).toEqual(['5: user must name the Windows account WinRM logs in as']);
    expect(await problems(rdp(undefined, [], 'x'.repeat(257)))).toEqual(['5: user must be at most 256 characters']);
    for (const user of ['\'win"rm\'', '" winrm-admin"', '"winrm-admin "', '"winrm\\tadmin"', '"winrm-admin\\n"']) {
      expect(await problems(rdp(undefined, [], user)), user).toEqual(['5: user must be one line without quotes or surrounding spaces']);
    }
  });

  it('refuses an empty server list', async () => {
    expect(await problems(rdp('[]'))).toEqual(['4: the server list must have at least one server']);
  });

  it('refuses plain-HTTP WinRM on the use_ssl line of that server', async () => {
    const servers = ['', '      - name: ws-1', '        host: 10.0.0.7', '      - name: ws-2', '        host: 10.0.0.8', '        use_ssl: false'].join('\n');
    expect(await problems(rdp(servers))).toEqual([
      '9: server "ws-2" has use_ssl: false: plain-HTTP WinRM sends the admin password and the issued passwords where others can read them; use HTTPS (5986), or set allow_unencrypted: true on the integration to accept that',
    ]);
  });

  it('refuses a winrm_port or rdp_port that is no TCP port, naming it', async () => {
    expect(await problems(rdp('[{ name: ws-1, host: 10.0.0.7, winrm_port: 0 }]'))).toEqual(['4: winrm_port must be a whole number from 1 to 65535']);
    expect(await problems(rdp('[{ name: ws-1, host: 10.0.0.7, rdp_port: 65536 }]'))).toEqual(['4: rdp_port must be a whole number from 1 to 65535']);
  });

  it('refuses no user_groups, and a group named twice in any case', async () => {
    expect(await problems(rdp(undefined, ['    user_groups: []']))).toEqual(['8: user_groups must name at least one group']);
    expect(await problems(rdp(undefined, ['    user_groups: [Remote Desktop Users, remote desktop users]']))).toEqual(['8: user_groups names a group twice']);
  });

  it('judges a non-ASCII group by what it is, not as a duplicate of its upper-case spelling (Windows does not make ß SS)', async () => {
    expect(await problems(rdp(undefined, ['    user_groups: [Straße, STRASSE]']))).toEqual([
      '8: user_groups: "Straße" is not a Windows group Keyway grants: use 1 to 64 characters of letters, digits, space, ".", "_" and "-", starting with a letter or digit.',
    ]);
  });

  it('refuses a domain that is no integration name', async () => {
    expect(await problems(rdp(undefined, ['    domain: "corp dc"']))).toEqual([
      '8: "corp dc" is not a valid integration name: use up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit',
    ]);
  });

  it('refuses an empty tls_ca_file', async () => {
    expect(await problems(rdp(undefined, ['    tls_ca_file: ""']))).toEqual(['8: tls_ca_file must be a path to a PEM file']);
  });
});
