// One Teams turn: who is writing (and where Keyway can reach them later), then their command or the card
// button they pressed. Turns answer quickly; slow work (revoking over SSH, updating cards) runs after the
// turn and reports proactively. Who may act comes from the sender, checked against the stored request,
// never from the card's data.
import { randomBytes } from 'node:crypto';
import { TurnContext, type Activity } from 'botbuilder';
import { registerPublicKey } from '../../access/people.js';
import { activeAccessOf, approvalsWaitingFor, pendingRequestsOf } from '../../access/queries.js';
import { cancelRequest, submitRequest, voteOnRequest, type Outcome } from '../../access/requests.js';
import { requestExtension } from '../../access/extend.js';
import { revokeAccess } from '../../access/command-runner.js';
import { parseDuration } from '../../core/duration.js';
import { UserError, isUserError } from '../../core/errors.js';
import { requestableServers, type Requester } from '../../core/policy.js';
import { saveChatAddress } from '../../store/chat-addresses.js';
import { currentKey } from '../../store/people.js';
import { parseAccessCommand, type AccessCommand } from '../command-grammar.js';
import { listText, noticeCard, requestForm, serverList, SUBMIT, type Card } from './cards.js';
import type { TeamsIdentity } from './identity.js';
import { activityOf, sendToConversation, type TeamsContent, type TeamsDeps } from './messenger.js';
import { HELP, alreadyDecidedText, revokedText, serversText, submittedText } from './texts.js';

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

function servers(deps: TeamsDeps, person: Requester) {
  return requestableServers(deps.engine.ctx.config(), person).map((ref) => ({ name: ref.server.name, integration: ref.integration.name }));
}

function outcomeText(outcome: Outcome): string {
  if (outcome.kind === 'approved') return submittedText(outcome.request, 'approved');
  if (outcome.kind === 'pending') return submittedText(outcome.request, 'pending');
  return alreadyDecidedText(outcome.request);
}

function showRequestForm(turn: Turn): Promise<void> {
  const mine = servers(turn.deps, turn.person);
  if (mine.length === 0) throw new UserError('not_allowed', 'No access flow lets you request any server. Ask a Keyway admin to add you to a flow.');
  return turn.reply(requestForm(mine, !currentKey(turn.deps.engine.ctx.db, turn.person.email)));
}

function request(turn: Turn, ask: { servers: string[]; duration?: number; reason: string }): Promise<void> {
  const { engine } = turn.deps;
  const outcome = submitRequest(engine.ctx, turn.person, ask, 'teams');
  return turn.reply(outcomeText(outcome));
}

async function revoke(turn: Turn, requestId: number): Promise<void> {
  await turn.reply(`Revoking the access of request #${requestId}…`);
  turn.deps.track((async () => {
    try {
      const grants = await revokeAccess(turn.deps.engine.runner, requestId, turn.person);
      await turn.later(revokedText(requestId, grants));
    } catch (error) {
      await turn.later(errorText(turn.deps, error, 'revoke'));
    }
  })());
}

