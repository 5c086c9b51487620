// The edges of rdp's command builder and its values (src/targets/windows/rdp/remote-commands.ts, rdp-values.ts): the
// exact script and purpose of every command, the command-line length limit, the bounds of every validated value with
// its exact refusal, and quser lines that are not the usual ones. Written for the mutants that survived
// `npm run mutate`. Every value is built inside a test: a mutant that breaks one must fail a test, not the file's
// import (which Stryker does not count as a kill).
import { describe, expect, it } from 'vitest';
import {
  checkCommand, deleteLocalCommand, grantDomainCommand, grantLocalCommand, KEYWAY_MARKER, listSessionsCommand, logoffCommand,
  POWERSHELL_BODIES, type PowerShellOperation, revokeDomainCommand, revokeLocalCommand, sessionIdsOf, type WindowsCommand,
} from '../../src/targets/windows/rdp/remote-commands.js';
import {
  issuedPassword, netbiosDomain, sessionId, windowsAccountName, windowsGroupName,
} from '../../src/targets/windows/rdp/rdp-values.js';
import { userErrorOf } from '../helpers/user-error.js';

const ARGS_BEFORE_SCRIPT = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand'];

/** The PowerShell a command runs, decoded from its -EncodedCommand argument. */
function scriptOf(command: WindowsCommand): string {
  expect(command.command).toBe('powershell.exe');
  expect(command.args.slice(0, -1)).toEqual(ARGS_BEFORE_SCRIPT);
  return Buffer.from(command.args.at(-1)!, 'base64').toString('utf16le');
}

/** The header lines a command puts before its body; fails unless the script ends with exactly that operation's body. */
function headerOf(command: WindowsCommand, operation: PowerShellOperation): string[] {
  const script = scriptOf(command);
  const body = POWERSHELL_BODIES[operation];
  expect(script.endsWith(`\n${body}`), `the ${operation} body`).toBe(true);
  return script.slice(0, -body.length - 1).split('\n');
}

describe('PowerShell bodies', () => {
  it('mark accounts with "Managed by Keyway", stop on errors and end by writing the error and exiting 1', () => {
    expect(KEYWAY_MARKER).toBe('Managed by Keyway');
    for (const [operation, body] of Object.entries(POWERSHELL_BODIES)) {
      expect(body.split('\n').slice(0, 4), operation)
        .toEqual(["$ErrorActionPreference='Stop'", "$ProgressPreference='SilentlyContinue'", "$Marker='Managed by Keyway'", 'try {']);
      expect(body.endsWith('\n} catch {\n  [Console]::Error.WriteLine($_.Exception.Message)\n  exit 1\n}'), operation).toBe(true);
    }
  });
});

