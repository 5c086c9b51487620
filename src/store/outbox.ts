// The outbox: messages owed to chat platforms, kept until delivered, retried with backoff.
import type { Database } from 'better-sqlite3';
import type { PlatformName } from '../core/chat-platform-name.js';
import type { AccessEvent } from '../core/events.js';
import { statement } from './statements.js';

export interface OutboxEntry {
  id: number;
  event: AccessEvent;
  attempts: number;
  createdAt: number;
}

export function enqueueEvent(db: Database, event: AccessEvent, now: number): number {
  const requestId = 'requestId' in event ? event.requestId : null;
  const info = statement(db, 'INSERT INTO outbox (kind, request_id, payload, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)')
    .run(event.kind, requestId, JSON.stringify(event), now, now);
  return Number(info.lastInsertRowid);
}

export function dueOutbox(db: Database, now: number, limit = 50): OutboxEntry[] {
  const rows = statement(db, 'SELECT id, payload, attempts, created_at FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?')
    .all(now, limit) as Array<{ id: number; payload: string; attempts: number; created_at: number }>;
  return rows.map((r) => ({ id: r.id, event: JSON.parse(r.payload) as AccessEvent, attempts: r.attempts, createdAt: r.created_at }));
}

/** The platforms that already took this entry: a retry skips them. */
export function deliveredPlatformsOf(db: Database, id: number): PlatformName[] {
  const row = statement(db, 'SELECT delivered_platforms FROM outbox WHERE id = ?').get(id) as { delivered_platforms: string };
  return JSON.parse(row.delivered_platforms) as PlatformName[];
}

export function recordDeliveredPlatforms(db: Database, id: number, platforms: readonly PlatformName[]): void {
  statement(db, 'UPDATE outbox SET delivered_platforms = ? WHERE id = ?').run(JSON.stringify(platforms), id);
}

/** Every platform took the entry: it is done. */
export function markDelivered(db: Database, id: number, now: number): void {
  statement(db, 'UPDATE outbox SET delivered_at = ?, last_error = NULL WHERE id = ?').run(now, id);
}

export function markDeliveryFailed(db: Database, id: number, error: string, nextAttemptAt: number): void {
  statement(db, 'UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?').run(error.slice(0, 500), nextAttemptAt, id);
}

export function undeliveredCount(db: Database): number {
  return (statement(db, 'SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL').get() as { n: number }).n;
}
