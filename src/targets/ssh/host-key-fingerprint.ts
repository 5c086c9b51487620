// SHA256 fingerprints of SSH host keys, in the form ssh-keygen -l prints ('SHA256:' + unpadded base64).
import { createHash } from 'node:crypto';
import { UserError } from '../../core/errors.js';

export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}$/;

export function fingerprintOfKeyBlob(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Of a public key line such as 'ssh-ed25519 AAAA… comment'. */
export function fingerprintOfPublicKeyLine(line: string): string {
  const base64 = line.trim().split(/\s+/)[1];
  if (!base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) throw new UserError('key_invalid', 'That is not an SSH public key line (type, base64, optional comment).');
  return fingerprintOfKeyBlob(Buffer.from(base64, 'base64'));
}

export function validateFingerprint(text: string): string {
  if (!FINGERPRINT_PATTERN.test(text)) {
    throw new UserError('key_invalid', `${JSON.stringify(text)} is not a host key fingerprint: give it as ssh-keygen -lf prints it, e.g. SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s.`);
  }
  return text;
}
