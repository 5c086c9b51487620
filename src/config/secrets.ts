// Reads a connector private key named by a SecretRef. Messages name the variable or file, never the value.
import { readFileSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import type { SecretRef } from '../core/model.js';

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** The key text; the stored value may be the key itself or its base64 (`cat key.pem | base64`). */
export function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv): string {
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value.trim() === '') {
      throw new UserError('config_invalid', `environment variable ${ref.env} is not set: put the connector's private key there, as is or base64 (cat key.pem | base64)`);
    }
    return decodePrivateKey(value, `environment variable ${ref.env}`);
  }
  let value: string;
  try {
    value = readFileSync(ref.file, 'utf8');
  } catch (error) {
    throw new UserError('config_invalid', `cannot read the connector key file ${ref.file}: ${whyUnreadable(error)}`);
  }
  return decodePrivateKey(value, `file ${ref.file}`);
}

/** Accepts PEM/OpenSSH key text or base64 of it; `where` names the source in errors. */
export function decodePrivateKey(value: string, where: string): string {
  const text = value.replace(/\r\n/g, '\n').trim();
  if (text.startsWith('-----BEGIN ')) return checkPrivate(text, where);
  const compact = text.replace(/\s+/g, '');
  if (BASE64.test(compact)) {
    const decoded = Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64').toString('utf8').replace(/\r\n/g, '\n').trim();
    if (decoded.startsWith('-----BEGIN ')) return checkPrivate(decoded, where);
  }
  if (/^(ssh-|ecdsa-sha2-|sk-)/.test(text)) {
    throw new UserError('key_invalid', `the connector key in ${where} is a public key: Keyway needs the private key (the file without .pub)`);
  }
  throw new UserError('key_invalid', `the connector key in ${where} is neither a private key (-----BEGIN …) nor base64 of one (cat key.pem | base64)`);
}

function checkPrivate(text: string, where: string): string {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) {
    throw new UserError('key_invalid', `the connector key in ${where} is not a private key: expected -----BEGIN … PRIVATE KEY-----`);
  }
  return `${text}\n`;
}

/** A password named by a SecretRef (a bind or WinRM admin password): the value as is, less a file's final newline. */
export function readPasswordSecret(ref: SecretRef, env: NodeJS.ProcessEnv, what: string): string {
  let value: string | undefined;
  if ('env' in ref) {
    value = env[ref.env];
    if (value === undefined || value === '') throw new UserError('config_invalid', `environment variable ${ref.env} is not set: put ${what} there`);
    return value;
  }
  try {
    value = readFileSync(ref.file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new UserError('config_invalid', `cannot read ${what} from ${ref.file}: ${whyUnreadable(error)}`);
  }
  if (value === '') throw new UserError('config_invalid', `${ref.file} is empty: put ${what} there`);
  return value;
}

/** Why readFileSync failed, in words for the common causes. */
function whyUnreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
}
