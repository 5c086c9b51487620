// One Teams turn: who is writing (and where Keyway can reach them later), then their command or the card
// button they pressed. Turns answer quickly; slow work (revoking over SSH, updating cards) runs after the
// turn and reports proactively. Who may act comes from the sender, checked against the stored request,
// never from the card's data.
import { TurnContext, type Activity } from 'botbuilder';
import { rememberChatAddress } from '../../access/chat-identities.js';
import { alreadyDecided, answerCommand, answerOf, knownCaller, voteAs, type AccessCommand, type CommandReply } from '../../access/command-runner.js';
import { parseDuration } from '../../core/duration.js';
import { UserError } from '../../core/errors.js';
import type { Requester } from '../../core/policy.js';
import { parseAccessCommand } from '../command-grammar.js';
import { serverNames } from '../../core/lookup.js';
import { noticeCard, serverList, SUBMIT, type Card } from './cards.js';
import type { TeamsIdentity } from './identity.js';
import { activityOf, sendToConversation, type TeamsContent, type TeamsDeps } from './messenger.js';
import { renderTeamsReply } from './render.js';
import { HELP } from './texts.js';

type Reply = (content: TeamsContent) => Promise<void>;

interface Turn {
  deps: TeamsDeps;
  person: Requester;
  reply: Reply;
  /** Replies after the turn has ended (the turn's context is gone by then). */
  later: Reply;
  /** Replaces the card whose button was pressed (a used form), if there is one. */
  replaceCard(card: Card): Promise<void>;
}

function answer(turn: Turn, command: AccessCommand, progress?: (reply: CommandReply) => Promise<void>): Promise<CommandReply> {
  return answerCommand(turn.deps.engine.runner, knownCaller(turn.person), command, 'teams', turn.deps.logger, progress);
}

/**
 * Runs a command and answers in the turn. A command that reports progress first (a revoke) is answered with that
 * at once; the turn then ends and the final answer follows proactively.
 */
async function run(turn: Turn, command: AccessCommand): Promise<void> {
  let progressed!: () => void;
  const early = new Promise<'early'>((resolve) => { progressed = () => resolve('early'); });
  const final = answer(turn, command, async (reply) => {
    await turn.reply(renderTeamsReply(reply));
    progressed();
  });
  const first = await Promise.race([final, early]);
  if (first !== 'early') return turn.reply(renderTeamsReply(first));
  turn.deps.track(final.then((reply) => turn.later(renderTeamsReply(reply))).catch((error: unknown) =>
    turn.deps.logger.warn({ command: command.kind, err: (error as Error).message }, 'could not send the answer to a finished command')));
}

function requestIdOf(value: Record<string, unknown>): number {
  const id = Number(value.requestId);
  if (!Number.isSafeInteger(id) || id <= 0) throw new UserError('usage', 'That button names no request. Send `list` to see your requests.');
  return id;
}

function textField(value: Record<string, unknown>, name: string): string {
  const field = value[name];
  return typeof field === 'string' ? field.trim() : '';
}

async function vote(turn: Turn, requestId: number, decision: 'approve' | 'deny', reason?: string): Promise<void> {
  const outcome = await voteAs(turn.deps.engine.runner, knownCaller(turn.person), requestId, decision, reason);
  if (outcome.kind === 'already_decided') return turn.reply(alreadyDecided(outcome.request));
  // Every card shows the vote or the outcome; request_decided refreshes them again once decided.
  turn.deps.track(turn.deps.refreshApprovalCards(requestId).catch((error: unknown) =>
    turn.deps.logger.warn({ requestId, err: (error as Error).message }, 'could not update the approval cards now; they are updated again when the request is decided')));
  if (outcome.kind === 'pending') return turn.reply(`Your approval of request #${requestId} is recorded: ${outcome.approvals} of ${outcome.request.minApprovals} needed.`);
  return undefined;
}

/** The request form: sent once (a second click of the same form is refused), and marked as sent when accepted. */
async function submitForm(turn: Turn, value: Record<string, unknown>): Promise<void> {
  const names = textField(value, 'servers').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new UserError('usage', 'Choose at least one server in the form.');
  const duration = textField(value, 'duration');
  const command: AccessCommand = { kind: 'request', servers: names, duration: duration === '' ? undefined : parseDuration(duration), reason: textField(value, 'reason') };
  const form = `form:${turn.person.email}:${textField(value, 'form')}`;
  if (!turn.deps.firstTime(form)) return turn.reply('That form was already sent; `list` shows your requests.');
  const reply = await answer(turn, command);
  if (reply.kind === 'submitted') {
    await turn.replaceCard(noticeCard(`Sent as request #${reply.request.id} for ${serverList(reply.request.servers)}.`));
  } else {
    turn.deps.forget(form); // refused: the person may correct the form and send it again
  }
  return turn.reply(renderTeamsReply(reply));
}

