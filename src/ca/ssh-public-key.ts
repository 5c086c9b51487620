// The SSH wire form (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709) of a node:crypto public key, and its fingerprint.
import { createHash, type KeyObject } from 'node:crypto';
import { sshMpintFromUnsigned, sshString } from './ssh-wire.js';

export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa';

const CURVE_BY_OPENSSL_NAME: Record<string, 'nistp256' | 'nistp384' | 'nistp521'> = {
  prime256v1: 'nistp256',
  secp384r1: 'nistp384',
  secp521r1: 'nistp521',
};

/** The SSH key type of a node:crypto key, or undefined when SSH has no name for it (ed448, DSA, RSA-PSS, other curves). */
export function sshKeyTypeOf(key: KeyObject): SshKeyType | undefined {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
      return 'ssh-ed25519';
    case 'rsa':
      return 'ssh-rsa';
    case 'ec': {
      const curve = CURVE_BY_OPENSSL_NAME[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return curve === undefined ? undefined : `ecdsa-sha2-${curve}`;
    }
    default:
      return undefined;
  }
}

function fromBase64Url(value: string | undefined): Buffer {
  if (value === undefined) throw new Error('JWK export lacks a required member');
  return Buffer.from(value, 'base64url');
}

export function sshPublicKeyBlob(publicKey: KeyObject): Buffer {
  const type = sshKeyTypeOf(publicKey);
  if (type === undefined) throw new Error(`no SSH encoding for ${publicKey.asymmetricKeyType ?? 'unknown'} keys`);
  const jwk = publicKey.export({ format: 'jwk' });
  if (type === 'ssh-ed25519') return Buffer.concat([sshString(type), sshString(fromBase64Url(jwk.x))]);
  if (type === 'ssh-rsa') {
    return Buffer.concat([sshString(type), sshMpintFromUnsigned(fromBase64Url(jwk.e)), sshMpintFromUnsigned(fromBase64Url(jwk.n))]);
  }
  const curve = type.slice('ecdsa-sha2-'.length);
  const point = Buffer.concat([Buffer.from([0x04]), fromBase64Url(jwk.x), fromBase64Url(jwk.y)]);
  return Buffer.concat([sshString(type), sshString(curve), sshString(point)]);
}

/** 'SHA256:<unpadded base64>', as ssh-keygen -l prints it. */
export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
