// The edges of src/core/active-directory-names.ts: the exact refusal of each malformed DN, escapes that survive a
// round trip, the group names AD and a Windows server refuse, and the exact account names derived from Linux users.
// Written for the mutants that survived `npm run mutate`. Every value is built inside a test: a mutant that breaks
// one must fail a test, not the file's import (which Stryker does not count as a kill).
import { describe, expect, it } from 'vitest';
import {
  escapeDnValue, escapeFilterValue, formatDn, isUnderDn, parseDn, validateRdpGroupName, validateWindowsGroupName, windowsAccountName,
} from '../../src/core/active-directory-names.js';
import { userErrorOf } from '../helpers/user-error.js';

const notADn = (dn: string, why: string) => `"${dn}" is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: ${why}`;

describe('parseDn refuses what it cannot read exactly, and says why', () => {
  it.each([
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['Keyway', 'a part has no "="'],
    ['CN=a,Keyway', 'a part has no "="'],
    ['=x,DC=corp', '"" is not an attribute name'],
    ['1CN=x', '"1cn" is not an attribute name'],
    ['CN!=x', '"cn!" is not an attribute name'],
    // An LDAP filter or DN fragment where the attribute type should be: the type is written back as it is.
    ['CN)(objectClass=*', '"cn)(objectclass" is not an attribute name'],
    ['CN=a\\q,DC=x', 'it has a stray "\\"'],
    ['CN=a\\', 'it has a stray "\\"'],
    ['CN=a+OU=b,DC=x', 'multi-valued parts (with "+") are not supported'],
    ['CN=a+b', 'multi-valued parts (with "+") are not supported'],
    ['CN=a"b', 'the character " must be escaped: write \\"'],
    ['CN=a;b', 'the character ; must be escaped: write \\;'],
    ['CN=a<b', 'the character < must be escaped: write \\<'],
    ['CN=a=b', 'the character = must be escaped: write \\='],
    ['CN=#04024869', 'the value of cn= starts with "#" (a BER-encoded value): write \\# for a name that starts with #'],
    ['CN=  #admins,DC=x', 'the value of cn= starts with "#" (a BER-encoded value): write \\# for a name that starts with #'],
    ['CN=,DC=x', 'cn= has no value'],
    ['CN=   ,DC=x', 'cn= has no value'],
    ['CN=a,', 'it ends with ","'],
    ['CN=\\ff,DC=x', 'its "\\" hex escapes are not UTF-8'],
    ['CN=J\\C3rgen,DC=x', 'its "\\" hex escapes are not UTF-8'],
  ])('%j: %s', (dn, why) => {
    const error = userErrorOf(() => parseDn(dn));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(notADn(dn, why));
  });
});

it.each([
  ['CN=a\nb', '"CN=a\\x0ab"', 'the character \\x0a must be escaped: write \\0a'],
  ['CN=a\u0000b', '"CN=a\\x00b"', 'the character \\x00 must be escaped: write \\00'],
  ['CN=a\u001fb', '"CN=a\\x1fb"', 'the character \\x1f must be escaped: write \\1f'],
  ['CN=a\u007fb', '"CN=a\\x7fb"', 'the character \\x7f must be escaped: write \\7f'],
])('shows the control character in %j as \\xNN, in the DN and in the reason, so the refusal stays on one line', (dn, shown, why) => {
  expect(userErrorOf(() => parseDn(dn)).message).toBe(`${shown} is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: ${why}`);
});

describe('parseDn reads values exactly', () => {
  it('takes attribute types of any length, letters, digits and "-"', () => {
    expect(parseDn('UID=jdoe,L=Berlin,C=DE,msDS-x1=v')).toEqual([
      { type: 'uid', value: 'jdoe' }, { type: 'l', value: 'Berlin' }, { type: 'c', value: 'DE' }, { type: 'msds-x1', value: 'v' },
    ]);
  });

  it('drops unescaped spaces around a value and keeps the ones inside', () => {
    expect(parseDn('CN=   a  b  ,DC=x')).toEqual([{ type: 'cn', value: 'a  b' }, { type: 'dc', value: 'x' }]);
    expect(parseDn('CN= a')).toEqual([{ type: 'cn', value: 'a' }]);
  });

  it('keeps escaped spaces at either end of a value', () => {
    expect(parseDn('CN=a\\ ,DC=x')[0]!.value).toBe('a ');
    expect(parseDn('CN=a\\20  ,DC=x')[0]!.value).toBe('a ');
    expect(parseDn('CN=\\ a')[0]!.value).toBe(' a');
    expect(parseDn('CN=\\  \\ ')[0]!.value).toBe('   ');
  });

  it('joins only consecutive hex escapes into one character', () => {
    expect(parseDn('CN=\\41b12,DC=x')[0]!.value).toBe('Ab12');
    expect(parseDn('CN=\\41\\42c')[0]!.value).toBe('ABc');
    expect(parseDn('CN=\\e2\\82\\AC1')[0]!.value).toBe('€1');
  });

  it('reads back every value formatDn writes', () => {
    for (const value of [' a ', ' ', '#x', 'a#', 'a,b+c"d\\e<f>g;h=i', '😀 ', 'tab\tx', 'nul\0x', 'Jürgen', 'a\u001f', 'del\u007fx']) {
      expect(parseDn(formatDn([{ type: 'cn', value }, { type: 'dc', value: 'x' }])), JSON.stringify(value))
        .toEqual([{ type: 'cn', value }, { type: 'dc', value: 'x' }]);
    }
  });
});

