// The append-only audit log. Each entry's hash covers its content and the previous entry's hash, so an edited,
// removed or reordered row breaks the chain from that point on (keyway audit verify).
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface AuditEntryInput {
  actor: string; // an e-mail, "cli:<os user>", or "system"
  action: string; // e.g. request.created, approval.refused, grant.revoked
  subject: string; // e.g. request:42, grant:7, server:web-1
  details?: Record<string, unknown>;
}

export interface AuditEntry extends Required<AuditEntryInput> {
  seq: number;
  at: number;
  prevHash: string;
  hash: string;
}

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

function entryHash(prevHash: string, seq: number, at: number, actor: string, action: string, subject: string, details: string): string {
  return createHash('sha256').update(JSON.stringify([prevHash, seq, at, actor, action, subject, details])).digest('hex');
}

export function appendAudit(db: Database, entry: AuditEntryInput, at: number): AuditEntry {
  const details = JSON.stringify(entry.details ?? {});
  // Inside a transaction so two writers cannot both chain onto the same predecessor.
  return db.transaction(() => {
    const last = statement(db, 'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const hash = entryHash(prevHash, seq, at, entry.actor, entry.action, entry.subject, details);
    statement(db, 'INSERT INTO audit_log (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(seq, at, entry.actor, entry.action, entry.subject, details, prevHash, hash);
    return { seq, at, actor: entry.actor, action: entry.action, subject: entry.subject, details: entry.details ?? {}, prevHash, hash };
  }).immediate();
}

/** The hash of the latest entry, which every earlier entry is chained into; undefined while the log is empty. */
export function auditHead(db: Database): string | undefined {
  return (statement(db, 'SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined)?.hash;
}

export function listAudit(db: Database, options: { subject?: string; limit?: number; sinceSeq?: number } = {}): AuditEntry[] {
  const rows = statement(db, `SELECT * FROM audit_log WHERE (@subject IS NULL OR subject = @subject) AND seq > @since
    ORDER BY seq DESC LIMIT @limit`).all({ subject: options.subject ?? null, since: options.sinceSeq ?? 0, limit: options.limit ?? 100 }) as AuditRow[];
  return rows.reverse().map(fromRow);
}

function fromRow(row: AuditRow): AuditEntry {
  return {
    seq: row.seq, at: row.at, actor: row.actor, action: row.action, subject: row.subject,
    details: JSON.parse(row.details) as Record<string, unknown>, prevHash: row.prev_hash, hash: row.hash,
  };
}

export type AuditVerification = { ok: true; entries: number } | { ok: false; entries: number; brokenAt: number; problem: string };

export function verifyAuditChain(db: Database): AuditVerification {
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let count = 0;
  for (const row of db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
    count++;
    if (row.seq !== expectedSeq) return { ok: false, entries: count, brokenAt: row.seq, problem: `entry ${expectedSeq} is missing` };
    if (row.prev_hash !== prevHash) return { ok: false, entries: count, brokenAt: row.seq, problem: `entry ${row.seq} does not follow entry ${row.seq - 1}` };
    if (entryHash(row.prev_hash, row.seq, row.at, row.actor, row.action, row.subject, row.details) !== row.hash) {
      return { ok: false, entries: count, brokenAt: row.seq, problem: `entry ${row.seq} was changed after it was written` };
    }
    prevHash = row.hash;
    expectedSeq++;
  }
  return { ok: true, entries: count };
}
