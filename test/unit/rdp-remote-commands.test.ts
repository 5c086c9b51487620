import { describe, expect, it } from 'vitest';
import {
  checkCommand, deleteLocalCommand, grantDomainCommand, grantLocalCommand, listSessionsCommand, logoffCommand, POWERSHELL_BODIES,
  psLiteral, revokeLocalCommand, sessionIdsOf, type WindowsCommand,
} from '../../src/targets/windows/rdp/remote-commands.js';
import {
  issuedPassword, netbiosDomain, sessionId, windowsAccountName, windowsGroupName,
} from '../../src/targets/windows/rdp/rdp-values.js';
import { parseHeader } from '../helpers/fake-winrm.js';

const ana = windowsAccountName('kw-ana');
const rdu = windowsGroupName('Remote Desktop Users');
const password = issuedPassword("Pa'ss\u2019word-1!");

function script(command: WindowsCommand): string {
  expect(command.command).toBe('powershell.exe');
  expect(command.args.slice(0, -1)).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
  expect(command.args.at(-1)).toMatch(/^[A-Za-z0-9+/]+=*$/);
  return Buffer.from(command.args.at(-1)!, 'base64').toString('utf16le');
}

describe('PowerShell commands', () => {
  it('puts values in a header of PowerShell literals before a fixed body, and the password only on stdin', () => {
    const command = grantLocalCommand(ana, [rdu, windowsGroupName('Users')], password, new Date('2026-12-01T18:00:00Z'));
    const text = script(command);
    expect(text.endsWith(`\n${POWERSHELL_BODIES['grant-local']}`)).toBe(true);
    expect(parseHeader(text.slice(0, text.length - POWERSHELL_BODIES['grant-local'].length - 1)))
      .toEqual({ Name: 'kw-ana', Groups: ['Remote Desktop Users', 'Users'], Expires: '2026-12-01T18:00:00.000Z' });
    expect(text).not.toContain(password);
    expect(text).not.toContain('ss\u2019word');
    expect(command.stdin).toBe(`${password}\r\n`);
    expect(JSON.stringify(command)).toBe('{"purpose":"grant the local account kw-ana","command":"powershell.exe"}');
  });

  it('doubles every quote character PowerShell treats as a single quote', () => {
    expect(psLiteral("it's")).toBe("'it''s'");
    expect(psLiteral('a\u2019b\u2018c')).toBe("'a\u2019\u2019b\u2018\u2018c'");
    expect(parseHeader(`$X=${psLiteral("x'\u201a;$(Remove-Item C:\\)'")}`)).toEqual({ X: "x'\u201a;$(Remove-Item C:\\)'" });
  });

  it('revoke ends access with a new password on stdin, or only removes groups', () => {
    const ending = revokeLocalCommand(ana, [rdu], true, password);
    expect(parseHeader(script(ending).split('\n').slice(0, 3).join('\n'))).toEqual({ Name: 'kw-ana', Groups: ['Remote Desktop Users'], EndAccess: true });
    expect(ending.stdin).toBe(`${password}\r\n`);
    const partial = revokeLocalCommand(ana, [rdu], false);
    expect(partial.stdin).toBeUndefined();
    expect(script(partial)).toContain('$EndAccess=$false');
    expect(() => revokeLocalCommand(ana, [rdu], true)).toThrow(/needs a new password/);
  });

  it('delete, domain and check commands carry only their validated values', () => {
    expect(script(deleteLocalCommand(ana)).split('\n')[0]).toBe("$Name='kw-ana'");
    expect(script(grantDomainCommand(netbiosDomain('CORP'), ana, [rdu])).split('\n')[0]).toBe("$Member='CORP\\kw-ana'");
    expect(script(checkCommand([rdu])).split('\n')[0]).toBe("$Groups=@('Remote Desktop Users')");
    expect([listSessionsCommand(ana).command, ...listSessionsCommand(ana).args]).toEqual(['quser', 'kw-ana']);
    expect([logoffCommand(sessionId('12')).command, ...logoffCommand(sessionId('12')).args]).toEqual(['logoff', '12']);
  });

  it('every body stops on errors, and the account bodies refuse an account without the marker', () => {
    for (const body of Object.values(POWERSHELL_BODIES)) expect(body.startsWith("$ErrorActionPreference='Stop'")).toBe(true);
    for (const op of ['grant-local', 'revoke-local', 'delete-local'] as const) {
      expect(POWERSHELL_BODIES[op]).toMatch(/if \(\$User\.Description -ne \$Marker\)|elseif \(\$User\.Description -ne \$Marker\)/);
      expect(POWERSHELL_BODIES[op]).toContain('exit 3');
    }
    expect(POWERSHELL_BODIES['revoke-local']).toContain('Disable-LocalUser -Name $Name');
    expect(POWERSHELL_BODIES['grant-local']).toContain('Enable-LocalUser -Name $Name');
  });
});

