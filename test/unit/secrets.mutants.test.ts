// The connector key as an admin may store it (src/config/secrets.ts): each form accepted, each mistake named with
// where the key came from and never with the value. Written for the mutants that survived `npm run mutate`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePrivateKey, readSecret } from '../../src/config/secrets.js';
import { userErrorOf } from '../helpers/user-error.js';

const KEY = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', '-----END OPENSSH PRIVATE KEY-----'].join('\n');
const RSA_KEY = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA', '-----END RSA PRIVATE KEY-----'].join('\n');
const dir = mkdtempSync(join(tmpdir(), 'keyway-secret-mutants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSecret from an environment variable', () => {
  it('calls a variable holding only whitespace unset', () => {
    const error = userErrorOf(() => readSecret({ env: 'KEY' }, { KEY: ' \n ' }));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe("environment variable KEY is not set: put the connector's private key there, as is or base64 (cat key.pem | base64)");
  });

  it('returns the key trimmed, with one final newline', () => {
    expect(readSecret({ env: 'KEY' }, { KEY: `\n  ${KEY}  \n\n` })).toBe(`${KEY}\n`);
  });
});

describe('readSecret from a file', () => {
  it('names the file and the reason it cannot be read', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    expect(userErrorOf(() => readSecret({ file: sub }, {})).message).toBe(`cannot read the connector key file ${sub}: it is a directory`);
    const missing = join(dir, 'missing');
    const error = userErrorOf(() => readSecret({ file: missing }, {}));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(`cannot read the connector key file ${missing}: no such file`);
    const notADir = join(dir, 'plain-file');
    writeFileSync(notADir, 'x');
    expect(userErrorOf(() => readSecret({ file: join(notADir, 'key') }, {})).message).toMatch(
      new RegExp(`^cannot read the connector key file ${notADir}/key: ENOTDIR: not a directory`),
    );
  });

  it('names the file when its content is not a key', () => {
    const path = join(dir, 'public');
    writeFileSync(path, 'ecdsa-sha2-nistp256 AAAA me@host\n');
    expect(userErrorOf(() => readSecret({ file: path }, {})).message).toBe(
      `the connector key in file ${path} is a public key: Keyway needs the private key (the file without .pub)`,
    );
  });
});

describe('decodePrivateKey', () => {
  it('decodes base64 and base64url of the key, and CRLF inside them', () => {
    expect(decodePrivateKey(Buffer.from(RSA_KEY).toString('base64'), 'here')).toBe(`${RSA_KEY}\n`);
    expect(decodePrivateKey(Buffer.from(`${KEY.replace(/\n/g, '\r\n')}\r\n`).toString('base64'), 'here')).toBe(`${KEY}\n`);
    // base64url of a text whose base64 has + and /: the two alphabets differ only there.
    const text = `${RSA_KEY}\n??>>`;
    const url = Buffer.from(text).toString('base64url');
    expect(url).toMatch(/[-_]/);
    expect(decodePrivateKey(url, 'here')).toBe(`${text}\n`);
  });

  it('refuses base64 that is not of a key, and base64 with text around it', () => {
    const notKey = 'the connector key in here is neither a private key (-----BEGIN …) nor base64 of one (cat key.pem | base64)';
    const notBase64OfKey = userErrorOf(() => decodePrivateKey(Buffer.from('hello').toString('base64'), 'here'));
    expect(notBase64OfKey.code).toBe('key_invalid');
    expect(notBase64OfKey.message).toBe(notKey);
    const encoded = Buffer.from(KEY).toString('base64');
    expect(userErrorOf(() => decodePrivateKey(`!${encoded}`, 'here')).message).toBe(notKey);
    expect(userErrorOf(() => decodePrivateKey(`${encoded}!`, 'here')).message).toBe(notKey);
    expect(userErrorOf(() => decodePrivateKey(`${encoded}===`, 'here')).message).toBe(notKey);
  });

  it('refuses PEM that is not a private key, and says so', () => {
    const pub = '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----';
    for (const value of [pub, Buffer.from(pub).toString('base64')]) {
      const error = userErrorOf(() => decodePrivateKey(value, 'here'));
      expect(error.code).toBe('key_invalid');
      expect(error.message).toBe('the connector key in here is not a private key: expected -----BEGIN … PRIVATE KEY-----');
    }
  });

  it('calls each kind of public key line a public key', () => {
    for (const line of ['ssh-rsa AAAA', 'ecdsa-sha2-nistp256 AAAA', 'sk-ssh-ed25519@openssh.com AAAA']) {
      const error = userErrorOf(() => decodePrivateKey(line, 'here'));
      expect(error.code).toBe('key_invalid');
      expect(error.message).toBe('the connector key in here is a public key: Keyway needs the private key (the file without .pub)');
    }
    expect(userErrorOf(() => decodePrivateKey('my ssh-rsa key', 'here')).message).toMatch(/is neither a private key/);
  });
});
