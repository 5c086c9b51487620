// Grants: one per request and server, with compare-and-swap state changes and retry bookkeeping, and the target each
// was bound to (kind, address, the kind's account data: migration 0006) so revoke and cleanup never need the config.
import type { Database } from 'better-sqlite3';
import type { GrantState } from '../core/lifecycle.js';
import { statement } from './statements.js';

export interface Grant {
  id: number;
  requestId: number;
  integration: string;
  server: string;
  linuxUser: string;
  groups: string[];
  principal: string;
  state: GrantState;
  expiresAt: number;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  activeAt: number | null;
  revokedAt: number | null;
  cleanedAt: number | null;
  /** The integration type whose driver handles the grant; null until the grant is bound (nothing done on a target yet). */
  targetKind: string | null;
  /** Where the target is reached (SSH: host:port); null until bound, and for a grant stored before migration 0006. */
  targetAddress: string | null;
  /** The driver's account data (JSON object); null until bound. */
  targetAccount: Record<string, unknown> | null;
}

interface GrantRow {
  id: number; request_id: number; integration: string; server: string; linux_user: string; groups: string; principal: string;
  state: GrantState; expires_at: number; attempts: number; next_attempt_at: number | null; last_error: string | null;
  created_at: number; updated_at: number; active_at: number | null; revoked_at: number | null; cleaned_at: number | null;
  target_kind: string | null; target_address: string | null; target_account: string | null;
}

function fromRow(r: GrantRow): Grant {
  return {
    id: r.id, requestId: r.request_id, integration: r.integration, server: r.server, linuxUser: r.linux_user,
    groups: JSON.parse(r.groups) as string[], principal: r.principal, state: r.state, expiresAt: r.expires_at,
    attempts: r.attempts, nextAttemptAt: r.next_attempt_at, lastError: r.last_error, createdAt: r.created_at,
    updatedAt: r.updated_at, activeAt: r.active_at, revokedAt: r.revoked_at, cleanedAt: r.cleaned_at,
    targetKind: r.target_kind, targetAddress: r.target_address,
    targetAccount: r.target_account === null ? null : JSON.parse(r.target_account) as Record<string, unknown>,
  };
}

export interface NewGrant {
  requestId: number;
  integration: string;
  server: string;
  linuxUser: string;
  groups: string[];
  principal: string;
  expiresAt: number;
}

export function insertGrant(db: Database, g: NewGrant, now: number): Grant {
  const info = statement(db, `INSERT INTO grants (request_id, integration, server, linux_user, groups, principal, state, expires_at, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 'provisioning', ?, ?, ?)`).run(g.requestId, g.integration, g.server, g.linuxUser, JSON.stringify(g.groups), g.principal, g.expiresAt, now, now);
  return getGrant(db, Number(info.lastInsertRowid))!;
}

/** What a grant is bound to: written once, before the target is first touched. */
export interface GrantTarget {
  kind: string;
  address: string | null;
  account: Record<string, unknown>;
}

/**
 * Binds a grant to its target. A grant is bound once: a grant already bound keeps its target, except that a row
 * stored before migration 0006 (kind, no address) may be completed with its address. Returns whether it wrote.
 */
export function bindGrantTarget(db: Database, id: number, target: GrantTarget): boolean {
  return statement(db, `UPDATE grants SET target_kind = @kind, target_address = @address, target_account = @account
    WHERE id = @id AND (target_kind IS NULL OR (target_kind = @kind AND target_address IS NULL))`)
    .run({ id, kind: target.kind, address: target.address, account: JSON.stringify(target.account) }).changes === 1;
}

export function getGrant(db: Database, id: number): Grant | undefined {
  const row = statement(db, 'SELECT * FROM grants WHERE id = ?').get(id) as GrantRow | undefined;
  return row && fromRow(row);
}

export function grantsOfRequest(db: Database, requestId: number): Grant[] {
  return (statement(db, 'SELECT * FROM grants WHERE request_id = ? ORDER BY id').all(requestId) as GrantRow[]).map(fromRow);
}

export interface GrantFilter {
  states?: readonly GrantState[];
  linuxUser?: string;
  limit?: number;
}

export function listGrants(db: Database, filter: GrantFilter = {}): Grant[] {
  const states = filter.states ?? [];
  const rows = statement(db, `SELECT * FROM grants WHERE (@anyState OR state IN (SELECT value FROM json_each(@states)))
    AND (@user IS NULL OR linux_user = @user) ORDER BY id DESC LIMIT @limit`)
    .all({ anyState: states.length === 0 ? 1 : 0, states: JSON.stringify(states), user: filter.linuxUser ?? null, limit: filter.limit ?? 1000 }) as GrantRow[];
  return rows.map(fromRow);
}

export interface GrantMove {
  at: number;
  error?: string | null;
  nextAttemptAt?: number | null;
  countAttempt?: boolean;
}

/** Moves a grant from one state to another. Returns false when it was not in `from` (someone else moved it). */
export function moveGrant(db: Database, id: number, from: GrantState, to: GrantState, move: GrantMove): boolean {
  const stamp = to === 'active' ? 'active_at' : to === 'revoked' ? 'revoked_at' : to === 'cleaned' ? 'cleaned_at' : null;
  const info = statement(db, `UPDATE grants SET state = @to, updated_at = @at, last_error = @error, next_attempt_at = @next,
      attempts = attempts + @count ${stamp ? `, ${stamp} = @at` : ''}
    WHERE id = @id AND state = @from`).run({
    id, from, to, at: move.at, error: move.error ?? null, next: move.nextAttemptAt ?? null, count: move.countAttempt ? 1 : 0,
  });
  return info.changes === 1;
}

export function setGrantExpiry(db: Database, id: number, expiresAt: number, now: number): void {
  statement(db, 'UPDATE grants SET expires_at = ?, updated_at = ? WHERE id = ?').run(expiresAt, now, id);
}

/** Active grants whose time is up. */
export function grantsDueForRevoke(db: Database, now: number): Grant[] {
  return (statement(db, "SELECT * FROM grants WHERE state IN ('active', 'provisioning', 'provision_failed') AND expires_at <= ? ORDER BY expires_at").all(now) as GrantRow[]).map(fromRow);
}

export function nextGrantExpiry(db: Database): number | undefined {
  const row = statement(db, "SELECT MIN(expires_at) AS at FROM grants WHERE state IN ('active', 'provisioning', 'provision_failed')").get() as { at: number | null };
  return row.at ?? undefined;
}

/** Other grants that keep this user's access alive on the same server. */
export function otherLiveGrantsOnServer(db: Database, grant: Pick<Grant, 'id' | 'integration' | 'server' | 'linuxUser'>): Grant[] {
  return (statement(db, `SELECT * FROM grants WHERE integration = ? AND server = ? AND linux_user = ? AND id != ?
    AND state IN ('provisioning', 'active')`).all(grant.integration, grant.server, grant.linuxUser, grant.id) as GrantRow[]).map(fromRow);
}
