// OpenSSH user certificates (PROTOCOL.certkeys), encoded here and signed with node:crypto.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { CaKey } from './ca-key.js';
import { SshReader, sshString, sshUint32, sshUint64 } from './ssh-wire.js';
import { USER_KEY_TYPES, type UserPublicKey } from './user-key.js';

export interface CertificateSpec {
  publicKey: UserPublicKey;
  /** non-zero, < 2^64; unique per certificate (from the database) */
  serial: bigint;
  /** shell-safe: sshd writes it unquoted into its log and expands %i in some settings */
  keyId: string;
  /** at least one; an empty list means "any user" to sshd (CVE-2024-7594) */
  principals: string[];
  /** unix seconds; the caller applies the backdate (see validityWindow) */
  validAfter: number;
  /** unix seconds, > validAfter */
  validBefore: number;
  criticalOptions?: { forceCommand?: string; sourceAddress?: string[] };
  /** default ['permit-pty'] */
  extensions?: string[];
}

export interface SignedCertificate {
  /** '<certtype> <base64> <keyId>', the content of an id_ed25519-cert.pub file */
  line: string;
  type: string;
  blob: Buffer;
}

/** A certificate request that Keyway must never sign; always a bug or a hostile input, never a transient failure. */
export class CertificateSpecError extends Error {
  override readonly name = 'CertificateSpecError';
}

export const DEFAULT_BACKDATE_SECONDS = 120;
export const DEFAULT_EXTENSIONS: readonly string[] = ['permit-pty'];
export const ALLOWED_EXTENSIONS: readonly string[] = [
  'permit-X11-forwarding',
  'permit-agent-forwarding',
  'permit-port-forwarding',
  'permit-pty',
  'permit-user-rc',
];

export const KEY_ID_PATTERN = /^[A-Za-z0-9@._:,+=-]{1,256}$/;
export const PRINCIPAL_PATTERN = /^[a-z0-9_][a-z0-9._@-]{0,63}$/;
// OpenSSH's SSHKEY_CERT_MAX_PRINCIPALS.
const MAX_PRINCIPALS = 256;
const UINT64_LIMIT = 1n << 64n;
const SSH_CERT_TYPE_USER = 1;

export function validityWindow(
  now: Date,
  durationSeconds: number,
  backdateSeconds: number = DEFAULT_BACKDATE_SECONDS,
): { validAfter: number; validBefore: number } {
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) {
    throw new RangeError(`certificate duration must be positive, got ${durationSeconds}`);
  }
  if (!Number.isFinite(backdateSeconds) || backdateSeconds < 0) {
    throw new RangeError(`certificate backdate must not be negative, got ${backdateSeconds}`);
  }
  const nowSeconds = Math.floor(now.getTime() / 1000);
  return { validAfter: nowSeconds - Math.floor(backdateSeconds), validBefore: nowSeconds + Math.ceil(durationSeconds) };
}

export function certificateTypeFor(keyType: string): string {
  return `${keyType}-cert-v01@openssh.com`;
}

export function signCertificate(ca: CaKey, spec: CertificateSpec): SignedCertificate {
  assertSignable(spec);
  const type = certificateTypeFor(spec.publicKey.type);
  const toBeSigned = Buffer.concat([
    sshString(type),
    sshString(randomBytes(32)),
    keyFieldsOf(spec.publicKey),
    sshUint64(spec.serial),
    sshUint32(SSH_CERT_TYPE_USER),
    sshString(spec.keyId),
    sshString(Buffer.concat(spec.principals.map((principal) => sshString(principal)))),
    sshUint64(spec.validAfter),
    sshUint64(spec.validBefore),
    sshString(encodeCriticalOptions(spec.criticalOptions)),
    sshString(encodeExtensions(spec.extensions ?? DEFAULT_EXTENSIONS)),
    sshString(Buffer.alloc(0)), // reserved
    sshString(ca.publicKeyBlob),
  ]);
  const blob = Buffer.concat([toBeSigned, sshString(ca.sign(toBeSigned))]);
  return { line: `${type} ${blob.toString('base64')} ${spec.keyId}`, type, blob };
}

