// Time to make grants real and take them back on real sshd test hosts, and how many SSH connections that takes
// (one per server, however many grants). Each figure that has a target is printed as a ratio to the one-server case
// measured in the same run, on the same machine: fan-out (1 grant on 10 servers against 1 on 1) and batching (200
// grants due on 10 servers against 1 grant on 1). Needs root, like the integration tests.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaKey } from '../src/ca/ca-key.js';
import type { ServerRef } from '../src/core/model.js';
import { bootstrapServer } from '../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../src/targets/ssh/connection-pool.js';
import { databaseHostKeyPins } from '../src/targets/ssh/open-pool.js';
import type { HostsContext, RevokeInput } from '../src/targets/ssh/provision.js';
import { provisionGrants, revokeGrants, type Outcome } from '../src/targets/ssh/provision-batch.js';
import { openDatabase } from '../src/store/open-database.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { startTestHosts, type TestHost } from '../test/helpers/test-host.js';

const HOSTS = 10;
const REVOKED_GRANTS = 200;
const ROUNDS = 3; // each one-server / many-server pair measured this often; the median pair is printed

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

const TICK_MS = 10; // USER_HZ is 100 on Linux: /proc/stat counts in hundredths of a second

/** CPU time the whole machine has spent busy so far (user, nice, system, irq, softirq, steal), in ms. */
function machineBusyMs(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * TICK_MS;
}

interface CpuSpent { machineMs: number; keywayMs: number }

/** Runs work and adds to `spent` the CPU the machine and this process (Keyway's side) used meanwhile. */
async function counted<T>(spent: CpuSpent, work: () => Promise<T>): Promise<T> {
  const machine = machineBusyMs();
  const own = process.cpuUsage();
  try {
    return await work();
  } finally {
    spent.machineMs += machineBusyMs() - machine;
    const used = process.cpuUsage(own);
    spent.keywayMs += (used.user + used.system) / 1000;
  }
}

/**
 * Where the time of a parallel part went: the CPU the machine used for it, and the least wall time that CPU needs on
 * this machine's cores, as a multiple of the one-host time. When that floor is above the target, no scheduling by
 * Keyway can meet it here: the test hosts' own work (sshd, sudo, the account tools) shares these cores, where real
 * servers would each use their own.
 */
function cpuFloor(label: string, spent: CpuSpent, rounds: number, oneMs: number, target: number): string {
  const cores = availableParallelism();
  const machine = spent.machineMs / rounds;
  const floor = machine / cores / oneMs;
  return `    ${label}: the machine was busy ${machine.toFixed(0)} ms of CPU (Keyway's process ${(spent.keywayMs / rounds).toFixed(0)} ms, the test hosts the rest); `
    + `on ${cores} cores that takes at least ${(machine / cores).toFixed(0)} ms = ${floor.toFixed(2)} × the one-host time`
    + (floor > target ? ` (above the ${target} × target: the hosts' own work alone exceeds it on this machine)` : '');
}

