// A real Samba Active Directory domain controller for tests, in its own mount, UTS and PID namespaces with private
// copies of /etc, /run and empty /var/lib/samba, /var/cache/samba, /var/log/samba, listening only on one loopback
// address (127.0.0.x). A small test CA signs its certificate for that address (subjectAltName IP), so clients check
// it with tls_ca_file. Needs root and Debian's samba, ldap-utils (see design.md "Testing against real things").
// Start one per test file: provisioning takes several seconds.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult { code: number; stdout: string; stderr: string }

export interface SambaDc {
  /** The loopback address it listens on. */
  ip: string;
  realm: string;
  baseDn: string;
  /** Administrator's DN and password (the test's own changes go through it). */
  adminDn: string;
  adminPassword: string;
  /** PEM file of the test CA that signed the DC's certificate. */
  caFile: string;
  ldapsUrl: string;
  dir: string;
  /** Runs ldapmodify (-a adds) as Administrator over LDAPS with the LDIF given. */
  modify(ldif: string, add?: boolean): Promise<void>;
  /** ldapsearch as Administrator: the entries as attribute → values maps (dn under 'dn'). */
  search(base: string, filter: string, attributes?: string[], scope?: 'base' | 'one' | 'sub'): Promise<Array<Record<string, string[]>>>;
  /** Whether a simple bind over LDAPS as this user with this password is accepted (a base search proves it). */
  bindWorks(user: string, password: string): Promise<{ ok: boolean; stderr: string }>;
  /** Runs a bash command as root inside the DC's namespaces. */
  exec(command: string): Promise<ExecResult>;
  stop(): Promise<void>;
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C' };
const READY_TIMEOUT_MS = 180_000;
const REALM = 'KEYWAY.TEST';
const BASE_DN = 'DC=keyway,DC=test';
const ADMIN_PASSWORD = 'Adm1n-Passw0rd!kw';

// PID 1 of the new PID namespace. $1 = dir, $2 = address. It stays alive reading stdin (a pipe from Node): when Node
// goes away the pipe closes, it exits, and the kernel kills everything in the namespace.
const INIT_SCRIPT = String.raw`
set -euo pipefail
d=$1 ip=$2
mkdir -p "$d/etc" "$d/lib" "$d/cache" "$d/log" "$d/run" "$d/tls"
cp -a /etc/. "$d/etc/"
cp -a /run/. "$d/run/" 2>/dev/null || true
mount --bind "$d/etc" /etc
mount --bind "$d/run" /run
mkdir -p /var/lib/samba /var/cache/samba /var/log/samba
mount --bind "$d/lib" /var/lib/samba
mount --bind "$d/cache" /var/cache/samba
mount --bind "$d/log" /var/log/samba
# Never write to the machine's own /etc: prove the bind mount took effect first.
[ "$(stat -c %d:%i /etc)" = "$(stat -c %d:%i "$d/etc")" ] || { echo "bind mount of /etc failed" >&2; exit 1; }
hostname dc1
rm -f /etc/samba/smb.conf /etc/krb5.conf
mkdir -p /var/lib/samba/private /run/samba
cd "$d/tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Keyway test CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout dc.key -out dc.csr -subj "/CN=dc1.keyway.test" 2>/dev/null
printf 'subjectAltName=IP:%s,DNS:dc1.keyway.test\nextendedKeyUsage=serverAuth\n' "$ip" > ext.cnf
openssl x509 -req -in dc.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out dc.pem -days 2 -extfile ext.cnf 2>/dev/null
chmod 600 dc.key ca.key
samba-tool domain provision --use-rfc2307 --server-role=dc --dns-backend=SAMBA_INTERNAL \
  --realm=KEYWAY.TEST --domain=KEYWAY --adminpass='${ADMIN_PASSWORD}' --host-name=dc1 --host-ip="$ip" \
  --option="interfaces = $ip/8" --option="bind interfaces only = yes" --option="disable netbios = yes" \
  --option="server services = ldap cldap kdc" \
  --option="tls enabled = yes" --option="tls certfile = $d/tls/dc.pem" --option="tls keyfile = $d/tls/dc.key" \
  --option="tls cafile = $d/tls/ca.pem" >"$d/provision.log" 2>&1 || { cat "$d/provision.log" >&2; exit 1; }
cp /var/lib/samba/private/krb5.conf /etc/krb5.conf
samba --foreground --no-process-group --debug-stdout -M single >"$d/samba.log" 2>&1 &
for _ in $(seq 1 600); do
  if LDAPTLS_CACERT="$d/tls/ca.pem" ldapsearch -H "ldaps://$ip" -x -D 'Administrator@keyway.test' -w '${ADMIN_PASSWORD}' \
    -b '${BASE_DN}' -s base dn >/dev/null 2>&1; then
    echo READY
    while read -r _; do :; done
    exit 0
  fi
  sleep 0.1
done
echo "samba did not answer on ldaps://$ip" >&2
tail -20 "$d/samba.log" >&2
exit 1
`;

function run(command: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...ENV, ...env }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 137, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** A loopback address whose LDAPS port nobody holds (parallel test files each get their own DC). */
async function freeLoopbackAddress(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const ip = `127.0.0.${20 + Math.floor(Math.random() * 200)}`;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(636, ip, () => server.close(() => resolve(true)));
    });
    if (free) return ip;
  }
  throw new Error('no free loopback address for a Samba DC');
}