/** The public key's fields as they follow its type string in its wire blob. */
function keyFieldsOf(publicKey: UserPublicKey): Buffer {
  const reader = new SshReader(publicKey.blob);
  const blobType = reader.utf8();
  if (blobType !== publicKey.type) {
    throw new CertificateSpecError(`public key blob is ${JSON.stringify(blobType)} but its type says ${JSON.stringify(publicKey.type)}`);
  }
  return reader.rest();
}

/** Name-sorted (name, string(value)) pairs; OpenSSH refuses certificates whose options are out of order. */
function encodeCriticalOptions(options: CertificateSpec['criticalOptions']): Buffer {
  const pairs: Array<[string, Buffer]> = [];
  if (options?.forceCommand !== undefined) pairs.push(['force-command', sshString(options.forceCommand)]);
  if (options?.sourceAddress !== undefined) pairs.push(['source-address', sshString(options.sourceAddress.join(','))]);
  return encodeSortedPairs(pairs);
}

function encodeExtensions(extensions: readonly string[]): Buffer {
  return encodeSortedPairs([...new Set(extensions)].map((name) => [name, Buffer.alloc(0)]));
}

function encodeSortedPairs(pairs: Array<[string, Buffer]>): Buffer {
  // OpenSSH compares names with strcmp, i.e. by bytes; all names here are ASCII.
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.concat(pairs.flatMap(([name, value]) => [sshString(name), sshString(value)]));
}

function refuse(message: string): never {
  throw new CertificateSpecError(message);
}

function quoted(value: string): string {
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}..."` : json;
}

export function assertSignable(spec: CertificateSpec): void {
  if (!(USER_KEY_TYPES as readonly string[]).includes(spec.publicKey.type)) {
    refuse(`cannot certify a ${quoted(spec.publicKey.type)} key`);
  }
  if (typeof spec.serial !== 'bigint' || spec.serial <= 0n || spec.serial >= UINT64_LIMIT) {
    refuse(`certificate serial must be a non-zero 64-bit number, got ${String(spec.serial)}`);
  }
  if (!KEY_ID_PATTERN.test(spec.keyId)) {
    refuse(`certificate key ID ${quoted(spec.keyId)} is not shell-safe: use 1-256 of A-Z a-z 0-9 @ . _ : , + = -`);
  }
  if (spec.principals.length === 0) {
    refuse('a certificate needs at least one principal: sshd treats an empty list as "any user" (CVE-2024-7594)');
  }
  if (spec.principals.length > MAX_PRINCIPALS) refuse(`a certificate may name at most ${MAX_PRINCIPALS} principals`);
  for (const principal of spec.principals) {
    if (!PRINCIPAL_PATTERN.test(principal)) {
      refuse(`principal ${quoted(principal)} is not allowed: use lower-case letters, digits, . _ @ - (up to 64)`);
    }
  }
  assertUnixSeconds('validAfter', spec.validAfter);
  assertUnixSeconds('validBefore', spec.validBefore);
  if (spec.validBefore <= spec.validAfter) {
    refuse(`certificate validBefore (${spec.validBefore}) must be later than validAfter (${spec.validAfter})`);
  }
  assertCriticalOptions(spec.criticalOptions);
  for (const extension of spec.extensions ?? DEFAULT_EXTENSIONS) {
    if (!ALLOWED_EXTENSIONS.includes(extension)) {
      refuse(`unknown certificate extension ${quoted(extension)}; allowed: ${ALLOWED_EXTENSIONS.join(', ')}`);
    }
  }
}

function assertUnixSeconds(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) refuse(`certificate ${name} must be whole unix seconds, got ${value}`);
}

function assertCriticalOptions(options: CertificateSpec['criticalOptions']): void {
  if (options?.forceCommand !== undefined) {
    // eslint-disable-next-line no-control-regex
    if (options.forceCommand.trim() === '' || /[\x00-\x1f\x7f]/.test(options.forceCommand)) {
      refuse(`force-command ${quoted(options.forceCommand)} must be a non-empty single line`);
    }
  }
  if (options?.sourceAddress !== undefined) {
    if (options.sourceAddress.length === 0) refuse('source-address needs at least one address or CIDR block');
    for (const entry of options.sourceAddress) {
      if (!isCidr(entry)) refuse(`source-address entry ${quoted(entry)} is not an IP address or CIDR block`);
    }
  }
}

function isCidr(entry: string): boolean {
  const [address = '', prefix, ...extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra.length > 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (version === 4 ? 32 : 128);
}
