// SSH signature blobs (string algorithm, string signature) made with node:crypto.
import { constants, sign, type KeyObject } from 'node:crypto';
import { sshMpintFromUnsigned, sshString } from './ssh-wire.js';
import type { SshKeyType } from './ssh-public-key.js';

export type SshSigner = (data: Buffer) => Buffer;

const ECDSA_HASH: Record<string, string> = {
  'ecdsa-sha2-nistp256': 'sha256',
  'ecdsa-sha2-nistp384': 'sha384',
  'ecdsa-sha2-nistp521': 'sha512',
};

export function sshSignerFor(privateKey: KeyObject, type: SshKeyType): SshSigner {
  const algorithm = sshString(type === 'ssh-rsa' ? 'rsa-sha2-512' : type);
  switch (type) {
    case 'ssh-ed25519':
      return (data) => Buffer.concat([algorithm, sshString(sign(null, data, privateKey))]);
    case 'ssh-rsa':
      // rsa-sha2-512 (RFC 8332); OpenSSH >= 8.8 refuses the SHA-1 'ssh-rsa' signature sshpk would make.
      return (data) =>
        Buffer.concat([algorithm, sshString(sign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PADDING }))]);
    default: {
      const hash = ECDSA_HASH[type];
      if (hash === undefined) throw new Error(`no SSH signature algorithm for ${type}`);
      return (data) => {
        // RFC 5656 §3.1.2: the signature is string(mpint r || mpint s); r and s are the halves of IEEE P1363 output.
        const rs = sign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const half = rs.length / 2;
        const inner = Buffer.concat([sshMpintFromUnsigned(rs.subarray(0, half)), sshMpintFromUnsigned(rs.subarray(half))]);
        return Buffer.concat([algorithm, sshString(inner)]);
      };
    }
  }
}
