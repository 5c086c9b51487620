// Where Keyway can reach a person on a chat platform without them writing first (table chat_addresses):
// for Teams, the conversation reference of the personal chat, saved whenever the person writes or installs
// the app. Keyed by lower-case e-mail, the identity every platform shares.
import type { Database } from 'better-sqlite3';
import type { PlatformName } from '../core/chat-platform-name.js';
import { statement } from './statements.js';

export function saveChatAddress(db: Database, platform: PlatformName, email: string, address: unknown, now: number): void {
  statement(db, `INSERT INTO chat_addresses (platform, email, address, updated_at) VALUES (?, ?, ?, ?)
    ON CONFLICT(platform, email) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at`)
    .run(platform, email.toLowerCase(), JSON.stringify(address), now);
}

export function chatAddressOf<A>(db: Database, platform: PlatformName, email: string): A | undefined {
  const row = statement(db, 'SELECT address FROM chat_addresses WHERE platform = ? AND email = ?').get(platform, email.toLowerCase()) as { address: string } | undefined;
  return row && (JSON.parse(row.address) as A);
}

/** The person removed the app or blocked it: Keyway can no longer reach them there until they write again. */
export function forgetChatAddress(db: Database, platform: PlatformName, email: string): void {
  statement(db, 'DELETE FROM chat_addresses WHERE platform = ? AND email = ?').run(platform, email.toLowerCase());
}