function line(label: string, ms: number, detail: string): string {
  return `  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  (${detail})`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function ratio(label: string, many: number, one: number, target: number): string {
  const value = many / one;
  return `  ${label.padEnd(44)} ${value.toFixed(2).padStart(6)} ×   (target ≤ ${target} ×: ${value <= target ? 'met' : 'NOT met'})`;
}

function allOk<T>(outcomes: Array<Outcome<T>>, what: string): void {
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) throw new Error(`${what}: ${failed.length} failed, first: ${(failed[0] as { error: Error }).error.message}`);
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
    const revoking = (user: string, request: number): RevokeInput => ({ ...grant(user, request), groupsStillGranted: [], otherActiveGrants: false });
    const lines = [`  ${HOSTS} test hosts started and bootstrapped (start ${startMs.toFixed(0)} ms)`];

    // Fan-out: a new account on 1 server, then on every server at once; fresh pools, so both include connecting.
    const oneMs: number[] = [];
    const tenMs: number[] = [];
    let tenConnections = 0;
    const fanOutCpu: CpuSpent = { machineMs: 0, keywayMs: 0 };
    for (let round = 1; round <= ROUNDS; round++) {
      const one = newContext();
      const [solo, soloMs] = await timed(() => provisionGrants(one, refs[0]!, [grant(`solo${round}`, round)]));
      allOk(solo, 'provision on 1 host');
      oneMs.push(soloMs);
      const ten = newContext();
      const [pair, pairMs] = await counted(fanOutCpu, () => timed(() => Promise.all(refs.map((ref) => provisionGrants(ten, ref, [grant(`pair${round}`, 10 + round)])))));
      allOk(pair.flat(), `provision on ${HOSTS} hosts`);
      tenMs.push(pairMs);
      tenConnections = ten.pool.connectionsOpened;
    }
    lines.push(line('provision 1 grant on 1 host', median(oneMs), `median of ${ROUNDS}, new account, 1 SSH connection`));
    lines.push(line(`provision 1 grant on ${HOSTS} hosts (parallel)`, median(tenMs), `median of ${ROUNDS}, new accounts, ${tenConnections} SSH connections`));
    lines.push(ratio(`provision fan-out: ${HOSTS} hosts / 1 host`, median(tenMs), median(oneMs), 1.3));
    lines.push(cpuFloor(`provisioning 1 grant on ${HOSTS} hosts`, fanOutCpu, ROUNDS, median(oneMs), 1.3));

    // Batching: 20 grants due on each of 10 servers (one batch per server, all servers in parallel) against 1 grant.
    const perHost = REVOKED_GRANTS / HOSTS;
    const users = Array.from({ length: perHost }, (_, i) => `bench${String(i + 1).padStart(2, '0')}`);
    const many = newContext();
    const [provisioned, provisionManyMs] = await timed(() => Promise.all(refs.map((ref) => provisionGrants(many, ref, users.map((user, i) => grant(user, 100 + i))))));
    allOk(provisioned.flat(), 'provision 200');
    lines.push(line(`provision ${REVOKED_GRANTS} grants on ${HOSTS} hosts (batched)`, provisionManyMs, `${many.pool.connectionsOpened} SSH connections`));

    const single = newContext();
    const [soloRevoke, soloRevokeMs] = await timed(() => revokeGrants(single, refs[0]!, [revoking('solo1', 1)]));
    allOk(soloRevoke, 'revoke on 1 host');
    lines.push(line('revoke 1 grant on 1 host', soloRevokeMs, `${single.pool.connectionsOpened} SSH connection`));

    // One server's share of the 200, alone: what each of 10 servers with their own CPUs would take.
    const shareUsers = users.map((user) => `${user}s`);
    const shareSetup = newContext();
    allOk(await provisionGrants(shareSetup, refs[0]!, shareUsers.map((user, i) => grant(user, 400 + i))), `provision ${perHost} on 1 host`);
    const share = newContext();
    const [shareRevoked, shareMs] = await timed(() => revokeGrants(share, refs[0]!, shareUsers.map((user, i) => revoking(user, 400 + i))));
    allOk(shareRevoked, `revoke ${perHost} on 1 host`);
    lines.push(line(`revoke ${perHost} grants on 1 host (batched, alone)`, shareMs,
      `one server's share of the ${REVOKED_GRANTS}: ${(shareMs / soloRevokeMs).toFixed(2)} × one grant, what each of ${HOSTS} separate servers would take`));

    const revoke = newContext();
    const revokeCpu: CpuSpent = { machineMs: 0, keywayMs: 0 };
    const [revoked, revokeMs] = await counted(revokeCpu, () => timed(() => Promise.all(refs.map((ref) => revokeGrants(revoke, ref, users.map((user, i) => revoking(user, 100 + i)))))));
    allOk(revoked.flat(), 'revoke 200');
    lines.push(line(`revoke ${REVOKED_GRANTS} grants on ${HOSTS} hosts (batched)`, revokeMs,
      `${revoke.pool.connectionsOpened} SSH connections, ${(revokeMs / REVOKED_GRANTS).toFixed(1)} ms per grant`));
    lines.push(ratio(`revoke batching: ${REVOKED_GRANTS} on ${HOSTS} hosts / 1 on 1`, revokeMs, soloRevokeMs, 5));
    lines.push(cpuFloor(`revoking ${REVOKED_GRANTS} grants on ${HOSTS} hosts`, revokeCpu, 1, soloRevokeMs, 5));
    return lines;
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all(hosts.map((host) => host.stop()));
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
