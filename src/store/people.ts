// People (e-mail → Linux username), their current SSH public key, and their chat identities.
import type { Database } from 'better-sqlite3';
import { UserError } from '../core/errors.js';
import { statement } from './statements.js';

export interface StoredKey {
  email: string;
  keyType: string;
  keyLine: string;
  fingerprint: string;
  createdAt: number;
}

/** What to do when a Linux user name is not free for this person: give them another one in the config. */
export function anotherNameAdvice(email: string): string {
  return `Ask a Keyway admin to give ${email} another Linux user name in the config: a people: entry such as { email: ${email}, linux_user: <another name> }.`;
}

/** Refuses, with what to do, a Linux user name the people table already gives to someone else. */
export function assertNameNotTaken(db: Database, email: string, linuxUser: string): void {
  const holder = personByLinuxUser(db, linuxUser);
  if (holder !== undefined && holder !== email.toLowerCase()) {
    throw new UserError('linux_user_taken', `The Linux user name "${linuxUser}" already belongs to another person, so Keyway cannot give it to ${email.toLowerCase()}. ${anotherNameAdvice(email.toLowerCase())}`);
  }
}

/**
 * Records the person with the Linux user name the config gives them now. A name another person has is refused
 * (a UserError saying what to do), never left to the UNIQUE constraint.
 */
export function upsertPerson(db: Database, email: string, linuxUser: string, now: number): void {
  db.transaction(() => {
    assertNameNotTaken(db, email, linuxUser);
    statement(db, `INSERT INTO people (email, linux_user, created_at) VALUES (?, ?, ?)
      ON CONFLICT(email) DO UPDATE SET linux_user = excluded.linux_user`).run(email.toLowerCase(), linuxUser, now);
  })();
}

export function personByLinuxUser(db: Database, linuxUser: string): string | undefined {
  const row = statement(db, 'SELECT email FROM people WHERE linux_user = ?').get(linuxUser) as { email: string } | undefined;
  return row?.email;
}

export function setCurrentKey(db: Database, key: StoredKey): void {
  db.transaction(() => {
    statement(db, 'UPDATE public_keys SET replaced_at = ? WHERE email = ? AND replaced_at IS NULL').run(key.createdAt, key.email);
    statement(db, 'INSERT INTO public_keys (email, key_type, key_line, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.email, key.keyType, key.keyLine, key.fingerprint, key.createdAt);
  })();
}

export function currentKey(db: Database, email: string): StoredKey | undefined {
  const row = statement(db, `SELECT email, key_type AS keyType, key_line AS keyLine, fingerprint, created_at AS createdAt
    FROM public_keys WHERE email = ? AND replaced_at IS NULL`).get(email.toLowerCase()) as StoredKey | undefined;
  return row;
}

export function rememberChatIdentity(db: Database, platform: 'slack' | 'teams', platformUserId: string, email: string, details: Record<string, unknown>, now: number): void {
  statement(db, `INSERT INTO chat_identities (platform, platform_user_id, email, details, updated_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(platform, platform_user_id) DO UPDATE SET email = excluded.email, details = excluded.details, updated_at = excluded.updated_at`)
    .run(platform, platformUserId, email.toLowerCase(), JSON.stringify(details), now);
}

