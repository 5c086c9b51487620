// What provisioning and revoking share, one grant or a batch (provision.ts, provision-batch.ts): the context, the
// shapes of a grant on a server and of its results, the per-account locks, and how Keyway judges a user, its groups
// and the account the server has. Keyway only touches accounts it created: marked keyway-managed on the server AND
// recorded in managed_users with the same UID.
import type { Database } from 'better-sqlite3';
import { UserError } from '../../core/errors.js';
import { DEFAULT_GROUP, type ServerRef } from '../../core/model.js';
import { describeServer, type ConnectionPool } from './connection-pool.js';
import { KeyedMutex } from './keyed-mutex.js';
import { groupName, managedUserName, type GroupName, type ManagedUserName } from './remote-values.js';

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
