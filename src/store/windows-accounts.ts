// The Active Directory accounts Keyway created (migration 0009): what lets the windows-dc driver tell its own
// account from anyone else's (the objectGUID), and which grants keep an account in use.
import type { Database } from 'better-sqlite3';
import { GRANT_STATES_WITH_ACCESS } from '../core/lifecycle.js';
import type { Grant } from './grants.js';
import { statement } from './statements.js';

export interface WindowsAccount {
  id: number;
  integration: string;
  account: string;
  dn: string;
  /** null between the claim and the creation (a crash in between): see the migration. */
  objectGuid: string | null;
  createdAt: number;
}

interface Row { id: number; integration: string; account: string; dn: string; object_guid: string | null; created_at: number }

const fromRow = (r: Row): WindowsAccount => ({ id: r.id, integration: r.integration, account: r.account, dn: r.dn, objectGuid: r.object_guid, createdAt: r.created_at });

export function liveWindowsAccount(db: Database, integration: string, account: string): WindowsAccount | undefined {
  const row = statement(db, 'SELECT * FROM windows_accounts WHERE integration = ? AND account = ? AND deleted_at IS NULL').get(integration, account) as Row | undefined;
  return row && fromRow(row);
}

/** Claims the name before the account is created; the live row if there is one already. */
export function claimWindowsAccount(db: Database, integration: string, account: string, dn: string, now: number): WindowsAccount {
  statement(db, 'INSERT INTO windows_accounts (integration, account, dn, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(integration, account, dn, now);
  return liveWindowsAccount(db, integration, account)!;
}

export function recordObjectGuid(db: Database, id: number, objectGuid: string): void {
  statement(db, 'UPDATE windows_accounts SET object_guid = ? WHERE id = ? AND object_guid IS NULL').run(objectGuid, id);
}

export function markWindowsAccountDeleted(db: Database, id: number, now: number): void {
  statement(db, 'UPDATE windows_accounts SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(now, id);
}

/** The live grants of one person in one integration (all its resources): what keeps a per-domain account in use. */
export function liveGrantsOfPerson(db: Database, integration: string, linuxUser: string): Array<Pick<Grant, 'id' | 'server' | 'expiresAt' | 'state'>> {
  return (statement(db, `SELECT id, server, expires_at, state FROM grants WHERE integration = ? AND linux_user = ?
    AND state IN ('provisioning', 'active')`).all(integration, linuxUser) as Array<{ id: number; server: string; expires_at: number; state: Grant['state'] }>)
    .map((r) => ({ id: r.id, server: r.server, expiresAt: r.expires_at, state: r.state }));
}

/**
 * The live grants of one person in a windows-dc domain, of every kind that uses its domain account: the domain's own
 * (its groups) and those of rdp integrations that grant through it (target_account.domain.integration).
 */
export function liveGrantsInDomain(db: Database, domain: string, linuxUser: string): Array<Pick<Grant, 'id' | 'server' | 'expiresAt' | 'state'>> {
  return (statement(db, `SELECT id, server, expires_at, state FROM grants WHERE linux_user = ? AND state IN ('provisioning', 'active')
    AND (integration = ? OR (target_kind = 'rdp' AND json_extract(target_account, '$.domain.integration') = ?))`)
    .all(linuxUser, domain, domain) as Array<{ id: number; server: string; expires_at: number; state: Grant['state'] }>)
    .map((r) => ({ id: r.id, server: r.server, expiresAt: r.expires_at, state: r.state }));
}

/** Whether any grant of the person in the domain (of either kind) may still give access: what keeps cleanup away. */
export function hasGrantWithAccessInDomain(db: Database, domain: string, linuxUser: string): boolean {
  const states = GRANT_STATES_WITH_ACCESS.map((s) => `'${s}'`).join(', ');
  return statement(db, `SELECT 1 FROM grants WHERE linux_user = ? AND state IN (${states})
    AND (integration = ? OR (target_kind = 'rdp' AND json_extract(target_account, '$.domain.integration') = ?)) LIMIT 1`)
    .get(linuxUser, domain, domain) !== undefined;
}

/** When the person's last grant in the domain (of either kind) ended, or undefined if none has. */
export function lastRevokeInDomain(db: Database, domain: string, linuxUser: string): number | undefined {
  const row = statement(db, `SELECT MAX(revoked_at) AS at FROM grants WHERE linux_user = ?
    AND (integration = ? OR (target_kind = 'rdp' AND json_extract(target_account, '$.domain.integration') = ?))`)
    .get(linuxUser, domain, domain) as { at: number | null };
  return row.at ?? undefined;
}
