// Runs the azure-vm inventory in a child process against the Azure stand-in: Node reads NODE_EXTRA_CA_CERTS only at
// start, so a test process cannot come to trust the stand-in's CA, but a child started with it does, exactly as
// Keyway would in production. The runner is compiled from src/ with tsc once per test file (a few seconds).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AzureVmIntegration } from '../../src/core/model.js';
import type { AzureInventory } from '../../src/targets/cloud/azure-vm-discovery.js';
import type { FakeAzure } from './fake-azure.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface AzureRunner {
  main: string;
  remove(): void;
}

export async function buildAzureRunner(): Promise<AzureRunner> {
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'keyway-azure-runner-'));
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { noEmit: false, outDir: join(dir, 'out'), rootDir: ROOT, sourceMap: false, declaration: false, incremental: false },
    files: [join(ROOT, 'test/helpers/fake-azure-runner-main.ts')],
    include: [],
  }));
  const { code, output } = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], {}, 120_000);
  const main = join(dir, 'out/test/helpers/fake-azure-runner-main.js');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (code !== 0 || !existsSync(main)) {
    remove();
    throw new Error(`building the Azure inventory runner failed (tsc exit ${code}):\n${output}`);
  }
  return { main, remove };
}

export interface AzureRun {
  inventory?: AzureInventory;
  deleted?: string[];
  error?: { name: string; code: string; kind: string; message: string };
  /** Everything the child printed (stdout and stderr). */
  output: string;
}

/** One inventory read in a child with exactly `env` (plus PATH and HOME); fails if the child does not end in time. */
export async function runAzureInventory(
  runner: AzureRunner, settings: AzureVmIntegration, env: NodeJS.ProcessEnv, options: { abortAfterMs?: number; timeoutMs?: number } = {},
): Promise<AzureRun> {
  const extra = options.abortAfterMs === undefined ? [] : [String(options.abortAfterMs)];
  return runChild(runner, ['inventory', JSON.stringify(settings), ...extra], env, options.timeoutMs ?? 25_000);
}

/** azureDeletedVms in a child, as runAzureInventory. */
export async function runAzureDeletedVms(runner: AzureRunner, settings: AzureVmIntegration, ids: string[], env: NodeJS.ProcessEnv): Promise<AzureRun> {
  return runChild(runner, ['deleted', JSON.stringify(settings), JSON.stringify(ids)], env, 25_000);
}

async function runChild(runner: AzureRunner, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<AzureRun> {
  const { code, output, stdout } = await run(process.execPath, [runner.main, ...args], { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeoutMs);
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`the Azure inventory runner exited ${code}:\n${output}`);
  return { ...(JSON.parse(line) as Omit<AzureRun, 'output'>), output };
}

/** An azure-vm integration aimed at the stand-in; `overrides` change any setting. */
export function azureSettings(fake: FakeAzure, overrides: Partial<AzureVmIntegration> = {}): AzureVmIntegration {
  return {
    type: 'azure-vm', name: 'azure-prod', subscriptionId: fake.subscriptionId, resourceGroups: [], tags: {},
    address: 'private', user: 'keyway', refresh: 300, endpoint: fake.endpoint, authorityHost: fake.authorityHost,
    servers: [], userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
    uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: [], allowPrivilegedGroups: false,
    ...overrides,
  };
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string; stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env: Object.keys(env).length ? env : process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { output += s; stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${args[0]} did not finish within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output, stdout });
    });
  });
}
