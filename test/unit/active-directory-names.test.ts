// Distinguished names, filter values and account names for Active Directory: read exactly, escaped always.
import { describe, expect, it } from 'vitest';
import {
  escapeDnValue, escapeFilterValue, formatDn, isUnderDn, normalizeDn, parseDn, parentDn, windowsAccountName,
} from '../../src/core/active-directory-names.js';

describe('Active Directory names', () => {
  it('reads a DN with escapes and writes it back escaped', () => {
    expect(parseDn('CN=Smith\\, John,OU=Keyway,DC=corp,DC=example')).toEqual([
      { type: 'cn', value: 'Smith, John' }, { type: 'ou', value: 'Keyway' }, { type: 'dc', value: 'corp' }, { type: 'dc', value: 'example' },
    ]);
    expect(parseDn('CN=J\\C3\\BCrgen,DC=x')[0]!.value).toBe('Jürgen');
    expect(formatDn(parseDn('cn=a\\+b , ou=K'))).toBe('CN=a\\+b,OU=K');
  });

  it('refuses DNs it cannot read exactly', () => {
    for (const bad of ['', 'Keyway', 'CN=a+OU=b,DC=x', 'CN=a"b,DC=x', 'CN=,DC=x', 'CN=a,', 'CN=a\\q,DC=x']) {
      expect(() => parseDn(bad), bad).toThrow(/distinguished name/);
    }
  });

  it('escapes values so a person\'s or a group\'s name cannot change the DN or the filter', () => {
    expect(escapeDnValue('kw-dev,OU=Domain Controllers')).toBe('kw-dev\\,OU\\=Domain Controllers');
    expect(escapeDnValue(' #lead ')).toBe('\\ #lead\\ ');
    expect(escapeFilterValue('*)(objectClass=*')).toBe('\\2a\\29\\28objectClass=\\2a');
    expect(escapeFilterValue('a\\b\0')).toBe('a\\5cb\\00');
  });

  it('tells whether a DN lies in an OU, whatever the case and spacing', () => {
    expect(isUnderDn('CN=kw-dev,OU=Keyway,DC=corp,DC=example', 'ou=keyway, dc=CORP,dc=example')).toBe(true);
    expect(isUnderDn('CN=kw-dev,OU=Users,DC=corp,DC=example', 'OU=Keyway,DC=corp,DC=example')).toBe(false);
    expect(isUnderDn('CN=x\\,OU\\=Keyway,DC=corp,DC=example', 'OU=Keyway,DC=corp,DC=example')).toBe(false);
    expect(normalizeDn('OU=Keyway, DC=Corp')).toBe('ou=keyway,dc=corp');
    expect(parentDn('CN=kw-dev,OU=Keyway,DC=corp')).toBe('OU=Keyway,DC=corp');
  });

  it('derives kw-<user>, shortened with a stable hash past sAMAccountName\'s 20 characters', () => {
    expect(windowsAccountName('devhba')).toBe('kw-devhba');
    expect(windowsAccountName('abcdefghijklmnopq')).toBe('kw-abcdefghijklmnopq');
    const long = windowsAccountName('abcdefghijklmnopqrstuvwxyz');
    expect(long).toMatch(/^kw-abcdefghijkl-[0-9a-f]{4}$/);
    expect(long.length).toBeLessThanOrEqual(20);
    expect(windowsAccountName('abcdefghijklmnopqrstuvwxyz')).toBe(long);
    expect(windowsAccountName('abcdefghijklmnopqrstuvwxy')).not.toBe(long);
    expect(() => windowsAccountName('Bad,Name')).toThrow();
  });
});