describe('every command: its purpose, its header and its body', () => {
  it('grant-local, without an expiry', () => {
    const command = grantLocalCommand(windowsAccountName('kw-ana'), [windowsGroupName('Remote Desktop Users')], issuedPassword('Secret-12'), null);
    expect(command.purpose).toBe('grant the local account kw-ana');
    expect(headerOf(command, 'grant-local')).toEqual(["$Name='kw-ana'", "$Groups=@('Remote Desktop Users')", "$Expires=''"]);
    expect(command.stdin).toBe('Secret-12\r\n');
  });

  it('revoke-local, ending access or not', () => {
    const ana = windowsAccountName('kw-ana');
    const groups = [windowsGroupName('Users'), windowsGroupName('Users'), windowsGroupName('Remote Desktop Users')];
    const ending = revokeLocalCommand(ana, groups, true, issuedPassword('Secret-12'));
    expect(ending.purpose).toBe('revoke the local account kw-ana');
    expect(headerOf(ending, 'revoke-local')).toEqual(["$Name='kw-ana'", "$Groups=@('Users','Remote Desktop Users')", '$EndAccess=$true']);
    expect(ending.stdin).toBe('Secret-12\r\n');
    const partial = revokeLocalCommand(ana, [], false, issuedPassword('Secret-12'));
    expect(headerOf(partial, 'revoke-local')).toEqual(["$Name='kw-ana'", '$Groups=@()', '$EndAccess=$false']);
    expect('stdin' in partial).toBe(false);
    expect(() => revokeLocalCommand(ana, [], true)).toThrow(new Error('ending access to a local account needs a new password'));
  });

  it('delete-local', () => {
    const command = deleteLocalCommand(windowsAccountName('kw-ana'));
    expect(command.purpose).toBe('delete the local account kw-ana');
    expect(headerOf(command, 'delete-local')).toEqual(["$Name='kw-ana'"]);
    expect('stdin' in command).toBe(false);
  });

  it('grant-domain and revoke-domain', () => {
    const [corp, ana, rdu] = [netbiosDomain('CORP'), windowsAccountName('kw-ana'), windowsGroupName('Remote Desktop Users')];
    const grant = grantDomainCommand(corp, ana, [rdu]);
    expect(grant.purpose).toBe('add CORP\\kw-ana to local groups');
    expect(headerOf(grant, 'grant-domain')).toEqual(["$Member='CORP\\kw-ana'", "$Groups=@('Remote Desktop Users')"]);
    const revoke = revokeDomainCommand(corp, ana, [rdu]);
    expect(revoke.purpose).toBe('remove CORP\\kw-ana from local groups');
    expect(headerOf(revoke, 'revoke-domain')).toEqual(["$Member='CORP\\kw-ana'", "$Groups=@('Remote Desktop Users')"]);
    expect('stdin' in revoke).toBe(false);
    expect(JSON.parse(JSON.stringify(revoke))).toEqual({ purpose: 'remove CORP\\kw-ana from local groups', command: 'powershell.exe' });
  });

  it('check', () => {
    const command = checkCommand([windowsGroupName('Remote Desktop Users'), windowsGroupName('Users')]);
    expect(command.purpose).toBe('check the WinRM connection and admin rights');
    expect(headerOf(command, 'check')).toEqual(["$Groups=@('Remote Desktop Users','Users')"]);
  });

  it('quser and logoff take the one validated value as their only argument', () => {
    const sessions = listSessionsCommand(windowsAccountName('kw-ana'));
    expect([sessions.purpose, sessions.command, sessions.args]).toEqual(['list the sessions of kw-ana', 'quser', ['kw-ana']]);
    const logoff = logoffCommand(sessionId('12'));
    expect([logoff.purpose, logoff.command, logoff.args]).toEqual(['log off session 12', 'logoff', ['12']]);
  });
});

describe('the command-line limit', () => {
  /** Distinct valid group names whose check script is exactly `length` characters. */
  function groupsForCheckScript(length: number) {
    let room = length - "$Groups=@()\n".length - POWERSHELL_BODIES.check.length;
    const names: string[] = [];
    while (room > 0) {
      const separator = names.length === 0 ? 0 : 1;
      const size = Math.min(64, room - 2 - separator);
      const name = `G${names.length}`.padEnd(size, 'x');
      names.push(name);
      room -= name.length + 2 + separator;
    }
    expect(room).toBe(0);
    return names.map((name) => windowsGroupName(name));
  }

  it('takes a script of 8000 encoded characters and refuses a longer one before anything is sent', () => {
    const longest = checkCommand(groupsForCheckScript(3000));
    expect(longest.args.at(-1)).toHaveLength(8000);
    expect(() => checkCommand(groupsForCheckScript(3001)))
      .toThrow(new Error('the check script is too long for a command line (8004 characters)'));
  });
});

