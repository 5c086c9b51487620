// Every certificate Keyway issues, read back by OpenSSH's own ssh-keygen and verified by sshpk.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caKeyFromPrivateKeyText, generateCaKey, type CaKey } from '../../src/ca/ca-key.js';
import {
  CertificateSpecError,
  DEFAULT_BACKDATE_SECONDS,
  signCertificate,
  validityWindow,
  type CertificateSpec,
} from '../../src/ca/certificate.js';
import { parseUserPublicKey, type UserPublicKey } from '../../src/ca/user-key.js';
import { SshReader } from '../../src/ca/ssh-wire.js';

let dir: string;
const caKeys = new Map<string, CaKey>();
const userKeys = new Map<string, { path: string; key: UserPublicKey }>();

const CA_KINDS = ['ed25519', 'ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'rsa-3072'] as const;
const USER_KINDS = {
  ed25519: ['-t', 'ed25519'],
  'ecdsa-256': ['-t', 'ecdsa', '-b', '256'],
  'ecdsa-384': ['-t', 'ecdsa', '-b', '384'],
  'ecdsa-521': ['-t', 'ecdsa', '-b', '521'],
  'rsa-2048': ['-t', 'rsa', '-b', '2048'],
  'rsa-3072': ['-t', 'rsa', '-b', '3072'],
} as const;

const EXPECTED_CA_ALGORITHM: Record<(typeof CA_KINDS)[number], string> = {
  ed25519: 'ssh-ed25519',
  'ecdsa-p256': 'ecdsa-sha2-nistp256',
  'ecdsa-p384': 'ecdsa-sha2-nistp384',
  'ecdsa-p521': 'ecdsa-sha2-nistp521',
  'rsa-3072': 'rsa-sha2-512',
};

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function newSshKeygenKey(name: string, typeArgs: readonly string[]): string {
  const path = join(dir, name);
  sshKeygen(['-q', ...typeArgs, '-N', '', '-C', `${name}@test`, '-f', path]);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyway-ca-'));
  // The CA keys come in through every door Keyway has: generated, OpenSSH file, PEM (SEC1) file.
  caKeys.set('ed25519', generateCaKey('ed25519').caKey);
  caKeys.set('ecdsa-p256', generateCaKey('ecdsa').caKey);
  caKeys.set('ecdsa-p384', caKeyFromPrivateKeyText(readFileSync(newSshKeygenKey('ca-p384', ['-t', 'ecdsa', '-b', '384']), 'utf8')));
  const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  caKeys.set('ecdsa-p521', caKeyFromPrivateKeyText(p521));
  caKeys.set('rsa-3072', generateCaKey('rsa').caKey);
  for (const [kind, args] of Object.entries(USER_KINDS)) {
    const path = newSshKeygenKey(`user-${kind}`, args);
    userKeys.set(kind, { path, key: parseUserPublicKey(readFileSync(`${path}.pub`, 'utf8')) });
  }
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface ListedCertificate {
  type: string;
  publicKeyFingerprint: string;
  signingCa: string;
  keyId: string;
  serial: string;
  valid: string;
  principals: string[];
  criticalOptions: string[];
  extensions: string[];
}

/** Parses `ssh-keygen -L` output (OpenSSH 9.x layout). ssh-keygen verifies the CA signature while loading. */
function listCertificate(certPath: string): ListedCertificate {
  const lines = sshKeygen(['-L', '-f', certPath]).split('\n');
  const field = (name: string): string => {
    const line = lines.find((l) => l.trimStart().startsWith(`${name}:`));
    if (line === undefined) throw new Error(`ssh-keygen -L printed no ${name}`);
    return line.slice(line.indexOf(':') + 1).trim();
  };
  const section = (name: string): string[] => {
    const start = lines.findIndex((l) => l.trimStart().startsWith(`${name}:`));
    if (field(name) === '(none)') return [];
    const items: string[] = [];
    for (const line of lines.slice(start + 1)) {
      if (!/^\s{16}\S/.test(line)) break;
      items.push(line.trim());
    }
    return items;
  };
  return {
    type: field('Type'),
    publicKeyFingerprint: field('Public key').split(' ')[1] ?? '',
    signingCa: field('Signing CA'),
    keyId: field('Key ID'),
    serial: field('Serial'),
    valid: field('Valid'),
    principals: section('Principals'),
    criticalOptions: section('Critical Options'),
    extensions: section('Extensions'),
  };
}

function utcSeconds(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 19);
}

/** Walks a certificate blob field by field (PROTOCOL.certkeys) to find where the nonce and the signature are. */
function certificateLayout(blob: Buffer): { nonceStart: number; nonceEnd: number; signedEnd: number } {
  const reader = new SshReader(blob);
  const type = reader.utf8();
  const nonceStart = reader.position;
  reader.string();
  const nonceEnd = reader.position;
  const keyFields = type.startsWith('ssh-ed25519') ? 1 : 2; // ed25519: pk; ecdsa: curve, Q; rsa: e, n
  for (let i = 0; i < keyFields; i++) reader.string();
  reader.uint64(); // serial
  reader.uint32(); // type
  for (let i = 0; i < 2; i++) reader.string(); // key id, principals
  reader.uint64(); // valid after
  reader.uint64(); // valid before
  for (let i = 0; i < 4; i++) reader.string(); // critical options, extensions, reserved, signature key
  return { nonceStart, nonceEnd, signedEnd: reader.position };
}

/** The signed part of a certificate blob: everything before its final string, the signature. */
function signedPart(blob: Buffer): Buffer {
  return blob.subarray(0, certificateLayout(blob).signedEnd);
}

/** sshpk's isSignedByKey only compares the embedded CA key, so check the signature itself with sshpk's verifier. */
function sshpkVerifies(certLine: string, caKey: CaKey): boolean {
  const cert = sshpk.parseCertificate(certLine, 'openssh');
  const caPublicKey = sshpk.parseKey(caKey.publicKeyLine, 'ssh');
  if (!cert.isSignedByKey(caPublicKey)) return false;
  const signature = cert.signatures.openssh?.signature;
  if (signature === undefined) return false;
  const blob = Buffer.from(certLine.split(' ')[1] ?? '', 'base64');
  const verifier = caPublicKey.createVerify(signature.hashAlgorithm);
  verifier.update(signedPart(blob));
  return verifier.verify(signature);
}

function specFor(key: UserPublicKey, overrides: Partial<CertificateSpec> = {}): CertificateSpec {
  return {
    publicKey: key,
    serial: 4242n,
    keyId: 'keyway-req-42:henk@example.com:web-1,db-2',
    principals: ['keyway-req-42'],
    ...validityWindow(new Date(), 3600),
    ...overrides,
  };
}

function writeCertificate(keyPath: string, line: string): string {
  const certPath = `${keyPath}-cert.pub`;
  writeFileSync(certPath, `${line}\n`);
  return certPath;
}

describe('signCertificate: every CA key type × every user key type', () => {
  for (const caKind of CA_KINDS) {
    for (const userKind of Object.keys(USER_KINDS)) {
      it(`${caKind} CA signs a ${userKind} user key that ssh-keygen reads and sshpk verifies`, () => {
        const ca = caKeys.get(caKind)!;
        const user = userKeys.get(userKind)!;
        const serial = 0xfedcba9876543210n;
        const validAfter = 1_900_000_000;
        const validBefore = validAfter + 8 * 3600;
        const cert = signCertificate(ca, {
          publicKey: user.key,
          serial,
          keyId: `keyway-req-7:ana@example.com:web-1`,
          principals: ['keyway-req-7', 'ana'],
          validAfter,
          validBefore,
          criticalOptions: { sourceAddress: ['10.0.0.0/8', '192.168.1.7'], forceCommand: '/usr/bin/uptime' },
          extensions: ['permit-pty', 'permit-agent-forwarding'],
        });

        const listed = listCertificate(writeCertificate(user.path, cert.line));
        expect(cert.type).toBe(`${user.key.type}-cert-v01@openssh.com`);
        expect(listed.type).toBe(`${user.key.type}-cert-v01@openssh.com user certificate`);
        expect(listed.publicKeyFingerprint).toBe(user.key.fingerprint);
        expect(listed.signingCa).toMatch(new RegExp(` ${ca.fingerprint.replace(/[+/]/g, '\\$&')} \\(using ${EXPECTED_CA_ALGORITHM[caKind]}\\)$`));
        expect(listed.serial).toBe(serial.toString());
        expect(listed.keyId).toBe('"keyway-req-7:ana@example.com:web-1"');
        expect(listed.valid).toBe(`from ${utcSeconds(validAfter)} to ${utcSeconds(validBefore)}`);
        expect(listed.principals).toEqual(['keyway-req-7', 'ana']);
        expect(listed.criticalOptions).toEqual(['force-command /usr/bin/uptime', 'source-address 10.0.0.0/8,192.168.1.7']);
        expect(listed.extensions).toEqual(['permit-agent-forwarding', 'permit-pty']);
        expect(sshpkVerifies(cert.line, ca)).toBe(true);
      });
    }
  }
});

describe('signCertificate: defaults and details', () => {
  it('issues permit-pty only, no critical options, and a window from the backdate to expiry by default', () => {
    const ca = caKeys.get('ed25519')!;
    const user = userKeys.get('ed25519')!;
    const now = new Date();
    const window = validityWindow(now, 2 * 3600);
    const cert = signCertificate(ca, specFor(user.key, window));
    const listed = listCertificate(writeCertificate(user.path, cert.line));
    const nowSeconds = Math.floor(now.getTime() / 1000);
    expect(window).toEqual({ validAfter: nowSeconds - DEFAULT_BACKDATE_SECONDS, validBefore: nowSeconds + 7200 });
    expect(listed.valid).toBe(`from ${utcSeconds(nowSeconds - 120)} to ${utcSeconds(nowSeconds + 7200)}`);
    expect(listed.criticalOptions).toEqual([]);
    expect(listed.extensions).toEqual(['permit-pty']);
    expect(cert.line.split(' ')[2]).toBe('keyway-req-42:henk@example.com:web-1,db-2');
  });

  it('can issue a certificate with no extensions at all (commands only, no pty)', () => {
    const user = userKeys.get('ed25519')!;
    const cert = signCertificate(caKeys.get('ed25519')!, specFor(user.key, { extensions: [] }));
    expect(listCertificate(writeCertificate(user.path, cert.line)).extensions).toEqual([]);
  });

  it('sorts every extension OpenSSH knows by name and drops duplicates', () => {
    const user = userKeys.get('ecdsa-256')!;
    const extensions = ['permit-user-rc', 'permit-pty', 'permit-port-forwarding', 'permit-agent-forwarding', 'permit-X11-forwarding', 'permit-pty'];
    const cert = signCertificate(caKeys.get('rsa-3072')!, specFor(user.key, { extensions }));
    expect(listCertificate(writeCertificate(user.path, cert.line)).extensions).toEqual([
      'permit-X11-forwarding',
      'permit-agent-forwarding',
      'permit-port-forwarding',
      'permit-pty',
      'permit-user-rc',
    ]);
  });

  it('uses a fresh random nonce for every certificate', () => {
    const user = userKeys.get('ed25519')!;
    const nonce = (blob: Buffer): string => {
      const reader = new SshReader(blob);
      reader.string();
      return reader.string().toString('hex');
    };
    const a = signCertificate(caKeys.get('ed25519')!, specFor(user.key));
    const b = signCertificate(caKeys.get('ed25519')!, specFor(user.key));
    expect(nonce(a.blob)).toHaveLength(64);
    expect(nonce(a.blob)).not.toBe(nonce(b.blob));
  });

  it('is encoded byte for byte as ssh-keygen -s encodes the same certificate (apart from nonce and signature)', () => {
    const caPath = newSshKeygenKey('ca-compare', ['-t', 'ed25519']);
    const ca = caKeyFromPrivateKeyText(readFileSync(caPath, 'utf8'));
    const user = userKeys.get('rsa-2048')!;
    const validAfter = 1_900_000_000;
    const spec = specFor(user.key, {
      serial: 99n,
      keyId: 'keyway-req-99:x@example.com',
      principals: ['keyway-req-99', 'bob'],
      validAfter,
      validBefore: validAfter + 3600,
      criticalOptions: { forceCommand: '/bin/true', sourceAddress: ['10.1.0.0/16'] },
      extensions: ['permit-pty', 'permit-port-forwarding'],
    });
    const ours = signCertificate(ca, spec).blob;
    const theirsPath = join(dir, 'compare');
    writeFileSync(`${theirsPath}.pub`, `${user.key.line}\n`);
    sshKeygen([
      '-q', '-s', caPath, '-I', spec.keyId, '-n', 'keyway-req-99,bob', '-z', '99',
      '-V', `${utcSeconds(validAfter).replace(/\D/g, '')}:${utcSeconds(validAfter + 3600).replace(/\D/g, '')}`,
      '-O', 'clear', '-O', 'force-command=/bin/true', '-O', 'source-address=10.1.0.0/16',
      '-O', 'permit-pty', '-O', 'permit-port-forwarding', `${theirsPath}.pub`,
    ]);
    const theirs = Buffer.from(readFileSync(`${theirsPath}-cert.pub`, 'utf8').split(' ')[1] ?? '', 'base64');
    const withoutNonce = (blob: Buffer): Buffer => {
      const { nonceStart, nonceEnd, signedEnd } = certificateLayout(blob);
      return Buffer.concat([blob.subarray(0, nonceStart), blob.subarray(nonceEnd, signedEnd)]);
    };
    expect(withoutNonce(ours).toString('hex')).toBe(withoutNonce(theirs).toString('hex'));
  });

  it('ssh-keygen refuses a certificate whose signature was tampered with (so the -L checks above prove the signature)', () => {
    const user = userKeys.get('ed25519')!;
    const cert = signCertificate(caKeys.get('ed25519')!, specFor(user.key));
    const tampered = Buffer.from(cert.blob);
    tampered[tampered.length - 1]! ^= 0x01;
    const certPath = writeCertificate(user.path, `${cert.type} ${tampered.toString('base64')}`);
    expect(() => sshKeygen(['-L', '-f', certPath])).toThrow(/incorrect signature/);
    expect(sshpkVerifies(`${cert.type} ${tampered.toString('base64')}`, caKeys.get('ed25519')!)).toBe(false);
  });
});

describe('signCertificate refuses what must never be signed', () => {
  const refusals: Array<[string, Partial<CertificateSpec>, RegExp]> = [
    ['no principals (CVE-2024-7594: an empty list means any user)', { principals: [] }, /at least one principal/],
    ['a principal with a space', { principals: ['a b'] }, /principal "a b"/],
    ['a principal with command substitution', { principals: ['$(reboot)'] }, /principal/],
    ['a principal with a semicolon', { principals: ['a;b'] }, /principal/],
    ['a principal with a quote', { principals: ['"'] }, /principal/],
    ['a principal with a newline', { principals: ['alice\nbob'] }, /principal/],
    ['an upper-case principal', { principals: ['Alice'] }, /principal/],
    ['a key ID with a space', { keyId: 'a b' }, /key ID/],
    ['a key ID with command substitution', { keyId: '$(reboot)' }, /key ID/],
    ['a key ID with a semicolon', { keyId: 'a;b' }, /key ID/],
    ['a key ID with a quote', { keyId: '"' }, /key ID/],
    ['a key ID with a newline', { keyId: 'req-1\nFAKE LOG LINE' }, /key ID/],
    ['an empty key ID', { keyId: '' }, /key ID/],
    ['serial zero', { serial: 0n }, /serial/],
    ['a negative serial', { serial: -1n }, /serial/],
    ['a serial of 2^64', { serial: 1n << 64n }, /serial/],
    ['validBefore equal to validAfter', { validAfter: 1000, validBefore: 1000 }, /later than/],
    ['validBefore before validAfter', { validAfter: 2000, validBefore: 1000 }, /later than/],
    ['fractional seconds', { validAfter: 1.5, validBefore: 1000 }, /whole unix seconds/],
    ['an unknown extension', { extensions: ['permit-everything'] }, /unknown certificate extension/],
    ['a multi-line force-command', { criticalOptions: { forceCommand: 'true\nreboot' } }, /force-command/],
    ['an empty source-address', { criticalOptions: { sourceAddress: [] } }, /source-address/],
    ['a source-address that is not a CIDR', { criticalOptions: { sourceAddress: ['10.0.0.0/33'] } }, /source-address/],
    ['a source-address hostname', { criticalOptions: { sourceAddress: ['example.com'] } }, /source-address/],
  ];
  for (const [what, overrides, message] of refusals) {
    it(`refuses ${what}`, () => {
      const spec = specFor(userKeys.get('ed25519')!.key, overrides);
      expect(() => signCertificate(caKeys.get('ed25519')!, spec)).toThrow(CertificateSpecError);
      expect(() => signCertificate(caKeys.get('ed25519')!, spec)).toThrow(message);
    });
  }

  it('refuses a public key whose blob does not match its type', () => {
    const ed = userKeys.get('ed25519')!.key;
    const rsa = userKeys.get('rsa-2048')!.key;
    expect(() => signCertificate(caKeys.get('ed25519')!, specFor({ ...ed, blob: rsa.blob }))).toThrow(CertificateSpecError);
  });
});

describe('validityWindow', () => {
  it('starts the backdate before now and ends the duration after now', () => {
    expect(validityWindow(new Date('2030-01-01T00:00:00.900Z'), 3600, 60)).toEqual({
      validAfter: Date.UTC(2030, 0, 1) / 1000 - 60,
      validBefore: Date.UTC(2030, 0, 1) / 1000 + 3600,
    });
  });

  it('refuses a zero or negative duration', () => {
    expect(() => validityWindow(new Date(), 0)).toThrow(RangeError);
    expect(() => validityWindow(new Date(), -5)).toThrow(RangeError);
  });
});
