// What Keyway refuses to sign and the exact bytes it signs (src/ca/certificate.ts), at the edges ca.test.ts leaves
// open: the limits of principals, key IDs and validity, each refusal's sentence, and the critical options and
// extensions read back field by field. Written for the mutants that survived `npm run mutate`.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { assertSignable, certificateTypeFor, CertificateSpecError, signCertificate, validityWindow, type CertificateSpec } from '../../src/ca/certificate.js';
import { SshReader, sshString } from '../../src/ca/ssh-wire.js';
import { parseUserPublicKey } from '../../src/ca/user-key.js';

const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
const userKey = parseUserPublicKey(`ssh-ed25519 ${Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(x!, 'base64url'))]).toString('base64')}`);
const ca = generateCaKey('ed25519').caKey;

const spec = (overrides: Partial<CertificateSpec> = {}): CertificateSpec => ({
  publicKey: userKey, serial: 7n, keyId: 'keyway-req-7', principals: ['keyway-req-7'], validAfter: 1_000, validBefore: 2_000, ...overrides,
});

function refusal(overrides: Partial<CertificateSpec>): string {
  try {
    assertSignable(spec(overrides));
  } catch (error) {
    expect(error).toBeInstanceOf(CertificateSpecError);
    expect((error as Error).name).toBe('CertificateSpecError');
    return (error as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('assertSignable: limits', () => {
  it('takes 1 to 256 principals of up to 64 characters', () => {
    expect(() => assertSignable(spec({ principals: Array.from({ length: 256 }, (_, i) => `p${i}`) }))).not.toThrow();
    expect(refusal({ principals: Array.from({ length: 257 }, (_, i) => `p${i}`) })).toBe('a certificate may name at most 256 principals');
    expect(() => assertSignable(spec({ principals: [`a${'b'.repeat(63)}`] }))).not.toThrow();
    expect(refusal({ principals: ['ok', `a${'b'.repeat(64)}`] })).toBe(`principal "a${'b'.repeat(64)}" is not allowed: use lower-case letters, digits, . _ @ - (up to 64)`);
    expect(refusal({ principals: [] })).toBe('a certificate needs at least one principal: sshd treats an empty list as "any user" (CVE-2024-7594)');
  });

  it('takes key IDs of 1 to 256 shell-safe characters, and quotes a long one shortened', () => {
    expect(() => assertSignable(spec({ keyId: 'k'.repeat(256) }))).not.toThrow();
    expect(() => assertSignable(spec({ keyId: 'A-z0-9@._:,+=' }))).not.toThrow();
    expect(refusal({ keyId: 'k'.repeat(257) })).toBe(`certificate key ID "${'k'.repeat(76)}..." is not shell-safe: use 1-256 of A-Z a-z 0-9 @ . _ : , + = -`);
    expect(refusal({ keyId: `${'k'.repeat(77)} ` })).toBe(`certificate key ID "${'k'.repeat(77)} " is not shell-safe: use 1-256 of A-Z a-z 0-9 @ . _ : , + = -`);
    expect(refusal({ keyId: `${'k'.repeat(78)} ` })).toBe(`certificate key ID "${'k'.repeat(76)}..." is not shell-safe: use 1-256 of A-Z a-z 0-9 @ . _ : , + = -`);
    expect(refusal({ keyId: 'a b' })).toBe('certificate key ID "a b" is not shell-safe: use 1-256 of A-Z a-z 0-9 @ . _ : , + = -');
  });

  it('takes serials from 1 to 2^64-1', () => {
    expect(() => assertSignable(spec({ serial: 1n }))).not.toThrow();
    expect(() => assertSignable(spec({ serial: (1n << 64n) - 1n }))).not.toThrow();
    expect(refusal({ serial: 0n })).toBe('certificate serial must be a non-zero 64-bit number, got 0');
    expect(refusal({ serial: 7 as unknown as bigint })).toBe('certificate serial must be a non-zero 64-bit number, got 7');
  });

  it('takes whole unix seconds from 0, validBefore after validAfter', () => {
    expect(() => assertSignable(spec({ validAfter: 0, validBefore: 1 }))).not.toThrow();
    expect(refusal({ validAfter: -1 })).toBe('certificate validAfter must be whole unix seconds, got -1');
    expect(refusal({ validBefore: 2.5 })).toBe('certificate validBefore must be whole unix seconds, got 2.5');
    expect(refusal({ validAfter: 2_000, validBefore: 2_000 })).toBe('certificate validBefore (2000) must be later than validAfter (2000)');
  });

  it('names a key type it cannot certify and an unknown extension with the allowed ones', () => {
    expect(refusal({ publicKey: { ...userKey, type: 'ssh-dss' } })).toBe('cannot certify a "ssh-dss" key');
    expect(refusal({ extensions: ['permit-pty', 'permit-all'] })).toBe(
      'unknown certificate extension "permit-all"; allowed: permit-X11-forwarding, permit-agent-forwarding, permit-port-forwarding, permit-pty, permit-user-rc',
    );
  });

  it('takes a force-command of one non-blank line, and source addresses that are IPs or CIDR blocks', () => {
    for (const forceCommand of ['   ', 'a\tb', 'a\x7f', 'a\rb']) {
      expect(refusal({ criticalOptions: { forceCommand } })).toBe(`force-command ${JSON.stringify(forceCommand)} must be a non-empty single line`);
    }
    expect(refusal({ criticalOptions: { sourceAddress: [] } })).toBe('source-address needs at least one address or CIDR block');
    for (const entry of ['10.0.0.0/+8', '10.0.0.0/8/9', '::/129', '10.0.0.0/33', 'web-1', '10.0.0.0/']) {
      expect(refusal({ criticalOptions: { sourceAddress: ['10.0.0.1', entry] } })).toBe(`source-address entry ${JSON.stringify(entry)} is not an IP address or CIDR block`);
    }
    expect(() => assertSignable(spec({ criticalOptions: { forceCommand: 'uptime', sourceAddress: ['10.0.0.1', '10.0.0.0/32', '::/128', '2001:db8::/64', '0.0.0.0/0'] } }))).not.toThrow();
  });
});

describe('validityWindow', () => {
  const now = new Date('2030-01-01T00:00:00.700Z');
  const seconds = Date.UTC(2030, 0, 1) / 1000;

  it('rounds the duration up and the backdate down, 120 s back by default', () => {
    expect(validityWindow(now, 1.2, 1.7)).toEqual({ validAfter: seconds - 1, validBefore: seconds + 2 });
    expect(validityWindow(now, 60)).toEqual({ validAfter: seconds - 120, validBefore: seconds + 60 });
    expect(validityWindow(now, 60, 0)).toEqual({ validAfter: seconds, validBefore: seconds + 60 });
  });

  it('refuses a duration that is not a positive number and a negative backdate', () => {
    expect(() => validityWindow(now, Number.NaN)).toThrow(new RangeError('certificate duration must be positive, got NaN'));
    expect(() => validityWindow(now, Number.POSITIVE_INFINITY)).toThrow(new RangeError('certificate duration must be positive, got Infinity'));
    expect(() => validityWindow(now, 60, -1)).toThrow(new RangeError('certificate backdate must not be negative, got -1'));
    expect(() => validityWindow(now, 60, Number.NaN)).toThrow(new RangeError('certificate backdate must not be negative, got NaN'));
  });
});

describe('signCertificate: the fields as OpenSSH reads them', () => {
  function fields(certificate: { blob: Buffer }) {
    const reader = new SshReader(certificate.blob);
    const type = reader.utf8();
    reader.string(); // nonce
    reader.string(); // the ed25519 key
    const serial = reader.uint64();
    const certType = reader.uint32();
    const keyId = reader.utf8();
    const principals = new SshReader(reader.string());
    const names: string[] = [];
    while (!principals.atEnd) names.push(principals.utf8());
    const validAfter = reader.uint64();
    const validBefore = reader.uint64();
    const pairs = (buffer: Buffer) => {
      const inner = new SshReader(buffer);
      const out: Array<[string, string]> = [];
      while (!inner.atEnd) out.push([inner.utf8(), inner.string().toString('hex')]);
      return out;
    };
    const criticalOptions = pairs(reader.string());
    const extensions = pairs(reader.string());
    const reserved = reader.string();
    const signatureKey = reader.string();
    reader.string(); // signature
    return { type, serial, certType, keyId, names, validAfter, validBefore, criticalOptions, extensions, reserved, signatureKey, atEnd: reader.atEnd };
  }

  it('writes every field in order, options sorted by name with their values as strings', () => {
    const certificate = signCertificate(ca, spec({
      principals: ['keyway-req-7', 'b'], criticalOptions: { sourceAddress: ['10.0.0.1', '10.8.0.0/16'], forceCommand: 'uptime' },
      extensions: ['permit-pty', 'permit-agent-forwarding', 'permit-pty'],
    }));
    expect(certificate.type).toBe('ssh-ed25519-cert-v01@openssh.com');
    expect(certificate.line).toBe(`ssh-ed25519-cert-v01@openssh.com ${certificate.blob.toString('base64')} keyway-req-7`);
    const read = fields(certificate);
    expect(read).toEqual({
      type: 'ssh-ed25519-cert-v01@openssh.com', serial: 7n, certType: 1, keyId: 'keyway-req-7', names: ['keyway-req-7', 'b'],
      validAfter: 1000n, validBefore: 2000n,
      criticalOptions: [['force-command', sshString('uptime').toString('hex')], ['source-address', sshString('10.0.0.1,10.8.0.0/16').toString('hex')]],
      extensions: [['permit-agent-forwarding', ''], ['permit-pty', '']],
      reserved: Buffer.alloc(0), signatureKey: ca.publicKeyBlob, atEnd: true,
    });
  });

  it('gives permit-pty and no critical options by default', () => {
    const read = fields(signCertificate(ca, spec()));
    expect(read.criticalOptions).toEqual([]);
    expect(read.extensions).toEqual([['permit-pty', '']]);
    expect(fields(signCertificate(ca, spec({ criticalOptions: { sourceAddress: ['10.0.0.1'] } }))).criticalOptions)
      .toEqual([['source-address', sshString('10.0.0.1').toString('hex')]]);
  });

  it('names the mismatch when a key blob is of another type', () => {
    const blob = Buffer.concat([sshString('ssh-rsa'), userKey.blob.subarray(15)]);
    expect(() => signCertificate(ca, spec({ publicKey: { ...userKey, blob } }))).toThrow(
      new CertificateSpecError('public key blob is "ssh-rsa" but its type says "ssh-ed25519"'),
    );
  });

  it('names certificate types after the key type', () => {
    expect(certificateTypeFor('ecdsa-sha2-nistp256')).toBe('ecdsa-sha2-nistp256-cert-v01@openssh.com');
  });
});
