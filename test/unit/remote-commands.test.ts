import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bootstrapCommand, checkBootstrapCommand, deleteAccountCommand, inspectAccountCommand, provisionAccountCommand,
  revokeAccessCommand, shellQuote, type RemoteCommand,
} from '../../src/hosts/remote-commands.js';
import {
  BOOTSTRAP_SCRIPT, CHECK_SCRIPT, DELETE_ACCOUNT_SCRIPT, INSPECT_ACCOUNT_SCRIPT, PROVISION_SCRIPT, REVOKE_SCRIPT,
} from '../../src/hosts/remote-scripts.js';
import {
  caPublicKeyLine, grantableGroup, groupName, loginShell, managedUserName, principal, uid,
  type GroupName, type ManagedUserName, type Principal,
} from '../../src/hosts/remote-values.js';

const dir = mkdtempSync(join(tmpdir(), 'keyway-remote-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stand-in for sudo that records the argv it was given (NUL-separated) instead of running anything.
const recordingSudoDir = join(dir, 'recording');
const argvFile = join(dir, 'argv');
spawnSync('mkdir', ['-p', recordingSudoDir]);
writeFileSync(join(recordingSudoDir, 'sudo'), `#!/bin/sh\nprintf '%s\\0' "$@" > '${argvFile}'\n`);
chmodSync(join(recordingSudoDir, 'sudo'), 0o755);

// A stand-in for sudo that runs the command as the current user (only used with read-only scripts).
const passThroughSudoDir = join(dir, 'pass-through');
spawnSync('mkdir', ['-p', passThroughSudoDir]);
writeFileSync(join(passThroughSudoDir, 'sudo'), '#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n');
chmodSync(join(passThroughSudoDir, 'sudo'), 0o755);

/** Runs the command line as the connector's login shell would (sh -c), with a recording sudo; returns sudo's argv. */
function argvReceivedBySudo(command: RemoteCommand, shell = 'sh'): string[] {
  rmSync(argvFile, { force: true });
  const result = spawnSync(shell, ['-c', command.text], { env: { PATH: `${recordingSudoDir}:/usr/bin:/bin` }, encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(argvFile, 'utf8').split('\0').slice(0, -1);
}

function shellOutput(shell: string, script: string): string {
  const result = spawnSync(shell, ['-c', script], { encoding: 'utf8' });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout;
}

const HOSTILE = [
  'root', '$(reboot)', '`reboot`', 'a;b', "a'b", 'a"b', 'a b', 'a\nb', 'a\tb', 'a\\b', 'a|b', 'a&b', 'a>b', '-rf', '--help',
  'x'.repeat(40), 'аdmin' /* Cyrillic а */, 'ａlice' /* full-width */, 'alıce' /* dotless i */, '../../etc', 'a/b', '', ' ', 'a,b', 'Alice', '*', '~root',
];

const user = managedUserName('devhba');
const group = groupName('developers');
const ca = caPublicKeyLine('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl keyway-ca');

describe('remote values', () => {
  it('refuses hostile, reserved and look-alike usernames', () => {
    for (const value of [...HOSTILE, 'daemon', 'keyway', 'sshd', 'nobody']) {
      expect(() => managedUserName(value), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'username_invalid' }));
    }
    expect(managedUserName('devhba')).toBe('devhba');
    expect(managedUserName('_svc-1')).toBe('_svc-1');
  });

  it('refuses hostile group names, and never grants root or keyway-users', () => {
    for (const value of HOSTILE.filter((v) => v !== 'root')) {
      expect(() => groupName(value), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    }
    expect(() => grantableGroup('root')).toThrow(/never granted/);
    expect(() => grantableGroup('keyway-users')).toThrow(/never granted/);
    expect(grantableGroup('developers')).toBe('developers');
  });

  it('refuses hostile principals', () => {
    for (const value of HOSTILE.filter((v) => !['root', '-rf', '--help', '../../etc', 'x'.repeat(40)].includes(v))) {
      expect(() => principal(value), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    }
    expect(() => principal('x'.repeat(65))).toThrow();
    expect(principal('keyway-req-42')).toBe('keyway-req-42');
  });

  it('accepts only plain absolute paths as login shells', () => {
    for (const value of ['bash', '/bin/bash; reboot', '/bin/$(reboot)', "/bin/ba'sh", '/bin/bash\n', '/bin/../etc/shadow', '/bin/./sh', '', '/', '/bin/ bash']) {
      expect(() => loginShell(value), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'config_invalid' }));
    }
    expect(loginShell('/usr/bin/zsh')).toBe('/usr/bin/zsh');
  });

  it('accepts only UIDs of regular accounts', () => {
    for (const value of [0, 1, 999, 65534, -1, 1.5, Number.NaN, 2 ** 31]) expect(() => uid(value), String(value)).toThrow(RangeError);
    expect(uid(60000)).toBe(60000);
  });

  it('accepts only one OpenSSH public key line as the CA key', () => {
    const base64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    for (const value of [`ssh-ed25519 ${base64}\nPermitRootLogin yes`, `ssh-ed25519 ${base64} a'b`, `ssh-ed25519 ${base64} $(reboot)`,
      `ssh-dss ${base64}`, `ssh-ed25519 not*base64`, 'PermitRootLogin yes']) {
      expect(() => caPublicKeyLine(value), JSON.stringify(value)).toThrow(expect.objectContaining({ code: 'ca_key_invalid' }));
    }
    expect(caPublicKeyLine(`  ssh-ed25519 ${base64} keyway-ca\n`)).toBe(`ssh-ed25519 ${base64} keyway-ca`);
  });
});

describe('shell quoting', () => {
  const values = [
    "it's", "'", "''", "'\\''", '"', '$(touch /tmp/keyway-pwned)', '`touch /tmp/keyway-pwned`', '${HOME}', '$HOME', '\\', '\\\\n',
    'a\nb', '\n', '\t', ' leading and trailing ', '*', '?', '[a]', '~', '!', '#', ';', '&&', '|', '<', '>', '-n', '--', '',
    'ünïcödé ✓', "/srv/it's a \"quoted\" $(path) `with` \\ everything; rm -rf /*",
  ];

  for (const shell of ['sh', 'bash']) {
    it(`makes every value come out of ${shell} exactly as given`, () => {
      for (const value of values) {
        expect(shellOutput(shell, `printf '%s' ${shellQuote(value)}`), JSON.stringify(value)).toBe(value);
      }
    });
  }

  it('keeps each value one word, even when they are juxtaposed', () => {
    const script = `for word in ${values.map(shellQuote).join(' ')}; do printf '[%s]' "$word"; done`;
    expect(shellOutput('sh', script)).toBe(values.map((v) => `[${v}]`).join(''));
  });

  it('refuses a NUL byte, which no argument can carry', () => {
    expect(() => shellQuote('a\0b')).toThrow(RangeError);
  });
});

describe('built commands', () => {
  const built: Array<[string, RemoteCommand, string, string[]]> = [
    ['inspect', inspectAccountCommand(user, { min: uid(60000), max: uid(64999) }), INSPECT_ACCOUNT_SCRIPT, ['devhba', '60000', '64999']],
    ['provision', provisionAccountCommand({ user, uid: uid(60001), shell: loginShell('/bin/bash'), principal: principal('keyway-req-42'), groups: [group, groupName('sudo'), group] }),
      PROVISION_SCRIPT, ['devhba', '60001', '/bin/bash', 'keyway-req-42', 'developers,sudo']],
    ['provision (Default)', provisionAccountCommand({ user, uid: uid(60001), shell: loginShell('/bin/bash'), principal: principal('keyway-req-42'), groups: [] }),
      PROVISION_SCRIPT, ['devhba', '60001', '/bin/bash', 'keyway-req-42', '']],
    ['revoke', revokeAccessCommand({ user, uid: uid(60001), principal: principal('keyway-req-42'), groupsToRemove: [group], endAccess: true }),
      REVOKE_SCRIPT, ['devhba', '60001', 'keyway-req-42', 'developers', '1']],
    ['revoke (unrecorded)', revokeAccessCommand({ user, uid: undefined, principal: principal('keyway-req-42'), groupsToRemove: [], endAccess: false }),
      REVOKE_SCRIPT, ['devhba', '', 'keyway-req-42', '', '0']],
    ['delete', deleteAccountCommand(user, uid(60001)), DELETE_ACCOUNT_SCRIPT, ['devhba', '60001']],
    ['bootstrap', bootstrapCommand(ca), BOOTSTRAP_SCRIPT, [ca]],
    ['check', checkBootstrapCommand(undefined), CHECK_SCRIPT, ['']],
  ];

  for (const [name, command, script, args] of built) {
    it(`${name}: sudo receives the fixed script and the values as separate arguments, byte for byte`, () => {
      expect(command.text.startsWith("sudo -n sh -c '")).toBe(true);
      for (const shell of ['sh', 'bash']) {
        const argv = argvReceivedBySudo(command, shell);
        expect(argv.slice(0, 3)).toEqual(['-n', 'sh', '-c']);
        expect(argv[3]).toBe(script);
        expect(argv[4]).toMatch(/^keyway-[a-z]+$/);
        expect(argv.slice(5)).toEqual(args);
      }
    });
  }

  it('names its purpose without the script', () => {
    for (const [, command] of built) {
      expect(command.purpose.length).toBeLessThan(120);
      expect(command.purpose).not.toContain('\n');
    }
  });

  for (const [name, script] of Object.entries({ INSPECT_ACCOUNT_SCRIPT, PROVISION_SCRIPT, REVOKE_SCRIPT, DELETE_ACCOUNT_SCRIPT, BOOTSTRAP_SCRIPT, CHECK_SCRIPT })) {
    it(`${name} parses under dash and bash --posix and interpolates nothing`, () => {
      for (const shell of [['sh', '-n'], ['bash', '--posix', '-n']]) {
        const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', script], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
      }
      expect(script.startsWith('set -eu\n')).toBe(true);
      expect(script).not.toContain('${'); // values only ever arrive as "$1", "$2", …
    });
  }

  it('treats a value that slipped past validation as data, not code', () => {
    const marker = join(dir, 'pwned');
    const hostile = `x; touch ${marker}; $(touch ${marker}) \`touch ${marker}\` ' "`;
    const command = provisionAccountCommand({
      user: hostile as ManagedUserName, uid: uid(60001), shell: loginShell('/bin/bash'),
      principal: hostile as Principal, groups: [hostile as GroupName],
    });
    expect(argvReceivedBySudo(command).slice(5)).toEqual([hostile, '60001', '/bin/bash', hostile, hostile]);
    expect(existsSync(marker)).toBe(false);

    // The inspect script only reads the account database, so it is safe to run for real here.
    const inspect = inspectAccountCommand(hostile as ManagedUserName, { min: uid(60000), max: uid(60010) });
    const result = spawnSync('sh', ['-c', inspect.text], { env: { PATH: `${passThroughSudoDir}:/usr/bin:/bin` }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('account=absent');
    expect(existsSync(marker)).toBe(false);
  });
});
