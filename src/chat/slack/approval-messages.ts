// Keeps every approval message of a request in step with the request. Updates for one request run one after
// another, and each renders the state read just before it is sent, so the last update always shows the truth
// even when a vote and the decision race.
import type { Logger } from 'pino';
import type { webApi } from '@slack/bolt';
import type { AccessContext } from '../../access/context.js';
import { getRequest, votesOf } from '../../store/requests.js';
import { approvalMessage } from './blocks-approval.js';
import { slackErrorCode } from './identity.js';
import { slackMessagesOf } from './message-log.js';
import { serialPerKey } from '../work.js';
import type { ApprovalMessages } from './slack-deps.js';

const GONE = new Set(['message_not_found', 'channel_not_found', 'cant_update_message', 'is_archived']);

export function createApprovalMessages(ctx: AccessContext, client: webApi.WebClient, logger: Logger): ApprovalMessages {
  const serially = serialPerKey<number>();

  async function update(requestId: number): Promise<void> {
    const request = getRequest(ctx.db, requestId);
    if (!request) return;
    const rendered = approvalMessage(request, votesOf(ctx.db, requestId));
    for (const ref of slackMessagesOf(ctx.db, requestId, 'approval')) {
      try {
        await client.chat.update({ channel: ref.channel, ts: ref.ts, text: rendered.text, blocks: rendered.blocks });
      } catch (error) {
        if (!GONE.has(slackErrorCode(error) ?? '')) throw error;
        logger.warn({ requestId, channel: ref.channel, error: slackErrorCode(error) }, 'an approval message can no longer be updated; skipping it');
      }
    }
  }

  return {
    refresh: (requestId) => serially(requestId, () => update(requestId)),
  };
}
