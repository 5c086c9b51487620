// A test host: a real OpenSSH sshd on a loopback port inside its own mount, UTS and PID namespaces,
// with private copies of /etc, /home and /run (see docs "Testing against real things").
// Imported by the product's `keyway demo` command too, so no test-framework imports here.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface TestHost {
  name: string;
  host: string;
  port: number;
  connectorUser: string;
  /** Path of the connector's private key (OpenSSH format), mode 0600. */
  connectorKeyPath: string;
  connectorPrivateKey: string;
  /** The host's ed25519 public key line, e.g. 'ssh-ed25519 AAAA... host-1'. */
  hostPublicKey: string;
  dir: string;
  /** PID of the `unshare` process holding the namespaces (in the machine's PID namespace); gone after stop(). */
  unsharePid: number;
  /** Runs a bash command as root inside the host's namespaces (nsenter -t <pid> -m -u -p). */
  exec(command: string): Promise<ExecResult>;
  /** sshd's stderr so far (auth log lines with LogLevel VERBOSE). */
  sshdLog(): string;
  /** Stops sshd only (the namespace stays, users and files stay): for "server is down" tests. */
  stopSshd(): Promise<void>;
  /** Starts sshd again on the same port (e.g. after stopSshd, or to reload config: stop+start). */
  startSshd(): Promise<void>;
  /** Tears everything down. Idempotent. */
  stop(): Promise<void>;
}

export interface TestHostOptions { name?: string; connectorUser?: string; extraSshdConfig?: string }

const SSHD_READY_TIMEOUT_MS = 10_000;
const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C' };

// Runs as PID 1 of the new PID namespace. $1 = host dir, $2 = host name, $3 = connector user.
// It stays alive reading stdin (a pipe from this Node process): if Node dies without stopping the host,
// the pipe reaches EOF, this init removes the dir and exits, and the kernel kills everything in the namespace.
const SETUP_SCRIPT = String.raw`
set -euo pipefail
d=$1 name=$2 user=$3
cp -a /etc "$d/etc"
rm -f "$d"/etc/ssh/ssh_host_*
cp -a /home "$d/home"
cp -a /run "$d/run"
mkdir "$d/log"
touch "$d/log/lastlog" "$d/log/wtmp" "$d/log/btmp" "$d/run/utmp"
mount --bind "$d/etc" /etc
mount --bind "$d/home" /home
mount --bind "$d/run" /run
mount --bind "$d/log" /var/log
# Never write to the machine's own /etc: prove the bind mount took effect first.
[ "$(stat -c %d:%i /etc)" = "$(stat -c %d:%i "$d/etc")" ] || { echo "bind mount of /etc failed" >&2; exit 1; }
hostname "$name"
echo "127.0.1.1 $name" >> /etc/hosts
rm -f /etc/nologin /run/nologin /run/sshd.pid
mkdir -p /run/sshd && chmod 0755 /run/sshd
ssh-keygen -q -t ed25519 -N '' -C "$name" -f /etc/ssh/ssh_host_ed25519_key
rm -rf /etc/ssh/sshd_config.d && mkdir /etc/ssh/sshd_config.d
sed -i -E '/^[[:space:]]*(Port|ListenAddress|HostKey|PidFile|Include)[[:space:]]/Id' /etc/ssh/sshd_config
sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' /etc/ssh/sshd_config
useradd -m -s /bin/bash -p '*' "$user"
install -d -m 0700 -o "$user" -g "$user" "/home/$user/.ssh"
install -m 0600 -o "$user" -g "$user" "$d/connector_key.pub" "/home/$user/.ssh/authorized_keys"
echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" > "/etc/sudoers.d/$user"
chmod 0440 "/etc/sudoers.d/$user"
echo READY
while read -r _; do :; done
rm -rf "$d"
`;

let hostSeq = 0;
const running = new Set<HostImpl>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const host of running) {
      // SIGKILL to the PID namespace's init kills every process inside it.
      tryKill(host.innerPid, 'SIGKILL');
      tryKill(host.unshare.pid, 'SIGKILL');
      rmSync(host.dir, { recursive: true, force: true });
    }
  });
}

function tryKill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function run(command: string, args: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: ENV, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? 128 + (signal ? constants.signals[signal] : 0), stdout, stderr }));
  });
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function exited(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function exitedWithin(child: ChildProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([exited(child).then(() => true as const), timeout]);
  clearTimeout(timer);
  return result;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true once something on the port sends an SSH banner. */
function sshBannerSeen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('SSH-2.0')) done(true);
    });
    socket.on('close', () => done(false));
  });
}

function startNamespace(dir: string, name: string, user: string): Promise<{ unshare: ChildProcess; innerPid: number }> {
  const script = join(dir, 'init.sh');
  writeFileSync(script, SETUP_SCRIPT);
  const unshare = spawn(
    'unshare',
    ['--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--kill-child',
      'bash', script, dir, name, user],
    { stdio: ['pipe', 'pipe', 'pipe'], env: ENV, cwd: '/' },
  );
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      tryKill(unshare.pid, 'SIGKILL');
      reject(new Error(`test host ${name}: namespace setup failed (${why})\n${stderr}`));
    };
    unshare.on('error', (err) => fail(err.message));
    unshare.on('exit', (code, signal) => fail(`exited with ${code ?? signal}`));
    unshare.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    unshare.stdout?.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!stdout.includes('READY')) return;
      unshare.removeAllListeners('exit');
      const innerPid = childPids(unshare.pid ?? 0)[0];
      if (innerPid === undefined) fail('cannot find the namespace init process');
      else resolve({ unshare, innerPid });
    });
  });
}

