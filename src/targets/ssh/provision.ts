// Making a grant real on a server and taking it back: create (or reopen) the Keyway account, add the granted groups,
// write the request's principal; on revoke remove them, end every process of the user and, when nothing else of the
// user's is active there, lock the account (see REVOKE_BATCH_SCRIPT for the order: a revoke of one grant is a batch
// of one); after cleanup_after_days, delete it. Keyway only touches accounts it created: marked keyway-managed on the
// server AND recorded in managed_users with the same UID.
import type { ServerRef } from '../../core/model.js';
import { allocateUid, liveManagedUser, markDeleted } from '../../store/managed-users.js';
import {
  accountLocks, accountRefusal, groupsOf, lockKey, MAX_UID_ATTEMPTS, parseAccountState, userFor,
  type CleanupResult, type GrantOnServer, type HostsContext, type ProvisionResult, type RevokeInput, type RevokeResult,
} from './account-rules.js';
import { revokeGrants } from './provision-batch.js';
import { deleteAccountCommand, inspectAccountCommand, provisionAccountCommand } from './remote-commands.js';
import { grantableGroupIn, loginShell, principal as toPrincipal, uid as toUid } from './remote-values.js';
import { REMOTE_EXIT } from './remote-scripts.js';
import { RemoteCommandError, runRemote } from './run-remote.js';

export type {
  AccountState, CleanupResult, GrantOnServer, HostsContext, ProvisionResult, RevokeInput, RevokeResult,
} from './account-rules.js';

/**
 * One grant, inspected first (a refusal names the account as the server has it), then PROVISION_SCRIPT. Not a batch of
 * one: on a test host PROVISION_BATCH_SCRIPT with one grant cost more CPU per grant than PROVISION_SCRIPT (user+sys,
 * median of 3 rounds of 20: creating 69 against 47 ms, reopening 56 against 32 ms).
 */
export async function provisionGrant(ctx: HostsContext, ref: ServerRef, grant: GrantOnServer): Promise<ProvisionResult> {
  const user = userFor(ref, grant.linuxUser);
  const groups = groupsOf(grant.groups, grantableGroupIn(ref.integration));
  const principal = toPrincipal(grant.principal);
  const shell = loginShell(ref.integration.loginShell);
  const range = { min: toUid(ref.integration.uidRange.min), max: toUid(ref.integration.uidRange.max) };
  const { integration: { name: integration }, server: { name: server } } = ref;

  return accountLocks.run(lockKey(ref, user), async () => {
    const inspected = await runRemote(ctx.pool, ref, inspectAccountCommand(user, range));
    const state = parseAccountState(inspected.first('account'));
    let record = liveManagedUser(ctx.db, integration, server, user);
    const refusal = accountRefusal(ref, user, state, record);
    if (refusal) throw refusal;
    const takenOnServer = new Set((inspected.values.get('uid-taken') ?? []).map(Number));
    if (state.kind === 'absent' && record && takenOnServer.has(record.uid)) {
      // The UID recorded for a never-created (or removed) account now belongs to someone else: never reuse it.
      markDeleted(ctx.db, integration, server, user, ctx.now());
      record = undefined;
    }
    for (let attempt = 1; ; attempt++) {
      const uid = record?.uid
        ?? allocateUid(ctx.db, integration, server, user, ref.integration.uidRange, ctx.now(), (candidate) => takenOnServer.has(candidate)).uid;
      try {
        const output = await runRemote(ctx.pool, ref, provisionAccountCommand({ user, uid: toUid(uid), shell, principal, groups }));
        return { created: output.first('created') === '1', uid, groups: [...groups] };
      } catch (error) {
        // The server could not list every account (e.g. a directory service without enumeration), and the UID turned
        // out to be taken: give it up for good and try the next one.
        if (!(error instanceof RemoteCommandError && error.exitCode === REMOTE_EXIT.uidTaken) || attempt >= MAX_UID_ATTEMPTS) throw error;
        markDeleted(ctx.db, integration, server, user, ctx.now());
        takenOnServer.add(uid);
        record = undefined;
      }
    }
  });
}

/**
 * Revokes one grant: a batch of one (REVOKE_BATCH_SCRIPT, as production revokes), under the account's lock. Throws
 * the grant's error: account_not_managed for an account Keyway will not touch, remote_command_failed (with the
 * server's exit code and words) or host_unreachable.
 */
export async function revokeGrant(ctx: HostsContext, ref: ServerRef, input: RevokeInput): Promise<RevokeResult> {
  const [outcome] = await revokeGrants(ctx, ref, [input]);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.value;
}

/** Deletes the account and its home. The caller checks that no grant of the user is active on the server. */
export async function cleanupUser(ctx: HostsContext, ref: ServerRef, linuxUser: string): Promise<CleanupResult> {
  const user = userFor(ref, linuxUser);
  return accountLocks.run(lockKey(ref, user), async () => {
    const record = liveManagedUser(ctx.db, ref.integration.name, ref.server.name, user);
    if (!record) return { deleted: false };
    const output = await runRemote(ctx.pool, ref, deleteAccountCommand(user, toUid(record.uid)));
    markDeleted(ctx.db, ref.integration.name, ref.server.name, user, ctx.now());
    return { deleted: output.first('account') === 'deleted' };
  });
}
