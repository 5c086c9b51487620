// The CA key and its wire forms (src/ca/private-key-text.ts, ca-key.ts, ssh-public-key.ts, ssh-signature.ts,
// certificate-identity.ts) at the edges ca-key.test.ts and ca.test.ts leave open: each refusal's sentence, the exact
// encoding of each key type, signatures checked with node:crypto, and key IDs at 256 characters. Written for the
// mutants that survived `npm run mutate`. Keys come from node:crypto and sshpk (fast); the ssh-keygen checks are in
// the other files.
import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { afterAll, describe, expect, it } from 'vitest';
import { caKeyFromKeyObject, caKeyFromPrivateKeyText, caKeyPath, loadCaKey } from '../../src/ca/ca-key.js';
import { certificateKeyId, requestPrincipal } from '../../src/ca/certificate-identity.js';
import { ENCRYPTED_KEY_MESSAGE, privateKeyObjectFromText } from '../../src/ca/private-key-text.js';
import { sshFingerprint, sshKeyTypeOf, sshPublicKeyBlob } from '../../src/ca/ssh-public-key.js';
import { sshSignerFor } from '../../src/ca/ssh-signature.js';
import { SshReader, sshString, sshUint32 } from '../../src/ca/ssh-wire.js';
import { userErrorOf } from '../helpers/user-error.js';

const dir = mkdtempSync(join(tmpdir(), 'keyway-ca-mutants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
const openSsh = (key: KeyObject) => sshpk.parsePrivateKey(pem(key), 'pem').toString('ssh');
const armour = (body: Buffer) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;

function caRefusal(text: string): string {
  const error = userErrorOf(() => privateKeyObjectFromText(text));
  expect(error.code).toBe('ca_key_invalid');
  return error.message;
}

describe('private key text: each refusal', () => {
  it('a PuTTY key, with how to convert it', () => {
    expect(caRefusal('PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none')).toBe(
      'The CA key is a PuTTY (.ppk) key; convert it with `puttygen key.ppk -O private-openssh-new -o ca_key`.',
    );
  });

  it('a public key in any of its forms', () => {
    const message = 'The CA key given is a public key; Keyway needs the private key (the file without .pub).';
    const ed = generateKeyPairSync('ed25519').publicKey;
    expect(caRefusal(sshpk.parseKey(ed.export({ type: 'spki', format: 'pem' }).toString(), 'pem').toString('ssh'))).toBe(message);
    expect(caRefusal('ecdsa-sha2-nistp256 AAAAE2VjZHNh')).toBe(message);
    expect(caRefusal(ed.export({ type: 'spki', format: 'pem' }).toString())).toBe(message);
    expect(caRefusal('---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----')).toBe(message);
  });

  it('anything else', () => {
    expect(caRefusal('hello')).toBe('The CA key is not a private key Keyway can read: expected an OpenSSH private key or a PEM (PKCS#8, PKCS#1 or SEC1) key.');
    expect(caRefusal('my ssh-rsa key')).toMatch(/^The CA key is not a private key Keyway can read/);
  });

  it('an encrypted PEM key, by either marker', () => {
    expect(caRefusal('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----')).toBe(ENCRYPTED_KEY_MESSAGE);
    expect(caRefusal('-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----')).toBe(ENCRYPTED_KEY_MESSAGE);
    expect(ENCRYPTED_KEY_MESSAGE).toBe(
      'The CA key is encrypted with a passphrase; Keyway needs an unencrypted key. Remove the passphrase from a copy kept only where Keyway runs (`ssh-keygen -p -N "" -f <copy>`), or let `keyway ca init` generate a new CA key.',
    );
  });

  it('a PEM key that cannot be read, naming only the kind of failure', () => {
    expect(caRefusal('-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----')).toMatch(
      /^The CA key is a PEM private key that could not be read \(\w+\); it may be truncated or of an unsupported type\.$/,
    );
  });

  it('an OpenSSH key with the wrong magic, cut short, or encrypted', () => {
    expect(caRefusal(armour(Buffer.from('not-the-magic-at-all')))).toBe(
      'The CA key says it is an OpenSSH private key but is not one (Error); it may be truncated.',
    );
    expect(caRefusal(armour(Buffer.from('openssh-key-v1\0', 'latin1')))).toBe(
      'The CA key says it is an OpenSSH private key but is not one (SshWireError); it may be truncated.',
    );
    const encrypted = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), sshString('aes256-ctr'), sshString('bcrypt'), sshString(Buffer.alloc(0)), sshUint32(1)]);
    expect(caRefusal(armour(encrypted))).toBe(ENCRYPTED_KEY_MESSAGE);
    const unreadable = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), sshString('none'), sshString('none'), sshString(Buffer.alloc(0)), sshUint32(1)]);
    expect(caRefusal(armour(unreadable))).toMatch(/^The CA key is an OpenSSH private key that could not be read \(\w+\); it may be truncated or of an unsupported type\.$/);
  });
});

