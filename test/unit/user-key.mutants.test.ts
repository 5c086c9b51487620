// The exact reason a person reads when the public key they sent is refused (src/ca/user-key.ts), one per reason, and
// what an accepted key becomes. Keys are made with node:crypto (fast); ca-user-key.test.ts checks them against
// ssh-keygen. Written for the mutants that survived `npm run mutate`.
import { createHash, generateKeyPairSync } from 'node:crypto';
import sshpk from 'sshpk';
import { describe, expect, it } from 'vitest';
import { looksLikePrivateKey, parseUserPublicKey } from '../../src/ca/user-key.js';
import { sshMpintFromUnsigned, sshString } from '../../src/ca/ssh-wire.js';
import { userErrorOf } from '../helpers/user-error.js';

const HOW_TO_GET_ONE =
  'Send the contents of your public key file (for example ~/.ssh/id_ed25519.pub): one line starting with ' +
  'ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa (2048 to 4096 bits). ' +
  'No key yet? Run `ssh-keygen -t ed25519` and send the .pub file.';

function ed25519Base64(): string {
  const { x } = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(x!, 'base64url'))]).toString('base64');
}

function publicLineOf(keyObject: ReturnType<typeof generateKeyPairSync>['publicKey']): string {
  return sshpk.parseKey(keyObject.export({ format: 'pem', type: 'spki' }).toString(), 'pem').toString('ssh');
}

function refusal(line: string): string {
  const error = userErrorOf(() => parseUserPublicKey(line));
  expect(error.code).toBe('key_invalid');
  expect(error.message.endsWith(` ${HOW_TO_GET_ONE}`)).toBe(true);
  return error.message.slice(0, -HOW_TO_GET_ONE.length - 1);
}

describe('parseUserPublicKey: what an accepted key becomes', () => {
  it('keeps the type, the blob, the comment words joined by one space, and ssh-keygen\'s SHA256 fingerprint', () => {
    const base64 = ed25519Base64();
    const key = parseUserPublicKey(`\t ssh-ed25519   ${base64}  dev@laptop \t work  key \n`);
    expect(key.type).toBe('ssh-ed25519');
    expect(key.blob.toString('base64')).toBe(base64);
    expect(key.comment).toBe('dev@laptop work key');
    expect(key.line).toBe(`ssh-ed25519 ${base64}`);
    expect(key.fingerprint).toBe(`SHA256:${createHash('sha256').update(Buffer.from(base64, 'base64')).digest('base64').replace(/=+$/, '')}`);
    expect(parseUserPublicKey(`ssh-ed25519 ${base64}`).comment).toBe('');
  });

  it('accepts an ECDSA key and a line of exactly 16384 characters', () => {
    const ecdsa = publicLineOf(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey);
    expect(parseUserPublicKey(ecdsa).type).toBe('ecdsa-sha2-nistp384');
    const line = `ssh-ed25519 ${ed25519Base64()} `;
    expect(parseUserPublicKey(line.padEnd(16_384, 'c')).comment).toHaveLength(16_384 - line.length);
  });
});

