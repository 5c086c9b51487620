// `keyway demo --cloud`: an EC2-discovered server end to end, on the console. A throwaway sshd test host is listed by a
// local stand-in of the EC2 API (test/helpers/fake-ec2.ts), reached through the real AWS SDK; Keyway refreshes the
// inventory into its snapshot, and the same code paths as `keyway start` take a request for the discovered server
// from the owner its tag names through the certificate, ssh, revoke and refusal.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { initCaKey } from './ca/ca-key.js';
import { loadAccessConfig } from './config/load.js';
import { findServer } from './core/lookup.js';
import { endAccess, provisionRequest } from './access/grant-runner.js';
import { registerPublicKey } from './access/people.js';
import { submitRequest, voteOnRequest } from './access/requests.js';
import { composeKeyway } from './compose.js';
import { cloudInventories } from './targets/cloud/clouds.js';
import { refreshAllInventories } from './targets/cloud/inventory-refresh.js';
import { bootstrapServer, describeBootstrap } from './targets/ssh/bootstrap.js';
import { certificateOf } from './targets/ssh/certificates.js';
import { latestSnapshot } from './store/inventory-snapshots.js';
import { openDatabase } from './store/open-database.js';
import { FAKE_AWS_ENV, startFakeEc2 } from '../test/helpers/fake-ec2.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { startTestHosts, type TestHost } from '../test/helpers/test-host.js';
import { generateUserKey, sshRun } from '../test/helpers/ssh-client.js';

export interface CloudDemoOptions {
  say: (line: string) => void;
}

function cloudDemoConfig(host: TestHost, endpoint: string): string {
  return `# Written by keyway demo --cloud: an aws-ec2 integration pointed at a local stand-in of the EC2 API.
integrations:
  - name: demo-ec2
    type: aws-ec2
    regions: [eu-west-1, us-east-1]
    tags: { env: demo }
    user: ${host.connectorUser}
    endpoint: ${endpoint}
    secret: { file: ${JSON.stringify(host.connectorKeyPath)} }
    owners: [platform@example.com]
    resource_owner_tag: owner
people:
  - { email: henk@example.com, linux_user: devhba }
flows:
  - name: ec2-debug
    requesters: { emails: [henk@example.com] }
    resources: { integration: demo-ec2, tags: { env: demo } }
    approvers: { emails: [lead@example.com] }
    max_duration: 1h
`;
}

