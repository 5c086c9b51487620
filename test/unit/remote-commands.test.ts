import { spawnSync } from 'node:child_process';
import {
  chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bootstrapCommand, checkBootstrapCommand, deleteAccountCommand, inspectAccountsCommand, MAX_BATCH_GRANTS,
  provisionBatchCommand, reconcileInspectCommand, revokeBatchCommand, revokePurpose, shellQuote, type RemoteCommand,
  type RevokeSpec,
} from '../../src/targets/ssh/remote-commands.js';
import { findUnknown, parseInventory } from '../../src/targets/ssh/reconcile.js';
import {
  BOOTSTRAP_SCRIPT, CHECK_SCRIPT, DELETE_ACCOUNT_SCRIPT, INSPECT_BATCH_SCRIPT, PROVISION_BATCH_SCRIPT,
  RECONCILE_INSPECT_SCRIPT, REMOTE_EXIT, REMOTE_PATHS, REVOKE_BATCH_SCRIPT,
} from '../../src/targets/ssh/remote-scripts.js';
import {
  caPublicKeyLine, grantableGroup, groupName, loginShell, managedUserName, principal, uid,
  type GroupName, type ManagedUserName, type Principal,
} from '../../src/targets/ssh/remote-values.js';
import { isSudoRefusal, remoteFailure } from '../../src/targets/ssh/run-remote.js';
import { integration, server } from '../helpers/access-config.js';

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
  const built: Array<[string, RemoteCommand, string, string, string[]]> = [
    ['inspect', inspectAccountsCommand([user], { min: uid(60000), max: uid(64999) }), INSPECT_BATCH_SCRIPT, 'keyway-inspect-batch', ['60000', '64999', 'devhba']],
    // A provisioning of one grant is a batch of one too: the count 1, then its six values.
    ['provision', provisionBatchCommand([{ user, uid: uid(60001), recorded: true, shell: loginShell('/bin/bash'), principal: principal('keyway-req-42'), groups: [group, groupName('sudo'), group] }]),
      PROVISION_BATCH_SCRIPT, 'keyway-provision-batch', ['1', 'devhba', '60001', '/bin/bash', 'keyway-req-42', 'developers,sudo', '1']],
    ['provision (Default, new UID)', provisionBatchCommand([{ user, uid: uid(60001), recorded: false, shell: loginShell('/bin/bash'), principal: principal('keyway-req-42'), groups: [] }]),
      PROVISION_BATCH_SCRIPT, 'keyway-provision-batch', ['1', 'devhba', '60001', '/bin/bash', 'keyway-req-42', '', '0']],
    // A revoke of one grant is a batch of one: the count 1, then its five values.
    ['revoke', revokeBatchCommand([{ user, uid: uid(60001), principal: principal('keyway-req-42'), groupsToRemove: [group, group], endAccess: true }]),
      REVOKE_BATCH_SCRIPT, 'keyway-revoke-batch', ['1', 'devhba', '60001', 'keyway-req-42', 'developers', '1']],
    ['revoke (unrecorded)', revokeBatchCommand([{ user, uid: undefined, principal: principal('keyway-req-42'), groupsToRemove: [], endAccess: false }]),
      REVOKE_BATCH_SCRIPT, 'keyway-revoke-batch', ['1', 'devhba', '', 'keyway-req-42', '', '0']],
    ['delete', deleteAccountCommand(user, uid(60001)), DELETE_ACCOUNT_SCRIPT, 'keyway-delete', ['devhba', '60001']],
    ['bootstrap', bootstrapCommand(ca), BOOTSTRAP_SCRIPT, 'keyway-bootstrap', [ca]],
    ['check', checkBootstrapCommand(undefined), CHECK_SCRIPT, 'keyway-check', ['']],
  ];

  for (const [name, command, script, scriptName, args] of built) {
    it(`${name}: sudo receives the fixed script and the values as separate arguments, byte for byte`, () => {
      expect(command.text.startsWith("sudo -n sh -c '")).toBe(true);
      for (const shell of ['sh', 'bash']) {
        const argv = argvReceivedBySudo(command, shell);
        expect(argv.slice(0, 3)).toEqual(['-n', 'sh', '-c']);
        expect(argv[3]).toBe(script);
        expect(argv[4]).toBe(scriptName);
        expect(argv.slice(5)).toEqual(args);
      }
    });
  }

  it('revoke of one grant: its purpose names the grant', () => {
    expect(revokeBatchCommand([{ user, uid: uid(60001), principal: principal('keyway-req-42'), groupsToRemove: [], endAccess: true }]).purpose)
      .toBe('revoke 1 grant (keyway-req-42)');
  });

  it('names its purpose without the script', () => {
    for (const [, command] of built) {
      expect(command.purpose.length).toBeLessThan(120);
      expect(command.purpose).not.toContain('\n');
    }
  });

  for (const [name, script] of Object.entries({ DELETE_ACCOUNT_SCRIPT, BOOTSTRAP_SCRIPT, CHECK_SCRIPT })) {
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
    const command = provisionBatchCommand([{
      user: hostile as ManagedUserName, uid: uid(60001), recorded: true, shell: loginShell('/bin/bash'),
      principal: hostile as Principal, groups: [hostile as GroupName],
    }]);
    expect(argvReceivedBySudo(command).slice(5)).toEqual(['1', hostile, '60001', '/bin/bash', hostile, hostile, '1']);
    expect(existsSync(marker)).toBe(false);

    // The inspect script only reads the account database, so it is safe to run for real here.
    const inspect = inspectAccountsCommand([hostile as ManagedUserName], { min: uid(60000), max: uid(60010) });
    const result = spawnSync('sh', ['-c', inspect.text], { env: { PATH: `${passThroughSudoDir}:/usr/bin:/bin` }, encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('account.1=absent');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('remote failures', () => {
  const web = server('web-1');
  const ref = { integration: integration('lab', [web]), server: web };
  // What the revoke batch names a grant's failure by (provision-batch.ts reports each grant under its own purpose).
  const revoke = { purpose: revokePurpose({ user, principal: principal('keyway-req-42') }) };

  it("counts only sudo's own refusals as 'sudo needs a password'", () => {
    const refusals = [
      'sudo: a password is required\n',
      'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n',
      'sudo: no tty present and no askpass program specified\n',
      'sudo: sorry, you must have a tty to run sudo\n',
      'keyway is not in the sudoers file.  This incident will be reported.\n',
      'sudo: keyway is not in the sudoers file\n',
      "Sorry, user keyway is not allowed to execute '/bin/sh -c …' as root on web-1.\n",
      'sudo: unable to resolve host web-1: Name or service not known\nsudo: a password is required\n',
    ];
    for (const stderr of refusals) expect(isSudoRefusal(1, stderr), stderr).toBe(true);

    const notRefusals: Array<[number, string]> = [
      [REMOTE_EXIT.processesSurvive, 'sudo: unable to resolve host web-1: Name or service not known\nprocesses of devhba are still alive after 5 s of kill -KILL\n'],
      [1, 'sudo: unable to resolve host web-1: Name or service not known\nusermod: user devhba is currently used by process 4242\n'],
      [1, 'sudo: setrlimit(RLIMIT_CORE): Operation not permitted\n'],
      [REMOTE_EXIT.lockTimeout, 'another Keyway operation has held /etc/ssh/keyway/lock/keyway.lock for 30 s\n'],
      // A script's own output that happens to quote sudo's words is not sudo refusing.
      [REMOTE_EXIT.toolsMissing, 'this server lacks commands Keyway needs: setpriv (a password is required)\n'],
    ];
    for (const [code, stderr] of notRefusals) expect(isSudoRefusal(code, stderr), stderr).toBe(false);
  });

  it('reports a stuck kill as what it is, with the exit code and what the server said, not as missing sudo', () => {
    const error = remoteFailure(ref, revoke, REMOTE_EXIT.processesSurvive,
      'sudo: unable to resolve host web-1: Name or service not known\nprocesses of devhba are still alive after 5 s of kill -KILL (stuck in the kernel?)\n');
    expect(error).toMatchObject({ code: 'remote_command_failed', sudoRefused: false, exitCode: REMOTE_EXIT.processesSurvive });
    expect(error.message).toBe('Could not revoke keyway-req-42 from devhba on web-1 (keyway@127.0.0.1:22) (exit 17): '
      + 'sudo: unable to resolve host web-1: Name or service not known / processes of devhba are still alive after 5 s of kill -KILL (stuck in the kernel?)');
    expect(error.message).not.toMatch(/password/);
  });

  it('reports a refusing sudo as missing NOPASSWD sudo', () => {
    const error = remoteFailure(ref, revoke, 1, 'sudo: a password is required\n');
    expect(error).toMatchObject({ code: 'remote_command_failed', sudoRefused: true });
    expect(error.message).toMatch(/the connector keyway cannot run sudo without a password \(sudo: a password is required\)\. Give it NOPASSWD sudo\.$/);
  });

  it('refuses to touch accounts Keyway does not manage, with its own code', () => {
    expect(remoteFailure(ref, revoke, REMOTE_EXIT.notManaged, 'devhba already exists and was not created by Keyway\n'))
      .toMatchObject({ code: 'account_not_managed', sudoRefused: false });
  });
});

describe('revoke script (REVOKE_BATCH_SCRIPT: a revoke of one grant is a batch of one)', () => {
  const split = REVOKE_BATCH_SCRIPT.indexOf('read_batch 5 "$@"');
  const body = REVOKE_BATCH_SCRIPT.slice(split);
  // The script's own functions, run for real with the commands that need root replaced by shell functions.
  const functionsThen = (calls: string): string => `${REVOKE_BATCH_SCRIPT.slice(0, split)}\n${calls}\n`;
  /** The text of one of the script's shell functions. */
  const functionText = (name: string): string => {
    const start = REVOKE_BATCH_SCRIPT.indexOf(`\n${name}() {`);
    expect(start, name).toBeGreaterThan(0);
    const oneLine = REVOKE_BATCH_SCRIPT[start + name.length + 5] !== '\n';
    return REVOKE_BATCH_SCRIPT.slice(start, REVOKE_BATCH_SCRIPT.indexOf(oneLine ? '\n' : '\n}\n', start + 1) + (oneLine ? 0 : 2));
  };
  const WAITS_OR_WRITES = /\b(flock|take_lock|getent|usermod|gpasswd|setpriv|ps|sleep|mktemp|loginctl|crontab|atrm|kill|install)\b/;

  it('removes the principal before anything that could wait or fail, then again under the lock; kills before it changes the account', () => {
    const steps = body.trim().split('\n').filter((line) => !line.startsWith('#'));
    // Exactly these steps, in this order: nothing but reading the arguments stands before the first removal.
    expect(steps).toEqual([
      'read_batch 5 "$@"',
      'prlimit --pid $$ --nproc=unlimited 2>/dev/null || :',
      'index_batch',
      'remove_all_principals',
      'require_tools flock getent usermod gpasswd ps setpriv mktemp',
      'if [ -d "$KEYWAY_DIR" ]; then take_lock; fi',
      'remove_all_principals',
      'for k in $principal_error; do val "a_1_$k"; fail_user "$k" 1 "could not rewrite $PRINCIPALS_DIR/$v"; done',
      'require_keyway_accounts',
      'end_processes_of_batch "$managed"',
      'close_accounts',
      'stop_later_runs',
      'end_processes_of_batch "$managed"',
      'move_batch_hooks',
      'report_batch',
    ]);
    // What runs before the first removal, and the removal itself, neither waits on anything nor changes an account.
    for (const name of ['read_batch', 'index_batch', 'remove_all_principals', 'remove_principals', 'val', 'append']) {
      expect(functionText(name), name).not.toMatch(WAITS_OR_WRITES);
    }
    // The account's groups and lock are changed only by the steps after the lock and the first kill: one usermod per
    // user, and each change on its own only when that one fails.
    expect(functionText('close_accounts')).toContain('set -- --lock --expiredate 1 --remove --groups "$csv"');
    expect(functionText('close_accounts')).toContain('usermod "$@" "$user"');
    expect(functionText('close_accounts')).toContain('gpasswd -d');
    expect(functionText('close_accounts')).toContain('usermod --lock --expiredate 1 "$user"');
    expect(functionText('end_processes_of_batch')).toContain('setpriv --reuid="$uid" --regid="$v" --clear-groups kill -KILL -1');
    // The single-user helpers of the shared functions (the delete script's) are never called by the revoke.
    for (const name of ['lock_account', 'end_processes', 'require_keyway_account', 'move_hooks_in']) {
      expect(body, name).not.toMatch(new RegExp(`\\b${name}\\b`));
    }
    expect(functionText('move_batch_hooks')).toContain('move_hooks_in');
  });

  it('takes a lock only a root-only directory holds, never a file a user can open', () => {
    expect(REMOTE_PATHS.lockFile.startsWith(`${REMOTE_PATHS.lockDir}/`)).toBe(true);
    for (const script of [REVOKE_BATCH_SCRIPT, PROVISION_BATCH_SCRIPT, DELETE_ACCOUNT_SCRIPT, BOOTSTRAP_SCRIPT]) {
      expect(script).toContain('install -d -m 0700 -o root -g root "$LOCK_DIR"');
      expect(script).toContain('exec 9>>"$LOCK_FILE"');
      expect(script).not.toMatch(/flock[^\n]*(OLD_LOCK_FILE|PRINCIPALS_DIR|KEYWAY_DIR\b)/);
    }
    // The revoke takes it in one place only, after the first removal of the principals.
    expect(body.split('take_lock').length - 1).toBe(1);
    expect(body.indexOf('take_lock')).toBeGreaterThan(body.indexOf('\nremove_all_principals'));
  });

  it("kills as every user with a live process by real, effective or saved UID, one ps per round for all, and not for zombies", () => {
    const work = mkdtempSync(join(dir, 'kill-'));
    // pid euid ruid suid stat: 60001 has only zombies, 60002 a process by effective UID, 60003 by real UID only, 60004
    // by saved UID only, 60005 none. After the first round's kills, nothing of theirs is alive.
    const table = ['1 0 0 0 Ss', '2 60001 60001 60001 Z', '3 60001 60001 60001 Z+', '4 60002 0 0 S', '5 0 60003 0 Ss', '6 1000 1000 60004 R', '7 0 0 0 S'];
    const output = shellOutput('sh', functionsThen([
      `WORK=${shellQuote(work)}`,
      'called() { printf "%s\\n" "$*" >> "$WORK/log"; }',
      `ps() { called ps "$@"; if [ ! -e "$WORK/seen" ]; then : > "$WORK/seen"; printf '%s\\n' ${table.map(shellQuote).join(' ')}; else printf '%s\\n' '1 0 0 0 Ss'; fi; }`,
      'setpriv() { called setpriv "$@"; }',
      'sleep() { called sleep "$@"; }',
      'for k in 1 2 3 4 5; do eval "a_1_$k=user$k puid_$k=6000$k pgid_$k=6000$k code_$k="; done',
      'end_processes_of_batch " 1 2 3 4 5"',
      'echo "codes=$code_1$code_2$code_3$code_4$code_5"',
    ].join('\n')));
    expect(output).toBe('codes=\n');
    expect(readFileSync(join(work, 'log'), 'utf8').trim().split('\n')).toEqual([
      'ps -e -o pid=,uid=,ruid=,suid=,stat=',
      'setpriv --reuid=60002 --regid=60002 --clear-groups kill -KILL -1',
      'setpriv --reuid=60003 --regid=60003 --clear-groups kill -KILL -1',
      'setpriv --reuid=60004 --regid=60004 --clear-groups kill -KILL -1',
      'ps -e -o pid=,uid=,ruid=,suid=,stat=',
    ]);
  });

  it('fails only the user whose processes survive 5 s of kill -KILL', () => {
    const work = mkdtempSync(join(dir, 'stuck-'));
    const output = shellOutput('sh', functionsThen([
      `WORK=${shellQuote(work)}`,
      `ps() { if [ ! -e "$WORK/seen" ]; then : > "$WORK/seen"; printf '%s\\n' '5 60003 60003 60003 S'; fi; printf '%s\\n' '4 60002 60002 60002 D'; }`,
      'setpriv() { printf "%s\\n" "$2" >> "$WORK/kills"; }',
      'sleep() { :; }',
      'for k in 2 3; do eval "a_1_$k=user$k puid_$k=6000$k pgid_$k=6000$k code_$k="; done',
      'end_processes_of_batch " 2 3"',
      'echo "code_2=$code_2 err_2=$err_2 code_3=$code_3"',
    ].join('\n')));
    expect(output).toBe(`code_2=${REMOTE_EXIT.processesSurvive} err_2=processes of user2 are still alive after 5 s of kill -KILL (stuck in the kernel?) code_3=\n`);
    const kills = readFileSync(join(work, 'kills'), 'utf8').trim().split('\n');
    expect(kills.filter((k) => k === '--regid=60002')).toHaveLength(50);
    expect(kills.filter((k) => k === '--regid=60003')).toHaveLength(1);
  });

  it('removes the principal even when there is no room to rewrite the file: the whole file goes', () => {
    const principals = mkdtempSync(join(dir, 'principals-'));
    const remove = (stub: string) => shellOutput('sh', functionsThen(
      `PRINCIPALS_DIR=${shellQuote(principals)}\n${stub}\nremove_principals omar keyway-req-1 && echo "ok found=$found"`));
    writeFileSync(join(principals, 'omar'), 'keyway-req-1\nkeyway-req-2\n');
    expect(remove('')).toBe('ok found=keyway-req-1\n\n');
    expect(readFileSync(join(principals, 'omar'), 'utf8')).toBe('keyway-req-2\n');
    expect(remove('')).toBe('ok found=\n');
    expect(readdirSync(principals)).toEqual(['omar']);

    // The rewrite cannot be written (a full disk), or cannot be moved into place: the whole file goes, nothing is left.
    for (const stub of [
      "printf() { echo 'printf: write error: No space left on device' >&2; return 1; }",
      "mv() { echo 'mv: cannot move: No space left on device' >&2; return 1; }",
    ]) {
      writeFileSync(join(principals, 'omar'), 'keyway-req-1\nkeyway-req-2\n');
      expect(remove(stub), stub).toBe('ok found=keyway-req-1\n\n');
      expect(readdirSync(principals), stub).toEqual([]);
    }

    // A file that cannot even be removed is reported: that user's grants fail (and are retried), never silently open.
    writeFileSync(join(principals, 'omar'), 'keyway-req-1\n');
    const stuck = spawnSync('sh', ['-c', functionsThen(
      `PRINCIPALS_DIR=${shellQuote(principals)}\nrm() { return 1; }\nif remove_principals omar keyway-req-1; then echo ok; else echo failed; fi`)], { encoding: 'utf8' });
    expect(stuck.stdout).toBe('failed\n');
  });

  it("counts a user's processes by real, effective and saved UID, and not its zombies (the delete script's kill)", () => {
    const deleteFunctionsThen = (calls: string): string => `${DELETE_ACCOUNT_SCRIPT.slice(0, DELETE_ACCOUNT_SCRIPT.indexOf('user=$1 uid=$2'))}\n${calls}\n`;
    const table = ['60001 60001 60001 Z', '60001 60001 60001 S', '0 60001 0 Ss', '1000 1000 60001 R', '0 0 0 S', '60001 60001 60001 Z+'];
    const stub = `ps() { printf '%s\\n' ${table.map(shellQuote).join(' ')}; }`;
    expect(shellOutput('sh', deleteFunctionsThen(`${stub}\ncount_live_processes 60001`))).toBe('3\n');
    expect(shellOutput('sh', deleteFunctionsThen(`ps() { printf '%s\\n' '60001 60001 60001 Z'; }\ncount_live_processes 60001`))).toBe('0\n');
  });
});

describe('batch commands', () => {
  const ana = managedUserName('ana');
  const revokeSpecs: RevokeSpec[] = [
    { user, uid: uid(60001), principal: principal('keyway-req-42'), groupsToRemove: [group, groupName('ops'), group], endAccess: true },
    { user: ana, uid: undefined, principal: principal('keyway-req-43'), groupsToRemove: [], endAccess: false },
  ];

  it('revoke: sudo receives the fixed script, the count, then five values per grant in order, byte for byte', () => {
    const command = revokeBatchCommand(revokeSpecs);
    for (const shell of ['sh', 'bash']) {
      const argv = argvReceivedBySudo(command, shell);
      expect(argv.slice(0, 5)).toEqual(['-n', 'sh', '-c', REVOKE_BATCH_SCRIPT, 'keyway-revoke-batch']);
      expect(argv.slice(5)).toEqual(['2', 'devhba', '60001', 'keyway-req-42', 'developers,ops', '1', 'ana', '', 'keyway-req-43', '', '0']);
    }
    expect(command.purpose).toBe('revoke 2 grants (keyway-req-42, keyway-req-43)');
  });

  it('provision and inspect: the count (or range), then the values per grant', () => {
    const spec = { user, uid: uid(60001), recorded: true, shell: loginShell('/bin/bash'), principal: principal('keyway-req-42'), groups: [group] };
    expect(argvReceivedBySudo(provisionBatchCommand([spec, { ...spec, user: ana, uid: uid(60002), recorded: false, groups: [] }])).slice(3))
      .toEqual([PROVISION_BATCH_SCRIPT, 'keyway-provision-batch', '2', 'devhba', '60001', '/bin/bash', 'keyway-req-42', 'developers', '1',
        'ana', '60002', '/bin/bash', 'keyway-req-42', '', '0']);
    expect(argvReceivedBySudo(inspectAccountsCommand([user, ana], { min: uid(60000), max: uid(64999) })).slice(3))
      .toEqual([INSPECT_BATCH_SCRIPT, 'keyway-inspect-batch', '60000', '64999', 'devhba', 'ana']);
  });

  it('refuses an empty batch and one over the limit, and keeps its purpose short', () => {
    expect(() => revokeBatchCommand([])).toThrow(RangeError);
    const many = Array.from({ length: MAX_BATCH_GRANTS + 1 }, (_, i) => ({ ...revokeSpecs[0]!, principal: principal(`keyway-req-${i}`) }));
    expect(() => revokeBatchCommand(many)).toThrow(RangeError);
    const full = revokeBatchCommand(many.slice(0, MAX_BATCH_GRANTS));
    expect(full.purpose).toBe(`revoke ${MAX_BATCH_GRANTS} grants (keyway-req-0, keyway-req-1, …)`);
    expect(full.text.length).toBeLessThan(100_000); // one argument to sudo: far below the kernel's 128 KiB per argument
  });

  it('treats a value that slipped past validation as data: the batch refuses it before touching anything', () => {
    const marker = join(dir, 'pwned-batch');
    const hostile = `x y; touch ${marker}\nz`;
    const command = revokeBatchCommand([{ ...revokeSpecs[0]!, principal: hostile as Principal }]);
    expect(argvReceivedBySudo(command).slice(5)).toEqual(['1', 'devhba', '60001', hostile, 'developers,ops', '1']);
    const body = REVOKE_BATCH_SCRIPT.slice(0, REVOKE_BATCH_SCRIPT.indexOf('read_batch 5 "$@"'));
    const run = spawnSync('sh', ['-c', `${body}\nread_batch 5 "$@"\necho read`, 'keyway-revoke-batch', '1', 'devhba', '60001', hostile, '', '1'], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/argument 3 of grant 1 is not a value Keyway sends/);
    const short = spawnSync('sh', ['-c', `${body}\nread_batch 5 "$@"`, 'keyway-revoke-batch', '2', 'devhba', '60001', 'keyway-req-1', '', '1'], { encoding: 'utf8' });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/expected 2 groups of 5 arguments, got 5/);
    expect(existsSync(marker)).toBe(false);
  });

  for (const [name, script] of Object.entries({ REVOKE_BATCH_SCRIPT, PROVISION_BATCH_SCRIPT, INSPECT_BATCH_SCRIPT })) {
    it(`${name} parses under dash and bash --posix and interpolates nothing`, () => {
      for (const shell of [['sh', '-n'], ['bash', '--posix', '-n']]) {
        const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', script], { encoding: 'utf8' });
        expect(result.status, result.stderr).toBe(0);
      }
      expect(script.startsWith('set -eu\n')).toBe(true);
      expect(script).not.toContain('${');
    });
  }

  // The batch script's own functions, run for real.
  const batchFunctionsThen = (calls: string): string => `${REVOKE_BATCH_SCRIPT.slice(0, REVOKE_BATCH_SCRIPT.indexOf('read_batch 5 "$@"'))}\n${calls}\n`;

  it('removes all of a user\'s principals in one rewrite, and says which it found', () => {
    const principals = mkdtempSync(join(dir, 'batch-principals-'));
    writeFileSync(join(principals, 'omar'), 'keyway-req-1\nkeyway-req-2\nkeyway-req-3\n');
    const remove = (wanted: string[]) => shellOutput('sh', batchFunctionsThen(
      `PRINCIPALS_DIR=${shellQuote(principals)}\nremove_principals omar ${shellQuote(wanted.join('\n'))}\nprintf '%s' "$found"`));
    expect(remove(['keyway-req-1', 'keyway-req-3', 'keyway-req-9'])).toBe('keyway-req-1\nkeyway-req-3\n');
    expect(readFileSync(join(principals, 'omar'), 'utf8')).toBe('keyway-req-2\n');
    expect(remove(['keyway-req-1'])).toBe('');
    expect(remove(['keyway-req-2'])).toBe('keyway-req-2\n');
    expect(readdirSync(principals)).toEqual([]);
  });
});

describe('the revoke batch, run with stand-ins for the server commands', () => {
  // The batch's functions, then shell functions standing in for the commands (each logs its call), then the body.
  const split = REVOKE_BATCH_SCRIPT.indexOf('read_batch 5 "$@"');
  const run = (stubs: string, args: string[]) => {
    const work = mkdtempSync(join(dir, 'batch-run-'));
    const principals = mkdtempSync(join(work, 'principals-'));
    writeFileSync(join(principals, 'ana'), 'keyway-req-1\nkeyway-req-2\nkeyway-req-9\n');
    writeFileSync(join(principals, 'bob'), 'keyway-req-3\n');
    const log = join(work, 'log');
    const script = [
      REVOKE_BATCH_SCRIPT.slice(0, split),
      `PRINCIPALS_DIR=${shellQuote(principals)} KEYWAY_DIR=${shellQuote(join(work, 'none'))} LOG=${shellQuote(log)} WORK=${shellQuote(work)}`,
      'called() { printf "%s\\n" "$*" >> "$LOG"; }',
      'for c in prlimit flock install setpriv gpasswd usermod sleep atq loginctl; do eval "$c() { called $c \\"\\$@\\"; }"; done',
      'crontab() { called crontab "$@"; return 1; }', // no crontab
      stubs,
      REVOKE_BATCH_SCRIPT.slice(split),
    ].join('\n');
    const result = spawnSync('sh', ['-c', script, 'keyway-revoke-batch', ...args], { encoding: 'utf8' });
    return { ...result, principals, calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
  };
  const server = String.raw`
getent() {
  called getent "$@"
  case $1 in
    passwd) printf '%s\n' 'ana:x:60001:60001:keyway-managed:/home/ana:/bin/bash' 'bob:x:60002:60002:keyway-managed,x:/home/bob:/bin/bash' ;;
    group) printf '%s\n' 'developers:x:2000:carl,ana' 'ops:x:2001:carl' ;;
    shadow) printf '%s\n' 'ana:!*:19000:0:99999:7::1:' 'bob:*:19000:0:99999:7:::' ;;
  esac
}
# The first ps sees a process of ana and a zombie of bob; every later one sees nothing of theirs.
ps() {
  called ps "$@"
  if [ ! -e "$WORK/ps-seen" ]; then : > "$WORK/ps-seen"; printf '%s\n' '  10     0     0     0 Ss' ' 200 60001 60001 60001 S' ' 201 60002 60002 60002 Z'
  else printf '%s\n' '  10     0     0     0 Ss'; fi
}`;
  const grants = ['3', 'ana', '60001', 'keyway-req-1', 'developers', '1', 'bob', '60002', 'keyway-req-3', 'ops', '1', 'ana', '60001', 'keyway-req-2', 'developers,ops', '1'];

  it('one ps per kill round for every user, kill only as a user with a live process, one usermod per user: groups only where a member, lock only when not locked', () => {
    const result = run(server, grants);
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.filter((c) => c.startsWith('ps '))).toHaveLength(3); // round 1: seen, killed, none; round 2: none
    expect(result.calls.filter((c) => c.startsWith('setpriv '))).toEqual(['setpriv --reuid=60001 --regid=60001 --clear-groups kill -KILL -1']);
    expect(result.calls.filter((c) => c.startsWith('getent '))).toEqual(['getent passwd ana bob', 'getent group developers ops', 'getent shadow ana bob']);
    expect(result.calls.filter((c) => c.startsWith('gpasswd '))).toEqual([]);
    expect(result.calls.filter((c) => c.startsWith('usermod '))).toEqual(['usermod --remove --groups developers ana', 'usermod --lock --expiredate 1 bob']);
    // Every principal of the batch removed, each user's file in one rewrite; what was not the batch's stays.
    expect(readFileSync(join(result.principals, 'ana'), 'utf8')).toBe('keyway-req-9\n');
    expect(existsSync(join(result.principals, 'bob'))).toBe(false);
    expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'access-ended.1=1', 'access-ended.2=1', 'access-ended.3=1', 'done.1=1', 'done.2=1', 'done.3=1',
      'group-removed.1=developers', 'group-removed.3=developers',
      'principal-removed.1=1', 'principal-removed.2=1', 'principal-removed.3=1',
    ]);
  });

  it('fails only the grants of a refused account, and only the grants that give a group that cannot be removed', () => {
    // The one usermod fails (as one older than shadow 4.13, without --remove, does): each change is made on its own.
    const refused = String.raw`
usermod() { called usermod "$@"; case " $* " in *" --remove "*) echo "usermod: invalid option -- 'r'" >&2; return 2 ;; esac; }
id() { called id "$@"; echo "ana developers"; }
gpasswd() { called gpasswd "$@"; echo "gpasswd: cannot lock /etc/group; try again later." >&2; return 1; }`;
    const result = run(server.replace("'bob:x:60002:60002:keyway-managed,x:/home/bob:/bin/bash'", "'bob:x:61999:60002:keyway-managed:/home/bob:/bin/bash'") + refused,
      ['2', 'bob', '60002', 'keyway-req-3', '', '1', 'ana', '60001', 'keyway-req-2', 'developers', '1']);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines).toContain(`failed.1=${REMOTE_EXIT.notManaged}`);
    expect(lines).toContain('error.1=bob has UID 61999, not the UID 60002 Keyway created it with: refusing to touch it');
    expect(lines).toContain('failed.2=1');
    expect(lines).toContain('error.2=could not remove the group developers: gpasswd: cannot lock /etc/group; try again later.');
    expect(lines.filter((l) => l.startsWith('done.'))).toEqual([]);
    // The refused account is not touched beyond its principal; the other one's processes are still ended.
    expect(result.calls.filter((c) => /bob|60002/.test(c) && !c.startsWith('getent '))).toEqual([]);
    expect(result.calls.filter((c) => c.startsWith('setpriv '))).toEqual(['setpriv --reuid=60001 --regid=60001 --clear-groups kill -KILL -1']);
    expect(result.calls.filter((c) => /^(usermod|gpasswd|id) /.test(c))).toEqual([
      'usermod --remove --groups developers ana', 'id -nG ana', 'gpasswd -d ana developers',
    ]);
    expect(lines).toContain('principal-removed.1=1');
    expect(existsSync(join(result.principals, 'bob'))).toBe(false);
  });
  it('moves delivery hooks aside by rename into a private directory: links stay links, odd names stay one line', () => {
    const home = mkdtempSync(join(dir, 'home-'));
    writeFileSync(join(home, '.forward'), '|/bin/sh -c evil\n');
    writeFileSync(join(home, '.qmail-default'), '|evil\n');
    writeFileSync(join(home, '.qmail-x\nprincipal-removed.1=1'), '|evil\n');
    writeFileSync(join(home, '.bashrc'), '# not a delivery hook\n');
    symlinkSync('/etc/passwd', join(home, '.procmailrc'));
    const omar = String.raw`
getent() {
  called getent "$@"
  case $1 in
    passwd) printf 'omar:x:60001:60001:keyway-managed:%s:/bin/sh\n' "$HOME_DIR" ;;
    shadow) printf '%s\n' 'omar:*:19000:0:99999:7:::' ;;
  esac
}
ps() { called ps "$@"; printf '%s\n' '  10     0     0     0 Ss'; }`;
    const revokeOmar = (extra = '') => run(`HOME_DIR=${shellQuote(home)}\n${omar}\n${extra}`, ['1', 'omar', '60001', 'keyway-req-1', '', '1']);
    const result = revokeOmar();
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4); // hooks-moved, hooks-moved-to, access-ended, done: the odd name added no line
    expect(lines[0]!.replace(/^hooks-moved\.1=/, '').split(' ').filter(Boolean).sort())
      .toEqual(['.forward', '.procmailrc', '.qmail-default', '.qmail-x?principal-removed.1?1']);
    const aside = lines[1]!.replace(/^hooks-moved-to\.1=/, '');
    expect(lines.slice(2)).toEqual(['access-ended.1=1', 'done.1=1']);
    expect(aside).toMatch(new RegExp(`^${home}/\\.keyway-revoked-\\w{6}$`));
    expect(statSync(aside).mode & 0o777).toBe(0o700);
    expect(readdirSync(home).sort()).toEqual(['.bashrc', aside.slice(home.length + 1)]);
    expect(readlinkSync(join(aside, '.procmailrc'))).toBe('/etc/passwd');
    expect(readFileSync(join(aside, '.forward'), 'utf8')).toBe('|/bin/sh -c evil\n');
    expect(readFileSync(join(aside, '.qmail-x\nprincipal-removed.1=1'), 'utf8')).toBe('|evil\n');

    // Nothing to move: nothing printed about hooks, no directory left behind.
    const none = revokeOmar();
    expect(none.stdout.split('\n').filter(Boolean)).toEqual(['access-ended.1=1', 'done.1=1']);
    expect(readdirSync(home)).toHaveLength(2);

    // A hook that cannot be moved (a mount point: rename fails) fails the revoke, to be retried, rather than stay.
    writeFileSync(join(home, '.forward'), '|evil\n');
    const stuck = revokeOmar('mv() { return 1; }');
    expect(stuck.status, stuck.stderr).toBe(0);
    const stuckLines = stuck.stdout.split('\n').filter(Boolean);
    expect(stuckLines).toContain(`failed.1=${REMOTE_EXIT.hooksLeft}`);
    expect(stuckLines.find((l) => l.startsWith('error.1='))).toMatch(/^error\.1=could not move aside \.forward in .*: remove them by hand/);
    expect(stuckLines.filter((l) => l.startsWith('done.') || l.startsWith('access-ended.'))).toEqual([]);
    // The hook stays where it was, and no new directory is left behind (only the first revoke's).
    expect(readdirSync(home).sort()).toEqual(['.bashrc', '.forward', aside.slice(home.length + 1)]);
  });
});

