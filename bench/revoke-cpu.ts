// CPU, not wall time: what revoking and provisioning N grants costs the server, measured inside a real sshd test host
// as the user+sys CPU of the remote script and everything it runs (bash's `times` for its waited-for children: sudo,
// sh, useradd, usermod, ps, setpriv, …). Robust while other work shares the machine, unlike wall time. The same N
// users, each with one grant (group developers) and one running process, are revoked once one at a time (N batches of
// one: how a single revoke runs) and once in one batch (one run); N new users are provisioned one at a time and in one
// batch, and N locked accounts opened again the same two ways; all printed per grant. Needs root, like the
// integration tests.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCaKey } from '../src/ca/ca-key.js';
import type { ServerRef } from '../src/core/model.js';
import { liveManagedUser } from '../src/store/managed-users.js';
import { openDatabase } from '../src/store/open-database.js';
import { bootstrapServer } from '../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../src/targets/ssh/connection-pool.js';
import { databaseHostKeyPins } from '../src/targets/ssh/open-pool.js';
import { provisionGrants } from '../src/targets/ssh/provision-batch.js';
import { provisionBatchCommand, revokeBatchCommand, type ProvisionSpec, type RevokeSpec } from '../src/targets/ssh/remote-commands.js';
import { groupName, loginShell, managedUserName, principal, uid as toUid } from '../src/targets/ssh/remote-values.js';
import { rootTestSkipReason } from '../test/helpers/root.js';
import { startTestHost, type TestHost } from '../test/helpers/test-host.js';

const USERS = 20;
const ROUNDS = 3; // the median round is printed