async function runSubmit(turn: Turn, value: Record<string, unknown>): Promise<void> {
  switch (value.keyway) {
    case SUBMIT.request:
      return submitForm(turn, value);
    case SUBMIT.approve:
      return vote(turn, requestIdOf(value), 'approve');
    case SUBMIT.deny:
      return vote(turn, requestIdOf(value), 'deny', textField(value, 'reason'));
    case SUBMIT.extend:
      return run(turn, { kind: 'extend', requestId: requestIdOf(value), duration: parseDuration(textField(value, 'duration') || '1h') });
    case SUBMIT.revoke:
      return run(turn, { kind: 'revoke', requestId: requestIdOf(value) });
    default:
      throw new UserError('usage', 'I do not know that button. Send `help` for what I can do.');
  }
}

/** A UserError as it is (it says what to do next); anything else logged with a reference, never shown. */
function errorText(deps: TeamsDeps, error: unknown, what: string): TeamsContent {
  return renderTeamsReply(answerOf(error, deps.logger, what));
}

const ENTITIES: Record<string, string> = { '&nbsp;': ' ', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&amp;': '&' };

/** Teams puts the bot's mention and light HTML in message text; a Slack habit may add the slash command. */
export function commandText(activity: Partial<Activity>): string {
  return (activity.text ?? '')
    .replace(/<at>[^<]*<\/at>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(nbsp|lt|gt|quot|#39|amp);/g, (entity) => ENTITIES[entity]!)
    .replace(/^\s*\/?ssh-access\b/i, '')
    .trim();
}

export async function handleMessage(deps: TeamsDeps, identity: TeamsIdentity, context: TurnContext): Promise<void> {
  const { activity } = context;
  const reply: Reply = async (content) => void (await context.sendActivity(activityOf(content)));
  if (activity.conversation?.conversationType !== 'personal') {
    await reply('Keyway works in a personal chat: open a chat with Keyway and write `help` there.');
    return;
  }
  let person: Requester;
  try {
    person = await identity.personOf(context);
  } catch (error) {
    await reply(errorText(deps, error, 'identity'));
    return;
  }
  const reference = TurnContext.getConversationReference(activity);
  rememberChatAddress(deps.engine.ctx, 'teams', person.email, reference);
  const turn: Turn = {
    deps, person, reply,
    later: async (content) => void (await sendToConversation(deps, reference, content)),
    replaceCard: async (card) => {
      if (activity.replyToId) await context.updateActivity({ ...activityOf(card), id: activity.replyToId }).catch((error: unknown) =>
        deps.logger.warn({ err: (error as Error).message }, 'could not replace a used form'));
    },
  };
  const value = activity.value as Record<string, unknown> | undefined;
  const what = value && typeof value === 'object' ? `button ${String(value.keyway)}` : 'command';
  try {
    if (value && typeof value === 'object' && 'keyway' in value) await runSubmit(turn, value);
    else await run(turn, parseAccessCommand(commandText(activity), '', serverNames(deps.engine.ctx.config())));
  } catch (error) {
    await reply(errorText(deps, error, what));
  }
}

/** The app was installed for a person: remember how to reach them and say what Keyway does. */
export async function handleInstall(deps: TeamsDeps, identity: TeamsIdentity, context: TurnContext): Promise<void> {
  const { activity } = context;
  // A personal install arrives as the bot joining the chat (membersAdded holds the bot) or as installationUpdate/add.
  const installed = activity.type === 'installationUpdate'
    ? activity.action === 'add'
    : (activity.membersAdded ?? []).some((m) => m.id === activity.recipient?.id);
  if (activity.conversation?.conversationType !== 'personal' || !installed) return;
  if (!deps.firstTime(`install:${activity.conversation.id}`)) return; // Teams announces one install twice
  try {
    const person = await identity.personOf(context);
    rememberChatAddress(deps.engine.ctx, 'teams', person.email, TurnContext.getConversationReference(activity));
  } catch (error) {
    deps.logger.warn({ err: (error as Error).message }, 'could not tell who installed the Teams app; they are reachable once they write');
  }
  await context.sendActivity({ type: 'message', text: HELP, textFormat: 'markdown' });
}
