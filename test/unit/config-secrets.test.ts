import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSecret } from '../../src/config/secrets.js';

const KEY = ['-----BEGIN OPENSSH PRIVATE KEY-----', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ', '-----END OPENSSH PRIVATE KEY-----', ''].join('\n');
const dir = mkdtempSync(join(tmpdir(), 'keyway-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readSecret', () => {
  it('takes the key text from an environment variable', () => {
    expect(readSecret({ env: 'KEY' }, { KEY })).toBe(KEY);
  });

  it('decodes base64 of the key, as cat key.pem | base64 writes it (wrapped at 76)', () => {
    const wrapped = Buffer.from(KEY).toString('base64').replace(/(.{76})/g, '$1\n');
    expect(readSecret({ env: 'KEY' }, { KEY: wrapped })).toBe(KEY);
  });

  it('accepts CRLF line endings', () => {
    expect(readSecret({ env: 'KEY' }, { KEY: KEY.replace(/\n/g, '\r\n') })).toBe(KEY);
  });

  it('names an unset variable', () => {
    expect(() => readSecret({ env: 'PROD_LINUX_SSH_KEY_BASE64' }, {})).toThrow(
      "environment variable PROD_LINUX_SSH_KEY_BASE64 is not set: put the connector's private key there, as is or base64 (cat key.pem | base64)",
    );
  });

  it('refuses a value that is not a key without repeating it', () => {
    const value = 'hunter2-not-a-key';
    expect(() => readSecret({ env: 'KEY' }, { KEY: value })).toThrow(/^the connector key in environment variable KEY is neither a private key/);
    try {
      readSecret({ env: 'KEY' }, { KEY: value });
    } catch (error) {
      expect((error as Error).message).not.toContain(value);
    }
  });

  it('refuses a public key', () => {
    expect(() => readSecret({ env: 'KEY' }, { KEY: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA me@host' })).toThrow(
      'the connector key in environment variable KEY is a public key: Keyway needs the private key (the file without .pub)',
    );
  });

  it('reads the key from a file', () => {
    const path = join(dir, 'key');
    writeFileSync(path, KEY);
    expect(readSecret({ file: path }, {})).toBe(KEY);
  });

  it('names a file it cannot read', () => {
    const path = join(dir, 'missing');
    expect(() => readSecret({ file: path }, {})).toThrow(`cannot read the connector key file ${path}: no such file`);
  });
});
