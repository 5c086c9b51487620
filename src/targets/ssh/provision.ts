// Making a grant real on a server and taking it back: create (or reopen) the Keyway account, add the granted groups,
// write the request's principal; on revoke remove them, end every process of the user and, when nothing else of the
// user's is active there, lock the account (see REVOKE_SCRIPT for the order); after cleanup_after_days, delete it. Keyway only touches accounts it
// created: marked keyway-managed on the server AND recorded in managed_users with the same UID.
import type { Database } from 'better-sqlite3';
import { UserError } from '../../core/errors.js';
import { DEFAULT_GROUP, type ServerRef } from '../../core/model.js';
import { allocateUid, liveManagedUser, markDeleted } from '../../store/managed-users.js';
import { describeServer, type ConnectionPool } from './connection-pool.js';
import { KeyedMutex } from './keyed-mutex.js';
import {
  deleteAccountCommand, inspectAccountCommand, provisionAccountCommand, revokeAccessCommand,
} from './remote-commands.js';
import {
  grantableGroupIn, groupName, loginShell, managedUserName, principal as toPrincipal, uid as toUid, type GroupName, type ManagedUserName,
} from './remote-values.js';
import { REMOTE_EXIT } from './remote-scripts.js';
import { RemoteCommandError, runRemote } from './run-remote.js';

export interface HostsContext {
  pool: ConnectionPool;
  db: Database;
  /** Epoch milliseconds. */
  now: () => number;
}

export interface GrantOnServer {
  linuxUser: string;
  /** The grant's groups; ['Default'] (or []) means none beyond the user's own group. */
  groups: readonly string[];
  /** The request's principal, e.g. keyway-req-42. */
  principal: string;
}

export interface ProvisionResult {
  /** true when this call created the account */
  created: boolean;
  uid: number;
  groups: string[];
}

export interface RevokeInput extends GrantOnServer {
  /** Groups the user keeps because another active grant on this server gives them. */
  groupsStillGranted: readonly string[];
  /**
   * Another grant of this user is active on this server: keep the account open. Its processes end all the same (a
   * session cannot be told apart by the certificate that opened it); the other grant's certificate logs in again.
   */
  otherActiveGrants: boolean;
}

export interface RevokeResult {
  /** false when the account did not exist (never created, or already deleted): nothing but the principal to remove */
  accountFound: boolean;
  principalRemoved: boolean;
  groupsRemoved: string[];
  /** the account was locked and its processes, sessions, crontab and lingering services ended */
  accessEnded: boolean;
  /** mail delivery hooks (~/.forward, ~/.procmailrc, …) moved aside when access ended */
  hooksMoved: string[];
  /** the root-only directory in the user's home they were moved into */
  hooksMovedTo: string | undefined;
}

export interface CleanupResult {
  /** true when this call deleted the account; false when there was none to delete (no live record, or already gone) */
  deleted: boolean;
}

export const accountLocks = new KeyedMutex();
export const MAX_UID_ATTEMPTS = 5;

export function lockKey(ref: ServerRef, user: string): string {
  return `${ref.integration.name}\u0000${ref.server.name}\u0000${user}`;
}

export function userFor(ref: ServerRef, linuxUser: string): ManagedUserName {
  const user = managedUserName(linuxUser);
  if (user === ref.server.user) {
    throw new UserError('account_not_managed', `${user} is the connector account of ${ref.server.name}; Keyway never grants access as it.`);
  }
  return user;
}

/** Groups to add are judged as `keyway config check` judges them; groups to remove need only be valid names, so a
 * grant stored under an older, laxer config can always be revoked. */
export function groupsOf(groups: readonly string[], validate: (name: string) => GroupName = groupName): GroupName[] {
  return groups.filter((group) => group !== DEFAULT_GROUP).map((group) => validate(group));
}

export type AccountState = { kind: 'absent' } | { kind: 'system' | 'managed' | 'unmanaged'; uid: number };

export function parseAccountState(text: string | undefined): AccountState {
  const match = /^(absent)$|^(system|managed|unmanaged) (\d+)$/.exec(text ?? '');
  if (!match) throw new Error(`unexpected account state from the server: ${JSON.stringify(text)}`);
  if (match[1]) return { kind: 'absent' };
  return { kind: match[2] as 'system' | 'managed' | 'unmanaged', uid: Number(match[3]) };
}

/** Why Keyway will not grant on the account as the server has it, or undefined when it may. */
export function accountRefusal(ref: ServerRef, user: ManagedUserName, state: AccountState, record: { uid: number } | undefined): UserError | undefined {
  if (state.kind === 'system') {
    return new UserError('account_not_managed', `${user} on ${describeServer(ref)} is a system account (UID ${state.uid}): Keyway never grants to it.`);
  }
  if (state.kind === 'unmanaged') {
    return new UserError('account_not_managed', `${user} already exists on ${describeServer(ref)} and was not created by Keyway: it will not be touched. Give this person another linux_user, or remove the account.`);
  }
  if (state.kind === 'managed' && record?.uid !== state.uid) {
    return new UserError('account_not_managed', `${user} on ${describeServer(ref)} is marked keyway-managed, but this Keyway's database has no record of creating it${record ? ` (it recorded UID ${record.uid}, the server has ${state.uid})` : ''}: it will not be touched.`);
  }
  return undefined;
}

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

export async function revokeGrant(ctx: HostsContext, ref: ServerRef, input: RevokeInput): Promise<RevokeResult> {
  const user = userFor(ref, input.linuxUser);
  const principal = toPrincipal(input.principal);
  const kept = new Set(groupsOf(input.groupsStillGranted));
  const groupsToRemove = groupsOf(input.groups).filter((group) => !kept.has(group));

  return accountLocks.run(lockKey(ref, user), async () => {
    const record = liveManagedUser(ctx.db, ref.integration.name, ref.server.name, user);
    const output = await runRemote(ctx.pool, ref, revokeAccessCommand({
      user, uid: record ? toUid(record.uid) : undefined, principal, groupsToRemove, endAccess: !input.otherActiveGrants,
    }));
    return {
      accountFound: output.first('account') !== 'absent',
      principalRemoved: output.first('principal-removed') === '1',
      groupsRemoved: output.values.get('group-removed') ?? [],
      accessEnded: output.first('access-ended') === '1',
      hooksMoved: (output.first('hooks-moved') ?? '').split(' ').filter(Boolean),
      hooksMovedTo: output.first('hooks-moved-to'),
    };
  });
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
