// Runs a built command through the pool and judges it by exit code: 0 gives its key=value output lines, anything
// else becomes a coded error naming the server, the command's purpose and what the server said.
import { UserError } from '../../core/errors.js';
import type { ServerRef } from '../../core/model.js';
import { describeServer, type ConnectionPool } from './connection-pool.js';
import type { RemoteCommand } from './remote-commands.js';
import { REMOTE_EXIT } from './remote-scripts.js';

export class RemoteCommandError extends UserError {
  constructor(
    code: 'remote_command_failed' | 'account_not_managed',
    message: string,
    readonly exitCode: number,
    /** sudo -n itself failed: the connector has no passwordless sudo */
    readonly sudoRefused = false,
  ) {
    super(code, message);
  }
}

export interface RemoteOutput {
  /** key=value lines of stdout, each key with its values in order */
  values: Map<string, string[]>;
  first(key: string): string | undefined;
}

const MAX_DETAIL_CHARS = 600;

// What sudo says when it refuses to run anything. Only these: sudo also prints harmless warnings ("sudo: unable to
// resolve host …") before running the script, so a line starting with "sudo: " says nothing about why a script failed.
const SUDO_REFUSALS = [
  /^sudo: a password is required/m,
  /^sudo: (a terminal is required|no tty present)/m,
  /^sudo: sorry, you must have a tty to run sudo/m,
  /^(sudo: )?\S+ is not in the sudoers file/m,
  /^Sorry, user \S+ (is not allowed to execute|may not run sudo)/m,
  /^sudo: (account validation failure|PAM account management error)/m,
];

/** sudo itself refused (no passwordless sudo for the connector), so the script never ran; sudo then exits 1. */
export function isSudoRefusal(exitCode: number, stderr: string): boolean {
  return exitCode === 1 && SUDO_REFUSALS.some((pattern) => pattern.test(stderr));
}

export async function runRemote(pool: ConnectionPool, ref: ServerRef, command: RemoteCommand, options: { timeoutMs?: number } = {}): Promise<RemoteOutput> {
  const result = await pool.run(ref, command, options);
  if (result.code !== 0) throw remoteFailure(ref, command, result.code, result.stderr);
  const values = new Map<string, string[]>();
  for (const line of result.stdout.split('\n')) {
    // A batch script numbers its keys per grant: done.3=1.
    const match = /^([a-z][a-z0-9-]*(?:\.[0-9]+)?)=(.*)$/.exec(line);
    if (!match) continue;
    const [, key = '', value = ''] = match;
    values.set(key, [...(values.get(key) ?? []), value]);
  }
  return { values, first: (key) => values.get(key)?.[0] };
}

export function remoteFailure(ref: ServerRef, command: Pick<RemoteCommand, 'purpose'>, exitCode: number, stderr: string): RemoteCommandError {
  const said = stderr.trim().split('\n').filter(Boolean).join(' / ');
  const detail = said.length > MAX_DETAIL_CHARS ? `…${said.slice(-MAX_DETAIL_CHARS)}` : said || 'no error output';
  const where = `on ${describeServer(ref)}`;
  if (exitCode === REMOTE_EXIT.notManaged || exitCode === REMOTE_EXIT.systemAccount) {
    return new RemoteCommandError('account_not_managed', `Refused to ${command.purpose} ${where}: ${detail}`, exitCode);
  }
  if (isSudoRefusal(exitCode, stderr)) {
    return new RemoteCommandError('remote_command_failed',
      `Could not ${command.purpose} ${where}: the connector ${ref.server.user} cannot run sudo without a password (${detail}). Give it NOPASSWD sudo.`, exitCode, true);
  }
  return new RemoteCommandError('remote_command_failed', `Could not ${command.purpose} ${where} (exit ${exitCode}): ${detail}`, exitCode);
}
