// Reads a provider's API token from its SecretRef ({env} or {file}). Messages name the variable or file, never the value.
import { readFileSync } from 'node:fs';
import type { SecretRef } from '../core/model.js';

/** The token, or throws an Error that says where it was looked for. */
export function readToken(ref: SecretRef, env: NodeJS.ProcessEnv): string {
  if ('env' in ref) {
    const value = env[ref.env]?.trim();
    if (!value) throw new Error(`environment variable ${ref.env} (the API token) is not set`);
    return value;
  }
  let value: string;
  try {
    value = readFileSync(ref.file, 'utf8').trim();
  } catch (error) {
    throw new Error(`cannot read the API token file ${ref.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!value) throw new Error(`the API token file ${ref.file} is empty`);
  return value;
}
