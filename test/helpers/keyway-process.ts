// Crash tests: keyway as a real child process that a test can SIGKILL, built fresh from src/ (never a stale dist/);
// a way to have it SIGKILL itself right after a chosen database commit; a view of its SQLite database to watch for
// the moment to kill it; and "slow tools" on a test host that hold a server-side step open so a kill lands at a
// chosen point of a provision or revoke.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import DatabaseConstructor, { type Database } from 'better-sqlite3';
import type { TestHost } from './test-host.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compiles src/cli/bin.ts and what it imports into a fresh directory under node_modules/.cache (so the built code
 * resolves node_modules and finds the package root), and returns the path of bin.js. Takes a few seconds.
 * A type error fails it with tsc's messages, rather than leaving a half-working build to fail tests obscurely.
 */
export interface KeywayCli {
  bin: string;
  /** The --import preload that makes the process kill itself after a commit (see spawnKeyway). */
  preload: string;
  remove(): void;
}

// Loaded with --import before keyway: after every committed better-sqlite3 transaction it runs the SQL in
// KEYWAY_TEST_KILL_AFTER_COMMIT_WHEN on the same connection and, when the first column is truthy, SIGKILLs its
// own process: a real kill -9, landing exactly between one commit and whatever the code would do next.
const PRELOAD = `import Database from 'better-sqlite3';
const when = process.env.KEYWAY_TEST_KILL_AFTER_COMMIT_WHEN;
if (when) {
  const original = Database.prototype.transaction;
  const check = (db) => {
    if (db.inTransaction) return; // a nested transaction (savepoint) commits nothing yet
    let hit = false;
    try {
      hit = Boolean(db.prepare(when).pluck().get());
    } catch {
      return;
    }
    if (hit) process.kill(process.pid, 'SIGKILL');
  };
  Database.prototype.transaction = function (fn) {
    const db = this;
    const transaction = original.call(db, fn);
    const wrap = (run) => function (...args) {
      const result = run.apply(this, args);
      check(db);
      return result;
    };
    const variants = {
      default: wrap(transaction), deferred: wrap(transaction.deferred),
      immediate: wrap(transaction.immediate), exclusive: wrap(transaction.exclusive),
    };
    const properties = Object.fromEntries(Object.entries(variants).map(([name, value]) => [name, { value }]));
    for (const variant of Object.values(variants)) Object.defineProperties(variant, { ...properties, database: { value: db, enumerable: true } });
    return variants.default;
  };
}
`;

