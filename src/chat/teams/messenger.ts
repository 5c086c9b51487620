// Proactive messages: to a person through the conversation reference saved when they last wrote, at most
// once per (request, purpose, recipient), recording the activity id so a card can be updated later.
import { CardFactory, MessageFactory, type Activity, type CloudAdapter, type ConversationReference, type TurnContext } from 'botbuilder';
import type { Logger } from 'pino';
import type { Engine } from '../../access/engine.js';
import { chatAddressOf } from '../../store/chat-addresses.js';
import { chatMessagesOf, hasChatMessage, recordChatMessage } from '../message-log.js';
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
  /** Whether Slack is configured too: approvers Teams cannot reach are asked there. */
  slackAlsoAsks: boolean;
  /** Work started by a turn that outlives it (tests and shutdown wait for it). */
  track(work: Promise<unknown>): void;
}

export type TeamsContent = string | Card;

function activityOf(content: TeamsContent): Partial<Activity> {
  if (typeof content === 'string') return { ...MessageFactory.text(content), textFormat: 'markdown' };
  return MessageFactory.attachment(CardFactory.adaptiveCard(content));
}

async function inConversation<T>(deps: TeamsDeps, reference: Partial<ConversationReference>, work: (context: TurnContext) => Promise<T>): Promise<T> {
  let result: T | undefined;
  await deps.adapter.continueConversationAsync(deps.appId, reference, async (context) => {
    // A proactive send is a new message, not a reply to the synthetic activity of the continuation.
    context.onSendActivities(async (_ctx, activities, next) => {
      for (const a of activities) delete a.replyToId;
      return next();
    });
    result = await work(context);
  });
  return result as T;
}

/** Sends to a saved conversation; returns the new activity's id. */
export async function sendToConversation(deps: TeamsDeps, reference: Partial<ConversationReference>, content: TeamsContent): Promise<string> {
  const sent = await inConversation(deps, reference, (context) => context.sendActivity(activityOf(content)));
  if (!sent?.id) throw new Error('the Bot Connector answered without an activity id');
  return sent.id;
}

export async function updateInConversation(deps: TeamsDeps, address: TeamsMessageAddress, content: TeamsContent): Promise<void> {
  await inConversation(deps, address.reference, (context) => context.updateActivity({ ...activityOf(content), id: address.activityId }));
}

export function teamsReferenceOf(deps: TeamsDeps, email: string): Partial<ConversationReference> | undefined {
  return chatAddressOf<Partial<ConversationReference>>(deps.engine.ctx.db, 'teams', email);
}

/** Sends to the person with this e-mail once per (request, purpose); false when they cannot be reached on Teams. */
export async function sendOnce(deps: TeamsDeps, email: string, requestId: number, purpose: string, content: TeamsContent): Promise<boolean> {
  const { ctx } = deps.engine;
  if (hasChatMessage(ctx.db, 'teams', requestId, purpose, email)) return true;
  const reference = teamsReferenceOf(deps, email);
  if (!reference) return false;
  const activityId = await sendToConversation(deps, reference, content);
  recordChatMessage<TeamsMessageAddress>(ctx.db, 'teams', { requestId, purpose, recipient: email, address: { reference, activityId } }, ctx.now());
  return true;
}

export function teamsMessagesOf(deps: TeamsDeps, requestId: number, purpose: string) {
  return chatMessagesOf<TeamsMessageAddress>(deps.engine.ctx.db, 'teams', requestId, purpose);
}
