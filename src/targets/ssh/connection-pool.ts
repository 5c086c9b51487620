// One ssh2 connection per server, opened on first use, shared by every command to that server and closed when idle.
// Host keys are pinned on first contact and checked on every later one; commands have a timeout; at most
// maxChannelsPerServer channels (default 6; sshd's MaxSessions is 10) run on a connection and maxConcurrentCommands
// (default 16) overall.
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { Logger } from 'pino';
import { OutageError, UserError } from '../../core/errors.js';
import type { ServerRef } from '../../core/model.js';
import { fingerprintOfKeyBlob } from './host-key-fingerprint.js';
import type { RemoteCommand } from './remote-commands.js';
import { Semaphore } from './semaphore.js';

export interface HostKeyPins {
  pinned(ref: ServerRef): string | undefined;
  /** Pins the key seen on first contact, unless one was pinned meanwhile; returns the fingerprint pinned now. */
  pinFirstContact(ref: ServerRef, fingerprint: string): string;
}

export interface ConnectionPoolOptions {
  /** The connector's private key text (OpenSSH or PEM) for a server. Never logged. */
  connectorKey(ref: ServerRef): string;
  hostKeys: HostKeyPins;
  logger?: Logger;
  idleTimeoutMs?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  maxChannelsPerServer?: number;
  maxConcurrentCommands?: number;
}

export interface RemoteResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface Connection {
  key: string;
  ref: ServerRef;
  client: Client;
  ready: Promise<void>;
  isReady: boolean;
  busy: number;
  idleTimer: NodeJS.Timeout | undefined;
  closed: Promise<void>;
}

const DEFAULTS = {
  idleTimeoutMs: 60_000,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 60_000,
  // sshd allows MaxSessions (10) per connection but frees a finished session's slot a moment late; 8 busy channels
  // were seen to hit the limit, 6 leave room (and a refused channel is retried).
  maxChannelsPerServer: 6,
  maxConcurrentCommands: 16,
};
const MAX_OUTPUT_CHARS = 1_000_000;
const MAX_CHANNEL_OPEN_ATTEMPTS = 6;

/** A channel could not be opened: the command never ran. */
class ChannelOpenError extends Error {
  constructor(message: string, readonly connectionGone: boolean) {
    super(message);
  }
}

export function describeServer(ref: ServerRef): string {
  return `${ref.server.name} (${ref.server.user}@${ref.server.host}:${ref.server.port})`;
}

export class ConnectionPool {
  private readonly connections = new Map<string, Connection>();
  private readonly serverSlots = new Map<string, Semaphore>();
  private readonly commandSlots: Semaphore;
  private readonly settings: typeof DEFAULTS;
  private opened = 0;
  private closing = false;

  constructor(private readonly options: ConnectionPoolOptions) {
    this.settings = { ...DEFAULTS, ...definedOnly(options) };
    if (this.settings.maxChannelsPerServer > 9) throw new RangeError('maxChannelsPerServer must stay below sshd\'s MaxSessions (10)');
    this.commandSlots = new Semaphore(this.settings.maxConcurrentCommands);
  }

