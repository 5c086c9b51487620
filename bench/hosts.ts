// Time to make grants real and take them back on real sshd test hosts, and how many SSH connections that takes
// (one per server, however many grants). Needs root, like the integration tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaKey } from '../src/ca/ca-key.js';
import type { ServerRef } from '../src/core/model.js';
import { bootstrapServer } from '../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../src/targets/ssh/connection-pool.js';
import { databaseHostKeyPins } from '../src/targets/ssh/open-pool.js';
import { provisionGrant, revokeGrant, type HostsContext } from '../src/targets/ssh/provision.js';
import { openDatabase } from '../src/store/open-database.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { startTestHosts, type TestHost } from '../test/helpers/test-host.js';

const HOSTS = 10;
const REVOKED_GRANTS = 200;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

function line(label: string, ms: number, detail: string): string {
  return `  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  (${detail})`;
}

export async function benchHosts(): Promise<string[]> {
  const skip = rootTestSkipReason();
  if (skip) return [`  skipped: ${skip}`];

  const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-hosts-'));
  const db = openDatabase(join(dir, 'data'));
  const pools: ConnectionPool[] = [];
  let hosts: TestHost[] = [];
  try {
    let startMs: number;
    [hosts, startMs] = await timed(() => startTestHosts(HOSTS, { name: 'bench' }));
    const hostOf = new Map(hosts.map((host) => [host.name, host]));
    const servers = hosts.map((host) => ({ name: host.name, host: host.host, user: host.connectorUser, port: host.port, tags: {} }));
    const lab = {
      name: 'bench', type: 'ssh' as const, servers, userGroups: ['developers'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
      uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: [], allowPrivilegedGroups: false,
    };
    const refs: ServerRef[] = servers.map((server) => ({ integration: lab, server }));
    const newContext = (): HostsContext => {
      const pool = new ConnectionPool({ connectorKey: (ref) => hostOf.get(ref.server.name)!.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, Date.now) });
      pools.push(pool);
      return { pool, db, now: Date.now };
    };

    const { caKey } = generateCaKey();
    const setup = newContext();
    await Promise.all(refs.map((ref) => bootstrapServer(setup.pool, ref, caKey.publicKeyLine)));
    await Promise.all(hosts.map((host) => host.exec('groupadd developers')));

    const grant = (user: string, request: number) => ({ linuxUser: user, groups: ['developers'], principal: `keyway-req-${request}` });
    const lines = [`  ${HOSTS} test hosts started and bootstrapped (start ${startMs.toFixed(0)} ms)`];

    // Fresh pools, so that the connection count and times include connecting.
    const one = newContext();
    const [, oneMs] = await timed(() => provisionGrant(one, refs[0]!, grant('solo', 1)));
    lines.push(line('provision 1 grant on 1 host', oneMs, `${one.pool.connectionsOpened} SSH connection`));

    const ten = newContext();
    const [, tenMs] = await timed(() => Promise.all(refs.map((ref) => provisionGrant(ten, ref, grant('pair', 2)))));
    lines.push(line(`provision 1 grant on ${HOSTS} hosts (parallel)`, tenMs, `${ten.pool.connectionsOpened} SSH connections`));

    const perHost = REVOKED_GRANTS / HOSTS;
    const users = Array.from({ length: perHost }, (_, i) => `bench${String(i + 1).padStart(2, '0')}`);
    const many = newContext();
    const [, provisionManyMs] = await timed(() => Promise.all(refs.flatMap((ref) => users.map((user, i) => provisionGrant(many, ref, grant(user, 100 + i))))));
    lines.push(line(`provision ${REVOKED_GRANTS} grants on ${HOSTS} hosts (parallel)`, provisionManyMs, `${many.pool.connectionsOpened} SSH connections`));

    const revoke = newContext();
    const [, revokeMs] = await timed(() => Promise.all(refs.flatMap((ref) => users.map((user, i) => revokeGrant(revoke, ref, {
      ...grant(user, 100 + i), groupsStillGranted: [], otherActiveGrants: false,
    })))));
    lines.push(line(`revoke ${REVOKED_GRANTS} grants on ${HOSTS} hosts (parallel)`, revokeMs,
      `${revoke.pool.connectionsOpened} SSH connections, ${(revokeMs / REVOKED_GRANTS).toFixed(1)} ms per grant`));
    return lines;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all(hosts.map((host) => host.stop()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
