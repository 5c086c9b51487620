// Many grants on one server at once: the grants due there are revoked (or provisioned) in one remote script run per
// MAX_BATCH_GRANTS (one lock, one principals-file rewrite, one group pass and one kill pass per user), and each grant
// still gets its own outcome: one refused grant fails alone. The same guarantees as provision.ts, whose checks and
// account locks these share (account-rules.ts); see REVOKE_BATCH_SCRIPT and PROVISION_BATCH_SCRIPT for the order on
// the server. provision.ts's revokeGrant is a batch of one of revokeGrants.
import type { Outcome } from '../../access/target-driver.js';
import { UserError } from '../../core/errors.js';
import type { ServerRef } from '../../core/model.js';
import { allocateUid, liveManagedUser, markDeleted } from '../../store/managed-users.js';
import {
  accountLocks, accountRefusal, groupsOf, lockKey, MAX_UID_ATTEMPTS, parseAccountState, userFor,
  type GrantOnServer, type HostsContext, type ProvisionResult, type RevokeInput, type RevokeResult,
} from './account-rules.js';
import {
  inspectAccountsCommand, MAX_BATCH_GRANTS, provisionBatchCommand, provisionPurpose, revokeBatchCommand, revokePurpose,
  type ProvisionSpec, type RevokeSpec,
} from './remote-commands.js';
import { REMOTE_EXIT } from './remote-scripts.js';
import {
  grantableGroupIn, loginShell, principal as toPrincipal, uid as toUid, type ManagedUserName,
} from './remote-values.js';
import { remoteFailure, runRemote, type RemoteOutput } from './run-remote.js';

export type { Outcome };

/** Per user in a batch, on top of the command's own time limit: two kill passes of at most 5 s each, and some room. */
const EXTRA_MS_PER_USER = 11_000;

function failed(error: unknown): { ok: false; error: Error } {
  return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_BATCH_GRANTS) out.push(items.slice(i, i + MAX_BATCH_GRANTS));
  return out;
}

/** Runs work holding the account lock of every user (taken in one order, so two batches never wait on each other). */
async function holdingAccounts<T>(ref: ServerRef, users: readonly string[], work: () => Promise<T>): Promise<T> {
  const keys = [...new Set(users.map((user) => lockKey(ref, user)))].sort();
  const hold = (i: number): Promise<T> => (i === keys.length ? work() : accountLocks.run(keys[i]!, () => hold(i + 1)));
  return hold(0);
}

function timeoutFor(ctx: HostsContext, users: number): number {
  return ctx.pool.commandTimeoutMs + Math.max(0, users - 1) * EXTRA_MS_PER_USER;
}

/** The outcome the batch script reported for its nth grant (1-based): done, or failed with the server's reason. */
function reported(ref: ServerRef, output: RemoteOutput, n: number, purpose: string): Outcome<void> {
  if (output.first(`done.${n}`) === '1') return { ok: true, value: undefined };
  const code = output.first(`failed.${n}`);
  if (code === undefined) return failed(new UserError('remote_command_failed', `Could not ${purpose}: the server reported nothing for it.`));
  return failed(remoteFailure(ref, { purpose }, Number(code), output.first(`error.${n}`) ?? ''));
}

/**
 * Revokes the grants (all on ref's server) in as few remote runs as the batch limit allows. Each input is judged
 * as revokeGrant judges it; the result at index i belongs to inputs[i].
 */
