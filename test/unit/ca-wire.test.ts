import { describe, expect, it } from 'vitest';
import { KEY_ID_PATTERN, PRINCIPAL_PATTERN } from '../../src/ca/certificate.js';
import { certificateKeyId, requestPrincipal } from '../../src/ca/certificate-identity.js';
import {
  SshReader,
  SshWireError,
  sshMpintFromUnsigned,
  sshNameList,
  sshString,
  sshUint32,
  sshUint64,
} from '../../src/ca/ssh-wire.js';

const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('SSH wire format (RFC 4251 §5)', () => {
  it('writes uint32 and uint64 big-endian and refuses out-of-range values', () => {
    expect(hex(sshUint32(0x01020304))).toBe('01020304');
    expect(hex(sshUint64(0xfedcba9876543210n))).toBe('fedcba9876543210');
    expect(hex(sshUint64(1_900_000_000))).toBe('00000000713fb300');
    expect(() => sshUint32(-1)).toThrow(RangeError);
    expect(() => sshUint32(2 ** 32)).toThrow(RangeError);
    expect(() => sshUint64(-1n)).toThrow(RangeError);
    expect(() => sshUint64(1n << 64n)).toThrow(RangeError);
  });

  it('writes strings with a length prefix', () => {
    expect(hex(sshString('ssh-ed25519'))).toBe('0000000b' + Buffer.from('ssh-ed25519').toString('hex'));
    expect(hex(sshString(Buffer.alloc(0)))).toBe('00000000');
  });

  it('writes mpints as RFC 4251 examples show them', () => {
    expect(hex(sshMpintFromUnsigned(Buffer.from([0])))).toBe('00000000');
    expect(hex(sshMpintFromUnsigned(Buffer.from('0009a378f9b2e332a7', 'hex')))).toBe('0000000809a378f9b2e332a7');
    expect(hex(sshMpintFromUnsigned(Buffer.from([0x80])))).toBe('000000020080');
    expect(hex(sshMpintFromUnsigned(Buffer.from([0x00, 0x00, 0x7f])))).toBe('000000017f');
  });

  it('writes name-lists and refuses names that would break them', () => {
    expect(sshNameList(['zlib', 'none']).subarray(4).toString()).toBe('zlib,none');
    expect(() => sshNameList(['a,b'])).toThrow(RangeError);
    expect(() => sshNameList([''])).toThrow(RangeError);
  });

  it('reads back what it writes, and refuses truncated data', () => {
    const data = Buffer.concat([sshString('a'), sshUint32(7), sshUint64(9n), sshNameList(['x', 'y']), Buffer.from('tail')]);
    const reader = new SshReader(data);
    expect(reader.utf8()).toBe('a');
    expect(reader.uint32()).toBe(7);
    expect(reader.uint64()).toBe(9n);
    expect(reader.nameList()).toEqual(['x', 'y']);
    expect(reader.rest().toString()).toBe('tail');
    expect(reader.atEnd).toBe(true);
    expect(() => new SshReader(Buffer.from('00000005abc', 'hex')).string()).toThrow(SshWireError);
    expect(() => new SshReader(Buffer.alloc(3)).uint32()).toThrow(SshWireError);
  });
});

describe('certificate identity', () => {
  it('names the request in the principal', () => {
    expect(requestPrincipal(42)).toBe('keyway-req-42');
    expect(PRINCIPAL_PATTERN.test(requestPrincipal(42))).toBe(true);
    expect(() => requestPrincipal('1;reboot')).toThrow(RangeError);
  });

  it('puts request, person and servers in a shell-safe key ID', () => {
    const keyId = certificateKeyId({ requestId: 42, person: 'henk@example.com', servers: ['web-1', 'My Server 1', '$(reboot)'] });
    expect(keyId).toBe('keyway-req-42:henk@example.com:web-1,My_Server_1,__reboot_');
    expect(KEY_ID_PATTERN.test(keyId)).toBe(true);
  });

  it('counts the servers that do not fit in 256 characters', () => {
    const servers = Array.from({ length: 60 }, (_, i) => `server-${i}`);
    const keyId = certificateKeyId({ requestId: 7, person: 'ana@example.com', servers });
    expect(keyId.length).toBeLessThanOrEqual(256);
    expect(KEY_ID_PATTERN.test(keyId)).toBe(true);
    const shown = keyId.split(':')[2]!.split(',');
    const hidden = Number(shown.at(-1)!.slice(1));
    expect(shown.length - 1 + hidden).toBe(60);
  });

  it('keeps the key ID valid with no servers and with an absurdly long person', () => {
    expect(certificateKeyId({ requestId: 1, person: 'a@b.c', servers: [] })).toBe('keyway-req-1:a@b.c');
    const long = certificateKeyId({ requestId: 1, person: `${'x'.repeat(300)}@example.com`, servers: ['web'] });
    expect(long.length).toBe(256);
    expect(KEY_ID_PATTERN.test(long)).toBe(true);
  });
});