/** LDIF output of ldapsearch (-LLL, unwrapped) → entries; base64 values (name::) are decoded. */
function parseLdif(text: string): Array<Record<string, string[]>> {
  return text.split(/\n\n+/).map((block) => block.trim()).filter(Boolean).map((block) => {
    const entry: Record<string, string[]> = {};
    for (const line of block.split('\n')) {
      const match = /^([^:]+)(::?) ?(.*)$/.exec(line);
      if (!match) continue;
      const value = match[2] === '::' ? Buffer.from(match[3]!, 'base64').toString('utf8') : match[3]!;
      (entry[match[1]!] ??= []).push(value);
    }
    return entry;
  }).filter((entry) => entry['dn'] !== undefined); // referrals (# refldaps …) are not entries
}

export async function startSambaDc(): Promise<SambaDc> {
  const dir = mkdtempSync(join(tmpdir(), 'keyway-samba-'));
  const ip = await freeLoopbackAddress();
  const script = join(dir, 'init.sh');
  writeFileSync(script, INIT_SCRIPT);
  const unshare: ChildProcess = spawn('unshare', ['--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', '--kill-child', 'bash', script, dir, ip],
    { stdio: ['pipe', 'pipe', 'pipe'], env: ENV, cwd: '/' });
  const onExit = () => {
    unshare.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);
  let stderr = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Samba DC on ${ip} not ready within ${READY_TIMEOUT_MS / 1000} s\n${stderr}`)), READY_TIMEOUT_MS);
      unshare.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      unshare.stdout!.setEncoding('utf8').on('data', (s: string) => {
        if (s.includes('READY')) {
          clearTimeout(timer);
          resolve();
        }
      });
      unshare.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Samba DC setup exited with ${code}\n${stderr}`));
      });
    });
  } catch (error) {
    onExit();
    process.off('exit', onExit);
    throw error;
  }
  unshare.removeAllListeners('exit');
  const caFile = join(dir, 'tls/ca.pem');
  const ldapsUrl = `ldaps://${ip}`;
  const adminDn = `CN=Administrator,CN=Users,${BASE_DN}`;
  const tls = { LDAPTLS_CACERT: caFile };
  let stopping: Promise<void> | undefined;
  return {
    ip, realm: REALM, baseDn: BASE_DN, adminDn, adminPassword: ADMIN_PASSWORD, caFile, ldapsUrl, dir,
    async modify(ldif, add = false) {
      const result = await run('ldapmodify', ['-H', ldapsUrl, '-x', '-D', adminDn, '-w', ADMIN_PASSWORD, ...(add ? ['-a'] : [])], tls, ldif);
      if (result.code !== 0) throw new Error(`ldapmodify failed (${result.code}): ${result.stderr}\n${ldif}`);
    },
    async search(base, filter, attributes = [], scope = 'sub') {
      const result = await run('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-H', ldapsUrl, '-x', '-D', adminDn, '-w', ADMIN_PASSWORD, '-s', scope, '-b', base, filter, ...attributes], tls);
      if (result.code === 32) return [];
      if (result.code !== 0) throw new Error(`ldapsearch failed (${result.code}): ${result.stderr}`);
      return parseLdif(result.stdout);
    },
    async bindWorks(user, password) {
      // Samba 4.17 has no WhoAmI extended operation: a base search as the user proves the bind.
      const result = await run('ldapsearch', ['-LLL', '-H', ldapsUrl, '-x', '-D', user, '-w', password, '-s', 'base', '-b', BASE_DN, 'dn'], tls);
      return { ok: result.code === 0, stderr: result.stderr };
    },
    exec(command) {
      const inner = (unshare.pid && readChild(unshare.pid)) ?? 0;
      return run('nsenter', ['-t', String(inner), '-m', '-u', '-p', '--', 'bash', '-c', command]);
    },
    stop() {
      stopping ??= (async () => {
        const inner = unshare.pid ? readChild(unshare.pid) : undefined;
        if (inner) process.kill(inner, 'SIGKILL');
        unshare.stdin?.end();
        await new Promise<void>((resolve) => {
          if (unshare.exitCode !== null || unshare.signalCode !== null) return resolve();
          const timer = setTimeout(() => { unshare.kill('SIGKILL'); }, 5000);
          unshare.once('exit', () => { clearTimeout(timer); resolve(); });
        });
        process.off('exit', onExit);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

function readChild(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
    const first = text.trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** Undefined when a Samba DC can run here; else why not. Under CI it throws instead: these tests must run there. */
export function sambaSkipReason(): string | undefined {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = 'needs root';
  for (const path of ['/usr/bin/samba-tool', '/usr/sbin/samba', '/usr/bin/ldapsearch', '/usr/bin/ldapmodify', '/usr/bin/openssl']) {
    if (!reason && !existsSync(path)) reason = `${path} is missing (install samba, winbind, krb5-user, ldap-utils)`;
  }
  const ci = process.env.CI;
  if (reason && ci && ci !== 'false' && ci !== '0') throw new Error(`Samba DC tests cannot run (${reason}) but CI=${ci} requires them`);
  return reason;
}
