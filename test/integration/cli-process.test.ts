// keyway as a real process (the bin, real stdout): an empty list exits 0 without a stack trace, and a .env file in
// the working directory is read, with the real environment winning over it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SAMPLE_KEY } from '../helpers/access-context.js';
import { buildKeywayCli, type KeywayCli } from '../helpers/keyway-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let cli: KeywayCli;
let temp: { dir: string; remove(): void };
beforeAll(async () => {
  cli = await buildKeywayCli();
  temp = makeTempDir();
}, 60_000);
afterAll(() => {
  cli?.remove();
  temp?.remove();
});

function run(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]) {
  const result = spawnSync(process.execPath, [cli.bin, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { code: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

describe('keyway as a process', () => {
  it('lists nothing in a fresh data directory with exit 0 and no stack trace', () => {
    const env = { KEYWAY_DATA_DIR: join(temp.dir, 'fresh') };
    for (const args of [['requests', 'list'], ['grants', 'list']]) {
      const result = run(temp.dir, env, ...args);
      expect(result, args.join(' ')).toMatchObject({ code: 0, out: expect.stringMatching(/^No (requests|grants)/) });
      expect(result.err).not.toMatch(/TypeError|at .*\.js/);
    }
  });

  it('reads .env from the working directory, and the environment wins over it', () => {
    const work = join(temp.dir, 'work');
    const config = resolve('config/access.example.yaml');
    mkdirSync(work);
    writeFileSync(join(work, '.env'), `# as copied from .env.example\nKEYWAY_CONFIG=${config}\nKEYWAY_DATA_DIR=./from-dotenv\nSLACK_BOT_TOKEN=\n`);
    expect(run(work, {}, 'keys', 'add', 'dev@example.com', SAMPLE_KEY)).toMatchObject({ code: 0 });
    expect(existsSync(join(work, 'from-dotenv/keyway.db'))).toBe(true);

    expect(run(work, { KEYWAY_DATA_DIR: './from-env' }, 'keys', 'add', 'ops@example.com', SAMPLE_KEY)).toMatchObject({ code: 0 });
    expect(existsSync(join(work, 'from-env/keyway.db'))).toBe(true);
    expect(run(work, {}, 'keys', 'list').out).not.toContain('ops@example.com');
    expect(run(work, {}, 'keys', 'list', '--data-dir', './from-env').out).toContain('ops@example.com');
  });
});