describe('parseUserPublicKey: the reason for each refusal', () => {
  it('a line longer than 16384 characters', () => {
    expect(refusal(`ssh-ed25519 ${ed25519Base64()} `.padEnd(16_385, 'c'))).toBe('That is far too long for an SSH public key.');
  });

  it('nothing at all', () => {
    expect(refusal('')).toBe('No SSH public key given.');
    expect(refusal(' \n\t ')).toBe('No SSH public key given.');
  });

  it('a certificate, a DSA key, a security key, an unknown type', () => {
    expect(refusal(`ssh-ed25519-cert-v01@openssh.com ${ed25519Base64()}`)).toBe(
      'That is an SSH certificate, not a public key; Keyway issues certificates itself.',
    );
    expect(refusal('ssh-dss AAAAB3NzaC1kc3M=')).toBe('DSA keys are not accepted: OpenSSH has disabled them as insecure.');
    expect(refusal('sk-ecdsa-sha2-nistp256@openssh.com AAAA')).toBe('Security-key (FIDO) keys (sk-ecdsa-sha2-nistp256@openssh.com) are not supported yet.');
    expect(refusal('ssh-foo AAAA')).toBe(
      'That does not look like an SSH public key Keyway accepts (it should start with a key type such as ssh-ed25519).',
    );
  });

  it('data that is missing or not base64, with anything before or after the base64', () => {
    const base64 = ed25519Base64();
    for (const data of ['', '!!!!', `!${base64}`, `${base64}!`, `${base64.replace(/=*$/, '')}===`]) {
      expect(refusal(`ssh-ed25519 ${data}`)).toBe("The ssh-ed25519 key's data is missing or not valid base64.");
    }
  });

  it('data of another type, or no key at all', () => {
    expect(refusal(`ssh-rsa ${ed25519Base64()}`)).toBe('The key says it is ssh-rsa but its data is ssh-ed25519.');
    expect(refusal('ssh-ed25519 AAAA')).toBe('The key says it is ssh-ed25519 but its data is not a key.');
  });

  it('data cut short, and data with bytes after the key', () => {
    expect(refusal(`ssh-ed25519 ${sshString('ssh-ed25519').toString('base64')}`)).toMatch(
      /^The ssh-ed25519 key could not be read \(\w+\): it may be cut short\.$/,
    );
    const padded = Buffer.concat([Buffer.from(ed25519Base64(), 'base64'), Buffer.alloc(4)]).toString('base64');
    expect(refusal(`ssh-ed25519 ${padded}`)).toBe("The ssh-ed25519 key's data is malformed (extra or non-canonical bytes).");
  });

  it('an RSA key outside 2048 to 4096 bits (a public modulus need not be a real one to be read)', () => {
    const rsaLine = (bits: number) => {
      const modulus = Buffer.alloc(bits / 8, 0x5a);
      modulus[0] = 0x80;
      modulus[modulus.length - 1] = 0x01;
      return `ssh-rsa ${Buffer.concat([sshString('ssh-rsa'), sshMpintFromUnsigned(Buffer.from([1, 0, 1])), sshMpintFromUnsigned(modulus)]).toString('base64')}`;
    };
    expect(parseUserPublicKey(rsaLine(2048)).type).toBe('ssh-rsa');
    expect(parseUserPublicKey(rsaLine(4096)).type).toBe('ssh-rsa');
    expect(refusal(rsaLine(2040))).toBe('That RSA key has only 2040 bits; at least 2048 are needed.');
    expect(refusal(rsaLine(4104))).toBe('That RSA key has 4104 bits; at most 4096 are accepted (its certificate would not fit in a chat message).');
  });

  it('an RSA key below 2048 bits', () => {
    const rsa = publicLineOf(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey);
    expect(refusal(rsa)).toBe('That RSA key has only 1024 bits; at least 2048 are needed.');
  });

  it('an ECDSA point that is not on its curve', () => {
    const [type, base64] = publicLineOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey).split(' ');
    const blob = Buffer.from(base64!, 'base64');
    blob[blob.length - 1]! ^= 0x01;
    expect(refusal(`${type} ${blob.toString('base64')}`)).toBe("The ecdsa-sha2-nistp256 key's data does not describe a valid key.");
  });
});

describe('looksLikePrivateKey', () => {
  it('sees either end of the armour, in any case, PuTTY files and an unarmoured OpenSSH body', () => {
    expect(looksLikePrivateKey('-----END OPENSSH PRIVATE KEY-----')).toBe(true);
    expect(looksLikePrivateKey('-----begin rsa private key-----')).toBe(true);
    expect(looksLikePrivateKey('-----BEGIN PRIVATE KEY-----')).toBe(true);
    expect(looksLikePrivateKey('PuTTY-User-Key-File-2: ssh-rsa')).toBe(true);
    expect(looksLikePrivateKey('puTTY-user-key-file-3: ssh-ed25519')).toBe(true);
    expect(looksLikePrivateKey('xxb3BlbnNzaC1rZXktdjEAAAAA')).toBe(true);
  });

  it('does not see one in a public key or in words about one', () => {
    expect(looksLikePrivateKey(`ssh-ed25519 ${ed25519Base64()} my private key`)).toBe(false);
    expect(looksLikePrivateKey('-----BEGIN PUBLIC KEY-----')).toBe(false);
    expect(looksLikePrivateKey('PuTTY-User-Key-File-x')).toBe(false);
  });

  it('refuses a pasted private key with key_is_private, telling them to rotate it', () => {
    const error = userErrorOf(() => parseUserPublicKey('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----'));
    expect(error.code).toBe('key_is_private');
    expect(error.message).toBe(
      'That is a PRIVATE key, not a public key. Treat it as compromised: delete it, remove its public key from every server and service ' +
        'that trusts it, and make a new key pair with `ssh-keygen -t ed25519`. Then send only the public half (the .pub file). ' +
        'Never paste a private key anywhere.',
    );
  });
});
