// The .env file of the working directory, under the real environment: a variable already set wins over the file,
// as with process.loadEnvFile, but without touching process.env (the result is passed to the CLI as its env).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as util from 'node:util';

type ParseEnv = (content: string) => Record<string, string>;

export function withDotEnv(dir: string, env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; warning?: string } {
  const path = join(dir, '.env');
  if (!existsSync(path)) return { env };
  const parseEnv = (util as unknown as { parseEnv?: ParseEnv }).parseEnv;
  if (!parseEnv) return { env, warning: `${path} was not read: reading .env needs Node.js 20.12 or later (this is ${process.version}).` };
  const fromFile = parseEnv(readFileSync(path, 'utf8'));
  return { env: { ...fromFile, ...env } };
}
