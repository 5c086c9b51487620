// The numbers /metrics and /healthz report, read from the database at scrape time (so restarts lose nothing).
import type { Database } from 'better-sqlite3';

export interface StateCount {
  state: string;
  n: number;
}

/** Throws when the database does not answer: what /healthz reports as database_unavailable. */
export function pingDatabase(db: Database): void {
  db.prepare('SELECT 1').get();
}

export function requestCountsByState(db: Database): StateCount[] {
  return db.prepare('SELECT state, COUNT(*) AS n FROM requests GROUP BY state ORDER BY state').all() as StateCount[];
}

export function grantCountsByState(db: Database): StateCount[] {
  return db.prepare('SELECT state, COUNT(*) AS n FROM grants GROUP BY state ORDER BY state').all() as StateCount[];
}

/** Seconds from request to approval, for every request a person (not the system) approved. */
export function approvalLatenciesSeconds(db: Database): number[] {
  return (db.prepare("SELECT (decided_at - created_at) / 1000.0 AS s FROM requests WHERE state = 'approved' AND decided_by != 'system'").all() as Array<{ s: number }>).map((r) => r.s);
}

/** Seconds from a grant's expiry to its revocation on the server, for grants revoked at or after expiry. */
export function revocationLagsSeconds(db: Database): number[] {
  return (db.prepare(`SELECT (g.revoked_at - g.expires_at) / 1000.0 AS s FROM grants g JOIN requests r ON r.id = g.request_id
    WHERE g.revoked_at IS NOT NULL AND g.revoked_at >= g.expires_at`).all() as Array<{ s: number }>).map((r) => r.s);
}