describe('private key text: what it reads', () => {
  it('OpenSSH ed25519 and ECDSA keys, with CRLF and surrounding blanks, as the same key', () => {
    for (const key of [generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey]) {
      const text = `\r\n  ${openSsh(key).replace(/\n/g, '\r\n')}  \r\n`;
      const read = privateKeyObjectFromText(text);
      expect(createPublicKey(read).export({ format: 'jwk' })).toEqual(createPublicKey(key).export({ format: 'jwk' }));
    }
  });
});

describe('CA keys node:crypto cannot make SSH keys of', () => {
  it('names the key type and curve, and refuses RSA below 2048 bits', () => {
    expect(userErrorOf(() => caKeyFromKeyObject(generateKeyPairSync('ed448').privateKey)).message).toBe(
      'The CA key is a ed448 key; Keyway signs with ed25519, ECDSA (P-256, P-384, P-521) or RSA CA keys.',
    );
    expect(userErrorOf(() => caKeyFromKeyObject(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey)).message).toBe(
      'The CA key is a ec key on curve secp256k1; Keyway signs with ed25519, ECDSA (P-256, P-384, P-521) or RSA CA keys.',
    );
    const small = userErrorOf(() => caKeyFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey));
    expect(small.code).toBe('ca_key_invalid');
    expect(small.message).toBe('The CA key is RSA with fewer than 2048 bits; use ed25519 or RSA of 3072 bits.');
    expect(caKeyFromKeyObject(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey).keyType).toBe('ssh-rsa');
  });

  it('gives no SSH type or blob for them', () => {
    expect(sshKeyTypeOf(generateKeyPairSync('ed448').publicKey)).toBeUndefined();
    expect(sshKeyTypeOf(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).toBeUndefined();
    expect(() => sshPublicKeyBlob(generateKeyPairSync('ed448').publicKey)).toThrow(new Error('no SSH encoding for ed448 keys'));
  });
});