describe('validated values', () => {
  it.each(['kw-ana', 'kw-a', 'kw-ana_b-2', 'kw-12345678901234567'])('accepts the account name %j', (name) => {
    expect(windowsAccountName(name)).toBe(name);
  });

  it.each(['ana', 'Administrator', 'kw-', 'kw-Ana', 'kw-ana.b', 'kw-123456789012345678', "kw-ana'", 'kw-ana;x', 'kw-ana b', 'kw-ana\n'])(
    'refuses the account name %j', (name) => {
      expect(() => windowsAccountName(name)).toThrow(expect.objectContaining({ code: 'username_invalid' }));
    });

  it('accepts ordinary groups and refuses hostile, full-control or (without the opt-in) privileged ones', () => {
    expect(windowsGroupName('Remote Desktop Users')).toBe('Remote Desktop Users');
    expect(windowsGroupName('Backup Operators', { allowPrivileged: true })).toBe('Backup Operators');
    for (const bad of ['', ' Users', 'Users ', "Users'", 'Users;x', 'Users$(x)', 'a\\b', 'x'.repeat(65)]) {
      expect(() => windowsGroupName(bad)).toThrow(/is not a Windows group Keyway grants/);
    }
    expect(() => windowsGroupName('administrators', { allowPrivileged: true })).toThrow(/never granted/);
    expect(() => windowsGroupName('Remote Management Users')).toThrow(/allow_privileged_groups/);
  });

  it('refuses a password with a line break (it travels as one stdin line) without echoing it', () => {
    expect(() => issuedPassword('Secret-1\r\nmore')).toThrow(/without control characters/);
    expect(() => issuedPassword('Secret-1\r\nmore')).not.toThrow(/Secret-1/);
    expect(() => issuedPassword('short')).toThrow();
  });

  it('refuses a NetBIOS domain or session ID outside the allowlist', () => {
    expect(() => netbiosDomain('CORP\\x')).toThrow();
    expect(() => netbiosDomain('A-DOMAIN-FAR-TOO-LONG')).toThrow();
    expect(() => sessionId('1 & calc')).toThrow();
  });
});

describe('quser output', () => {
  const output = [
    ' USERNAME              SESSIONNAME        ID  STATE   IDLE TIME  LOGON TIME',
    '>kw-ana                rdp-tcp#3           2  Active          .  12/1/2026 9:05 AM',
    ' kw-ana                                    5  Disc            5  12/1/2026 8:00 AM',
    ' kw-anabel             rdp-tcp#4           6  Active          .  12/1/2026 9:10 AM',
    ' administrator         console             1  Active      none   11/30/2026 7:00 AM',
  ].join('\r\n');

  it('finds the active and disconnected sessions of the account, and no one else\'s', () => {
    expect(sessionIdsOf(output, ana)).toEqual(['2', '5']);
    expect(sessionIdsOf(output, windowsAccountName('kw-bob'))).toEqual([]);
    expect(sessionIdsOf('', ana)).toEqual([]);
  });
});
