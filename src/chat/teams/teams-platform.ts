// The chat port on Teams: renders each view (render.ts) and carries it through the conversation saved when the
// person last wrote to Keyway. Someone who never wrote, or removed or blocked the app, cannot be reached here
// (send answers undefined and the notifier tells the requester). Throws when the Bot Connector cannot be reached.
import type { ChatPlatform, Recipient } from '../../access/chat-port.js';
import { forgetChatAddressOf } from '../../access/chat-identities.js';
import { conversationGone, sendToConversation, teamsReferenceOf, updateInConversation, type TeamsDeps, type TeamsMessageAddress } from './messenger.js';
import { renderTeams } from './render.js';

export function createTeamsPlatform(deps: TeamsDeps): ChatPlatform {
  return {
    name: 'teams',
    reach: 'known',
    // Teams knows people by e-mail only: Slack user groups are Slack's to expand.
    approversOf: async (approvers, exclude) => approvers.emails.filter((e) => e !== exclude).map((email): Recipient => ({ kind: 'person', email })),
    async send(to, view): Promise<TeamsMessageAddress | undefined> {
      const content = renderTeams(view);
      if (content === undefined || to.kind !== 'person') return undefined; // no channels in a bot's personal chats
      const reference = teamsReferenceOf(deps, to.email);
      if (!reference) return undefined;
      try {
        return { reference, activityId: await sendToConversation(deps, reference, content) };
      } catch (error) {
        if (!conversationGone(error)) throw error;
        deps.logger.warn({ email: to.email, err: (error as Error).message }, 'the Teams chat with this person is gone (app removed or blocked); forgetting it until they write again');
        forgetChatAddressOf(deps.engine.ctx, 'teams', to.email);
        return undefined;
      }
    },
    async update(sent, view) {
      const content = renderTeams(view);
      if (content !== undefined) await updateInConversation(deps, sent.recipient, sent.address as TeamsMessageAddress, content);
    },
  };
}
