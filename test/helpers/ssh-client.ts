// The real OpenSSH client, used as the proof that a login works (or fails).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { ExecResult } from './test-host.js';

export interface SshLoginOptions {
  user: string;
  keyPath: string;
  certPath?: string;
  /** Remote command; startSshSession defaults to `sleep 600`. */
  command?: string;
  tty?: boolean;
  /** sshRun kills ssh after this long (default 20 s). */
  timeoutMs?: number;
  /** Extra `-o` values like 'PubkeyAcceptedAlgorithms=+ssh-rsa'; they win over the defaults (ssh takes the first value). */
  extraOptions?: string[];
}

export interface SshSession {
  child: ChildProcess;
  /**
   * Resolves when ssh exits. Bounded: if the session is still open after `timeoutMs` (default 20 s), the local ssh
   * client is killed and the promise rejects saying so, instead of hanging until the test's own timeout.
   */
  wait(timeoutMs?: number): Promise<ExecResult>;
  /** Resolves once the session's stdout contains text (e.g. from `echo ready; sleep 600`). */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  kill(): void;
}

export function sshArgs(host: { host: string; port: number }, options: SshLoginOptions): string[] {
  const args = ['-F', '/dev/null'];
  for (const option of options.extraOptions ?? []) args.push('-o', option);
  args.push(
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', // hides "Permanently added ... to the list of known hosts"; auth failures still show
    '-o', 'IdentitiesOnly=yes',
    '-o', `IdentityFile=${options.keyPath}`,
  );
  if (options.certPath) args.push('-o', `CertificateFile=${options.certPath}`);
  args.push('-o', 'ConnectTimeout=5', '-p', String(host.port));
  if (options.tty) args.push('-tt');
  args.push(`${options.user}@${host.host}`);
  if (options.command !== undefined) args.push('--', options.command);
  return args;
}

/** How long SshSession.wait() waits for ssh to exit: well inside the suite's 30 s test timeout. */
export const DEFAULT_WAIT_MS = 20_000;

export function startSshSession(host: { host: string; port: number }, options: SshLoginOptions): SshSession {
  return spawnSsh(host, { ...options, command: options.command ?? 'sleep 600' });
}

function spawnSsh(host: { host: string; port: number }, options: SshLoginOptions): SshSession {
  const child = spawn('ssh', sshArgs(host, options), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr }));
  });
  const target = `${options.user}@${host.host}:${host.port}`;
  return {
    child,
    wait: (timeoutMs = DEFAULT_WAIT_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          reject(new Error(`the ssh session of ${target} was still open after ${timeoutMs} ms: the server did not end it `
            + `(were the user's processes killed?); stdout: ${stdout}; stderr: ${stderr}`));
        }, timeoutMs);
      });
      return Promise.race([done, late]).finally(() => clearTimeout(timer));
    },
    waitForOutput: (text, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!stdout.includes(text)) return false;
          cleanup();
          resolve();
          return true;
        };
        const onExit = (): void => {
          if (check()) return;
          cleanup();
          reject(new Error(`ssh exited before printing ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; stdout: ${stdout}; stderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.off('close', onExit);
        };
        if (check()) return;
        child.stdout.on('data', check);
        child.on('close', onExit);
      }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export async function sshRun(host: { host: string; port: number }, options: SshLoginOptions): Promise<ExecResult> {
  const session = spawnSsh(host, options);
  const limit = options.timeoutMs ?? 20_000;
  const timer = setTimeout(() => session.kill(), limit);
  try {
    // sshRun's own limit kills ssh and returns its exit; the wait's bound is only a backstop past it.
    return await session.wait(limit + 5_000);
  } finally {
    clearTimeout(timer);
  }
}

export async function generateUserKey(
  dir: string,
  type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519',
): Promise<{ privateKeyPath: string; publicKeyPath: string; publicKeyLine: string }> {
  const privateKeyPath = join(dir, `id_${type}_${randomBytes(4).toString('hex')}`);
  const result = await startKeygen(['-q', '-t', type, '-N', '', '-C', `test-${type}`, '-f', privateKeyPath]);
  if (result.code !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
  const publicKeyPath = `${privateKeyPath}.pub`;
  return { privateKeyPath, publicKeyPath, publicKeyLine: (await readFile(publicKeyPath, 'utf8')).trim() };
}

function startKeygen(args: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-keygen', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: '', stderr }));
  });
}
