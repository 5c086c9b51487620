// Proactive messages: to a person through the conversation reference saved when they last wrote; the activity id
// is the address to update a card later.
import { CardFactory, MessageFactory, type Activity, type CloudAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { Engine } from '../../access/engine.js';
import { chatAddressFor } from '../../access/chat-identities.js';
import type { Card } from './cards.js';

export interface TeamsMessageAddress {
  reference: Partial<ConversationReference>;
  activityId: string;
}

export interface TeamsDeps {
  engine: Engine;
  adapter: CloudAdapter;
  /** The bot's app id ('' without authentication): what continueConversation is called with. */
  appId: string;
  logger: Logger;
  /** Whether this key (an activity, a form) is seen for the first time recently: one click is one action. */
  firstTime(key: string): boolean;
  /** Lets a key count as new again (a form whose request was refused may be sent again, corrected). */
  forget(key: string): void;
  /** Work started by a turn that outlives it (tests and shutdown wait for it). */
  track(work: Promise<unknown>): void;
  /** Re-renders every approval card of a request from its current state; refreshes of one request run in order. */
  refreshApprovalCards(requestId: number): Promise<void>;
}

export type TeamsContent = string | Card;

export function activityOf(content: TeamsContent): Partial<Activity> {
  if (typeof content === 'string') return { ...MessageFactory.text(content), textFormat: 'markdown' };
  return MessageFactory.attachment(CardFactory.adaptiveCard(content));
}

/** The Bot Connector says the conversation is gone or closed to the bot (app removed, bot blocked). */
export function conversationGone(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  return status === 403 || status === 404;
}

async function inConversation<T>(deps: TeamsDeps, reference: Partial<ConversationReference>, work: (context: TurnContext) => Promise<T>): Promise<T> {
  // botbuilder hands errors inside a continuation to onTurnError and resolves; the caller must see them.
  let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  await deps.adapter.continueConversationAsync(deps.appId, reference, async (context) => {
    // A proactive send is a new message, not a reply to the synthetic activity of the continuation.
    context.onSendActivities(async (_ctx, activities, next) => {
      for (const a of activities) delete a.replyToId;
      return next();
    });
    try {
      outcome = { ok: true, value: await work(context) };
    } catch (error) {
      outcome = { ok: false, error };
    }
  });
  if (!outcome) throw new Error('the Teams conversation was not continued');
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** Sends to a saved conversation; returns the new activity's id. */
export async function sendToConversation(deps: TeamsDeps, reference: Partial<ConversationReference>, content: TeamsContent): Promise<string> {
  const sent = await inConversation(deps, reference, (context) => context.sendActivity(activityOf(content)));
  if (!sent?.id) throw new Error('the Bot Connector answered without an activity id');
  return sent.id;
}

export function teamsReferenceOf(deps: TeamsDeps, email: string): Partial<ConversationReference> | undefined {
  return chatAddressFor<Partial<ConversationReference>>(deps.engine.ctx, 'teams', email);
}

/**
 * Updates a card Keyway sent. The person's latest reference is used when it is the same conversation (Teams
 * may have moved its service URL since); a card that can no longer be updated is skipped.
 */
export async function updateInConversation(deps: TeamsDeps, recipient: string, address: TeamsMessageAddress, content: TeamsContent): Promise<void> {
  const latest = teamsReferenceOf(deps, recipient);
  const reference = latest?.conversation?.id === address.reference.conversation?.id ? latest! : address.reference;
  try {
    await inConversation(deps, reference, (context) => context.updateActivity({ ...activityOf(content), id: address.activityId }));
  } catch (error) {
    if (!conversationGone(error)) throw error;
    deps.logger.warn({ recipient, err: (error as Error).message }, 'a Teams card can no longer be updated; skipping it');
  }
}