describe('escapeDnValue', () => {
  it('escapes NUL and control characters as hex, a leading "#" or space and a trailing space with "\\"', () => {
    expect(escapeDnValue('a\0b')).toBe('a\\00b');
    expect(escapeDnValue('a\nb\u001fc')).toBe('a\\0ab\\1fc');
    expect(escapeDnValue('a b~')).toBe('a b~');
    expect(escapeDnValue('#lead')).toBe('\\#lead');
    expect(escapeDnValue('a#')).toBe('a#');
    expect(escapeDnValue(' ')).toBe('\\ ');
    expect(escapeDnValue('😀 ')).toBe('😀\\ ');
    expect(escapeDnValue('😀 x')).toBe('😀 x');
  });

  it('leaves a group name\'s parentheses for escapeFilterValue to escape', () => {
    expect(escapeFilterValue(validateWindowsGroupName('Ops (EU)'))).toBe('Ops \\28EU\\29');
  });
});

describe('isUnderDn', () => {
  it('is false for a DN shorter than the parent, true for the parent itself', () => {
    expect(isUnderDn('DC=example', 'OU=Keyway,DC=example')).toBe(false);
    expect(isUnderDn('DC=corp,DC=example', 'OU=Keyway,DC=corp,DC=example')).toBe(false);
    expect(isUnderDn('OU=Keyway,DC=example', 'ou=KEYWAY,dc=example')).toBe(true);
  });
});

describe('validateWindowsGroupName', () => {
  it('accepts 1 to 256 characters AD takes', () => {
    for (const name of ['a', 'Keyway Admins', 'Ops (EU) & #2', 'x'.repeat(256)]) expect(validateWindowsGroupName(name)).toBe(name);
  });

  it('refuses an empty or too long name', () => {
    for (const name of ['', 'x'.repeat(257)]) {
      const error = userErrorOf(() => validateWindowsGroupName(name));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`group "${name}" must be 1 to 256 characters`);
    }
  });

  it('refuses spaces at either end', () => {
    for (const name of [' Admins', 'Admins ', '\tAdmins']) {
      const error = userErrorOf(() => validateWindowsGroupName(name));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`group "${name}" must not start or end with spaces`);
    }
  });

  it('refuses every character AD refuses and every control character', () => {
    for (const c of [...'"/\\[]:;|=,+*?<>', '\0', '\n', '\u001f', '\u007f', '\u0085']) {
      const name = `a${c}b`;
      const error = userErrorOf(() => validateWindowsGroupName(name));
      expect(error.code).toBe('config_invalid');
      expect(error.message, JSON.stringify(c)).toBe(`group "${name}" has a character Active Directory refuses in a group name ("/\\[]:;|=,+*?<> or a control character)`);
    }
  });
});

describe('validateRdpGroupName', () => {
  const refusal = (name: string) =>
    `${JSON.stringify(name)} is not a Windows group Keyway grants: use 1 to 64 characters of letters, digits, space, ".", "_" and "-", starting with a letter or digit.`;

  it('accepts one character and 64', () => {
    for (const name of ['A', '7', 'x'.repeat(64), 'Remote.Desktop_Users-2']) expect(validateRdpGroupName(name)).toBe(name);
  });

  it('refuses, with the rule, names that could leave a PowerShell literal or are out of bounds', () => {
    for (const name of ['', 'x'.repeat(65), "Users'", 'Users\u2019', 'Users;x', 'Users$(x)', 'Users`', 'Users\n', '.Users', 'Users.', 'Users ']) {
      const error = userErrorOf(() => validateRdpGroupName(name));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(refusal(name));
    }
  });

  it('never grants Administrators, whatever the case and the opt-in', () => {
    for (const name of ['Administrators', 'ADMINISTRATORS']) {
      const error = userErrorOf(() => validateRdpGroupName(name, { allowPrivileged: true }));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`"${name}" gives full control of the server and is never granted.`);
    }
  });

  it.each([
    'Backup Operators', 'Hyper-V Administrators', 'Power Users', 'Remote Management Users', 'Print Operators', 'Server Operators',
    'Account Operators', 'Network Configuration Operators', 'Domain Admins', 'Enterprise Admins', 'Schema Admins',
  ])('grants the privileged group %j only with allow_privileged_groups', (name) => {
    for (const spelling of [name, name.toUpperCase(), name.toLowerCase()]) {
      const error = userErrorOf(() => validateRdpGroupName(spelling));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`"${spelling}" gives administrator-equivalent or remote-management rights: set allow_privileged_groups: true on the integration to grant it.`);
      expect(() => validateRdpGroupName(spelling, { allowPrivileged: false })).toThrow(/allow_privileged_groups/);
      expect(validateRdpGroupName(spelling, { allowPrivileged: true })).toBe(spelling);
    }
  });
});

describe('windowsAccountName', () => {
  it('refuses anything but a Linux user name, with the name in the sentence', () => {
    for (const user of ['ana,x', 'ana x', "ana'", 'ana\n', 'ana)(cn=*', 'Ana', '1ana', '']) {
      const error = userErrorOf(() => windowsAccountName(user));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`"${user}" is not a Linux user name Keyway derives a Windows account from`);
    }
    expect(windowsAccountName('_a-1')).toBe('kw-_a-1');
  });

  it('shortens past 20 characters to 12 of the user, "-" and the first 4 hex digits of FNV-1a, zero-padded', () => {
    expect(windowsAccountName('abcdefghijklmnopqr')).toBe('kw-abcdefghijkl-2eec');
    expect(windowsAccountName('abcdefghijklmnopqrstuvwxyz')).toBe('kw-abcdefghijkl-b0bc');
    // FNV-1a of this one is 0x0081a886: the leading zeros are kept.
    expect(windowsAccountName('abcdefghijklmnopqr8')).toBe('kw-abcdefghijkl-0081');
  });
});
