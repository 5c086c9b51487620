import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userErrorOf } from '../helpers/user-error.js';
import { caKeyFromPrivateKeyText, generateCaKey, initCaKey, loadCaKey, type CaKey } from '../../src/ca/ca-key.js';
import { signCertificate, validityWindow } from '../../src/ca/certificate.js';
import { parseUserPublicKey } from '../../src/ca/user-key.js';

let dir: string;
let userKeyPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyway-ca-key-'));
  userKeyPath = newKeyFile('user', ['-t', 'ed25519']);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function newKeyFile(name: string, args: string[], passphrase = ''): string {
  const path = join(dir, name);
  sshKeygen(['-q', ...args, '-N', passphrase, '-C', 'ca@test', '-f', path]);
  return path;
}

const caught = (action: () => unknown) => userErrorOf(action);

/** No line of the private key text (other than its BEGIN/END armour) may appear in what an error shows. */
function expectNoKeyMaterial(shown: string, keyText: string): void {
  const lines = keyText.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('-----'));
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(shown).not.toContain(line);
}

function errorText(error: Error): string {
  return `${error.message}\n${error.stack ?? ''}\n${inspect(error)}\n${JSON.stringify(error)}`;
}

/** A certificate signed by this CA, as ssh-keygen -L sees it (ssh-keygen verifies the signature while loading). */
function signingCaLine(ca: CaKey): string {
  const user = parseUserPublicKey(readFileSync(`${userKeyPath}.pub`, 'utf8'));
  const cert = signCertificate(ca, {
    publicKey: user,
    serial: 1n,
    keyId: 'keyway-test',
    principals: ['keyway-test'],
    ...validityWindow(new Date(), 60),
  });
  writeFileSync(`${userKeyPath}-cert.pub`, `${cert.line}\n`);
  const listing = sshKeygen(['-L', '-f', `${userKeyPath}-cert.pub`]);
  return listing.split('\n').find((l) => l.includes('Signing CA:'))?.trim() ?? '';
}