export async function buildKeywayCli(): Promise<KeywayCli> {
  const cache = join(ROOT, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'keyway-crash-cli-'));
  const outDir = join(dir, 'out');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { noEmit: false, outDir, rootDir: ROOT, sourceMap: false, declaration: false, incremental: false },
    files: [join(ROOT, 'src/cli/bin.ts')],
    include: [],
  }));
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await new Promise<{ code: number | null; output: string }>((done, fail) => {
    const child = spawn(process.execPath, [tsc, '-p', tsconfig], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
  const bin = join(outDir, 'src/cli/bin.js');
  const remove = () => rmSync(dir, { recursive: true, force: true });
  if (result.code !== 0 || !existsSync(bin)) {
    remove();
    throw new Error(`building the keyway CLI failed (tsc exit ${result.code}):\n${result.output}`);
  }
  const preload = join(dir, 'kill-after-commit.mjs');
  writeFileSync(preload, PRELOAD);
  return { bin, preload, remove };
}

export interface KeywayChild {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has exited (and been reaped). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, and resolves once the process is gone. */
  kill9(): Promise<void>;
  /** Throws, with what the process printed, if it has exited: for probes that wait for a point to kill it at. */
  assertRunning(): void;
}

const children = new Set<KeywayChild>();

export interface SpawnOptions {
  /** SQL run after each commit; once its first column is truthy the process SIGKILLs itself. */
  killAfterCommitWhen?: string;
}

/**
 * Runs `node <bin> ...args` with exactly `env` (plus PATH and HOME, and METRICS_ADDR on a free loopback port unless
 * `env` names one: the default, 127.0.0.1:9464, would collide between tests running at the same time).
 */
export function spawnKeyway(cli: KeywayCli, args: string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): KeywayChild {
  const preload = options.killAfterCommitWhen ? ['--import', pathToFileURL(cli.preload).href] : [];
  const child = spawn(process.execPath, [...preload, cli.bin, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME, METRICS_ADDR: '127.0.0.1:0', ...env,
      ...(options.killAfterCommitWhen ? { KEYWAY_TEST_KILL_AFTER_COMMIT_WHEN: options.killAfterCommitWhen } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (output += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('close', (code, signal) => done({ code, signal }));
  });
  if (child.pid === undefined) throw new Error(`could not start keyway ${args.join(' ')}`);
  const handle: KeywayChild = {
    child,
    pid: child.pid,
    output: () => output,
    exited,
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    assertRunning() {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`keyway ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before the test killed it:\n${output}`);
      }
    },
  };
  children.add(handle);
  void exited.then(() => children.delete(handle));
  return handle;
}

/** SIGKILLs every keyway child still running (for afterEach/afterAll after a failed test). */
export async function killKeywayChildren(): Promise<void> {
  await Promise.all([...children].map((c) => c.kill9()));
}

/** The data directory's database, read-only: for watching the states a child process writes. */
export function openDatabaseReadOnly(dataDir: string): Database {
  const db = new DatabaseConstructor(join(dataDir, 'keyway.db'), { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `probe` every `intervalMs` until it returns something truthy; returns that. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 5): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface SlowTool {
  /** From now on each call of the tool first sleeps this many seconds; undefined: calls run at once again. */
  delay(seconds: number | undefined): void;
  /** Once a call is sleeping: the PIDs (in the host's PID namespace) of the script that called it and of the wrapper. */
  caller(): { scriptPid: number; wrapperPid: number } | undefined;
  /** Kills the sleeping call and the script that made it (a server-side step that dies half way). */
  killCaller(): Promise<void>;
}

// Sleeps with fd 9 closed so the sleep alone does not hold Keyway's flock on the server; the script and wrapper do.
const WRAPPER = String.raw`#!/bin/sh
d=/run/keyway-slow
if [ -f "$d/TOOL.delay" ]; then
  echo "$PPID $$" > "$d/TOOL.caller.tmp" && mv -f "$d/TOOL.caller.tmp" "$d/TOOL.caller"
  sleep "$(cat "$d/TOOL.delay")" 9>&-
fi
exec "$d/TOOL.real" "$@"
`;
// The same, sleeping once the real command has done its work (and then exiting with its status).
const WRAPPER_AFTER = String.raw`#!/bin/sh
d=/run/keyway-slow
status=0
"$d/TOOL.real" "$@" || status=$?
if [ -f "$d/TOOL.delay" ]; then
  echo "$PPID $$" > "$d/TOOL.caller.tmp" && mv -f "$d/TOOL.caller.tmp" "$d/TOOL.caller"
  sleep "$(cat "$d/TOOL.delay")" 9>&-
fi
exit "$status"
`;

/**
 * Puts a wrapper over a command (e.g. usermod, chmod) inside the test host's own mount namespace only: a bind mount
 * over the binary, which the machine outside never sees. The wrapper does nothing until delay() is set; then each
 * call sleeps before the command runs, or with `after` once it has run.
 */
export async function slowTool(host: TestHost, tool: string, options: { after?: boolean } = {}): Promise<SlowTool> {
  if (!/^[a-z]+$/.test(tool)) throw new Error(`not a tool name: ${tool}`);
  const control = join(host.dir, 'run/keyway-slow');
  const installed = await host.exec(String.raw`set -eu
real=$(command -v ${tool})
mkdir -p /run/keyway-slow
cp "$real" /run/keyway-slow/${tool}.real
cat > /run/keyway-slow/${tool}.wrapper <<'KEYWAY_WRAPPER'
${(options.after ? WRAPPER_AFTER : WRAPPER).replaceAll('TOOL', tool)}KEYWAY_WRAPPER
chmod 0755 /run/keyway-slow/${tool}.wrapper
mount --bind /run/keyway-slow/${tool}.wrapper "$real"
`);
  if (installed.code !== 0) throw new Error(`could not slow down ${tool} on ${host.name}: ${installed.stderr}`);
  const callerFile = join(control, `${tool}.caller`);
  const caller = () => {
    if (!existsSync(callerFile)) return undefined;
    const [scriptPid, wrapperPid] = readFileSync(callerFile, 'utf8').trim().split(' ').map(Number);
    return scriptPid && wrapperPid ? { scriptPid, wrapperPid } : undefined;
  };
  return {
    delay(seconds) {
      rmSync(callerFile, { force: true });
      if (seconds === undefined) rmSync(join(control, `${tool}.delay`), { force: true });
      else writeFileSync(join(control, `${tool}.delay`), `${seconds}\n`);
    },
    caller,
    async killCaller() {
      const pids = caller();
      if (!pids) throw new Error(`no call of ${tool} is sleeping on ${host.name}`);
      await host.exec(`kill -KILL ${pids.wrapperPid} ${pids.scriptPid} 2>/dev/null || true`);
    },
  };
}

/** Runs `keyway <argv>` in this process (the CLI's own main) against an environment; collects what it printed. */
export async function runKeyway(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
