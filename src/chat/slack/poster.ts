// Posting a message at most once per (request, purpose, recipient), so that a re-delivered outbox event does
// not repeat a DM; the posted message is recorded so it can be updated later. A post Slack refuses for good
// (the channel is gone, the bot is not in it, the blocks are invalid) is logged and given up: retrying cannot help.
import { slackErrorCode } from './identity.js';
import type { SlackDeps } from './slack-deps.js';
import type { SlackMessage } from './blocks.js';
import { hasSlackMessage, recordSlackMessage } from './message-log.js';

const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action', 'ekm_access_denied',
  'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text',
]);

export interface PostTarget {
  requestId: number;
  purpose: string;
  recipient: string;
  /** Resolves the channel to post to; undefined when the recipient is not on this Slack. */
  channel(): Promise<string | undefined>;
}

/** True once the message is posted (now or before); false when there is nobody to post to or Slack refuses for good. */
export async function postOnce(deps: SlackDeps, target: PostTarget, message: SlackMessage): Promise<boolean> {
  const { ctx } = deps.engine;
  if (hasSlackMessage(ctx.db, target.requestId, target.purpose, target.recipient)) return true;
  const channel = await target.channel();
  if (!channel) return false;
  let posted;
  try {
    posted = await deps.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
  } catch (error) {
    const code = slackErrorCode(error);
    if (!code || !PERMANENT.has(code)) throw error;
    deps.logger.error({ requestId: target.requestId, purpose: target.purpose, channel, error: code },
      'Slack refused the message for good, so Keyway gives it up: check the channel in the config and that the Keyway app is in it');
    return false;
  }
  if (!posted.channel || !posted.ts) throw new Error('chat.postMessage answered without channel and ts');
  recordSlackMessage(ctx.db, { requestId: target.requestId, purpose: target.purpose, recipient: target.recipient, channel: posted.channel, ts: posted.ts }, ctx.now());
  return true;
}

/** The DM channel of the Slack user with this e-mail, or undefined when nobody on this Slack has it. */
export async function dmChannelOfEmail(deps: SlackDeps, email: string): Promise<string | undefined> {
  const userId = await deps.directory.userIdOf(email);
  return userId ? deps.directory.dmChannelOf(userId) : undefined;
}

export function dmOnce(deps: SlackDeps, email: string, requestId: number, purpose: string, message: SlackMessage): Promise<boolean> {
  return postOnce(deps, { requestId, purpose, recipient: email, channel: () => dmChannelOfEmail(deps, email) }, message);
}