describe('caKeyFromPrivateKeyText reads every form of CA key an admin may have', () => {
  const forms: Array<[string, () => string, string]> = [
    ['OpenSSH ed25519', () => newKeyFile('ossh-ed25519', ['-t', 'ed25519']), 'ssh-ed25519'],
    ['OpenSSH ecdsa P-256', () => newKeyFile('ossh-p256', ['-t', 'ecdsa', '-b', '256']), 'ecdsa-sha2-nistp256'],
    ['OpenSSH ecdsa P-521', () => newKeyFile('ossh-p521', ['-t', 'ecdsa', '-b', '521']), 'ecdsa-sha2-nistp521'],
    ['OpenSSH RSA 3072', () => newKeyFile('ossh-rsa', ['-t', 'rsa', '-b', '3072']), 'ssh-rsa'],
    ['PEM PKCS#1 RSA', () => newKeyFile('pem-rsa', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']), 'ssh-rsa'],
    ['PEM PKCS#8 ecdsa P-384', () => newKeyFile('pkcs8-p384', ['-t', 'ecdsa', '-b', '384', '-m', 'PKCS8']), 'ecdsa-sha2-nistp384'],
  ];
  for (const [what, makeFile, keyType] of forms) {
    it(`reads ${what}: same public key and fingerprint as ssh-keygen, and signs what ssh-keygen accepts`, () => {
      const path = makeFile();
      const ca = caKeyFromPrivateKeyText(readFileSync(path, 'utf8'));
      const [type, base64] = sshKeygen(['-y', '-f', path]).trim().split(' ');
      expect(ca.keyType).toBe(keyType);
      expect(ca.publicKeyLine).toBe(`${type} ${base64} keyway-ca`);
      expect(ca.publicKeyBlob.toString('base64')).toBe(base64);
      expect(sshKeygen(['-l', '-E', 'sha256', '-f', `${path}.pub`]).split(' ')[1]).toBe(ca.fingerprint);
      expect(signingCaLine(ca)).toContain(ca.fingerprint);
    });
  }

  it('reads SEC1 and PKCS#8 PEM ed25519 and ECDSA keys made by OpenSSL', () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
    expect(caKeyFromPrivateKeyText(ed).keyType).toBe('ssh-ed25519');
    expect(caKeyFromPrivateKeyText(ec).keyType).toBe('ecdsa-sha2-nistp256');
  });

  it('reads a key with Windows line endings', () => {
    const text = readFileSync(newKeyFile('crlf', ['-t', 'ed25519']), 'utf8').replace(/\n/g, '\r\n');
    expect(caKeyFromPrivateKeyText(text).keyType).toBe('ssh-ed25519');
  });
});

describe('caKeyFromPrivateKeyText refuses unusable keys clearly and without quoting them', () => {
  it('refuses an encrypted OpenSSH key, saying it needs an unencrypted one', () => {
    const text = readFileSync(newKeyFile('enc-openssh', ['-t', 'ed25519'], 'secret'), 'utf8');
    const error = caught(() => caKeyFromPrivateKeyText(text));
    expect(error.code).toBe('ca_key_invalid');
    expect(error.message).toMatch(/^The CA key is encrypted with a passphrase; Keyway needs an unencrypted key/);
    expectNoKeyMaterial(errorText(error), text);
  });

  it('refuses encrypted PEM keys (PKCS#8 and legacy PKCS#1) the same way', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    const pkcs1 = privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString();
    for (const text of [pkcs8, pkcs1]) {
      const error = caught(() => caKeyFromPrivateKeyText(text));
      expect(error.code).toBe('ca_key_invalid');
      expect(error.message).toMatch(/encrypted with a passphrase/);
      expectNoKeyMaterial(errorText(error), text);
    }
  });

  const refusals: Array<[string, () => string, RegExp]> = [
    ['a public key', () => readFileSync(`${newKeyFile('pub', ['-t', 'ed25519'])}.pub`, 'utf8'), /public key/],
    ['a DSA key', () => readFileSync(newKeyFile('dsa', ['-t', 'dsa']), 'utf8'), /dsa key/],
    ['an RSA key under 2048 bits', () => readFileSync(newKeyFile('rsa1024', ['-t', 'rsa', '-b', '1024']), 'utf8'), /fewer than 2048 bits/],
    ['a truncated OpenSSH key', () => {
      const lines = readFileSync(newKeyFile('truncated', ['-t', 'ed25519']), 'utf8').split('\n');
      return [...lines.slice(0, 3), ...lines.slice(-2)].join('\n');
    }, /could not be read|truncated/],
    ['a truncated PEM key', () => {
      const lines = readFileSync(newKeyFile('truncated-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']), 'utf8').split('\n');
      return [...lines.slice(0, 5), ...lines.slice(-2)].join('\n');
    }, /could not be read/],
    ['an Ed448 key', () => generateKeyPairSync('ed448').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), /ed448/],
    ['text that is no key at all', () => 'hunter2', /not a private key/],
  ];
  for (const [what, makeText, message] of refusals) {
    it(`refuses ${what}`, () => {
      const text = makeText();
      const error = caught(() => caKeyFromPrivateKeyText(text));
      expect(error.code).toBe('ca_key_invalid');
      expect(error.message).toMatch(message);
      if (text.includes('PRIVATE KEY')) expectNoKeyMaterial(errorText(error), text);
    });
  }
});