describe('validated values', () => {
  it('account names: "kw-", then 1 to 17 of a-z, 0-9, "_" and "-", starting with a letter or digit', () => {
    for (const name of ['kw-a', 'kw-7', 'kw-abc', 'kw-a_-', 'kw-a1234567890123456']) expect(windowsAccountName(name)).toBe(name);
    for (const name of ['xkw-ana', 'akw-a', ' kw-ana', 'kw-_ana', 'kw--ana', 'kw-ana!', 'kw-a12345678901234567', "kw-a'b", 'kw-a\u2019b']) {
      const error = userErrorOf(() => windowsAccountName(name));
      expect(error.code).toBe('username_invalid');
      expect(error.message).toBe(`${JSON.stringify(name)} is not a Keyway Windows account name: use "kw-" and then 1 to 17 characters of a-z, 0-9, "_" and "-" (20 at most).`);
    }
  });

  it('NetBIOS domains: 1 to 15 letters, digits and "-", starting with a letter or digit', () => {
    for (const name of ['C', 'CORP', 'corp-1', 'A'.repeat(15)]) expect(netbiosDomain(name)).toBe(name);
    for (const name of ['', '-CORP', 'A'.repeat(16), 'CORP\\x', 'CORP.local', "CO'RP"]) {
      const error = userErrorOf(() => netbiosDomain(name));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`${JSON.stringify(name)} is not a NetBIOS domain name: use 1 to 15 characters of letters, digits and "-".`);
    }
  });

  it('issued passwords: 8 to 127 characters, space to "~" and beyond, no control character', () => {
    for (const password of ['12345678', 'x'.repeat(127), 'pass word', ' ~~~~~~~']) expect(issuedPassword(password)).toBe(password);
    for (const password of ['1234567', 'x'.repeat(128), 'Secret-1\n', 'Secret-1\r', '\tSecret-1', 'Secret-1\u001f', 'Secret-1\u007f', 'Secret-1\0']) {
      expect(() => issuedPassword(password), JSON.stringify(password))
        .toThrow(new Error('an issued Windows password must be 8 to 127 characters without control characters'));
    }
  });

  it('session IDs: 1 to 5 digits', () => {
    for (const id of ['0', '12', '99999']) expect(sessionId(id)).toBe(id);
    for (const id of ['', 'a1', '1a', '123456', '1 & calc', ' 1', '1\n']) {
      expect(() => sessionId(id)).toThrow(new Error(`${JSON.stringify(id)} is not a session ID`));
    }
  });
});

describe('quser output', () => {
  it('reads lines ending in \\n alone, and a final line break or blank line', () => {
    const output = [
      ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      '>kw-ana                rdp-tcp#3           2  Active          .  12/1/2026 9:05 AM',
      '',
      ' kw-ana                                   15  Disc            5  12/1/2026 8:00 AM',
      '',
    ].join('\n');
    expect(sessionIdsOf(output, windowsAccountName('kw-ana'))).toEqual(['2', '15']);
  });

  it('takes the ID after a session name that starts with digits, and lines without leading blanks', () => {
    const output = [
      ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
      ' kw-ana                31C5CE94259D4006A9E4#0   3  Active   .  12/1/2026 9:05 AM',
      'kw-ana rdp-tcp#7 4 Active . 12/1/2026 9:06 AM',
      '  >kw-ana rdp-tcp#8 6 Active . 12/1/2026 9:07 AM',
    ].join('\r\n');
    expect(sessionIdsOf(output, windowsAccountName('kw-ana'))).toEqual(['3', '4', '6']);
  });

  it('skips the first line (the localised header) and lines whose ID is not a number', () => {
    const output = [
      ' kw-ana                rdp-tcp#3           2  Active          .  12/1/2026 9:05 AM',
      ' kw-ana',
      ' kw-ana                rdp-tcp#4',
      ' kw-ana                rdp-tcp#5          x7  Active',
      ' kw-ana                rdp-tcp#6          7x  Active',
    ].join('\r\n');
    expect(sessionIdsOf(output, windowsAccountName('kw-ana'))).toEqual([]);
  });
});