async function runCommand(turn: Turn, command: AccessCommand): Promise<void> {
  const { engine } = turn.deps;
  const { ctx } = engine;
  switch (command.kind) {
    case 'modal':
      return showRequestForm(turn);
    case 'help':
      return turn.reply(HELP);
    case 'request':
      return request(turn, command);
    case 'key': {
      const key = registerPublicKey(ctx, turn.person, command.keyText, turn.person.email);
      return turn.reply(`🔑 Registered your ${key.type} key ${key.fingerprint}. Your Linux user is \`${key.linuxUser}\`; certificates from now on are for this key.`);
    }
    case 'list':
      return turn.reply(listText({ active: activeAccessOf(ctx, turn.person.email), pending: pendingRequestsOf(ctx, turn.person.email), toApprove: approvalsWaitingFor(ctx, turn.person) }));
    case 'servers':
      return turn.reply(serversText(servers(turn.deps, turn.person)));
    case 'revoke':
      return revoke(turn, command.requestId);
    case 'cancel': {
      const cancelled = cancelRequest(ctx, command.requestId, turn.person.email);
      return turn.reply(`Request #${cancelled.id} is cancelled.`);
    }
    case 'extend': {
      const outcome = requestExtension(ctx, turn.person, command.requestId, command.duration);
      return turn.reply(outcomeText(outcome));
    }
  }
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

async function vote(turn: Turn, requestId: number, decision: 'approve' | 'deny', reason: string): Promise<void> {
  const { engine } = turn.deps;
  const outcome = voteOnRequest(engine.ctx, requestId, turn.person, decision, decision === 'deny' ? { reason } : {});
  if (outcome.kind === 'already_decided') return turn.reply(alreadyDecidedText(outcome.request));
  // Every card shows the vote or the outcome; request_decided refreshes them again once decided.
  turn.deps.track(turn.deps.refreshApprovalCards(requestId).catch((error: unknown) =>
    turn.deps.logger.warn({ requestId, err: (error as Error).message }, 'could not update the approval cards now; they are updated again when the request is decided')));
  if (outcome.kind === 'pending') return turn.reply(`Your approval of request #${requestId} is recorded: ${outcome.approvals} of ${outcome.request.minApprovals} needed.`);
  return undefined;
}

async function runSubmit(turn: Turn, value: Record<string, unknown>): Promise<void> {
  switch (value.keyway) {
    case SUBMIT.request: {
      const names = textField(value, 'servers').split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (names.length === 0) throw new UserError('usage', 'Choose at least one server in the form.');
      const duration = textField(value, 'duration');
      const ask = { servers: names, duration: duration === '' ? undefined : parseDuration(duration), reason: textField(value, 'reason') };
      const form = `form:${turn.person.email}:${textField(value, 'form')}`;
      if (!turn.deps.firstTime(form)) return turn.reply('That form was already sent; `list` shows your requests.');
      let outcome: Outcome;
      try {
        outcome = submitRequest(turn.deps.engine.ctx, turn.person, ask, 'teams');
      } catch (error) {
        turn.deps.forget(form); // refused: the person may correct the form and send it again
        throw error;
      }
      await turn.replaceCard(noticeCard(`Sent as request #${outcome.request.id} for ${serverList(outcome.request.servers)}.`));
      return turn.reply(outcomeText(outcome));
    }
    case SUBMIT.approve:
      return vote(turn, requestIdOf(value), 'approve', '');
    case SUBMIT.deny:
      return vote(turn, requestIdOf(value), 'deny', textField(value, 'reason'));
    case SUBMIT.extend:
      return runCommand(turn, { kind: 'extend', requestId: requestIdOf(value), duration: parseDuration(textField(value, 'duration') || '1h') });
    case SUBMIT.revoke:
      return revoke(turn, requestIdOf(value));
    default:
      throw new UserError('usage', 'I do not know that button. Send `help` for what I can do.');
  }
}

/** A UserError as it is (it says what to do next); anything else logged with a reference, never shown. */
function errorText(deps: TeamsDeps, error: unknown, what: string): string {
  if (isUserError(error)) return error.message;
  const ref = randomBytes(4).toString('hex');
  deps.logger.error({ err: (error as Error).message, ref, what }, 'Teams handler failed');
  return `Sorry, that failed on Keyway's side (reference ${ref}). Try again in a minute; if it keeps failing, give your Keyway admin the reference.`;
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
  saveChatAddress(deps.engine.ctx.db, 'teams', person.email, reference, deps.engine.ctx.now());
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
    else await runCommand(turn, parseAccessCommand(commandText(activity), ''));
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
    saveChatAddress(deps.engine.ctx.db, 'teams', person.email, TurnContext.getConversationReference(activity), deps.engine.ctx.now());
  } catch (error) {
    deps.logger.warn({ err: (error as Error).message }, 'could not tell who installed the Teams app; they are reachable once they write');
  }
  await context.sendActivity({ type: 'message', text: HELP, textFormat: 'markdown' });
}