describe('generateCaKey', () => {
  for (const [type, keyType] of [['ed25519', 'ssh-ed25519'], ['ecdsa', 'ecdsa-sha2-nistp256'], ['rsa', 'ssh-rsa']] as const) {
    it(`generates a ${type} CA whose PEM reads back as the same key`, () => {
      const { privateKeyPem, caKey } = generateCaKey(type);
      expect(privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(caKey.keyType).toBe(keyType);
      expect(caKeyFromPrivateKeyText(privateKeyPem).publicKeyLine).toBe(caKey.publicKeyLine);
      expect(signingCaLine(caKey)).toContain(caKey.fingerprint);
    });
  }

  it('defaults to ed25519 and RSA CAs have 3072 bits', () => {
    expect(generateCaKey().caKey.keyType).toBe('ssh-ed25519');
    expect(createPrivateKey(generateCaKey('rsa').privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(3072);
  });

  it('keeps the private key out of the CaKey object when it is logged or serialised', () => {
    const { privateKeyPem, caKey } = generateCaKey();
    const shown = `${inspect(caKey, { depth: 10, showHidden: true })}\n${JSON.stringify(caKey)}`;
    expectNoKeyMaterial(shown, privateKeyPem);
    const d = createPrivateKey(privateKeyPem).export({ format: 'jwk' }).d ?? '';
    expect(shown).not.toContain(d);
    expect(shown).not.toContain(Buffer.from(d, 'base64url').toString('base64'));
  });
});

describe('loadCaKey', () => {
  let pem: string;
  let fingerprint: string;
  let keyFile: string;

  beforeAll(() => {
    const generated = generateCaKey();
    pem = generated.privateKeyPem;
    fingerprint = generated.caKey.fingerprint;
    keyFile = join(dir, 'env-ca.pem');
    writeFileSync(keyFile, pem, { mode: 0o600 });
  });

  it('loads SSH_CA_KEY_FILE first', () => {
    const loaded = loadCaKey({ SSH_CA_KEY_FILE: keyFile, SSH_CA_KEY_BASE64: 'ignored', KEYWAY_DATA_DIR: join(dir, 'unused') });
    expect(loaded).toMatchObject({ source: 'file', path: keyFile, created: false, warnings: [] });
    expect(loaded.caKey.fingerprint).toBe(fingerprint);
  });

  for (const mode of [0o640, 0o604, 0o644, 0o620]) {
    it(`refuses a CA key file with mode ${mode.toString(8).padStart(4, '0')} (group or others have access), naming the file and chmod 600`, () => {
      const dataDir = join(dir, `loose-${mode.toString(8)}`);
      const inDataDir = initCaKey(dataDir).path;
      for (const [env, path] of [[{ SSH_CA_KEY_FILE: keyFile }, keyFile], [{ KEYWAY_DATA_DIR: dataDir }, inDataDir]] as const) {
        chmodSync(path, mode);
        try {
          const loads = [() => loadCaKey(env), () => loadCaKey(env, { create: true }), ...(path === inDataDir ? [() => initCaKey(dataDir)] : [])];
          for (const load of loads) {
            const error = caught(load);
            expect(error.code).toBe('ca_key_invalid');
            expect(error.message).toBe(
              `The CA key file ${path} is accessible to group or others (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${path}\` and start again.`,
            );
          }
        } finally {
          chmodSync(path, 0o600);
        }
      }
    });
  }

  it('loads an OpenSSH key file too', () => {
    const path = newKeyFile('env-openssh', ['-t', 'ecdsa', '-b', '384']);
    expect(loadCaKey({ SSH_CA_KEY_FILE: path }).caKey.keyType).toBe('ecdsa-sha2-nistp384');
  });

  it('loads SSH_CA_KEY_BASE64, as one line or as wrapped `base64` output', () => {
    const oneLine = Buffer.from(pem).toString('base64');
    const wrapped = oneLine.replace(/.{76}/g, '$&\n');
    for (const value of [oneLine, wrapped]) {
      const loaded = loadCaKey({ SSH_CA_KEY_BASE64: value, KEYWAY_DATA_DIR: join(dir, 'unused') });
      expect(loaded).toMatchObject({ source: 'base64', created: false, warnings: [] });
      expect(loaded.path).toBeUndefined();
      expect(loaded.caKey.fingerprint).toBe(fingerprint);
    }
  });

  it('treats empty settings as unset', () => {
    const dataDir = join(dir, 'empty-settings');
    initCaKey(dataDir);
    expect(loadCaKey({ SSH_CA_KEY_FILE: '', SSH_CA_KEY_BASE64: ' ', KEYWAY_DATA_DIR: dataDir }).source).toBe('data-dir');
  });

  it('creates an ed25519 CA in KEYWAY_DATA_DIR only when asked, with mode 0600 in a 0700 directory', () => {
    const dataDir = join(dir, 'data-create', 'nested');
    const missing = caught(() => loadCaKey({ KEYWAY_DATA_DIR: dataDir }));
    expect(missing.code).toBe('ca_key_invalid');
    expect(missing.message).toContain('keyway ca init');
    expect(missing.message).toContain(join(dataDir, 'ca_key'));

    const created = loadCaKey({ KEYWAY_DATA_DIR: dataDir }, { create: true });
    expect(created).toMatchObject({ source: 'data-dir', path: join(dataDir, 'ca_key'), created: true, warnings: [] });
    expect(created.caKey.keyType).toBe('ssh-ed25519');
    expect(statSync(join(dataDir, 'ca_key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dataDir, 'ca_key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const again = loadCaKey({ KEYWAY_DATA_DIR: dataDir }, { create: true });
    expect(again.created).toBe(false);
    expect(again.caKey.fingerprint).toBe(created.caKey.fingerprint);
    expect(loadCaKey({ KEYWAY_DATA_DIR: dataDir }).caKey.fingerprint).toBe(created.caKey.fingerprint);
  });

  it('refuses a missing SSH_CA_KEY_FILE instead of falling back to another key', () => {
    const error = caught(() => loadCaKey({ SSH_CA_KEY_FILE: join(dir, 'nope'), SSH_CA_KEY_BASE64: Buffer.from(pem).toString('base64') }));
    expect(error.code).toBe('ca_key_invalid');
    expect(error.message).toContain(`SSH_CA_KEY_FILE=${join(dir, 'nope')}`);
  });

  it('refuses SSH_CA_KEY_BASE64 that is not base64, or not a key, without quoting it', () => {
    const notBase64 = caught(() => loadCaKey({ SSH_CA_KEY_BASE64: pem }));
    expect(notBase64.message).toMatch(/SSH_CA_KEY_BASE64 is not base64/);
    expectNoKeyMaterial(errorText(notBase64), pem);
    const notKey = caught(() => loadCaKey({ SSH_CA_KEY_BASE64: Buffer.from('just text').toString('base64') }));
    expect(notKey.message).toMatch(/^SSH_CA_KEY_BASE64: The CA key is not a private key/);
  });

  it('names the file when it holds an encrypted key, and never shows the key', () => {
    const path = newKeyFile('env-encrypted', ['-t', 'ed25519'], 'secret');
    const error = caught(() => loadCaKey({ SSH_CA_KEY_FILE: path }));
    expect(error.code).toBe('ca_key_invalid');
    expect(error.message).toMatch(new RegExp(`^SSH_CA_KEY_FILE=${path}: The CA key is encrypted with a passphrase`));
    expectNoKeyMaterial(errorText(error), readFileSync(path, 'utf8'));
  });
});

describe('initCaKey', () => {
  it('is idempotent: an existing key is kept, whatever type was asked for', () => {
    const dataDir = join(dir, 'init');
    const first = initCaKey(dataDir, 'rsa');
    expect(first).toMatchObject({ path: join(dataDir, 'ca_key'), created: true });
    expect(first.caKey.keyType).toBe('ssh-rsa');
    const second = initCaKey(dataDir, 'ed25519');
    expect(second.created).toBe(false);
    expect(second.caKey.publicKeyLine).toBe(first.caKey.publicKeyLine);
  });
});
