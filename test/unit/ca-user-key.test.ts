import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userErrorOf } from '../helpers/user-error.js';
import { parseUserPublicKey } from '../../src/ca/user-key.js';
import { sshMpintFromUnsigned, sshString } from '../../src/ca/ssh-wire.js';
import { randomBytes } from 'node:crypto';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keyway-user-key-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sshKeygen(args: string[]): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function newKey(name: string, args: string[]): { privateText: string; publicLine: string; path: string } {
  const path = join(dir, name);
  sshKeygen(['-q', ...args, '-N', '', '-C', 'dev@laptop', '-f', path]);
  return { privateText: readFileSync(path, 'utf8'), publicLine: readFileSync(`${path}.pub`, 'utf8'), path };
}

const caught = (action: () => unknown) => userErrorOf(action);

describe('parseUserPublicKey accepts the key types Keyway can certify', () => {
  const accepted: Array<[string, string[], string]> = [
    ['ed25519', ['-t', 'ed25519'], 'ssh-ed25519'],
    ['ecdsa P-256', ['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256'],
    ['ecdsa P-384', ['-t', 'ecdsa', '-b', '384'], 'ecdsa-sha2-nistp384'],
    ['ecdsa P-521', ['-t', 'ecdsa', '-b', '521'], 'ecdsa-sha2-nistp521'],
    ['RSA 2048', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa'],
    ['RSA 4096', ['-t', 'rsa', '-b', '4096'], 'ssh-rsa'],
  ];
  for (const [what, args, type] of accepted) {
    it(`accepts ${what}, with ssh-keygen's fingerprint and a normalised line`, () => {
      const { publicLine, path } = newKey(what.replace(/\W/g, '-'), args);
      const key = parseUserPublicKey(publicLine);
      const [lineType, base64] = publicLine.trim().split(' ');
      expect(key.type).toBe(type);
      expect(lineType).toBe(type);
      expect(key.line).toBe(`${type} ${base64}`);
      expect(key.blob.toString('base64')).toBe(base64);
      expect(key.comment).toBe('dev@laptop');
      expect(sshKeygen(['-l', '-E', 'sha256', '-f', `${path}.pub`]).split(' ')[1]).toBe(key.fingerprint);
    });
  }

  it('accepts a public key whose comment mentions a private key', () => {
    const { publicLine } = newKey('comment', ['-t', 'ed25519']);
    const [type, base64] = publicLine.trim().split(' ');
    expect(parseUserPublicKey(`${type} ${base64} not my private key`).comment).toBe('not my private key');
  });

  it('tolerates surrounding whitespace, tabs and a multi-word comment', () => {
    const { publicLine } = newKey('spaces', ['-t', 'ed25519']);
    const [type, base64] = publicLine.trim().split(' ');
    const key = parseUserPublicKey(`  \n${type}\t${base64}   Ana's laptop (work)\n`);
    expect(key.line).toBe(`${type} ${base64}`);
    expect(key.comment).toBe("Ana's laptop (work)");
  });
});

describe('parseUserPublicKey refuses what it cannot certify, saying what to send instead', () => {
  it('refuses a DSA key', () => {
    const { publicLine } = newKey('dsa', ['-t', 'dsa']);
    const error = caught(() => parseUserPublicKey(publicLine));
    expect(error.code).toBe('key_invalid');
    expect(error.message).toMatch(/DSA/);
    expect(error.message).toContain('ssh-keygen -t ed25519');
  });

  it('refuses an RSA key shorter than 2048 bits', () => {
    const { publicLine } = newKey('rsa1024', ['-t', 'rsa', '-b', '1024']);
    const error = caught(() => parseUserPublicKey(publicLine));
    expect(error.code).toBe('key_invalid');
    expect(error.message).toMatch(/1024 bits; at least 2048/);
  });

  it('refuses an RSA key longer than 4096 bits, whose certificate would not fit a chat message', () => {
    // An 8192-bit public key built from its numbers (generating the pair takes ssh-keygen many seconds).
    const modulus = randomBytes(1024);
    modulus[0]! |= 0x80;
    modulus[1023]! |= 1;
    const blob = Buffer.concat([sshString('ssh-rsa'), sshMpintFromUnsigned(Buffer.from([1, 0, 1])), sshMpintFromUnsigned(modulus)]);
    const error = caught(() => parseUserPublicKey(`ssh-rsa ${blob.toString('base64')} big@laptop`));
    expect(error.code).toBe('key_invalid');
    expect(error.message).toMatch(/8192 bits; at most 4096/);
    expect(error.message).toContain('ssh-keygen -t ed25519');
  });

  it('refuses a certificate', () => {
    const ca = newKey('ca', ['-t', 'ed25519']);
    const user = newKey('certified', ['-t', 'ed25519']);
    sshKeygen(['-q', '-s', ca.path, '-I', 'x', '-n', 'x', `${user.path}.pub`]);
    const error = caught(() => parseUserPublicKey(readFileSync(`${user.path}-cert.pub`, 'utf8')));
    expect(error.code).toBe('key_invalid');
    expect(error.message).toMatch(/certificate/);
  });

  const garbage: Array<[string, string]> = [
    ['an empty string', ''],
    ['a sentence', 'hello can I have access please'],
    ['an unknown type', 'ssh-foo AAAAB3NzaC1yc2E='],
    ['a security-key type', 'sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t'],
    ['a type without data', 'ssh-ed25519'],
    ['data that is not base64', 'ssh-ed25519 !!!!'],
    ['truncated data', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB'],
    ['a type that does not match the data', `ssh-rsa ${sshString('ssh-ed25519').toString('base64')}`],
    ['a PEM public key', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----'],
  ];
  for (const [what, text] of garbage) {
    it(`refuses ${what}`, () => {
      const error = caught(() => parseUserPublicKey(text));
      expect(error.code).toBe('key_invalid');
      expect(error.message).toContain('ssh-keygen -t ed25519');
    });
  }

  it('refuses a key with bytes after its data', () => {
    const { publicLine } = newKey('trailing', ['-t', 'ed25519']);
    const [type, base64] = publicLine.trim().split(' ');
    const padded = Buffer.concat([Buffer.from(base64 ?? '', 'base64'), Buffer.from([0, 0, 0, 0])]).toString('base64');
    expect(caught(() => parseUserPublicKey(`${type} ${padded}`)).code).toBe('key_invalid');
  });

  it('refuses an ECDSA key whose point is not on the curve', () => {
    const { publicLine } = newKey('bad-point', ['-t', 'ecdsa', '-b', '256']);
    const [type, base64] = publicLine.trim().split(' ');
    const blob = Buffer.from(base64 ?? '', 'base64');
    blob[blob.length - 1]! ^= 0x01;
    const error = caught(() => parseUserPublicKey(`${type} ${blob.toString('base64')}`));
    expect(error.code).toBe('key_invalid');
  });
});

describe('parseUserPublicKey refuses a pasted private key without repeating it', () => {
  const puttyKey = [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: ed25519-key-20240101',
    'Public-Lines: 2',
    'AAAAC3NzaC1lZDI1NTE5AAAAIHpPfYp4Bq0vHq2c4WmY3C0bJkP1rQJt0u2s9w8KqZyF',
    'Private-Lines: 1',
    'AAAAIGYw0c3Q5x0bT2pQ6c7z8lL0pWq1nR4sV9uX2yZ3aB4c',
    'Private-MAC: 5e2f0b7e3c8a1d9f6b4e2a0c8d6f4b2a0e8c6a4f2d0b8e6c4a2f0d8b6e4c2a0f',
  ].join('\n');
  const cases: Array<[string, () => string]> = [
    ['an OpenSSH private key', () => newKey('priv-openssh', ['-t', 'ed25519']).privateText],
    ['a PEM RSA private key', () => newKey('priv-pem', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']).privateText],
    ['a PKCS#8 private key', () => newKey('priv-pkcs8', ['-t', 'ecdsa', '-b', '256', '-m', 'PKCS8']).privateText],
    ['a PuTTY private key', () => puttyKey],
    ['the body of an OpenSSH private key without its armour', () =>
      newKey('priv-body', ['-t', 'ed25519']).privateText.split('\n').filter((l) => !l.startsWith('-----')).join('\n')],
    ['a private key pasted after a public key line', () => {
      const key = newKey('priv-both', ['-t', 'ed25519']);
      return `${key.publicLine}\n${key.privateText}`;
    }],
  ];
  for (const [what, privateText] of cases) {
    it(`refuses ${what} with key_is_private, telling them to rotate it`, () => {
      const text = privateText();
      const error = caught(() => parseUserPublicKey(text));
      expect(error.code).toBe('key_is_private');
      expect(error.message).toMatch(/compromised/);
      expect(error.message).toContain('ssh-keygen -t ed25519');
      const everything = `${error.message}\n${error.stack ?? ''}\n${inspect(error)}\n${JSON.stringify(error)}`;
      for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0)) {
        expect(everything).not.toContain(line);
      }
    });
  }
});