export async function startTestHost(options: TestHostOptions = {}): Promise<TestHost> {
  installExitHandler();
  const name = options.name ?? `host-${++hostSeq}`;
  const connectorUser = options.connectorUser ?? 'keyway';
  const dir = mkdtempSync(join(tmpdir(), `keyway-${name}-`));
  const connectorKeyPath = join(dir, 'connector_key');
  let host: HostImpl | undefined;
  try {
    const keygen = await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${connectorUser}@keyway`, '-f', connectorKeyPath]);
    if (keygen.code !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr}`);
    const { unshare, innerPid } = await startNamespace(dir, name, connectorUser);
    host = new HostImpl(name, dir, connectorUser, connectorKeyPath, unshare, innerPid, options.extraSshdConfig ?? '');
    running.add(host);
    await host.startFirst();
    return host;
  } catch (err) {
    await host?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

class HostImpl implements TestHost {
  readonly host = '127.0.0.1';
  port = 0;
  readonly connectorPrivateKey: string;
  readonly hostPublicKey: string;
  private log = '';
  private sshd: ChildProcess | undefined;
  private stopping: Promise<void> | undefined;
  private readonly nsenter: string[];
  readonly unsharePid: number;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly connectorUser: string,
    readonly connectorKeyPath: string,
    readonly unshare: ChildProcess,
    readonly innerPid: number,
    private readonly extraSshdConfig: string,
  ) {
    this.connectorPrivateKey = readFileSync(connectorKeyPath, 'utf8');
    this.hostPublicKey = readFileSync(join(dir, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim();
    this.unsharePid = unshare.pid ?? 0;
    this.nsenter = ['-t', String(innerPid), '-m', '-u', '-p', '--'];
  }

  exec(command: string): Promise<ExecResult> {
    if (this.stopping) return Promise.reject(new Error(`test host ${this.name} is stopped`));
    return run('nsenter', [...this.nsenter, 'bash', '-c', command]);
  }

  sshdLog(): string {
    return this.log;
  }

  async startFirst(): Promise<void> {
    // The free port can be taken by someone else between probing and sshd binding it: retry with another.
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      const configDir = join(this.dir, 'etc/ssh/sshd_config.d');
      writeFileSync(join(configDir, '00-test-host.conf'), `Port ${this.port}\nListenAddress 127.0.0.1\n`
        + 'HostKey /etc/ssh/ssh_host_ed25519_key\nPidFile /run/sshd.pid\nLogLevel VERBOSE\n');
      if (this.extraSshdConfig) writeFileSync(join(configDir, '01-test-host-extra.conf'), `${this.extraSshdConfig}\n`);
      try {
        return await this.startSshd();
      } catch (err) {
        if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
      }
    }
  }

  async startSshd(): Promise<void> {
    if (this.stopping) throw new Error(`test host ${this.name} is stopped`);
    if (this.sshd && isRunning(this.sshd)) throw new Error(`test host ${this.name}: sshd is already running`);
    const logStart = this.log.length;
    const child = spawn('nsenter', [...this.nsenter, '/usr/sbin/sshd', '-D', '-e'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: ENV, cwd: '/' });
    this.sshd = child;
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.log += s));
    child.on('error', (err) => (this.log += `spawn error: ${err.message}\n`));
    const deadline = Date.now() + SSHD_READY_TIMEOUT_MS;
    while (Date.now() < deadline && isRunning(child)) {
      if (await sshBannerSeen(this.port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const alive = isRunning(child);
    if (alive) await this.stopSshd();
    throw new Error(`test host ${this.name}: sshd did not accept connections on 127.0.0.1:${this.port} `
      + `(${alive ? 'timed out' : `exited with ${child.exitCode ?? child.signalCode}`}); sshd stderr:\n${this.log.slice(logStart)}`);
  }

  async stopSshd(): Promise<void> {
    const child = this.sshd;
    if (!child?.pid) return;
    // nsenter forks sshd into the namespace and waits for it: signal sshd itself (nsenter's child).
    for (const pid of childPids(child.pid)) tryKill(pid, 'SIGTERM');
    if (!(await exitedWithin(child, 5000))) {
      for (const pid of childPids(child.pid)) tryKill(pid, 'SIGKILL');
      tryKill(child.pid, 'SIGKILL');
      await exited(child);
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      tryKill(this.innerPid, 'SIGKILL');
      if (!(await exitedWithin(this.unshare, 5000))) {
        tryKill(this.unshare.pid, 'SIGKILL');
        await exited(this.unshare);
      }
      if (this.sshd) await exited(this.sshd);
      running.delete(this);
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

export async function startTestHosts(count: number, options: TestHostOptions = {}): Promise<TestHost[]> {
  const prefix = options.name ?? 'host';
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) => startTestHost({ ...options, name: `${prefix}-${i + 1}` })),
  );
  const hosts = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await Promise.all(hosts.map((h) => h.stop()));
    throw failure.reason;
  }
  return hosts;
}

export async function stopAllTestHosts(): Promise<void> {
  await Promise.all([...running].map((h) => h.stop()));
}