  /** SSH connections opened since the pool was created. */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** How long a command may run unless run() is given another limit. */
  get commandTimeoutMs(): number {
    return this.settings.commandTimeoutMs;
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /**
   * Runs the command and resolves with its exit code and output, whatever the code. Rejects with a UserError when the
   * server cannot be reached ('host_unreachable'), its host key changed ('host_key_mismatch') or the command timed out.
   */
  async run(ref: ServerRef, command: RemoteCommand, options: { timeoutMs?: number } = {}): Promise<RemoteResult> {
    if (this.closing) throw new Error('the connection pool is closed');
    const key = keyOf(ref);
    let slots = this.serverSlots.get(key);
    if (!slots) this.serverSlots.set(key, (slots = new Semaphore(this.settings.maxChannelsPerServer)));
    // The server's slot first: waiting for a busy server must not hold one of the slots other servers need.
    const releaseServer = await slots.acquire();
    try {
      const releaseCommand = await this.commandSlots.acquire();
      try {
        return await this.runWithRetry(ref, command, options.timeoutMs ?? this.settings.commandTimeoutMs);
      } finally {
        releaseCommand();
      }
    } finally {
      releaseServer();
    }
  }

  /**
   * Connects to the server accepting whatever host key it presents (or only `expectedFingerprint`), and returns the
   * key's fingerprint once the handshake and login succeeded. For `keyway hosts trust`; the caller pins it.
   */
  async presentedHostKey(ref: ServerRef, expectedFingerprint?: string): Promise<string> {
    const existing = this.connections.get(keyOf(ref));
    if (existing) this.discard(existing);
    let presented: string | undefined;
    const connection = this.connect(ref, (fingerprint) => {
      presented = fingerprint;
      return expectedFingerprint === undefined || fingerprint === expectedFingerprint;
    }, expectedFingerprint);
    try {
      await connection.ready;
    } catch (error) {
      if (error instanceof UserError && error.code === 'host_key_mismatch') {
        throw new UserError('host_key_mismatch', `Server ${ref.server.name} (${ref.server.host}:${ref.server.port}) presented the host key ${presented}, not ${expectedFingerprint}: nothing was pinned. Check the fingerprint on the server with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub.`);
      }
      throw error;
    } finally {
      this.discard(connection);
    }
    if (presented === undefined) throw new Error(`no host key was presented by ${describeServer(ref)}`);
    return presented;
  }

  /** Closes every connection; the pool cannot be used afterwards. */
  async close(): Promise<void> {
    this.closing = true;
    const all = [...this.connections.values()];
    for (const connection of all) this.discard(connection);
    await Promise.all(all.map((c) => c.closed));
  }

  private async runWithRetry(ref: ServerRef, command: RemoteCommand, timeoutMs: number): Promise<RemoteResult> {
    for (let attempt = 1; ; attempt++) {
      const connection = this.connections.get(keyOf(ref)) ?? this.openConnection(ref);
      connection.busy++;
      if (connection.idleTimer) clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
      try {
        await connection.ready;
        return await this.exec(connection, command, timeoutMs);
      } catch (error) {
        // The channel never opened, so the command never ran: it is safe to try again.
        if (!(error instanceof ChannelOpenError)) throw error;
        if (attempt >= MAX_CHANNEL_OPEN_ATTEMPTS) {
          throw new OutageError('host_unreachable', `Cannot run commands on ${describeServer(ref)}: ${error.message} (${attempt} attempts).`);
        }
        if (this.connections.get(connection.key) === connection && !error.connectionGone) {
          // sshd frees a finished session's slot only a moment after its channel closes, so a busy connection can
          // briefly refuse a new one ("no more sessions"): wait and open it on the same connection.
          await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        } else {
          this.discard(connection); // the connection died since its last command: the next attempt opens a new one
        }
      } finally {
        connection.busy--;
        if (connection.busy === 0 && this.connections.get(connection.key) === connection) {
          connection.idleTimer = setTimeout(() => this.discard(connection), this.settings.idleTimeoutMs);
          connection.idleTimer.unref();
        }
      }
    }
  }

  private openConnection(ref: ServerRef): Connection {
    const pinned = this.options.hostKeys.pinned(ref);
    let presented: string | undefined;
    const connection = this.connect(ref, (fingerprint) => {
      presented = fingerprint;
      return pinned === undefined || fingerprint === pinned;
    }, pinned);
    this.connections.set(connection.key, connection);
    connection.ready = connection.ready.then(() => {
      // Pinned only after the handshake proved the server holds the key and the connector logged in.
      if (pinned === undefined && presented !== undefined) {
        const nowPinned = this.options.hostKeys.pinFirstContact(ref, presented);
        if (nowPinned !== presented) throw hostKeyMismatch(ref, nowPinned, presented);
        this.options.logger?.info({ server: ref.server.name, fingerprint: presented }, 'pinned host key on first contact');
      }
    }).catch((error: unknown) => {
      this.discard(connection);
      throw error;
    });
    return connection;
  }

  private connect(ref: ServerRef, acceptHostKey: (fingerprint: string) => boolean, expected: string | undefined): Connection {
    const client = new Client();
    let refused: string | undefined;
    let closedResolve!: () => void;
    const connection: Connection = {
      key: keyOf(ref), ref, client, isReady: false, busy: 0, idleTimer: undefined,
      ready: Promise.resolve(), closed: new Promise<void>((resolve) => (closedResolve = resolve)),
    };
    connection.ready = new Promise<void>((resolve, reject) => {
      client.once('ready', () => {
        connection.isReady = true;
        resolve();
      });
      client.on('error', (error: Error & { level?: string }) => {
        if (connection.isReady) {
          this.options.logger?.warn({ server: ref.server.name, err: error.message }, 'ssh connection failed');
          return;
        }
        reject(refused !== undefined ? hostKeyMismatch(ref, expected, refused) : unreachable(ref, error));
      });
      client.on('close', () => {
        if (!connection.isReady) reject(unreachable(ref, new Error('the connection closed during the handshake')));
        if (connection.idleTimer) clearTimeout(connection.idleTimer);
        if (this.connections.get(connection.key) === connection) this.connections.delete(connection.key);
        this.options.logger?.debug({ server: ref.server.name }, 'ssh connection closed');
        closedResolve();
      });
      let privateKey: string;
      try {
        privateKey = this.options.connectorKey(ref);
      } catch (error) {
        closedResolve();
        reject(error);
        return;
      }
      const config: ConnectConfig = {
        host: ref.server.host,
        port: ref.server.port,
        username: ref.server.user,
        privateKey,
        readyTimeout: this.settings.connectTimeoutMs,
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer): boolean => {
          const fingerprint = fingerprintOfKeyBlob(key);
          if (acceptHostKey(fingerprint)) return true;
          refused = fingerprint;
          return false;
        },
      };
      this.opened++;
      this.options.logger?.debug({ server: ref.server.name }, 'opening ssh connection');
      client.connect(config);
      // Every command is a few small packets each way (channel open, exec, exit status, close): with Nagle's algorithm
      // each waited for the server's delayed ACK, ~85 ms per command on a test host against ~5 ms without.
      client.setNoDelay(true);
    });
    // A failed connection leaves the pool, so that the next command tries again.
    connection.ready.catch(() => this.discard(connection));
    return connection;
  }

