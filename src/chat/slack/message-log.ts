// Slack's rows in chat_messages: the address of a posted message is its channel and ts.
import type { Database } from 'better-sqlite3';
import { chatMessagesOf, hasChatMessage, recordChatMessage } from '../../store/chat-messages.js';

export interface SlackMessageRef {
  requestId: number;
  purpose: string;
  recipient: string;
  channel: string;
  ts: string;
}

export function recordSlackMessage(db: Database, ref: SlackMessageRef, now: number): void {
  recordChatMessage(db, 'slack', { requestId: ref.requestId, purpose: ref.purpose, recipient: ref.recipient, address: { channel: ref.channel, ts: ref.ts } }, now);
}

export function slackMessagesOf(db: Database, requestId: number, purpose: string): SlackMessageRef[] {
  return chatMessagesOf<{ channel: string; ts: string }>(db, 'slack', requestId, purpose).map((m) => ({ requestId, purpose, recipient: m.recipient, ...m.address }));
}

export function hasSlackMessage(db: Database, requestId: number, purpose: string, recipient: string): boolean {
  return hasChatMessage(db, 'slack', requestId, purpose, recipient);
}
