// The Windows integration types in access.yaml: windows-dc (LDAPS or StartTLS only, its groups are its resources) and
// rdp (HTTPS WinRM unless allow_unencrypted), neither asked for Linux settings nor judged by Linux name rules.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseAccessConfig } from '../../src/config/load.js';
import { findServer } from '../../src/core/lookup.js';
import type { AccessConfig, RdpIntegration, WindowsDcIntegration } from '../../src/core/model.js';

const DC = (extra: string[] = [], url = 'ldaps://dc1.corp.example.com') => [
  'integrations:',
  '  - name: corp',
  '    type: windows-dc',
  `    url: ${url}`,
  '    bind_dn: CN=keyway-svc,OU=Service,DC=corp,DC=example,DC=com',
  '    secret: { env: CORP_BIND_PASSWORD }',
  '    base_dn: DC=corp,DC=example,DC=com',
  '    ou: OU=Keyway,DC=corp,DC=example,DC=com',
  '    groups: [Server Admins, SQL Readers]',
  '    owners: [ops@example.com]',
  ...extra,
];

const FLOW = (integration: string, servers: string, extra: string[] = []) => [
  'flows:',
  '  - name: windows',
  '    requesters: { emails: [dev@example.com] }',
  `    resources: { integration: ${integration}, servers: [${servers}] }`,
  ...extra,
];

function parse(lines: string[]): AccessConfig {
  return parseAccessConfig(`${lines.join('\n')}\n`, '/etc/keyway/access.yaml', () => '[]');
}

function messages(lines: string[]): string[] {
  try {
    parse(lines);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.line}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('type: windows-dc', () => {
  it('makes each group a resource named as the group, at the domain controller, with no Linux settings asked', () => {
    const config = parse([...DC(['    tls_ca_file: corp-ca.pem']), ...FLOW('corp', '"Server Admins"')]);
    const corp = config.integrations[0] as WindowsDcIntegration;
    expect(corp).toMatchObject({
      type: 'windows-dc', startTls: false, ou: 'OU=Keyway,DC=corp,DC=example,DC=com', groups: ['Server Admins', 'SQL Readers'],
      tlsCaFile: '/etc/keyway/corp-ca.pem', rdpPort: 3389, secret: { env: 'CORP_BIND_PASSWORD' },
    });
    expect(corp.servers.map((s) => [s.name, s.host, s.port])).toEqual([['Server Admins', 'dc1.corp.example.com', 636], ['SQL Readers', 'dc1.corp.example.com', 636]]);
    expect(findServer(config, 'SQL Readers')?.integration.name).toBe('corp');
  });

  it('accepts ldap:// with start_tls: true and refuses plain LDAP without it', () => {
    expect((parse(DC(['    start_tls: true'], 'ldap://10.0.0.5:389')).integrations[0] as WindowsDcIntegration).startTls).toBe(true);
    expect(messages(DC([], 'ldap://10.0.0.5'))).toEqual(['4: url "ldap://10.0.0.5" is plain LDAP, which would send passwords in clear: use ldaps://, or set start_tls: true']);
    expect(messages(DC([], 'https://dc1'))[0]).toContain('is not an LDAP URL');
  });

  it('refuses an ou outside base_dn, the whole domain as ou, and DNs it cannot read', () => {
    const lines = DC();
    lines[7] = '    ou: OU=Keyway,DC=other,DC=com';
    expect(messages(lines)).toEqual(['8: ou "OU=Keyway,DC=other,DC=com" is not under base_dn "DC=corp,DC=example,DC=com"']);
    lines[7] = '    ou: dc=CORP,dc=example,dc=com';
    expect(messages(lines)[0]).toContain('ou must be an OU of its own');
    lines[7] = '    ou: OU=Key"way,DC=corp,DC=example,DC=com';
    expect(messages(lines)[0]).toContain('must be escaped');
  });

  it('refuses group names AD refuses, and grant_groups in its flows', () => {
    const lines = DC();
    lines[8] = '    groups: ["Admins*"]';
    expect(messages(lines)[0]).toContain('has a character Active Directory refuses');
    expect(messages([...DC(), ...FLOW('corp', '"SQL Readers"', ['    grant_groups: [sudo]'])])).toEqual([
      '15: grant_groups has no meaning for windows-dc integration "corp": its groups are the resources people request (resources.servers)',
    ]);
  });
});

describe('type: rdp', () => {
  const RDP = (server: string, extra: string[] = []) => [
    '  - name: desktops',
    '    type: rdp',
    `    servers: [${server}]`,
    '    user: KEYWAY\\winrm-admin',
    '    secret: { env: WINRM_PASSWORD }',
    '    owners: [ops@example.com]',
    ...extra,
  ];

  it('defaults to HTTPS WinRM on 5986, RDP on 3389 and Remote Desktop Users', () => {
    const config = parse([...DC(), ...RDP('{ name: ws-1, host: 10.0.0.7 }')]);
    const rdp = config.integrations[1] as RdpIntegration;
    expect(rdp).toMatchObject({ type: 'rdp', user: 'KEYWAY\\winrm-admin', userGroups: ['Remote Desktop Users'], allowUnencrypted: false });
    expect(rdp.servers[0]).toMatchObject({ name: 'ws-1', host: '10.0.0.7', port: 5986, winrmPort: 5986, rdpPort: 3389, useSsl: true, user: 'KEYWAY\\winrm-admin' });
  });

  it('refuses plain-HTTP WinRM unless allow_unencrypted is set', () => {
    expect(messages(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7, use_ssl: false }')])[0]).toContain('plain-HTTP WinRM');
    const config = parse(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7, use_ssl: false }', ['    allow_unencrypted: true'])]);
    expect((config.integrations[0] as RdpIntegration).servers[0]).toMatchObject({ winrmPort: 5985, useSsl: false });
  });

  it('refuses Administrators, privileged groups without allow_privileged_groups, and grant_groups in its flows', () => {
    expect(messages(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    user_groups: [Administrators]'])])[0]).toContain('never granted');
    expect(messages(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    user_groups: [Remote Management Users]'])])[0]).toContain('allow_privileged_groups');
    const allowed = parse(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    user_groups: [Remote Desktop Users, Remote Management Users]', '    allow_privileged_groups: true'])]);
    expect(allowed.integrations[0]!.userGroups).toEqual(['Remote Desktop Users', 'Remote Management Users']);
    const refused = messages(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }'), ...FLOW('desktops', 'ws-1', ['    grant_groups: [sudo]'])]);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toContain('grant_groups is not used for rdp integration "desktops"');
  });

  it('takes domain: naming a windows-dc integration, and refuses one that names anything else', () => {
    const config = parse([...DC(), ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    domain: corp'])]);
    expect((config.integrations[1] as RdpIntegration).domain).toBe('corp');
    expect((parse(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }')]).integrations[0] as RdpIntegration).domain).toBeUndefined();
    const unknown = messages([...DC(), ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    domain: nowhere'])]);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toContain('domain must name a windows-dc integration, and "nowhere" is no integration (windows-dc integrations: corp)');
    const itself = messages(['integrations:', ...RDP('{ name: ws-1, host: 10.0.0.7 }', ['    domain: desktops'])]);
    expect(itself[0]).toContain('"desktops" is of type rdp');
  });
});
