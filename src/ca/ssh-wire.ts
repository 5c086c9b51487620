// The SSH wire format (RFC 4251 §5): the few data types certificates and keys are made of.

const UINT64_MAX = (1n << 64n) - 1n;

export function sshUint32(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`uint32 out of range: ${value}`);
  }
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value, 0);
  return out;
}

export function sshUint64(value: bigint | number): Buffer {
  const big = typeof value === 'bigint' ? value : BigInt(value);
  if (big < 0n || big > UINT64_MAX) throw new RangeError(`uint64 out of range: ${big}`);
  const out = Buffer.allocUnsafe(8);
  out.writeBigUInt64BE(big, 0);
  return out;
}

/** string: uint32 length, then the bytes. */
export function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const out = Buffer.allocUnsafe(4 + bytes.length);
  out.writeUInt32BE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

/** mpint from unsigned big-endian magnitude bytes: no superfluous leading zeros, and a 0x00 when the top bit is set. */
export function sshMpintFromUnsigned(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = trimmed.length > 0 && (trimmed[0]! & 0x80) !== 0;
  return sshString(needsPad ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** name-list: comma-separated names in one string. */
export function sshNameList(names: readonly string[]): Buffer {
  for (const name of names) {
    if (name.length === 0 || name.includes(',')) throw new RangeError(`invalid name-list entry: ${JSON.stringify(name)}`);
  }
  return sshString(names.join(','));
}

export class SshWireError extends Error {
  override readonly name = 'SshWireError';
}

export class SshReader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  get atEnd(): boolean {
    return this.offset === this.buffer.length;
  }

  get position(): number {
    return this.offset;
  }

  uint32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint64(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  string(): Buffer {
    const length = this.uint32();
    this.need(length);
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  utf8(): string {
    return this.string().toString('utf8');
  }

  /** Raw bytes, for fixed-length fields such as the openssh-key-v1 magic. */
  bytes(length: number): Buffer {
    this.need(length);
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  nameList(): string[] {
    const text = this.utf8();
    return text === '' ? [] : text.split(',');
  }

  rest(): Buffer {
    const value = this.buffer.subarray(this.offset);
    this.offset = this.buffer.length;
    return value;
  }

  private need(length: number): void {
    if (this.offset + length > this.buffer.length) {
      throw new SshWireError(`SSH data truncated: need ${length} bytes at offset ${this.offset}, have ${this.buffer.length - this.offset}`);
    }
  }
}
