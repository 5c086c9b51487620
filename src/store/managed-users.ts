// Linux users Keyway created, per integration and server, the UIDs they were given, and the person (e-mail) each
// belongs to. A UID that appears here (even for a deleted user) is never handed out again on that server, so a
// deleted user's files never pass to a newcomer; a name with live accounts is never handed to another person.
import type { Database } from 'better-sqlite3';
import { UserError } from '../core/errors.js';
import type { UidRange } from '../core/model.js';
import { statement } from './statements.js';

export interface ManagedUser {
  integration: string;
  server: string;
  linuxUser: string;
  uid: number;
  createdAt: number;
  deletedAt: number | null;
  /** The person the account was created for; null for an account recorded before owners were, whose name no person had. */
  ownerEmail: string | null;
}

const COLUMNS = 'integration, server, linux_user AS linuxUser, uid, created_at AS createdAt, deleted_at AS deletedAt, owner_email AS ownerEmail';

export function liveManagedUser(db: Database, integration: string, server: string, linuxUser: string): ManagedUser | undefined {
  return statement(db, `SELECT ${COLUMNS} FROM managed_users WHERE integration = ? AND server = ? AND linux_user = ? AND deleted_at IS NULL`)
    .get(integration, server, linuxUser) as ManagedUser | undefined;
}

export interface AllocatedUid {
  uid: number;
  /** false when the user already had a live record and keeps its UID */
  allocated: boolean;
}

/**
 * The UID for a user Keyway is about to create: the live record's UID if the user has one, else the lowest UID in
 * the range above every UID ever recorded on the server (then any never-recorded gap) that the server does not
 * already use. Records the row in the same transaction, so two callers never get the same UID.
 */
export function allocateUid(
  db: Database,
  integration: string,
  server: string,
  linuxUser: string,
  range: UidRange,
  now: number,
  isTakenOnServer: (uid: number) => boolean = () => false,
): AllocatedUid {
  return db.transaction((): AllocatedUid => {
    const live = liveManagedUser(db, integration, server, linuxUser);
    if (live) return { uid: live.uid, allocated: false };
    const recorded = new Set((db.prepare('SELECT uid FROM managed_users WHERE integration = ? AND server = ?')
      .pluck().all(integration, server) as number[]));
    const usable = (uid: number): boolean => !recorded.has(uid) && !isTakenOnServer(uid);
    let highest = range.min - 1;
    for (const uid of recorded) if (uid > highest && uid <= range.max) highest = uid;
    let uid: number | undefined;
    for (let candidate = highest + 1; candidate <= range.max && uid === undefined; candidate++) if (usable(candidate)) uid = candidate;
    for (let candidate = range.min; candidate <= highest && uid === undefined; candidate++) if (usable(candidate)) uid = candidate;
    if (uid === undefined) {
      throw new UserError('config_invalid', `Every UID in uid_range ${range.min}-${range.max} of integration ${integration} has been used on ${server}: widen uid_range.`);
    }
    // The owner is whoever the people table gives this name to now (the grant being provisioned is theirs).
    statement(db, `INSERT INTO managed_users (integration, server, linux_user, uid, created_at, owner_email)
      VALUES (?, ?, ?, ?, ?, (SELECT email FROM people WHERE linux_user = ?))`)
      .run(integration, server, linuxUser, uid, now, linuxUser);
    return { uid, allocated: true };
  }).immediate();
}

/** The accounts under this name that still exist (on any integration and server), with whom they belong to. */
export function liveAccountsNamed(db: Database, linuxUser: string): ManagedUser[] {
  return statement(db, `SELECT ${COLUMNS} FROM managed_users WHERE linux_user = ? AND deleted_at IS NULL ORDER BY integration, server`)
    .all(linuxUser) as ManagedUser[];
}

/** Marks the live record deleted; its UID stays recorded. Returns whether there was a live record. */
export function markDeleted(db: Database, integration: string, server: string, linuxUser: string, now: number): boolean {
  return statement(db, 'UPDATE managed_users SET deleted_at = ? WHERE integration = ? AND server = ? AND linux_user = ? AND deleted_at IS NULL')
    .run(now, integration, server, linuxUser).changes === 1;
}
