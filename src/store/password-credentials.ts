// One-time passwords owed to requests (migration 0009): the serial and until when each is meant to work, never the
// password itself, which exists only in memory while its message is sent.
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface PasswordCredential {
  serial: number;
  requestId: number;
  /** Epoch milliseconds: the end of the access it was issued for. */
  validUntil: number;
  issuedAt: number;
}

interface Row { serial: number; request_id: number; valid_until: number; issued_at: number }

export function insertPasswordCredential(db: Database, requestId: number, validUntil: number, now: number): PasswordCredential {
  const info = statement(db, 'INSERT INTO password_credentials (request_id, valid_until, issued_at) VALUES (?, ?, ?)').run(requestId, validUntil, now);
  return { serial: Number(info.lastInsertRowid), requestId, validUntil, issuedAt: now };
}

export function latestPasswordCredential(db: Database, requestId: number): PasswordCredential | undefined {
  const row = statement(db, 'SELECT * FROM password_credentials WHERE request_id = ? ORDER BY serial DESC LIMIT 1').get(requestId) as Row | undefined;
  return row && { serial: row.serial, requestId: row.request_id, validUntil: row.valid_until, issuedAt: row.issued_at };
}

/**
 * When the message carrying password `serial` of a request was first posted (the notifier records it in
 * chat_messages with purpose `grant:password-<serial>`); undefined while it has not been.
 */
export function passwordMessageSentAt(db: Database, requestId: number, serial: number): number | undefined {
  const row = statement(db, 'SELECT MIN(created_at) AS at FROM chat_messages WHERE request_id = ? AND purpose = ?')
    .get(requestId, `grant:password-${serial}`) as { at: number | null };
  return row.at ?? undefined;
}