  private exec(connection: Connection, command: RemoteCommand, timeoutMs: number): Promise<RemoteResult> {
    const { ref, client } = connection;
    const started = Date.now();
    return new Promise<RemoteResult>((resolve, reject) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        // ssh2's exec has no timeout, and closing the channel does not stop the remote process: drop the connection.
        channel?.close();
        this.discard(connection);
        reject(new UserError('remote_command_failed', `${capitalise(command.purpose)} on ${describeServer(ref)} did not finish within ${timeoutMs / 1000} s; the connection was closed.`));
      }, timeoutMs);
      const failToOpen = (error: Error, connectionGone: boolean): void => {
        clearTimeout(timer);
        if (!settled) reject(new ChannelOpenError(error.message, connectionGone));
        settled = true;
      };
      const onChannel = (error: Error | undefined, opened: ClientChannel): void => {
        if (error) return failToOpen(error, false);
        channel = opened;
        if (settled) return void opened.close();
        opened.end(); // the scripts read nothing from stdin
        let stdout = '';
        let stderr = '';
        let exitCode: number | undefined;
        opened.setEncoding('utf8');
        opened.stderr.setEncoding('utf8');
        opened.on('data', (text: string) => (stdout = (stdout + text).slice(-MAX_OUTPUT_CHARS)));
        opened.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-MAX_OUTPUT_CHARS)));
        opened.on('exit', (code: number | null, signal?: string) => {
          exitCode = code ?? (signal ? 128 : 255);
        });
        opened.on('close', () => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          if (exitCode === undefined) {
            reject(new OutageError('host_unreachable', `The connection to ${describeServer(ref)} was lost while running: ${command.purpose}.`));
            return;
          }
          this.options.logger?.debug({ server: ref.server.name, purpose: command.purpose, code: exitCode, ms: Date.now() - started }, 'remote command finished');
          resolve({ code: exitCode, stdout, stderr });
        });
      };
      try {
        client.exec(command.text, onChannel);
      } catch (error) {
        failToOpen(error as Error, true); // ssh2 throws 'Not connected' when the socket is already gone
      }
    });
  }

  private discard(connection: Connection): void {
    if (connection.idleTimer) clearTimeout(connection.idleTimer);
    connection.idleTimer = undefined;
    if (this.connections.get(connection.key) === connection) this.connections.delete(connection.key);
    connection.client.end();
    // A server that does not answer the disconnect must not keep close() waiting.
    setTimeout(() => connection.client.destroy(), 2000).unref();
  }
}

function keyOf(ref: ServerRef): string {
  return `${ref.integration.name}\u0000${ref.server.name}`;
}

function definedOnly(options: ConnectionPoolOptions): Partial<typeof DEFAULTS> {
  const result: Partial<typeof DEFAULTS> = {};
  for (const name of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    const value = options[name];
    if (value !== undefined) result[name] = value;
  }
  return result;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function hostKeyMismatch(ref: ServerRef, pinned: string | undefined, presented: string): UserError {
  return new UserError(
    'host_key_mismatch',
    `The host key of server ${ref.server.name} (${ref.server.host}:${ref.server.port}) has changed: Keyway pinned ${pinned ?? 'another key'} but the server presented ${presented}. `
      + `Keyway will not connect. If the server was reinstalled, confirm the new key on the server (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and run \`keyway hosts trust ${ref.server.name}\`.`,
  );
}

function unreachable(ref: ServerRef, error: Error & { level?: string }): OutageError {
  const reason = error.level === 'client-authentication'
    ? `the server refused the connector key for ${ref.server.user} (${error.message}): check the integration's secret and the connector's authorized_keys`
    : error.message;
  return new OutageError('host_unreachable', `Cannot reach server ${describeServer(ref)}: ${reason}.`);
}
