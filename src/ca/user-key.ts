// Parsing the public key a person registers: one OpenSSH public key line, of a type we can certify.
import { createPublicKey } from 'node:crypto';
import sshpk from 'sshpk';
import { UserError } from '../core/errors.js';
import { SshReader } from './ssh-wire.js';

export interface UserPublicKey {
  type: string;
  blob: Buffer;
  /** SHA256:... as ssh-keygen -l prints it */
  fingerprint: string;
  comment: string;
  /** normalised 'type base64' */
  line: string;
}

export const USER_KEY_TYPES = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
] as const;

export const MIN_RSA_BITS = 2048;
/** Larger RSA keys make certificates too long to arrive whole in a chat message, and buy nothing over 4096. */
export const MAX_RSA_BITS = 4096;
const MAX_LINE_LENGTH = 16_384;

const HOW_TO_GET_ONE =
  'Send the contents of your public key file (for example ~/.ssh/id_ed25519.pub): one line starting with ' +
  'ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 to 4096 bits). ' +
  'No key yet? Run `ssh-keygen -t ed25519` and send the .pub file.';

/** What to do after pasting a private key anywhere: it has been exposed, so rotate it. */
export const ROTATE_EXPOSED_KEY =
  'Treat it as compromised: delete it, remove its public key from every server and service that trusts it, ' +
  'and make a new key pair with `ssh-keygen -t ed25519`.';

const PRIVATE_KEY_MESSAGE =
  `That is a PRIVATE key, not a public key. ${ROTATE_EXPOSED_KEY} ` +
  'Then send only the public half (the .pub file). Never paste a private key anywhere.';

/**
 * Private key markers: the armour of PEM, OpenSSH and SSH2 keys ('-----BEGIN ... PRIVATE KEY-----', either end),
 * a PuTTY .ppk header, or the base64 of the openssh-key-v1 magic (the body of an OpenSSH key pasted without armour).
 */
export function looksLikePrivateKey(text: string): boolean {
  return /(BEGIN|END) [A-Z0-9 ]*PRIVATE KEY/i.test(text) || /PuTTY-User-Key-File-\d/i.test(text) || text.includes('b3BlbnNzaC1rZXktdjE');
}

function invalid(reason: string): UserError {
  return new UserError('key_invalid', `${reason} ${HOW_TO_GET_ONE}`);
}

export function parseUserPublicKey(line: string): UserPublicKey {
  // Checked before anything else so that no later error can echo any part of a private key.
  if (looksLikePrivateKey(line)) throw new UserError('key_is_private', PRIVATE_KEY_MESSAGE);
  if (line.length > MAX_LINE_LENGTH) throw invalid('That is far too long for an SSH public key.');

  const fields = line.trim().split(/\s+/);
  const [type = '', base64 = '', ...commentWords] = fields;
  if (type === '') throw invalid('No SSH public key given.');
  if (type.endsWith('-cert-v01@openssh.com')) {
    throw invalid('That is an SSH certificate, not a public key; Keyway issues certificates itself.');
  }
  if (type === 'ssh-dss') throw invalid('DSA keys are not accepted: OpenSSH has disabled them as insecure.');
  if (type.startsWith('sk-')) {
    throw invalid(`Security-key (FIDO) keys (${type}) are not supported yet.`);
  }
  if (!(USER_KEY_TYPES as readonly string[]).includes(type)) {
    throw invalid(`That does not look like an SSH public key Keyway accepts (it should start with a key type such as ssh-ed25519).`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw invalid(`The ${type} key's data is missing or not valid base64.`);

  const wireBlob = Buffer.from(base64, 'base64');
  const innerType = readKeyType(wireBlob);
  if (innerType !== type) {
    throw invalid(`The key says it is ${type} but its data is ${innerType === undefined ? 'not a key' : innerType}.`);
  }

  let key: sshpk.Key;
  try {
    key = sshpk.parseKey(`${type} ${base64}`, 'ssh');
  } catch (e) {
    throw invalid(`The ${type} key could not be read (${e instanceof Error ? e.name : 'parse error'}): it may be cut short.`);
  }
  const blob = key.toBuffer('rfc4253');
  if (!blob.equals(wireBlob)) throw invalid(`The ${type} key's data is malformed (extra or non-canonical bytes).`);

  if (type === 'ssh-rsa' && key.size < MIN_RSA_BITS) {
    throw invalid(`That RSA key has only ${key.size} bits; at least ${MIN_RSA_BITS} are needed.`);
  }
  if (type === 'ssh-rsa' && key.size > MAX_RSA_BITS) {
    throw invalid(`That RSA key has ${key.size} bits; at most ${MAX_RSA_BITS} are accepted (its certificate would not fit in a chat message).`);
  }
  if (type !== 'ssh-ed25519') assertOpenSslAccepts(key, type);

  return {
    type,
    blob,
    fingerprint: key.fingerprint('sha256').toString(),
    comment: commentWords.join(' '),
    line: `${type} ${blob.toString('base64')}`,
  };
}

function readKeyType(blob: Buffer): string | undefined {
  try {
    return new SshReader(blob).utf8();
  } catch {
    return undefined;
  }
}

// sshpk does not check that an ECDSA point lies on its curve or that RSA numbers are sane; OpenSSL does.
function assertOpenSslAccepts(key: sshpk.Key, type: string): void {
  try {
    createPublicKey(key.toString('pkcs8'));
  } catch {
    throw invalid(`The ${type} key's data does not describe a valid key.`);
  }
}