export async function revokeGrants(ctx: HostsContext, ref: ServerRef, inputs: readonly RevokeInput[]): Promise<Array<Outcome<RevokeResult>>> {
  const outcomes: Array<Outcome<RevokeResult>> = new Array(inputs.length);
  const valid: Array<{ index: number; spec: RevokeSpec }> = [];
  inputs.forEach((input, index) => {
    try {
      const user = userFor(ref, input.linuxUser);
      const kept = new Set(groupsOf(input.groupsStillGranted));
      valid.push({ index, spec: {
        user, uid: undefined, principal: toPrincipal(input.principal), endAccess: !input.otherActiveGrants,
        groupsToRemove: groupsOf(input.groups).filter((group) => !kept.has(group)),
      } });
    } catch (error) {
      outcomes[index] = failed(error);
    }
  });
  for (const chunk of chunks(valid)) {
    const users = chunk.map((c) => c.spec.user);
    await holdingAccounts(ref, users, async () => {
      const specs = chunk.map(({ spec }) => {
        const record = liveManagedUser(ctx.db, ref.integration.name, ref.server.name, spec.user);
        return { ...spec, uid: record ? toUid(record.uid) : undefined };
      });
      let output: RemoteOutput;
      try {
        output = await runRemote(ctx.pool, ref, revokeBatchCommand(specs), { timeoutMs: timeoutFor(ctx, new Set(users).size) });
      } catch (error) {
        for (const { index } of chunk) outcomes[index] = failed(error);
        return;
      }
      chunk.forEach(({ index, spec }, i) => {
        const n = i + 1;
        const outcome = reported(ref, output, n, revokePurpose(spec));
        outcomes[index] = outcome.ok ? { ok: true, value: {
          accountFound: output.first(`account.${n}`) !== 'absent',
          principalRemoved: output.first(`principal-removed.${n}`) === '1',
          groupsRemoved: output.values.get(`group-removed.${n}`) ?? [],
          accessEnded: output.first(`access-ended.${n}`) === '1',
          hooksMoved: (output.first(`hooks-moved.${n}`) ?? '').split(' ').filter(Boolean),
          hooksMovedTo: output.first(`hooks-moved-to.${n}`),
        } } : outcome;
      });
    });
  }
  return outcomes;
}

interface PendingProvision { index: number; spec: Omit<ProvisionSpec, 'uid' | 'recorded'> }

/**
 * Provisions the grants (all on ref's server) in one provisioning run per MAX_BATCH_GRANTS (one grant is a batch of
 * one: PROVISION_BATCH_SCRIPT is the only provisioning script); a UID found taken is given up for good, and that
 * user's grants tried again after an inspection of the server. The result at index i belongs to grants[i].
 */
export async function provisionGrants(ctx: HostsContext, ref: ServerRef, grants: readonly GrantOnServer[]): Promise<Array<Outcome<ProvisionResult>>> {
  const outcomes: Array<Outcome<ProvisionResult>> = new Array(grants.length);
  const valid: PendingProvision[] = [];
  const grantable = grantableGroupIn(ref.integration);
  grants.forEach((grant, index) => {
    try {
      valid.push({ index, spec: {
        user: userFor(ref, grant.linuxUser), groups: groupsOf(grant.groups, grantable), principal: toPrincipal(grant.principal),
        shell: loginShell(ref.integration.loginShell),
      } });
    } catch (error) {
      outcomes[index] = failed(error);
    }
  });
  for (const chunk of chunks(valid)) {
    await holdingAccounts(ref, chunk.map((c) => c.spec.user), async () => {
      try {
        await provisionChunk(ctx, ref, chunk, outcomes);
      } catch (error) {
        for (const { index } of chunk) outcomes[index] ??= failed(error);
      }
    });
  }
  return outcomes;
}

