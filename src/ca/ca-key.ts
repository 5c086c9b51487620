// Keyway's certificate authority key: where it comes from, and a signer that keeps the private half to itself.
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { privateKeyObjectFromText } from './private-key-text.js';
import { sshSignerFor } from './ssh-signature.js';
import { sshFingerprint, sshKeyTypeOf, sshPublicKeyBlob, type SshKeyType } from './ssh-public-key.js';

export interface CaKey {
  keyType: SshKeyType;
  publicKeyBlob: Buffer;
  /** for TrustedUserCAKeys: 'ssh-ed25519 AAAA... keyway-ca' */
  publicKeyLine: string;
  fingerprint: string;
  /** signs data, returns the SSH signature blob (string algo + string sig) */
  sign(data: Buffer): Buffer;
}

export type CaKeyAlgorithm = 'ed25519' | 'ecdsa' | 'rsa';

export const CA_KEY_FILE_NAME = 'ca_key';
export const DEFAULT_DATA_DIR = './data';
const MIN_CA_RSA_BITS = 2048;

export function caKeyFromKeyObject(privateKey: KeyObject): CaKey {
  const keyType = sshKeyTypeOf(privateKey);
  if (keyType === undefined) {
    throw new UserError(
      'ca_key_invalid',
      `The CA key is a ${privateKey.asymmetricKeyType ?? 'unknown'} key${curveSuffix(privateKey)}; ` +
        'Keyway signs with ed25519, ECDSA (P-256, P-384, P-521) or RSA CA keys.',
    );
  }
  if (keyType === 'ssh-rsa' && (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_CA_RSA_BITS) {
    throw new UserError('ca_key_invalid', `The CA key is RSA with fewer than ${MIN_CA_RSA_BITS} bits; use ed25519 or RSA of 3072 bits.`);
  }
  const publicKeyBlob = sshPublicKeyBlob(createPublicKey(privateKey));
  return {
    keyType,
    publicKeyBlob,
    publicKeyLine: `${keyType} ${publicKeyBlob.toString('base64')} keyway-ca`,
    fingerprint: sshFingerprint(publicKeyBlob),
    sign: sshSignerFor(privateKey, keyType),
  };
}

function curveSuffix(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === undefined ? '' : ` on curve ${curve}`;
}

/** OpenSSH ('BEGIN OPENSSH PRIVATE KEY') or PEM (PKCS#8, PKCS#1, SEC1) private key text. */
export function caKeyFromPrivateKeyText(text: string): CaKey {
  return caKeyFromKeyObject(privateKeyObjectFromText(text));
}

export function generateCaKey(type: CaKeyAlgorithm = 'ed25519'): { privateKeyPem: string; caKey: CaKey } {
  const { privateKey } =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : type === 'ecdsa'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 3072 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { privateKeyPem, caKey: caKeyFromKeyObject(privateKey) };
}

export interface CaKeySource {
  SSH_CA_KEY_FILE?: string;
  SSH_CA_KEY_BASE64?: string;
  KEYWAY_DATA_DIR?: string;
}

export interface LoadedCaKey {
  caKey: CaKey;
  source: 'file' | 'base64' | 'data-dir';
  path?: string;
  created: boolean;
  /** For the operator's log. A key file open to group or others is refused, not warned about. */
  warnings: string[];
}

function setting(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function caKeyPath(dataDir: string | undefined): string {
  return join(setting(dataDir) ?? DEFAULT_DATA_DIR, CA_KEY_FILE_NAME);
}

/** Order: SSH_CA_KEY_FILE, SSH_CA_KEY_BASE64, then `${KEYWAY_DATA_DIR ?? './data'}/ca_key` (generated only when options.create). */
export function loadCaKey(env: CaKeySource, options: { create?: boolean } = {}): LoadedCaKey {
  const file = setting(env.SSH_CA_KEY_FILE);
  if (file !== undefined) {
    const { caKey, warnings } = readCaKeyFile(file, `SSH_CA_KEY_FILE=${file}`);
    return { caKey, source: 'file', path: file, created: false, warnings };
  }

  const base64 = setting(env.SSH_CA_KEY_BASE64);
  if (base64 !== undefined) {
    return { caKey: caKeyFromBase64(base64), source: 'base64', created: false, warnings: [] };
  }

  const dataDir = setting(env.KEYWAY_DATA_DIR) ?? DEFAULT_DATA_DIR;
  const path = caKeyPath(dataDir);
  if (options.create === true) {
    const { caKey, created, warnings } = initCaKey(dataDir);
    return { caKey, source: 'data-dir', path, created, warnings };
  }
  if (!fileExists(path)) {
    throw new UserError(
      'ca_key_invalid',
      `No CA key: ${path} does not exist and neither SSH_CA_KEY_FILE nor SSH_CA_KEY_BASE64 is set. ` +
        'Run `keyway ca init` to generate one, or set SSH_CA_KEY_FILE to your CA private key.',
    );
  }
  const { caKey, warnings } = readCaKeyFile(path, path);
  return { caKey, source: 'data-dir', path, created: false, warnings };
}

function caKeyFromBase64(value: string): CaKey {
  // Node's base64 decoder skips the line breaks `base64` inserts every 76 characters.
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) {
    throw new UserError('ca_key_invalid', 'SSH_CA_KEY_BASE64 is not base64; set it to the output of `base64 -w0 ca_key`.');
  }
  return withContext('SSH_CA_KEY_BASE64', () => caKeyFromPrivateKeyText(Buffer.from(value, 'base64').toString('utf8')));
}

/** Idempotent: an existing key is loaded and returned with created: false. */
export function initCaKey(
  dataDir: string,
  type: CaKeyAlgorithm = 'ed25519',
): { caKey: CaKey; path: string; created: boolean; warnings: string[] } {
  const path = caKeyPath(dataDir);
  if (fileExists(path)) return { ...readCaKeyFile(path, path), path, created: false };

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { privateKeyPem, caKey } = generateCaKey(type);
  // Write aside, then link into place: a crash never leaves a half-written key, and a key another process created
  // in the meantime is never overwritten.
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, privateKeyPem, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(temporary, 0o600);
    linkSync(temporary, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { ...readCaKeyFile(path, path), path, created: false };
    throw e;
  } finally {
    unlinkSync(temporary);
  }
  return { caKey, path, created: true, warnings: [] };
}

function readCaKeyFile(path: string, where: string): { caKey: CaKey; warnings: string[] } {
  let text: string;
  let mode: number;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError('ca_key_invalid', `CA key file ${where}: no such file.`);
    if (code === 'EACCES') throw new UserError('ca_key_invalid', `CA key file ${where}: permission denied.`);
    if (code === 'EISDIR') throw new UserError('ca_key_invalid', `CA key file ${where}: is a directory, not a key file.`);
    throw e;
  }
  // A CA key others can read signs certificates for every server: refuse it rather than warn into a log nobody reads.
  if ((mode & 0o077) !== 0) {
    throw new UserError(
      'ca_key_invalid',
      `The CA key file ${path} is accessible to group or others (mode ${(mode & 0o777).toString(8).padStart(4, '0')}): run \`chmod 600 ${path}\` and start again.`,
    );
  }
  return { caKey: withContext(where, () => caKeyFromPrivateKeyText(text)), warnings: [] };
}

function withContext<T>(where: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof UserError) throw new UserError(e.code, `${where}: ${e.message}`);
    throw e;
  }
}

function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
