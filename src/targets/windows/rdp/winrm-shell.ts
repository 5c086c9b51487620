// The Windows Remote Shell over a WinrmTransport: open a cmd shell, run commands in it (Command, optional Send of
// stdin, Receive until CommandState Done, Signal terminate), and delete it. Every call has a deadline.
import { OutageError, UserError } from '../../../core/errors.js';
import {
  commandEnvelope, commandIdOf, createShellEnvelope, deleteShellEnvelope, readResponse, receiveEnvelope, receivedOutput,
  sendEnvelope, shellIdOf, signalTerminateEnvelope, WsmanFault, type Envelope,
} from './wsman-messages.js';
import { withoutSecret, WinrmTransport, type WinrmTarget } from './winrm-transport.js';
import type { XmlElement } from './xml.js';

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. Never logged, never part of the command line. */
  stdin?: string;
  /** The most a command may take, Receive polls included (default 120 s). */
  deadlineMs?: number;
}

export class WinrmShell {
  private constructor(
    private readonly transport: WinrmTransport,
    private readonly target: WinrmTarget,
    private readonly shellId: string,
  ) {}

  static async open(target: WinrmTarget): Promise<WinrmShell> {
    const transport = new WinrmTransport(target);
    try {
      const body = await call(transport, target, createShellEnvelope(transport.endpoint, operationSeconds(target)));
      return new WinrmShell(transport, target, shellIdOf(body));
    } catch (e) {
      transport.close();
      throw e;
    }
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    const to = this.transport.endpoint;
    const seconds = operationSeconds(this.target);
    const commandId = commandIdOf(await call(this.transport, this.target, commandEnvelope(to, this.shellId, command, args, seconds, options.stdin !== undefined)));
    try {
      if (options.stdin !== undefined) {
        await call(this.transport, this.target, sendEnvelope(to, this.shellId, commandId, Buffer.from(options.stdin, 'utf8'), seconds));
      }
      const deadline = Date.now() + (options.deadlineMs ?? 120_000);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      for (;;) {
        if (Date.now() > deadline) {
          throw new OutageError('host_unreachable', `${command} on ${this.target.host} did not finish within ${options.deadlineMs ?? 120_000} ms.`);
        }
        let body: XmlElement;
        try {
          body = await call(this.transport, this.target, receiveEnvelope(to, this.shellId, commandId, seconds), true);
        } catch (e) {
          if (e instanceof WsmanFault && e.timedOut) continue; // no output yet: poll again
          throw e;
        }
        const output = receivedOutput(body, commandId);
        stdout.push(...output.stdout);
        stderr.push(...output.stderr);
        if (output.exitCode !== undefined) {
          return { exitCode: output.exitCode, stdout: text(stdout), stderr: text(stderr) };
        }
      }
    } finally {
      await call(this.transport, this.target, signalTerminateEnvelope(to, this.shellId, commandId, seconds)).catch(() => undefined);
    }
  }

  /** Deletes the shell on the server and closes the connection; never throws (the shell times out on its own). */
  async close(): Promise<void> {
    try {
      await call(this.transport, this.target, deleteShellEnvelope(this.transport.endpoint, this.shellId, operationSeconds(this.target)));
    } catch {
      // The server drops an idle shell after its IdleTimeout; a failed Delete leaves nothing Keyway must track.
    } finally {
      this.transport.close();
    }
  }
}

/** Opens a shell, runs `work` in it, and deletes the shell whatever happens. */
export async function withShell<T>(target: WinrmTarget, work: (shell: WinrmShell) => Promise<T>): Promise<T> {
  const shell = await WinrmShell.open(target);
  try {
    return await work(shell);
  } finally {
    await shell.close();
  }
}

/** The server's own wait (OperationTimeout) stays well inside our HTTP deadline. */
function operationSeconds(target: WinrmTarget): number {
  return Math.max(1, Math.floor(target.timeoutMs / 1000) - 5);
}

function text(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
}

async function call(transport: WinrmTransport, target: WinrmTarget, message: Envelope, passTimedOut = false): Promise<XmlElement> {
  const answer = await transport.post(message.xml);
  try {
    return readResponse(answer.body, message.messageId);
  } catch (e) {
    if (e instanceof WsmanFault && passTimedOut && e.timedOut) throw e;
    if (e instanceof UserError) throw e;
    const reason = withoutSecret(e instanceof Error ? e.message : String(e), target.password);
    throw new UserError('remote_command_failed', `WinRM on ${target.host}:${target.port} failed: ${reason}`);
  }
}
