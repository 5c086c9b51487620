// The package as an admin installs it: `npm pack` in a copy of the checkout (prepack builds dist/), then
// `npm install -g --prefix <tmp> keyway-<version>.tgz`, then the installed `keyway` from <tmp>/bin.
// Dependencies come from the npm cache (or the registry). Install scripts are skipped: compiling better-sqlite3's
// native module takes minutes here, and neither --version nor config check opens the database.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeTempDir } from '../helpers/temp-dir.js';

const ROOT = resolve('.');
const SHIPPED = ['src', 'bench', 'migrations', 'config/access.example.yaml', 'manifests', 'docs', 'deploy', 'test/helpers',
  'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', '.env.example', 'LICENSE', 'CHANGELOG.md', 'README.md'];
const temp = makeTempDir('keyway-install-');
afterAll(() => temp.remove());

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000, env: { ...process.env, npm_config_fund: 'false', npm_config_audit: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the npm package', () => {
  it('packs with dist/ built in, installs with npm install -g, and gives a working keyway', () => {
    const checkout = join(temp.dir, 'checkout');
    for (const path of SHIPPED) cpSync(join(ROOT, path), join(checkout, path), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', temp.dir], checkout)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(packed[0]!.filename).toBe(`keyway-${version}.tgz`);
    const files = packed[0]!.files.map((f) => f.path);
    for (const path of ['dist/src/cli/bin.js', 'migrations/0001_init.sql', 'config/access.example.yaml', 'manifests/slack-app.yaml',
      'docs/security.md', '.env.example', 'LICENSE', 'CHANGELOG.md', 'deploy/keyway.service', 'README.md']) expect(files, path).toContain(path);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('dist/bench/') || f.endsWith('.test.js'))).toEqual([]);

    const prefix = join(temp.dir, 'prefix');
    mkdirSync(prefix);
    run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--ignore-scripts', join(temp.dir, packed[0]!.filename)], temp.dir);
    const keyway = join(prefix, 'bin', 'keyway');
    expect(run(keyway, ['--version'], temp.dir).trim()).toBe(version);
    const example = join(prefix, 'lib/node_modules/keyway/config/access.example.yaml');
    expect(run(keyway, ['config', 'check', example], temp.dir)).toMatch(/: OK: 2 integrations, 4 servers, \d+ flows, 2 people/);
  }, 240_000);
});
