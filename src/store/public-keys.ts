// The registered SSH public keys as an admin sees them: the current key of each person, and retiring one.
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface CurrentKey {
  email: string;
  linuxUser: string;
  keyType: string;
  fingerprint: string;
  createdAt: number;
}

export function listCurrentKeys(db: Database): CurrentKey[] {
  return statement(db, `SELECT k.email, p.linux_user AS linuxUser, k.key_type AS keyType, k.fingerprint, k.created_at AS createdAt
    FROM public_keys k JOIN people p ON p.email = k.email WHERE k.replaced_at IS NULL ORDER BY k.email`).all() as CurrentKey[];
}

/** Marks the person's current key replaced (kept as history); returns its fingerprint, or undefined if they had none. */
export function retireCurrentKey(db: Database, email: string, at: number): string | undefined {
  return db.transaction(() => {
    const row = statement(db, 'SELECT id, fingerprint FROM public_keys WHERE email = ? AND replaced_at IS NULL').get(email.toLowerCase()) as { id: number; fingerprint: string } | undefined;
    if (!row) return undefined;
    statement(db, 'UPDATE public_keys SET replaced_at = ? WHERE id = ? AND replaced_at IS NULL').run(at, row.id);
    return row.fingerprint;
  })();
}
