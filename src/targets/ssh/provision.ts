// Making a grant real on a server and taking it back: create (or reopen) the Keyway account, add the granted groups,
// write the request's principal; on revoke remove them, end every process of the user and, when nothing else of the
// user's is active there, lock the account; after cleanup_after_days, delete it. One grant is a batch of one, both
// ways (PROVISION_BATCH_SCRIPT and REVOKE_BATCH_SCRIPT say the order). Keyway only touches accounts it created: marked
// keyway-managed on the server AND recorded in managed_users with the same UID.
import type { ServerRef } from '../../core/model.js';
import { liveManagedUser, markDeleted } from '../../store/managed-users.js';
import {
  accountLocks, lockKey, userFor,
  type CleanupResult, type GrantOnServer, type HostsContext, type ProvisionResult, type RevokeInput, type RevokeResult,
} from './account-rules.js';
import { provisionGrants, revokeGrants } from './provision-batch.js';
import { deleteAccountCommand } from './remote-commands.js';
import { uid as toUid } from './remote-values.js';
import { runRemote } from './run-remote.js';

export type {
  AccountState, CleanupResult, GrantOnServer, HostsContext, ProvisionResult, RevokeInput, RevokeResult,
} from './account-rules.js';

/**
 * Provisions one grant: a batch of one (PROVISION_BATCH_SCRIPT, as production provisions), under the account's lock.
 * Throws the grant's error: account_not_managed for an account Keyway will not touch, remote_command_failed (with the
 * server's exit code and words) or host_unreachable.
 */
export async function provisionGrant(ctx: HostsContext, ref: ServerRef, grant: GrantOnServer): Promise<ProvisionResult> {
  const [outcome] = await provisionGrants(ctx, ref, [grant]);
  if (!outcome!.ok) throw outcome!.error;
  return outcome!.value;
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