describe('the provisioning batch, run with stand-ins for the server commands', () => {
  const split = PROVISION_BATCH_SCRIPT.indexOf('read_batch 6 "$@"');
  const run = (stubs: string, args: string[]) => {
    const work = mkdtempSync(join(dir, 'provision-run-'));
    const principals = mkdtempSync(join(work, 'principals-'));
    writeFileSync(join(principals, 'ana'), 'keyway-req-1\n');
    const log = join(work, 'log');
    const script = [
      PROVISION_BATCH_SCRIPT.slice(0, split),
      `PRINCIPALS_DIR=${shellQuote(principals)} LOG=${shellQuote(log)} LOCK_DIR=${shellQuote(work)} LOCK_FILE=${shellQuote(join(work, 'lock'))}`,
      'called() { printf "%s\\n" "$*" >> "$LOG"; }',
      'for c in flock install useradd usermod; do eval "$c() { called $c \\"\\$@\\"; }"; done',
      stubs,
      PROVISION_BATCH_SCRIPT.slice(split),
    ].join('\n');
    const result = spawnSync('sh', ['-c', script, 'keyway-provision-batch', ...args], { encoding: 'utf8' });
    return { ...result, principals, calls: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
  };
  // ana: Keyway's, open, in keyway-users and developers; bob: Keyway's, locked by a revoke; eve: not Keyway's;
  // UID 60009 is someone else's.
  const server = String.raw`
getent() {
  called getent "$@"
  case $1 in
    passwd) for key in "$@"; do case $key in
      ana) echo 'ana:x:60001:60001:keyway-managed:/home/ana:/bin/sh' ;;
      bob) echo 'bob:x:60002:60002:keyway-managed:/home/bob:/bin/sh' ;;
      eve) echo 'eve:x:1500:1500:Eve:/home/eve:/bin/bash' ;;
      60009) echo 'squatter:x:60009:60009::/home/squatter:/bin/sh' ;;
    esac; done ;;
    group) printf '%s\n' 'keyway-users:x:900:ana,bob' 'developers:x:2000:carl,ana' 'ops:x:2001:' ;;
    shadow) printf '%s\n' 'ana:*:19000:0:99999:7:::' 'bob:!*:19000:0:99999:7::1:' ;;
  esac
}`;

  it('one getent per table, one useradd with every group per new account, usermod only where something is to change', () => {
    const result = run(server, [
      '4',
      'ana', '60001', '/bin/sh', 'keyway-req-2', 'developers', '1',
      'bob', '60002', '/bin/sh', 'keyway-req-3', 'ops', '1',
      'carl', '60003', '/bin/sh', 'keyway-req-4', 'developers,ops', '0',
      'ana', '60001', '/bin/sh', 'keyway-req-1', '', '1',
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls.filter((c) => c.startsWith('getent '))).toEqual([
      'getent group keyway-users developers ops', 'getent passwd ana bob carl', 'getent passwd 60003', 'getent shadow ana bob',
    ]);
    // ana is open, has her shell and every group: nothing to change; bob was locked: opened again; carl is new.
    expect(result.calls.filter((c) => /^(useradd|usermod) /.test(c))).toEqual([
      'useradd --create-home --user-group --uid 60003 --shell /bin/sh --comment keyway-managed --password * --expiredate  --groups keyway-users,developers,ops carl',
      "usermod --password * --expiredate  --shell /bin/sh --append --groups keyway-users,ops bob",
    ]);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(['done.1=1', 'done.2=1', 'created.3=1', 'done.3=1', 'done.4=1']);
    // Only the missing principals are added, each user's in one write.
    expect(readFileSync(join(result.principals, 'ana'), 'utf8')).toBe('keyway-req-1\nkeyway-req-2\n');
    expect(readFileSync(join(result.principals, 'bob'), 'utf8')).toBe('keyway-req-3\n');
    expect(readFileSync(join(result.principals, 'carl'), 'utf8')).toBe('keyway-req-4\n');
  });

  it('fails only the grants concerned: a missing shell or group, an account that is not Keyway\'s, a taken UID', () => {
    const result = run(server, [
      '6',
      'ana', '60001', '/no/such/shell', 'keyway-req-5', '', '1',
      'ana', '60001', '/bin/sh', 'keyway-req-6', 'nosuchgroup', '1',
      'eve', '60005', '/bin/sh', 'keyway-req-7', '', '0',
      'bob', '60002', '/bin/sh', 'keyway-req-8', '', '0',
      'dave', '60009', '/bin/sh', 'keyway-req-9', '', '0',
      'ana', '60001', '/bin/sh', 'keyway-req-10', 'developers', '1',
    ]);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toEqual([
      `failed.1=${REMOTE_EXIT.shellMissing}`,
      'error.1=the login shell /no/such/shell does not exist on this server: install it or change login_shell',
      `failed.2=${REMOTE_EXIT.groupMissing}`,
      'error.2=the group nosuchgroup does not exist on this server: create it, or change grant_groups',
      `failed.3=${REMOTE_EXIT.notManaged}`,
      'error.3=eve already exists and was not created by Keyway (no keyway-managed marker): refusing to touch it',
      // A UID chosen now: even Keyway's marker does not make an existing account this grant's.
      `failed.4=${REMOTE_EXIT.notManaged}`,
      'error.4=bob is marked keyway-managed but Keyway has no record of creating it: refusing to touch it',
      `failed.5=${REMOTE_EXIT.uidTaken}`,
      'error.5=UID 60009 is already used by another account',
      'done.6=1',
    ]);
    expect(result.calls.filter((c) => /^(useradd|usermod) /.test(c))).toEqual([]);
    expect(readdirSync(result.principals).sort()).toEqual(['ana']);
    expect(readFileSync(join(result.principals, 'ana'), 'utf8')).toBe('keyway-req-1\nkeyway-req-10\n');
  });

  it('stops the whole batch, changing nothing, on a server Keyway is not set up on', () => {
    const result = run(server.replace("'keyway-users:x:900:ana,bob' ", ''), ['1', 'ana', '60001', '/bin/sh', 'keyway-req-2', '', '1']);
    expect(result.status).toBe(REMOTE_EXIT.notBootstrapped);
    expect(result.stderr).toMatch(/Keyway is not set up on this server/);
    expect(result.calls.filter((c) => /^(useradd|usermod) /.test(c))).toEqual([]);
    expect(readFileSync(join(result.principals, 'ana'), 'utf8')).toBe('keyway-req-1\n');
  });
});

describe('reconcile: what a server holds of Keyway (RECONCILE_INSPECT_SCRIPT)', () => {
  it('runs the constant read-only script with no argument at all', () => {
    const command = reconcileInspectCommand();
    expect(argvReceivedBySudo(command)).toEqual(['-n', 'sh', '-c', RECONCILE_INSPECT_SCRIPT, 'keyway-reconcile-inspect']);
    expect(command.purpose).toBe("list Keyway's principals and managed accounts");
    // Its own part only reads: no lock, nothing written, nobody killed.
    const body = RECONCILE_INSPECT_SCRIPT.slice(RECONCILE_INSPECT_SCRIPT.lastIndexOf('if [ -d "$PRINCIPALS_DIR" ]'));
    expect(body).toContain('getent passwd');
    expect(body).not.toMatch(/\b(usermod|userdel|useradd|gpasswd|rm|mv|kill|setpriv|take_lock|install|chmod|tee)\b|>(?!=)/);
  });

  it('lists every principals file line and only accounts marked keyway-managed with a UID of 1000 or more', () => {
    const principalsDir = join(dir, 'reconcile-principals');
    spawnSync('mkdir', ['-p', principalsDir]);
    writeFileSync(join(principalsDir, 'devhba'), 'keyway-req-17\nkeyway-req-18');
    writeFileSync(join(principalsDir, 'mallory'), 'keyway-req-3\n\n');
    writeFileSync(join(principalsDir, '.keyway-batch.123'), 'keyway-req-99\n');
    symlinkSync('/etc/hostname', join(principalsDir, 'linked'));
    const passwd = join(dir, 'reconcile-passwd');
    writeFileSync(passwd, [
      'root:x:0:0:root:/root:/bin/bash',
      'sysmarked:x:999:999:keyway-managed:/home/s:/bin/sh',
      'mallory:x:61000:61000:keyway-managed:/home/mallory:/bin/bash',
      'devhba:x:60001:60001:keyway-managed,extra:/home/devhba:/bin/bash',
      'plain:x:1500:1500:Plain User:/home/plain:/bin/bash',
      'lookalike:x:1501:1501:keyway-managed-not:/home/l:/bin/bash',
      '',
    ].join('\n'));
    // The script's own text, with its principals directory pointed at the fixture and getent reading the fixture.
    const script = `getent() { cat '${passwd}'; }\n${RECONCILE_INSPECT_SCRIPT.replace(`PRINCIPALS_DIR=${REMOTE_PATHS.principalsDir}`, `PRINCIPALS_DIR=${principalsDir}`)}`;
    const out = shellOutput('sh', script);
    expect(out.split('\n').filter(Boolean).sort()).toEqual([
      'account=devhba 60001',
      'account=mallory 61000',
      'principal=devhba keyway-req-17',
      'principal=devhba keyway-req-18',
      'principal=mallory keyway-req-3',
    ]);
    const values = new Map<string, string[]>();
    for (const line of out.split('\n').filter(Boolean)) {
      const [key = '', value = ''] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
      values.set(key, [...(values.get(key) ?? []), value]);
    }
    const inventory = parseInventory({ values });
    const ref = { integration: integration('prod-linux', [server('web-1')]), server: server('web-1') };
    const live = { principals: new Set(['devhba keyway-req-18']), accounts: new Map([['devhba', 60001]]) };
    expect(findUnknown(ref, inventory, live)).toEqual([
      { kind: 'principal', user: 'devhba', principal: 'keyway-req-17' },
      { kind: 'principal', user: 'mallory', principal: 'keyway-req-3' },
      { kind: 'account', user: 'mallory', uid: 61000 },
    ]);
    // An account the database knows under another UID is unknown too; a name Keyway never manages is left to a human.
    const odd = findUnknown(ref, { principals: [{ user: 'root', principal: 'keyway-req-1' }], accounts: new Map([['devhba', 60002]]) }, live);
    expect(odd).toEqual([
      { kind: 'principal', user: 'root', principal: 'keyway-req-1', manual: expect.stringMatching(/remove it by hand$/) },
      { kind: 'account', user: 'devhba', uid: 60002, recordedUid: 60001 },
    ]);
  });
});