async function provisionChunk(ctx: HostsContext, ref: ServerRef, chunk: PendingProvision[], outcomes: Array<Outcome<ProvisionResult>>): Promise<void> {
  const { integration: { name: integration }, server: { name: server } } = ref;
  const range = { min: toUid(ref.integration.uidRange.min), max: toUid(ref.integration.uidRange.max) };
  const takenOnServer = new Set<number>();
  const mustInspect = new Set<ManagedUserName>();
  // Users whose UID was chosen in this call: their account must not exist yet (the script refuses one that does), and
  // the UID is given up for good if the account proves not Keyway's.
  const chosenNow = new Set<ManagedUserName>();
  let pending = chunk;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const users = [...new Set(pending.map((p) => p.spec.user))];
    const refused = new Map<string, Error>();
    const inspect = users.filter((user) => mustInspect.has(user));
    if (inspect.length > 0) {
      // After a UID turned out taken: look at the accounts and the UIDs in use before choosing another.
      const inspected = await runRemote(ctx.pool, ref, inspectAccountsCommand(inspect, range));
      for (const uid of inspected.values.get('uid-taken') ?? []) takenOnServer.add(Number(uid));
      inspect.forEach((user, i) => {
        const state = parseAccountState(inspected.first(`account.${i + 1}`));
        let record = liveManagedUser(ctx.db, integration, server, user);
        const refusal = accountRefusal(ref, user, state, record);
        if (refusal) return void refused.set(user, refusal);
        if (state.kind === 'absent' && record && takenOnServer.has(record.uid)) {
          markDeleted(ctx.db, integration, server, user, ctx.now());
          record = undefined;
        }
        if (!record) {
          allocateUid(ctx.db, integration, server, user, ref.integration.uidRange, ctx.now(), (candidate) => takenOnServer.has(candidate));
          chosenNow.add(user);
        } else {
          chosenNow.delete(user);
        }
      });
    }
    // A user without a record gets its UID recorded before the account exists, without a round trip first: the
    // provisioning script refuses any account for a UID chosen now (and a taken UID), and an account that is not
    // Keyway's own with the recorded UID, so a wrong guess costs a retry, never a wrong account.
    for (const user of users) {
      if (refused.has(user) || liveManagedUser(ctx.db, integration, server, user)) continue;
      allocateUid(ctx.db, integration, server, user, ref.integration.uidRange, ctx.now(), (candidate) => takenOnServer.has(candidate));
      chosenNow.add(user);
    }
    for (const p of pending) {
      const refusal = refused.get(p.spec.user);
      if (refusal) outcomes[p.index] = failed(refusal);
    }
    const runnable = pending.filter((p) => !refused.has(p.spec.user)).map((p) => ({
      ...p, spec: { ...p.spec, uid: toUid(liveManagedUser(ctx.db, integration, server, p.spec.user)!.uid), recorded: !chosenNow.has(p.spec.user) },
    }));
    pending = [];
    if (runnable.length === 0) return;
    const output = await runRemote(ctx.pool, ref, provisionBatchCommand(runnable.map((r) => r.spec)), {
      timeoutMs: timeoutFor(ctx, new Set(runnable.map((r) => r.spec.user)).size),
    });
    runnable.forEach((r, i) => {
      const outcome = reported(ref, output, i + 1, provisionPurpose(r.spec));
      const code = Number(output.first(`failed.${i + 1}`));
      const recorded = () => liveManagedUser(ctx.db, integration, server, r.spec.user)?.uid === r.spec.uid;
      if (!outcome.ok && code === REMOTE_EXIT.uidTaken && attempt < MAX_UID_ATTEMPTS) {
        // The UID turned out taken: give it up for good, look at the server and try the next one.
        if (recorded()) markDeleted(ctx.db, integration, server, r.spec.user, ctx.now());
        takenOnServer.add(r.spec.uid);
        mustInspect.add(r.spec.user);
        pending.push(r);
        return;
      }
      if (!outcome.ok && (code === REMOTE_EXIT.notManaged || code === REMOTE_EXIT.systemAccount) && chosenNow.has(r.spec.user) && recorded()) {
        // Not Keyway's account: the record made for it in this call names nothing Keyway created (its UID stays used).
        markDeleted(ctx.db, integration, server, r.spec.user, ctx.now());
      }
      outcomes[r.index] = outcome.ok
        ? { ok: true, value: { created: output.first(`created.${i + 1}`) === '1', uid: r.spec.uid, groups: [...r.spec.groups] } }
        : outcome;
    });
  }
}
