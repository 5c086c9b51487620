// The Slack messages Keyway posted and may update or must not post twice, in table chat_messages: approval
// messages (updated to the outcome), the requester's progress message, and a marker per one-off DM so that a
// re-delivered outbox event does not DM anyone twice.
import type { Database } from 'better-sqlite3';

export interface SlackMessageRef {
  requestId: number;
  purpose: string;
  recipient: string;
  channel: string;
  ts: string;
}

export function recordSlackMessage(db: Database, ref: SlackMessageRef, now: number): void {
  db.prepare(`INSERT INTO chat_messages (request_id, platform, purpose, recipient, address, created_at) VALUES (?, 'slack', ?, ?, ?, ?)`)
    .run(ref.requestId, ref.purpose, ref.recipient, JSON.stringify({ channel: ref.channel, ts: ref.ts }), now);
}

export function slackMessagesOf(db: Database, requestId: number, purpose: string): SlackMessageRef[] {
  const rows = db.prepare(`SELECT recipient, address FROM chat_messages WHERE request_id = ? AND platform = 'slack' AND purpose = ? ORDER BY id`)
    .all(requestId, purpose) as Array<{ recipient: string; address: string }>;
  return rows.map((r) => ({ requestId, purpose, recipient: r.recipient, ...(JSON.parse(r.address) as { channel: string; ts: string }) }));
}

export function hasSlackMessage(db: Database, requestId: number, purpose: string, recipient: string): boolean {
  return db.prepare(`SELECT 1 FROM chat_messages WHERE request_id = ? AND platform = 'slack' AND purpose = ? AND recipient = ? LIMIT 1`)
    .get(requestId, purpose, recipient) !== undefined;
}
