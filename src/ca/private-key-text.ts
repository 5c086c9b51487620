// Turning private key text (OpenSSH or PEM) into a node:crypto KeyObject. Errors never carry key material:
// messages are fixed sentences, and library errors (which may quote their input) are reduced to their name.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import sshpk from 'sshpk';
import { UserError } from '../core/errors.js';
import { SshReader } from './ssh-wire.js';

const OPENSSH_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const OPENSSH_END = '-----END OPENSSH PRIVATE KEY-----';
const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

export const ENCRYPTED_KEY_MESSAGE =
  'The CA key is encrypted with a passphrase; Keyway needs an unencrypted key. Remove the passphrase from a copy ' +
  'kept only where Keyway runs (`ssh-keygen -p -N "" -f <copy>`), or let `keyway ca init` generate a new CA key.';

function caKeyInvalid(detail: string): UserError {
  return new UserError('ca_key_invalid', detail);
}

function describeFailure(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

export function privateKeyObjectFromText(rawText: string): KeyObject {
  const text = rawText.replace(/\r\n/g, '\n').trim() + '\n';
  if (text.includes(OPENSSH_BEGIN)) return fromOpenSsh(text);
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) return fromPem(text);
  if (/PuTTY-User-Key-File-\d/.test(text)) {
    throw caKeyInvalid('The CA key is a PuTTY (.ppk) key; convert it with `puttygen key.ppk -O private-openssh-new -o ca_key`.');
  }
  if (/^(ssh-|ecdsa-sha2-)\S+ [A-Za-z0-9+/=]+/.test(text) || text.includes('BEGIN PUBLIC KEY') || text.includes('BEGIN SSH2 PUBLIC KEY')) {
    throw caKeyInvalid('The CA key given is a public key; Keyway needs the private key (the file without .pub).');
  }
  throw caKeyInvalid('The CA key is not a private key Keyway can read: expected an OpenSSH private key or a PEM (PKCS#8, PKCS#1 or SEC1) key.');
}

function fromPem(text: string): KeyObject {
  if (text.includes('BEGIN ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,\s*ENCRYPTED/.test(text)) {
    throw caKeyInvalid(ENCRYPTED_KEY_MESSAGE);
  }
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    throw caKeyInvalid(`The CA key is a PEM private key that could not be read (${describeFailure(e)}); it may be truncated or of an unsupported type.`);
  }
}

function fromOpenSsh(text: string): KeyObject {
  const body = text.slice(text.indexOf(OPENSSH_BEGIN) + OPENSSH_BEGIN.length, text.indexOf(OPENSSH_END));
  if (readOpenSshCipher(Buffer.from(body.replace(/\s+/g, ''), 'base64')) !== 'none') throw caKeyInvalid(ENCRYPTED_KEY_MESSAGE);

  let key: sshpk.PrivateKey;
  try {
    key = sshpk.parsePrivateKey(text, 'ssh');
  } catch (e) {
    throw caKeyInvalid(`The CA key is an OpenSSH private key that could not be read (${describeFailure(e)}); it may be truncated or of an unsupported type.`);
  }
  if (key.type === 'ed25519') return ed25519FromSshpk(key);
  try {
    return createPrivateKey(key.toString('pkcs8'));
  } catch (e) {
    throw caKeyInvalid(`The CA key (${key.type}) could not be converted for signing (${describeFailure(e)}).`);
  }
}

/** The cipher name in the openssh-key-v1 header (PROTOCOL.key); 'none' for an unencrypted key. */
function readOpenSshCipher(blob: Buffer): string {
  try {
    const reader = new SshReader(blob);
    if (!reader.bytes(OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) throw new Error('bad magic');
    return reader.utf8();
  } catch (e) {
    throw caKeyInvalid(`The CA key says it is an OpenSSH private key but is not one (${describeFailure(e)}); it may be truncated.`);
  }
}

// sshpk's PKCS#8 output for ed25519 is not what OpenSSL reads, so build the key from its seed and public half.
function ed25519FromSshpk(key: sshpk.PrivateKey): KeyObject {
  const seed = key.parts.find((part) => part.name === 'k')?.data;
  const publicHalf = key.parts.find((part) => part.name === 'A')?.data;
  if (seed === undefined || publicHalf === undefined || seed.length !== 32 || publicHalf.length !== 32) {
    throw caKeyInvalid('The CA key is an ed25519 OpenSSH key with malformed contents.');
  }
  const privateKey = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: seed.toString('base64url'), x: publicHalf.toString('base64url') },
    format: 'jwk',
  });
  const derived = createPublicKey(privateKey).export({ format: 'jwk' }).x;
  if (derived !== publicHalf.toString('base64url')) {
    throw caKeyInvalid('The CA key is an ed25519 OpenSSH key whose public half does not match its private half.');
  }
  return privateKey;
}
