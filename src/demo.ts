// `keyway demo`: the whole story on the console, with no chat workspace. Throwaway sshd test hosts in their own
// namespaces, a temporary data directory with a generated CA, an access file shaped like the example, and the
// same code paths `keyway start` uses: request → approval → provision → certificate → ssh → expiry → refused → cleanup.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { initCaKey } from './ca/ca-key.js';
import { loadAccessConfig } from './config/load.js';
import { findServer } from './core/policy.js';
import { createEngine } from './access/engine.js';
import { provisionRequest } from './access/grant-runner.js';
import { registerPublicKey } from './access/people.js';
import { submitRequest, voteOnRequest } from './access/requests.js';
import { startScheduler } from './access/scheduler.js';
import { composeKeyway } from './compose.js';
import { bootstrapServer, describeBootstrap } from './targets/ssh/bootstrap.js';
import { certificateOf } from './targets/ssh/certificates.js';
import { listAudit, verifyAuditChain } from './store/audit-log.js';
import { grantsOfRequest } from './store/grants.js';
import { openDatabase } from './store/open-database.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { startTestHosts, type TestHost } from '../test/helpers/test-host.js';
import { generateUserKey, sshRun } from '../test/helpers/ssh-client.js';

export interface DemoOptions {
  say: (line: string) => void;
  /** Seconds of access the demo request asks for (the demo waits for it to run out). */
  accessSeconds?: number;
}

