// The edges of the SSH wire encoder and reader (src/ca/ssh-wire.ts): the largest and smallest values each type
// takes, the exact bytes at those edges, and what a truncated buffer says. Written for surviving mutants.
import { describe, expect, it } from 'vitest';
import { SshReader, SshWireError, sshMpintFromUnsigned, sshNameList, sshString, sshUint32, sshUint64 } from '../../src/ca/ssh-wire.js';

const hex = (buffer: Buffer): string => buffer.toString('hex');

describe('uint32', () => {
  it('writes 0 and 2^32-1', () => {
    expect(hex(sshUint32(0))).toBe('00000000');
    expect(hex(sshUint32(0xffffffff))).toBe('ffffffff');
  });

  it('refuses fractions and values outside 0..2^32-1, naming the value', () => {
    expect(() => sshUint32(1.5)).toThrow(new RangeError('uint32 out of range: 1.5'));
    expect(() => sshUint32(-1)).toThrow(new RangeError('uint32 out of range: -1'));
    expect(() => sshUint32(2 ** 32)).toThrow(new RangeError('uint32 out of range: 4294967296'));
  });
});

describe('uint64', () => {
  it('writes 0, 2^64-1 and a plain number', () => {
    expect(hex(sshUint64(0n))).toBe('0000000000000000');
    expect(hex(sshUint64(0))).toBe('0000000000000000');
    expect(hex(sshUint64((1n << 64n) - 1n))).toBe('ffffffffffffffff');
    expect(hex(sshUint64(2 ** 40))).toBe('0000010000000000');
  });

  it('refuses values outside 0..2^64-1, naming the value', () => {
    expect(() => sshUint64(-1)).toThrow(new RangeError('uint64 out of range: -1'));
    expect(() => sshUint64(1n << 64n)).toThrow(new RangeError('uint64 out of range: 18446744073709551616'));
  });
});

describe('string', () => {
  it('counts bytes, not characters', () => {
    expect(hex(sshString('é'))).toBe('00000002c3a9');
    expect(hex(sshString(Buffer.from([1, 2, 3])))).toBe('00000003010203');
  });
});

describe('mpint', () => {
  it('writes zero as the empty string, however many zero bytes it is given', () => {
    expect(hex(sshMpintFromUnsigned(Buffer.alloc(0)))).toBe('00000000');
    expect(hex(sshMpintFromUnsigned(Buffer.alloc(5)))).toBe('00000000');
  });

  it('pads only when the top bit is set, after dropping leading zeros', () => {
    expect(hex(sshMpintFromUnsigned(Buffer.from([0x00, 0xff, 0x01])))).toBe('0000000300ff01');
    expect(hex(sshMpintFromUnsigned(Buffer.from([0x7f, 0xff])))).toBe('000000027fff');
    expect(hex(sshMpintFromUnsigned(Buffer.from([0x01, 0x00])))).toBe('000000020100');
  });
});

describe('name-list', () => {
  it('writes an empty list as the empty string, and refuses a bad entry naming it', () => {
    expect(hex(sshNameList([]))).toBe('00000000');
    expect(() => sshNameList(['ok', 'a,b'])).toThrow(new RangeError('invalid name-list entry: "a,b"'));
    expect(() => sshNameList(['ok', ''])).toThrow(new RangeError('invalid name-list entry: ""'));
  });
});

describe('SshReader', () => {
  it('tracks its position and whether it is at the end', () => {
    const reader = new SshReader(Buffer.concat([sshUint32(1), Buffer.from('magic'), sshString(''), sshString('')]));
    expect(reader.atEnd).toBe(false);
    expect(reader.position).toBe(0);
    expect(reader.uint32()).toBe(1);
    expect(reader.position).toBe(4);
    expect(reader.bytes(5).toString()).toBe('magic');
    expect(reader.position).toBe(9);
    expect(reader.nameList()).toEqual([]);
    expect(reader.string()).toEqual(Buffer.alloc(0));
    expect(reader.position).toBe(17);
    expect(reader.atEnd).toBe(true);
    expect(reader.rest()).toEqual(Buffer.alloc(0));
  });

  it('reads a field that ends exactly at the end of the buffer', () => {
    expect(new SshReader(Buffer.from('0000000161', 'hex')).utf8()).toBe('a');
    expect(new SshReader(Buffer.from('abc')).bytes(3).toString()).toBe('abc');
    expect(new SshReader(sshUint64(5n)).uint64()).toBe(5n);
  });

  it('says how much it needed and how much was left', () => {
    const reader = new SshReader(Buffer.from('0000000561626364', 'hex'));
    expect(() => reader.string()).toThrow(new SshWireError('SSH data truncated: need 5 bytes at offset 4, have 4'));
    expect(() => new SshReader(Buffer.alloc(7)).uint64()).toThrow(new SshWireError('SSH data truncated: need 8 bytes at offset 0, have 7'));
    expect(() => new SshReader(Buffer.alloc(2)).bytes(3)).toThrow(new SshWireError('SSH data truncated: need 3 bytes at offset 0, have 2'));
    const error = (() => {
      try {
        new SshReader(Buffer.alloc(1)).uint32();
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SshWireError);
    expect((error as Error).name).toBe('SshWireError');
  });

  it('leaves the rest for later readers after a read', () => {
    const reader = new SshReader(Buffer.concat([sshUint32(2), Buffer.from('tail')]));
    reader.uint32();
    expect(reader.rest().toString()).toBe('tail');
    expect(reader.position).toBe(8);
  });
});