describe('SSH public key blobs and fingerprints', () => {
  it('encodes each type as OpenSSH does (sshpk reads them back as the same key)', () => {
    const keys: Array<[string, KeyObject]> = [
      ['ssh-ed25519', generateKeyPairSync('ed25519').publicKey],
      ['ecdsa-sha2-nistp256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey],
      ['ecdsa-sha2-nistp384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
      ['ecdsa-sha2-nistp521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey],
      ['ssh-rsa', generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ];
    for (const [type, key] of keys) {
      const blob = sshPublicKeyBlob(key);
      expect(sshKeyTypeOf(key)).toBe(type);
      const theirs = sshpk.parseKey(key.export({ type: 'spki', format: 'pem' }).toString(), 'pem');
      expect(blob.equals(theirs.toBuffer('rfc4253')), type).toBe(true);
      expect(sshFingerprint(blob)).toBe(theirs.fingerprint('sha256').toString());
    }
  });

  it('writes the fingerprint without base64 padding', () => {
    expect(sshFingerprint(Buffer.from('x'))).toBe('SHA256:LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE'); // sha256 base64 is 'LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE='
  });
});

describe('SSH signatures', () => {
  function verifies(type: 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa', key: KeyObject, hash: string | null, size: number) {
    const data = Buffer.from('to be signed');
    const reader = new SshReader(sshSignerFor(key, type)(data));
    const algorithm = reader.utf8();
    const signature = reader.string();
    expect(reader.atEnd).toBe(true);
    const publicKey = createPublicKey(key);
    if (type.startsWith('ecdsa')) {
      const inner = new SshReader(signature);
      const half = (mpint: Buffer) => Buffer.concat([Buffer.alloc(size), mpint]).subarray(-size);
      const rs = Buffer.concat([half(inner.string()), half(inner.string())]);
      expect(inner.atEnd).toBe(true);
      expect(verify(hash, data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, rs)).toBe(true);
    } else {
      expect(verify(hash, data, publicKey, signature)).toBe(true);
    }
    return algorithm;
  }

  it('signs with the algorithm and hash OpenSSH expects for each key type', () => {
    expect(verifies('ssh-ed25519', generateKeyPairSync('ed25519').privateKey, null, 0)).toBe('ssh-ed25519');
    expect(verifies('ecdsa-sha2-nistp256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'sha256', 32)).toBe('ecdsa-sha2-nistp256');
    expect(verifies('ecdsa-sha2-nistp384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'sha384', 48)).toBe('ecdsa-sha2-nistp384');
    expect(verifies('ecdsa-sha2-nistp521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'sha512', 66)).toBe('ecdsa-sha2-nistp521');
    expect(verifies('ssh-rsa', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, 'sha512', 0)).toBe('rsa-sha2-512');
  });

  it('refuses a type it has no algorithm for', () => {
    expect(() => sshSignerFor(generateKeyPairSync('ed25519').privateKey, 'ecdsa-sha2-nistp999' as never)).toThrow(new Error('no SSH signature algorithm for ecdsa-sha2-nistp999'));
  });
});

describe('CA key loading', () => {
  it('gives the public line Keyway installs on servers', () => {
    const ca = caKeyFromPrivateKeyText(pem(generateKeyPairSync('ed25519').privateKey));
    expect(ca.publicKeyLine).toBe(`ssh-ed25519 ${ca.publicKeyBlob.toString('base64')} keyway-ca`);
    expect(ca.fingerprint).toBe(sshFingerprint(ca.publicKeyBlob));
  });

  it('puts the key in ./data/ca_key unless told otherwise', () => {
    expect(caKeyPath(undefined)).toBe(join('./data', 'ca_key'));
    expect(caKeyPath('  ')).toBe(join('./data', 'ca_key'));
    expect(caKeyPath(' /var/lib/keyway ')).toBe('/var/lib/keyway/ca_key');
  });

  it('says there is no CA key, and how to make one', () => {
    const empty = join(dir, 'empty');
    const error = userErrorOf(() => loadCaKey({ KEYWAY_DATA_DIR: empty }));
    expect(error.code).toBe('ca_key_invalid');
    expect(error.message).toBe(
      `No CA key: ${empty}/ca_key does not exist and neither SSH_CA_KEY_FILE nor SSH_CA_KEY_BASE64 is set. Run \`keyway ca init\` to generate one, or set SSH_CA_KEY_FILE to your CA private key.`,
    );
  });

  it('names a key file that is a directory', () => {
    const sub = join(dir, 'a-dir');
    mkdirSync(sub);
    expect(userErrorOf(() => loadCaKey({ SSH_CA_KEY_FILE: sub })).message).toBe(`CA key file SSH_CA_KEY_FILE=${sub}: is a directory, not a key file.`);
    expect(userErrorOf(() => loadCaKey({ SSH_CA_KEY_FILE: join(dir, 'none') })).message).toBe(`CA key file SSH_CA_KEY_FILE=${join(dir, 'none')}: no such file.`);
  });

  it('says where a base64 key that is not a key came from', () => {
    const error = userErrorOf(() => loadCaKey({ SSH_CA_KEY_BASE64: Buffer.from('hello').toString('base64') }));
    expect(error.code).toBe('ca_key_invalid');
    expect(error.message).toMatch(/^SSH_CA_KEY_BASE64: The CA key is not a private key Keyway can read/);
    expect(userErrorOf(() => loadCaKey({ SSH_CA_KEY_BASE64: 'not base64!' })).message).toBe(
      'SSH_CA_KEY_BASE64 is not base64; set it to the output of `base64 -w0 ca_key`.',
    );
  });
});

describe('certificate identity', () => {
  it('names request principals from ids of 1 to 51 lower-case letters, digits and "-"', () => {
    expect(requestPrincipal(42n)).toBe('keyway-req-42');
    expect(requestPrincipal(`a${'b'.repeat(50)}`)).toBe(`keyway-req-a${'b'.repeat(50)}`);
    expect(() => requestPrincipal(`a${'b'.repeat(51)}`)).toThrow(new RangeError(`request id "a${'b'.repeat(51)}" cannot name a principal`));
    expect(() => requestPrincipal('-1')).toThrow(RangeError);
    expect(() => requestPrincipal('1 ')).toThrow(RangeError);
  });

  it('fits the key ID in 256 characters exactly, counting the servers left out', () => {
    const person = 'p'.repeat(200);
    const head = `keyway-req-1:${person}`;
    const fits = 'x'.repeat(256 - head.length - 1);
    expect(certificateKeyId({ requestId: 1, person, servers: [fits] })).toBe(`${head}:${fits}`);
    expect(certificateKeyId({ requestId: 1, person, servers: [`${fits}y`] })).toBe(`${head}:+1`);
    expect(certificateKeyId({ requestId: 1, person, servers: ['a', 'b', 'x'.repeat(60)] })).toBe(`${head}:a,b,+1`);
    expect(certificateKeyId({ requestId: 1, person: 'ana maria@example.com', servers: ['web 1'] })).toBe('keyway-req-1:ana_maria@example.com:web_1');
    expect(certificateKeyId({ requestId: 1, person: 'q'.repeat(300), servers: ['web-1'] })).toBe(`keyway-req-1:${'q'.repeat(300)}`.slice(0, 256));
  });
});