function demoConfig(hosts: TestHost[]): string {
  // One integration per host, each with its own connector key, as production and staging would have.
  const integrations = hosts.map((h, i) => `  - name: demo-${i + 1}-linux
    servers: ${JSON.stringify([{ name: `demo-${i + 1}`, host: h.host, port: h.port, user: h.connectorUser, tags: { env: 'demo' } }])}
    secret: { file: ${JSON.stringify(h.connectorKeyPath)} }
    cleanup_after_days: 0
    custom_access_details: "This is a demo host; it disappears when the demo ends."
    owners: [platform@example.com]
    allow_privileged_groups: true   # the demo grants adm (read the logs), as the example config does`).join('\n');
  return `# Written by keyway demo: config/access.example.yaml's shape, pointed at throwaway test hosts.
integrations:
${integrations}
people:
  - { email: henk@example.com, linux_user: devhba }
flows:
  - name: demo-debug
    requesters: { emails: [henk@example.com] }
    resources: { integration: demo-1-linux, tags: { env: demo } }
    grant_groups: [adm]
    approvers: { emails: [lead@example.com] }
    default_duration: 30s
    max_duration: 1h
    request_ttl: 10m
`;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { say } = options;
  const accessSeconds = options.accessSeconds ?? 15;
  if (process.platform !== 'linux') throw new Error('keyway demo needs Linux: it starts sshd test hosts in Linux namespaces.');
  const notReady = rootTestSkipReasonSafe();
  if (notReady) throw new Error(`keyway demo cannot run here: ${notReady}. Run it as root on a Linux machine with openssh-server installed (apt-get install -y openssh-server openssh-client sudo).`);

  const dir = mkdtempSync(join(tmpdir(), 'keyway-demo-'));
  const hosts: TestHost[] = [];
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    say('1. Two throwaway servers: real OpenSSH sshd test hosts on loopback, each in its own namespaces.');
    hosts.push(...(await startTestHosts(2, { name: 'demo' })));
    for (const [i, h] of hosts.entries()) say(`   demo-${i + 1}: ${h.connectorUser}@${h.host}:${h.port}`);

    const dataDir = join(dir, 'data');
    const configPath = join(dir, 'access.yaml');
    writeFileSync(configPath, demoConfig(hosts));
    const config = loadAccessConfig(configPath);
    const { caKey } = initCaKey(dataDir);
    say(`2. A data directory with SQLite and a generated CA (${caKey.fingerprint}); the access file ${configPath}.`);

    const db = openDatabase(dataDir);
    cleanups.push(() => void db.close());
    const logger = pino({ level: 'silent' });
    const keyway = composeKeyway({ env: {}, db, config: () => config, ca: caKey, logger });
    cleanups.push(() => keyway.close());
    const { ctx, runner } = keyway;
    const pool = keyway.pool!;

    say('3. keyway hosts bootstrap: CA key, principals directory, sshd drop-in, keyway-users group.');
    for (const i of hosts.keys()) {
      const ref = findServer(config, `demo-${i + 1}`)!;
      say(`   demo-${i + 1}: ${describeBootstrap(await bootstrapServer(pool, ref, caKey.publicKeyLine))}`);
    }

    const engine = createEngine(runner, []);
    const userKey = await generateUserKey(dir);
    registerPublicKey(ctx, 'henk@example.com', userKey.publicKeyLine, 'demo');
    say(`4. henk@example.com registers their public key (/ssh-access key …); their Linux user is devhba.`);

    const asked = submitRequest(ctx, { email: 'henk@example.com' }, { servers: ['demo-1'], duration: accessSeconds, reason: 'demo: INC-1234' }, 'demo');
    say(`5. /ssh-access request demo-1 ${accessSeconds}s demo: INC-1234  →  request ${asked.request.id}, waiting for ${asked.request.approvers.emails.join(', ')}.`);

    const decided = voteOnRequest(ctx, asked.request.id, { email: 'lead@example.com' }, 'approve');
    say(`6. lead@example.com clicks Approve → ${decided.kind}; the clock starts now.`);
    const grants = await provisionRequest(runner, asked.request.id);
    say(`   grant on demo-1: ${grants[0]!.state} (user devhba created, principal ${grants[0]!.principal} written).`);
    const cert = certificateOf(ctx, asked.request.id);
    if (!cert) throw new Error(`no certificate was issued: ${grants.map((g) => `${g.server} ${g.state} ${g.lastError ?? ''}`).join('; ')}`);
    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, cert.line + '\n');
    say(`7. The certificate (serial ${cert.serial}), valid until ${new Date(cert.validBefore * 1000).toISOString()}, saved as ${certPath}.`);

    const login = { user: 'devhba', keyPath: userKey.privateKeyPath, certPath, command: 'id -un; hostname' };
    const ok = await sshRun(hosts[0]!, login);
    if (ok.code !== 0) throw new Error(`ssh with the certificate failed: ${ok.stderr.trim()}`);
    say(`8. ssh -i ${userKey.privateKeyPath} devhba@${hosts[0]!.host} -p ${hosts[0]!.port}  →  ${ok.stdout.trim().replace(/\n/g, ' on ')}`);
    const other = await sshRun(hosts[1]!, login);
    say(`   the same certificate on demo-2 (not in the request): ${other.code === 0 ? 'ALLOWED — this is a bug' : 'refused'}`);
    if (other.code === 0) throw new Error('a certificate for demo-1 opened demo-2');

    const scheduler = startScheduler(engine);
    cleanups.push(() => scheduler.stop());
    say(`9. Waiting for the access to expire (${accessSeconds}s; the sweeper's timer fires at expiry)…`);
    const deadline = Date.now() + (accessSeconds + 30) * 1000;
    while (grantsOfRequest(db, asked.request.id)[0]!.state !== 'revoked' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const [after] = grantsOfRequest(db, asked.request.id);
    if (after!.state !== 'revoked') throw new Error(`the grant is ${after!.state} after expiry: ${after!.lastError ?? ''}`);
    say(`   revoked ${((after!.revokedAt! - after!.expiresAt) / 1000).toFixed(1)} s after expiry.`);
    const refused = await sshRun(hosts[0]!, login);
    if (refused.code === 0) throw new Error('the login still worked after revocation');
    say(`10. The same ssh login now: refused (${refused.stderr.trim().split('\n').pop()}).`);

    await scheduler.sweepSoon();
    const gone = await hosts[0]!.exec('id devhba');
    if (gone.code === 0) throw new Error('the user devhba is still on demo-1 after cleanup');
    say(`11. Cleanup (cleanup_after_days: 0): user devhba deleted from demo-1.`);

    const chain = verifyAuditChain(db);
    say(`12. The audit log: ${listAudit(db, { limit: 1000 }).map((e) => e.action).join(', ')}.`);
    say(`    keyway audit verify: ${chain.ok ? `OK, ${chain.entries} entries` : 'BROKEN'}.`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await Promise.all(hosts.map((h) => h.stop()));
    rmSync(dir, { recursive: true, force: true });
    say(existsSync(dir) ? `Could not remove ${dir}.` : 'Done: test hosts stopped, temporary files removed.');
  }
}

/** The test helper throws under CI=true instead of returning a reason; the demo always wants the reason. */
function rootTestSkipReasonSafe(): string | undefined {
  try {
    return rootTestSkipReason();
  } catch (error) {
    return (error as Error).message;
  }
}