/** Children's user+sys CPU in ms from the second line of bash's `times` ("0m0.123s 0m0.045s"). */
function childrenCpuMs(timesOutput: string): number {
  const lines = timesOutput.trim().split('\n');
  const children = lines.at(-1) ?? '';
  const parts = [...children.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) throw new Error(`cannot read times output: ${timesOutput}`);
  return parts.reduce((sum, [, m, s]) => sum + (Number(m) * 60 + Number(s)) * 1000, 0);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchRevokeCpu(): Promise<string[]> {
  const skip = rootTestSkipReason();
  if (skip) return [`  skipped: ${skip}`];
  const dir = mkdtempSync(join(tmpdir(), 'keyway-bench-cpu-'));
  const db = openDatabase(join(dir, 'data'));
  let host: TestHost | undefined;
  let pool: ConnectionPool | undefined;
  try {
    host = await startTestHost({ name: 'cpu' });
    const h = host;
    const server = { name: h.name, host: h.host, user: h.connectorUser, port: h.port, tags: {} };
    const lab = {
      name: 'bench', type: 'ssh' as const, servers: [server], userGroups: ['developers'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
      uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: [], allowPrivilegedGroups: false,
    };
    const ref: ServerRef = { integration: lab, server };
    pool = new ConnectionPool({ connectorKey: () => h.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, Date.now) });
    const ctx = { pool, db, now: Date.now };
    await bootstrapServer(pool, ref, generateCaKey().caKey.publicKeyLine);
    await h.exec('groupadd developers');
    const users = Array.from({ length: USERS }, (_, i) => `cpu${String(i + 1).padStart(2, '0')}`);
    let request = 0;

    // Each user granted (again), with one process of its own running: what a revoke has to kill.
    const prepare = async (count: number): Promise<RevokeSpec[]> => {
      request += 1;
      const outcomes = await provisionGrants(ctx, ref, users.slice(0, count).map((user) => ({ linuxUser: user, groups: ['developers'], principal: `keyway-req-${request}` })));
      const failed = outcomes.find((o) => !o.ok);
      if (failed && !failed.ok) throw failed.error;
      const specs = users.slice(0, count).map((user) => ({
        user: managedUserName(user), uid: toUid(liveManagedUser(db, lab.name, server.name, user)!.uid), principal: principal(`keyway-req-${request}`),
        groupsToRemove: [groupName('developers')], endAccess: true,
      }));
      const started = await h.exec(specs.map((s) => `setpriv --reuid=${s.uid} --regid=$(id -g ${s.user}) --clear-groups sh -c 'exec sleep 600' </dev/null >/dev/null 2>&1 &`).join('\n') + '\nsleep 0.2');
      if (started.code !== 0) throw new Error(`could not start the users' processes: ${started.stderr}`);
      return specs;
    };
    const cpuOf = async (commands: string[], count: number, revoking = true): Promise<number> => {
      // Through a file: N scripts are more than one argument may hold.
      const file = join(dir, 'revoke.bash');
      const err = join(dir, 'revoke.err');
      const out = join(dir, 'revoke.out');
      writeFileSync(file, `: > ${out}\n${commands.map((c) => `${c} >>${out} 2>${err} || { cat ${err} >&2; exit 1; }`).join('\n')}\ntimes\n`);
      const result = await h.exec(`bash ${file}`);
      if (result.code !== 0) throw new Error(`remote script failed: ${result.stderr}`);
      // Every grant done: the batch says done.N=1 for each; after a revoke nothing of the users runs.
      const said = readFileSync(out, 'utf8');
      const done = (said.match(/^done\.\d+=1$/gm) ?? []).length;
      if (done !== count || /^failed\./m.test(said)) throw new Error(`incomplete (${done}/${count} done): ${said}`);
      if (!revoking) return childrenCpuMs(result.stdout);
      const left = await h.exec(`ps -e -o uid=,stat= | awk '$1 >= 60000 && $2 !~ /^Z/' | wc -l`);
      if (left.stdout.trim() !== '0') throw new Error(`processes of revoked users still run: ${left.stdout}`);
      return childrenCpuMs(result.stdout);
    };

    const oneByOne: number[] = [];
    const batch: number[] = [];
    const batchOne: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      oneByOne.push(await cpuOf((await prepare(USERS)).map((spec) => revokeBatchCommand([spec]).text), USERS));
      batch.push(await cpuOf([revokeBatchCommand(await prepare(USERS)).text], USERS));
      batchOne.push(await cpuOf([revokeBatchCommand(await prepare(1)).text], 1));
    }

    // Provisioning: N new accounts (UIDs chosen now), then the same accounts locked as a revoke leaves them, opened again.
    const newUsers = Array.from({ length: USERS }, (_, i) => `new${String(i + 1).padStart(2, '0')}`);
    const provisionSpecs = (recorded: boolean): ProvisionSpec[] => {
      request += 1;
      return newUsers.map((user, i) => ({
        user: managedUserName(user), uid: toUid(62000 + i), recorded, shell: loginShell('/bin/bash'),
        principal: principal(`keyway-req-${request}`), groups: [groupName('developers')],
      }));
    };
    const setUp = async (command: string) => {
      const done = await h.exec(command);
      if (done.code !== 0) throw new Error(`could not prepare the accounts: ${done.stderr}`);
    };
    const removeAccounts = () => setUp(newUsers.map((user) => `userdel -r ${user} 2>/dev/null; rm -f /etc/ssh/keyway/principals/${user}`).join('\n') + '\ntrue');
    const lockAccounts = () => setUp(newUsers.map((user) => `usermod -L -e 1 -r -G developers ${user}`).join('\n'));
    const createOne: number[] = [];
    const createBatch: number[] = [];
    const reopenOne: number[] = [];
    const reopenBatch: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      createOne.push(await cpuOf(provisionSpecs(false).map((spec) => provisionBatchCommand([spec]).text), USERS, false));
      await lockAccounts();
      reopenOne.push(await cpuOf(provisionSpecs(true).map((spec) => provisionBatchCommand([spec]).text), USERS, false));
      await removeAccounts();
      createBatch.push(await cpuOf([provisionBatchCommand(provisionSpecs(false)).text], USERS, false));
      await lockAccounts();
      reopenBatch.push(await cpuOf([provisionBatchCommand(provisionSpecs(true)).text], USERS, false));
      await removeAccounts();
    }
    const perGrant = (ms: number[], count: number) => `${(median(ms) / count).toFixed(1)} ms`;
    return [
      `  ${USERS} users, one grant and one running process each, revoked on one test host; user+sys CPU of the remote scripts`
        + ` (sudo, sh and every command they run; median of ${ROUNDS})`,
      `  revoke CPU per grant: one at a time ${perGrant(oneByOne, USERS)}, one batch ${perGrant(batch, USERS)}`
        + `   (${USERS} batches of one ${median(oneByOne).toFixed(0)} ms, one batch of ${USERS} ${median(batch).toFixed(0)} ms)`,
      `  revoke CPU of 1 grant (a batch of one): ${perGrant(batchOne, 1)}`,
      `  provision CPU per grant, new account: one at a time ${perGrant(createOne, USERS)}, one batch ${perGrant(createBatch, USERS)}`,
      `  provision CPU per grant, reopening a revoked account: one at a time ${perGrant(reopenOne, USERS)}, one batch ${perGrant(reopenBatch, USERS)}`,
    ];
  } finally {
    await pool?.close();
    await host?.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
