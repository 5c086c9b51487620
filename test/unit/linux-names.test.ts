// Validate once: the provisioner's validators (src/targets/ssh/remote-values.ts) and the access file's refuse the same
// values, because both are the rules of src/core/linux-names.ts.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseAccessConfig } from '../../src/config/load.js';
import { PRIVILEGED_GROUPS, validateGrantableGroup, validateLoginShell } from '../../src/core/linux-names.js';
import { grantableGroup, grantableGroupIn, groupName, loginShell } from '../../src/targets/ssh/remote-values.js';

const GROUPS = [
  'developers', 'adm', 'sudo', 'wheel', 'docker', 'lxd', 'disk', 'shadow', 'root', 'keyway-users', '_ops', 'ops-1',
  'Developers', '-rf', 'a'.repeat(33), 'a b', '$(reboot)', 'аdmin' /* Cyrillic а */,
];
const SHELLS = [
  '/bin/bash', '/usr/bin/zsh', '/usr/local/bin/fish', '/usr/bin/../bin/bash', '/bin/./sh', '//bin/bash', '/bin/bash/',
  '/', 'bash', '/bin/ba sh', '/bin/bash;reboot', '/bin/$(reboot)', `/${'a'.repeat(255)}`,
];

function configRefuses(lines: string[]): boolean {
  try {
    parseAccessConfig(`${lines.join('\n')}\n`, 'access.yaml');
    return false;
  } catch (error) {
    if (error instanceof ConfigError) return true;
    throw error;
  }
}

const refuses = (validate: () => unknown): boolean => {
  try {
    validate();
    return false;
  } catch {
    return true;
  }
};

function accessFile(options: { group: string; allowPrivileged: boolean }): string[] {
  return [
    'integrations:',
    '  - name: prod',
    '    servers: [{ name: web-1, host: 10.0.0.1 }]',
    '    owners: [ops@example.com]',
    `    allow_privileged_groups: ${options.allowPrivileged}`,
    'flows:',
    '  - name: debug',
    '    requesters: { everyone: true }',
    '    resources: { integration: prod, servers: [web-1] }',
    `    grant_groups: [${JSON.stringify(options.group)}]`,
  ];
}

describe('the access file and the provisioner validate Linux names with the same rules', () => {
  for (const allowPrivileged of [false, true]) {
    it(`grant_groups refuses exactly what grantableGroup refuses (allow_privileged_groups: ${allowPrivileged})`, () => {
      for (const group of GROUPS) {
        const provisioner = refuses(() => grantableGroupIn({ name: 'prod', allowPrivilegedGroups: allowPrivileged })(group));
        expect(configRefuses(accessFile({ group, allowPrivileged })), group).toBe(provisioner);
      }
    });
  }

  it('login_shell refuses exactly what loginShell refuses', () => {
    for (const shell of SHELLS) {
      const lines = ['integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    owners: [ops@example.com]', `    login_shell: ${JSON.stringify(shell)}`];
      expect(configRefuses(lines), shell).toBe(refuses(() => loginShell(shell)));
    }
  });

  it('the provisioner never grants root or keyway-users, and grants a root-equivalent group only when allowed', () => {
    const strict = grantableGroupIn({ name: 'prod', allowPrivilegedGroups: false });
    const optedIn = grantableGroupIn({ name: 'prod', allowPrivilegedGroups: true });
    for (const group of ['root', 'keyway-users']) {
      for (const validate of [grantableGroup, strict, optedIn]) expect(() => validate(group)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    }
    expect(() => strict('docker')).toThrow(/root-equivalent .*integration "prod"/);
    expect(optedIn('docker')).toBe('docker');
    expect(groupName('docker')).toBe('docker');
  });

  it('the remote-values validators are the core rules, with the same messages', () => {
    for (const group of GROUPS) {
      const core = messageOf(() => validateGrantableGroup(group, { allowPrivileged: false, integration: 'prod' }));
      expect(messageOf(() => grantableGroupIn({ name: 'prod', allowPrivilegedGroups: false })(group)), group).toBe(core);
    }
    for (const shell of SHELLS) expect(messageOf(() => loginShell(shell)), shell).toBe(messageOf(() => validateLoginShell(shell)));
  });

  it('gives a reason for every root-equivalent group', () => {
    for (const group of ['sudo', 'wheel', 'admin', 'docker', 'lxd', 'lxc', 'libvirt', 'disk', 'shadow', 'kmem', 'adm', 'staff']) {
      expect(PRIVILEGED_GROUPS.get(group)?.length ?? 0, group).toBeGreaterThan(30);
    }
  });
});

function messageOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
