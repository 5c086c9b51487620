// The numbers /metrics and /healthz read from the database. Nothing here walks the history: live states are counted
// on the state indexes (they only hold the live rows' range), ended states come from state_counts (kept by triggers,
// migration 0007), and events are read from the audit log after a cursor, by primary key.
import type { Database } from 'better-sqlite3';
import { GRANT_STATES, GRANT_STATES_WITH_ACCESS, REQUEST_STATES, type GrantState, type RequestState } from '../core/lifecycle.js';
import { statement } from './statements.js';

/** Throws when the database does not answer: what /healthz reports as database_unavailable. */
export function pingDatabase(db: Database): void {
  statement(db, 'SELECT 1').get();
}

const LIVE_REQUEST_STATES: readonly RequestState[] = ['pending'];

/** Requests in each state, every state present (0 when none). */
export function requestCountsByState(db: Database): Record<RequestState, number> {
  return countsByState(db, 'requests', 'request', REQUEST_STATES, LIVE_REQUEST_STATES);
}

/** Grants in each state, every state present (0 when none). */
export function grantCountsByState(db: Database): Record<GrantState, number> {
  return countsByState(db, 'grants', 'grant', GRANT_STATES, GRANT_STATES_WITH_ACCESS);
}

export function requestsIn(db: Database, state: RequestState): number {
  return (statement(db, 'SELECT COUNT(*) AS n FROM requests WHERE state = ?').get(state) as { n: number }).n;
}

export function grantsIn(db: Database, state: GrantState): number {
  return (statement(db, 'SELECT COUNT(*) AS n FROM grants WHERE state = ?').get(state) as { n: number }).n;
}

function countsByState<S extends string>(db: Database, table: 'requests' | 'grants', entity: 'request' | 'grant', all: readonly S[], live: readonly S[]): Record<S, number> {
  const counts = Object.fromEntries(all.map((s) => [s, 0])) as Record<S, number>;
  const ended = all.filter((s) => !live.includes(s));
  const rows = [
    ...statement(db, `SELECT state, n FROM state_counts WHERE entity = ? AND state IN (${ended.map(() => '?').join(', ')})`).all(entity, ...ended),
    ...statement(db, `SELECT state, COUNT(*) AS n FROM ${table} WHERE state IN (${live.map(() => '?').join(', ')}) GROUP BY state`).all(...live),
  ] as Array<{ state: S; n: number }>;
  for (const row of rows) counts[row.state] = row.n;
  return counts;
}

/** The audit log's latest sequence number (0 while empty): where a metrics cursor starts. */
export function auditHeadSeq(db: Database): number {
  return (statement(db, 'SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_log').get() as { seq: number }).seq;
}

export interface MetricEvent {
  seq: number;
  action: string;
  actor: string;
  /** request.approved: seconds from request to approval. */
  approvalSeconds: number | null;
  /** grant.revoked at or after the grant's expiry: seconds from expiry to revocation. */
  revocationLagSeconds: number | null;
}

/** The audit entries in (afterSeq, upToSeq] whose action is one of `actions`, with the timings metrics observe. */
export function metricEventsBetween(db: Database, afterSeq: number, upToSeq: number, actions: readonly string[]): MetricEvent[] {
  return statement(db, `SELECT a.seq, a.action, a.actor,
      CASE WHEN a.action = 'request.approved' THEN (r.decided_at - r.created_at) / 1000.0 END AS approvalSeconds,
      CASE WHEN a.action = 'grant.revoked' AND g.revoked_at >= g.expires_at THEN (g.revoked_at - g.expires_at) / 1000.0 END AS revocationLagSeconds
    FROM audit_log a
    LEFT JOIN requests r ON a.action = 'request.approved' AND r.id = CAST(substr(a.subject, 9) AS INTEGER)
    LEFT JOIN grants g ON a.action = 'grant.revoked' AND g.id = CAST(substr(a.subject, 7) AS INTEGER)
    WHERE a.seq > ? AND a.seq <= ? AND a.action IN (${actions.map(() => '?').join(', ')})
    ORDER BY a.seq`).all(afterSeq, upToSeq, ...actions) as MetricEvent[];
}
