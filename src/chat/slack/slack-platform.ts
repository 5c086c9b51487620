// The chat port on Slack: renders each view as Block Kit and carries it (chat.postMessage, chat.update); finds
// people through the Slack directory. A post Slack refuses for good (the channel is gone, the bot is not in it,
// the blocks are invalid) is logged and given up: retrying cannot help. Throws when Slack cannot be reached.
import type { ChatPlatform, Recipient, SentMessage } from '../../access/chat-port.js';
import { slackErrorCode } from './identity.js';
import { renderSlack } from './render.js';
import type { SlackDeps } from './slack-deps.js';

const PERMANENT = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'restricted_action', 'ekm_access_denied',
  'invalid_blocks', 'invalid_blocks_format', 'msg_too_long', 'no_text',
]);

/** Messages that can no longer be updated: skipped. */
const GONE = new Set(['message_not_found', 'channel_not_found', 'cant_update_message', 'is_archived']);

/** Where a Slack message is: what chat.update needs. */
export interface SlackAddress {
  channel: string;
  ts: string;
}

export function createSlackPlatform(deps: SlackDeps): ChatPlatform {
  const { directory, client, logger } = deps;

  async function channelOf(to: Recipient): Promise<string | undefined> {
    switch (to.kind) {
      case 'channel':
        return to.channel;
      case 'user':
        return directory.dmChannelOf(to.id);
      case 'person': {
        const userId = await directory.userIdOf(to.email);
        return userId ? directory.dmChannelOf(userId) : undefined;
      }
    }
  }

  return {
    name: 'slack',
    reach: 'directory',
    async approversOf(approvers, exclude) {
      const excluded = exclude === undefined ? undefined : await directory.userIdOf(exclude);
      return (await directory.usersOf(approvers, excluded)).map((id): Recipient => ({ kind: 'user', id }));
    },
    async send(to, view): Promise<SlackAddress | undefined> {
      const message = renderSlack(view);
      if (!message) return undefined;
      const channel = await channelOf(to);
      if (!channel) return undefined;
      let posted;
      try {
        posted = await client.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false });
      } catch (error) {
        const code = slackErrorCode(error);
        if (!code || !PERMANENT.has(code)) throw error;
        logger.error({ view: view.kind, channel, error: code },
          'Slack refused the message for good, so Keyway gives it up: check the channel in the config and that the Keyway app is in it');
        return undefined;
      }
      if (!posted.channel || !posted.ts) throw new Error('chat.postMessage answered without channel and ts');
      return { channel: posted.channel, ts: posted.ts };
    },
    async update(sent: SentMessage, view) {
      const message = renderSlack(view);
      if (!message) return;
      const { channel, ts } = sent.address as SlackAddress;
      try {
        await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
      } catch (error) {
        const code = slackErrorCode(error);
        // An approval message must show the truth, so only a gone one is skipped; a progress note is a nicety.
        if (code === undefined || (view.kind === 'approval' && !GONE.has(code))) throw error;
        logger.warn({ view: view.kind, channel, error: code }, 'a Slack message can no longer be updated; skipping it');
      }
    },
  };
}