export async function runCloudDemo({ say }: CloudDemoOptions): Promise<void> {
  if (process.platform !== 'linux') throw new Error('keyway demo --cloud needs Linux: it starts an sshd test host in Linux namespaces.');
  const notReady = (() => {
    try {
      return rootTestSkipReason();
    } catch (error) {
      return (error as Error).message;
    }
  })();
  if (notReady) throw new Error(`keyway demo --cloud cannot run here: ${notReady}. Run it as root on a Linux machine with openssh-server installed.`);

  const dir = mkdtempSync(join(tmpdir(), 'keyway-demo-'));
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const [host] = (await startTestHosts(1, { name: 'demo-ec2' })) as [TestHost];
    cleanups.push(() => host.stop());
    const ec2 = await startFakeEc2([
      { id: 'i-0de0000000000c10d', region: 'eu-west-1', privateIp: host.host, tags: { Name: 'web-1', env: 'demo', owner: 'ana@example.com', 'keyway:ssh-port': String(host.port) } },
      { id: 'i-0de0000000000c10e', region: 'us-east-1', privateIp: '10.9.9.9', tags: { Name: 'build-1', env: 'ci' } },
      { id: 'i-0de0000000000c10f', region: 'eu-west-1', privateIp: '10.9.9.10', state: 'stopped', tags: { Name: 'web-2', env: 'demo' } },
    ]);
    cleanups.push(() => ec2.close());
    say(`1. A throwaway sshd test host (${host.host}:${host.port}), and a local stand-in of the EC2 API at ${ec2.endpoint} that lists it`);
    say('   as the running instance i-0de0000000000c10d (Name=web-1, env=demo, owner=ana@example.com), beside one tagged env=ci and one stopped.');

    const dataDir = join(dir, 'data');
    const configPath = join(dir, 'access.yaml');
    writeFileSync(configPath, cloudDemoConfig(host, ec2.endpoint));
    const file = loadAccessConfig(configPath);
    const { caKey } = initCaKey(dataDir);
    const db = openDatabase(dataDir);
    cleanups.push(() => void db.close());
    const logger = pino({ level: 'silent' });
    say(`2. An access file with type: aws-ec2, regions [eu-west-1, us-east-1], tags { env: demo } (${configPath}).`);

    const [refreshed] = await refreshAllInventories({ db, config: () => file, env: FAKE_AWS_ENV, now: Date.now, logger, clouds: cloudInventories() });
    if (!refreshed?.ok) throw new Error(`the inventory refresh failed: ${refreshed && !refreshed.ok ? refreshed.error : 'no cloud integration'}`);
    const snapshot = latestSnapshot(db, 'demo-ec2')!;
    say(`3. keyway inventory refresh: DescribeInstances (running, tag:env=demo) in both regions through the AWS SDK →`);
    for (const s of snapshot.servers) say(`   ${s.name}: ${s.cloudId} in ${s.region}, ${s.user}@${s.host}:${s.port}, tags ${JSON.stringify(s.tags)}`);
    say(`   stored as a snapshot taken ${new Date(snapshot.takenAt).toISOString()} (${snapshot.durationMs} ms); requests read it, never EC2.`);

    const keyway = composeKeyway({ env: FAKE_AWS_ENV, db, config: () => file, ca: caKey, logger });
    cleanups.push(() => keyway.close());
    const { ctx, runner } = keyway;
    const ref = findServer(ctx.config(), 'web-1');
    if (!ref) throw new Error('the discovered server web-1 is not in the live config');
    say(`4. keyway hosts bootstrap web-1: ${describeBootstrap(await bootstrapServer(keyway.pool!, ref, caKey.publicKeyLine))}`);

    const userKey = await generateUserKey(dir);
    registerPublicKey(ctx, 'henk@example.com', userKey.publicKeyLine, 'demo');
    const asked = submitRequest(ctx, { email: 'henk@example.com' }, { servers: ['web-1'], duration: 600, reason: 'demo: INC-16' }, 'demo');
    say(`5. henk@example.com: /ssh-access request web-1 10m demo: INC-16 → request ${asked.request.id}, for ${asked.request.approvers.emails.join(', ')} (the owner tag).`);
    const decided = voteOnRequest(ctx, asked.request.id, { email: 'ana@example.com' }, 'approve');
    const grants = await provisionRequest(runner, asked.request.id);
    say(`6. ana@example.com approves → ${decided.kind}; grant on web-1: ${grants.map((g) => g.state).join(', ')} (${grants[0]!.targetKind}, ${grants[0]!.targetAddress}).`);
    const cert = certificateOf(ctx, asked.request.id);
    if (!cert) throw new Error(`no certificate was issued: ${grants.map((g) => `${g.state} ${g.lastError ?? ''}`).join('; ')}`);
    const certPath = `${userKey.privateKeyPath}-cert.pub`;
    writeFileSync(certPath, `${cert.line}\n`);

    const login = { user: 'devhba', keyPath: userKey.privateKeyPath, certPath, command: 'id -un' };
    const ok = await sshRun(host, login);
    if (ok.code !== 0) throw new Error(`ssh with the certificate failed: ${ok.stderr.trim()}`);
    say(`7. ssh -i ${userKey.privateKeyPath} devhba@${host.host} -p ${host.port} → logged in as ${ok.stdout.trim()}.`);

    const revoked = await endAccess(runner, asked.request.id, 'revoked', 'henk@example.com');
    const refused = await sshRun(host, login);
    if (refused.code === 0) throw new Error('the login still worked after the revoke');
    say(`8. /ssh-access revoke ${asked.request.id} → ${revoked.map((g) => g.state).join(', ')}; the same ssh login: refused.`);
    say('Proven against a local stand-in of the EC2 API, not AWS itself: see docs/cloud.md.');
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
    say(existsSync(dir) ? `Could not remove ${dir}.` : 'Done: test host and EC2 stand-in stopped, temporary files removed.');
  }
}
