// Cloud inventory snapshots (migration 0008): the servers each refresh of an aws-ec2 or azure-vm integration found,
// when it was taken and how long it took, and how the last refresh went. Only the latest snapshot is kept.
import type { Database } from 'better-sqlite3';
import { GRANT_STATES_WITH_ACCESS } from '../core/lifecycle.js';
import type { Server } from '../core/model.js';
import { statement } from './statements.js';

export interface SnapshotServer extends Server {
  /** The name the cloud gave, before it was made unique. */
  discoveredName: string;
  cloudId: string;
  region: string;
  /** Epoch ms since when the cloud no longer lists it (kept for its live grants); undefined when listed. */
  missingSince?: number;
}

export interface Snapshot {
  id: number;
  integration: string;
  takenAt: number;
  durationMs: number;
  servers: SnapshotServer[];
}

export interface RefreshRecord {
  integration: string;
  attemptedAt: number;
  ok: boolean;
  /** Why the last refresh failed (already free of secrets: the refresher writes a one-line reason). */
  error: string | null;
  failuresInRow: number;
}

interface ServerRow {
  name: string; discovered_name: string; cloud_id: string; region: string; host: string; port: number; user: string; tags: string;
  missing_since: number | null;
}

/** Stores the servers of one refresh as the integration's latest snapshot, dropping the older ones. Returns its id. */
export function saveSnapshot(db: Database, integration: string, takenAt: number, durationMs: number, servers: readonly SnapshotServer[]): number {
  return db.transaction(() => {
    const id = Number(statement(db, 'INSERT INTO inventory_snapshots (integration, taken_at, duration_ms) VALUES (?, ?, ?)').run(integration, takenAt, durationMs).lastInsertRowid);
    const insert = statement(db, `INSERT INTO inventory_servers (snapshot_id, name, discovered_name, cloud_id, region, host, port, user, tags, missing_since)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (const s of servers) insert.run(id, s.name, s.discoveredName, s.cloudId, s.region, s.host, s.port, s.user, JSON.stringify(s.tags), s.missingSince ?? null);
    statement(db, 'DELETE FROM inventory_snapshots WHERE integration = ? AND id < ?').run(integration, id);
    return id;
  }).immediate();
}

/** The id of the newest snapshot of any integration: changes whenever any inventory does. 0: none yet. */
export function newestSnapshotId(db: Database): number {
  return (statement(db, 'SELECT COALESCE(MAX(id), 0) AS id FROM inventory_snapshots').get() as { id: number }).id;
}

export function latestSnapshot(db: Database, integration: string): Snapshot | undefined {
  const head = statement(db, 'SELECT id, taken_at, duration_ms FROM inventory_snapshots WHERE integration = ? ORDER BY id DESC LIMIT 1')
    .get(integration) as { id: number; taken_at: number; duration_ms: number } | undefined;
  if (!head) return undefined;
  const rows = statement(db, 'SELECT * FROM inventory_servers WHERE snapshot_id = ? ORDER BY name').all(head.id) as ServerRow[];
  return {
    id: head.id, integration, takenAt: head.taken_at, durationMs: head.duration_ms,
    servers: rows.map((r) => ({
      name: r.name, discoveredName: r.discovered_name, cloudId: r.cloud_id, region: r.region, host: r.host, port: r.port, user: r.user,
      tags: JSON.parse(r.tags) as Record<string, string>, ...(r.missing_since !== null && { missingSince: r.missing_since }),
    })),
  };
}

export function recordRefresh(db: Database, integration: string, attemptedAt: number, error: string | undefined): void {
  statement(db, `INSERT INTO inventory_refreshes (integration, attempted_at, ok, error, failures_in_row) VALUES (@integration, @at, @ok, @error, @failures)
    ON CONFLICT (integration) DO UPDATE SET attempted_at = @at, ok = @ok, error = @error,
      failures_in_row = CASE WHEN @ok = 1 THEN 0 ELSE failures_in_row + 1 END`)
    .run({ integration, at: attemptedAt, ok: error === undefined ? 1 : 0, error: error ?? null, failures: error === undefined ? 0 : 1 });
}

export function lastRefreshes(db: Database): Map<string, RefreshRecord> {
  const rows = statement(db, 'SELECT * FROM inventory_refreshes').all() as Array<{ integration: string; attempted_at: number; ok: number; error: string | null; failures_in_row: number }>;
  return new Map(rows.map((r) => [r.integration, { integration: r.integration, attemptedAt: r.attempted_at, ok: r.ok === 1, error: r.error, failuresInRow: r.failures_in_row }]));
}

/** The servers of an integration on which some grant may still give access (so they must stay in its inventory). */
export function serversWithLiveGrants(db: Database, integration: string): Set<string> {
  const states = GRANT_STATES_WITH_ACCESS.map(() => '?').join(', ');
  const rows = statement(db, `SELECT DISTINCT server FROM grants WHERE integration = ? AND state IN (${states})`).all(integration, ...GRANT_STATES_WITH_ACCESS) as Array<{ server: string }>;
  return new Set(rows.map((r) => r.server));
}

export interface SnapshotSummary {
  integration: string;
  takenAt: number;
  durationMs: number;
  servers: number;
  /** Servers kept only for their live grants. */
  missing: number;
}

/** Each integration's latest snapshot, counted, without reading its servers. */
export function snapshotSummaries(db: Database): Map<string, SnapshotSummary> {
  const rows = statement(db, `SELECT s.integration, s.taken_at, s.duration_ms, COUNT(v.name) AS servers, COUNT(v.missing_since) AS missing
    FROM inventory_snapshots s LEFT JOIN inventory_servers v ON v.snapshot_id = s.id
    WHERE s.id = (SELECT MAX(id) FROM inventory_snapshots l WHERE l.integration = s.integration)
    GROUP BY s.id`).all() as Array<{ integration: string; taken_at: number; duration_ms: number; servers: number; missing: number }>;
  return new Map(rows.map((r) => [r.integration, { integration: r.integration, takenAt: r.taken_at, durationMs: r.duration_ms, servers: r.servers, missing: r.missing }]));
}
