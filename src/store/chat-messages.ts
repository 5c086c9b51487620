// The chat messages Keyway posted and may update or must not post twice, in table chat_messages: approval
// messages (updated to the outcome), the requester's progress message, and a marker per one-off message so
// that a re-delivered outbox event does not tell anyone twice. The address is what the platform needs to
// update the message (Slack: channel and ts; Teams: conversation reference and activity id).
import type { Database } from 'better-sqlite3';
import type { PlatformName } from '../core/chat-platform-name.js';
import { statement } from './statements.js';

export interface ChatMessage<Address> {
  requestId: number;
  purpose: string;
  recipient: string;
  address: Address;
}

export function recordChatMessage<A>(db: Database, platform: PlatformName, message: ChatMessage<A>, now: number): void {
  statement(db, 'INSERT INTO chat_messages (request_id, platform, purpose, recipient, address, created_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(message.requestId, platform, message.purpose, message.recipient, JSON.stringify(message.address), now);
}

export function chatMessagesOf<A>(db: Database, platform: PlatformName, requestId: number, purpose: string): Array<ChatMessage<A>> {
  const rows = statement(db, 'SELECT recipient, address FROM chat_messages WHERE request_id = ? AND platform = ? AND purpose = ? ORDER BY id')
    .all(requestId, platform, purpose) as Array<{ recipient: string; address: string }>;
  return rows.map((r) => ({ requestId, purpose, recipient: r.recipient, address: JSON.parse(r.address) as A }));
}

export function hasChatMessageOnAnyPlatform(db: Database, requestId: number, purpose: string, recipient: string): boolean {
  return statement(db, 'SELECT 1 FROM chat_messages WHERE request_id = ? AND purpose = ? AND recipient = ? LIMIT 1')
    .get(requestId, purpose, recipient) !== undefined;
}

export function hasChatMessage(db: Database, platform: PlatformName, requestId: number, purpose: string, recipient: string): boolean {
  return statement(db, 'SELECT 1 FROM chat_messages WHERE request_id = ? AND platform = ? AND purpose = ? AND recipient = ? LIMIT 1')
    .get(requestId, platform, purpose, recipient) !== undefined;
}
