// `/ssh-access`: parse, acknowledge at once, then do the work and answer through the response_url.
import type { App } from '@slack/bolt';
import { registerPublicKey } from '../../access/people.js';
import { activeAccessOf, approvalsWaitingFor, pendingRequestsOf } from '../../access/queries.js';
import { cancelRequest, submitRequest, type Outcome } from '../../access/requests.js';
import { requestExtension } from '../../access/extend.js';
import { revokeAccess } from '../../access/command-runner.js';
import { UserError, isUserError } from '../../core/errors.js';
import { requestableServers, type Requester } from '../../core/policy.js';
import { currentKey } from '../../store/people.js';
import type { Grant } from '../../store/grants.js';
import { listRequests } from '../../store/requests.js';
import { submittedReply } from './blocks-access.js';
import { listReply, serversReply, type MyAccess } from './blocks-home.js';
import { requestModal } from './blocks-views.js';
import { message, serverList } from './blocks.js';
import { commandHelp, parseAccessCommand, type AccessCommand } from '../command-grammar.js';
import { deciderOf, requesterGroups } from './identity.js';
import { afterAcknowledgements, answerErrors, tellByResponseUrl, type Tell } from './reply.js';
import type { SlackDeps } from './slack-deps.js';
import { alreadyDecided, requestOf } from './stored-request.js';

export const SLASH_COMMAND = '/ssh-access';
const PREFIX = `${SLASH_COMMAND} `;
const COMMAND_HELP = commandHelp(PREFIX).map(([command, what]) => `*\`${command}\`* — ${what}`).join('\n');

/** The person as someone who may request: with the user groups the flows' requesters name. */
export function requesterOf(deps: SlackDeps, userId: string): Promise<Requester> {
  return deps.directory.personOf(userId, requesterGroups(deps.engine.ctx.config()));
}

/** My access, my pending requests, and the approvals waiting for me: only their approver groups are looked up. */
export async function myAccess(deps: SlackDeps, userId: string): Promise<MyAccess> {
  const { ctx } = deps.engine;
  const email = await deps.directory.emailOf(userId);
  const groups = listRequests(ctx.db, { state: 'pending', limit: 500 }).filter((r) => !r.approvers.emails.includes(email)).flatMap((r) => r.approvers.slackUsergroups);
  const person = await deps.directory.personOf(userId, groups);
  return { active: activeAccessOf(ctx, person.email), pending: pendingRequestsOf(ctx, person.email), toApprove: approvalsWaitingFor(ctx, person) };
}

/** The answer to a new request or extension; the outbox carries the rest. */
export function outcomeReply(outcome: Outcome) {
  if (outcome.kind === 'approved') return submittedReply(outcome.request, 'approved');
  if (outcome.kind === 'pending') return submittedReply(outcome.request, 'pending');
  throw new UserError('already_decided', alreadyDecided(outcome.request));
}

export function revokedReply(requestId: number, grants: Grant[]) {
  const failed = grants.filter((g) => g.state === 'revoke_failed').map((g) => g.server);
  const done = grants.filter((g) => g.state === 'revoked' || g.state === 'cleaned').map((g) => g.server);
  if (failed.length > 0) {
    return message(`:warning: Request #${requestId}: revoked on ${serverList(done) || 'no server yet'}; not yet on ${serverList(failed)} — Keyway keeps retrying and the owners are told.`);
  }
  return message(`:lock: Access of request #${requestId} revoked on ${serverList(done)}.`);
}

export async function openRequestModal(deps: SlackDeps, userId: string, triggerId: string): Promise<void> {
  const { ctx } = deps.engine;
  const person = await requesterOf(deps, userId);
  const servers = requestableServers(ctx.config(), person);
  if (servers.length === 0) throw new UserError('not_allowed', 'No access flow lets you request any server. Ask a Keyway admin to add you (or a Slack group you are in) to a flow.');
  await deps.client.views.open({ trigger_id: triggerId, view: requestModal(servers, !currentKey(ctx.db, person.email)) });
}

async function run(deps: SlackDeps, parsed: AccessCommand, userId: string, triggerId: string, tell: Tell): Promise<void> {
  const { engine } = deps;
  const { ctx } = engine;
  switch (parsed.kind) {
    case 'modal':
      return openRequestModal(deps, userId, triggerId);
    case 'help':
      return tell(COMMAND_HELP);
    case 'request': {
      const outcome = submitRequest(ctx, await requesterOf(deps, userId), { servers: parsed.servers, duration: parsed.duration, reason: parsed.reason }, 'slack');
      return tell(outcomeReply(outcome));
    }
    case 'key': {
      const person = await requesterOf(deps, userId);
      const key = registerPublicKey(ctx, person, parsed.keyText, person.email);
      return tell(`:key: Registered your ${key.type} key ${key.fingerprint}. Your Linux user is \`${key.linuxUser}\`; certificates from now on are for this key.`);
    }
    case 'list':
      return tell(listReply(await myAccess(deps, userId)));
    case 'servers':
      return tell(serversReply(requestableServers(ctx.config(), await requesterOf(deps, userId))));
    case 'revoke': {
      const person = await deciderOf(deps.directory, userId, requestOf(deps, parsed.requestId));
      await tell(`Revoking the access of request #${parsed.requestId}…`);
      const grants = await revokeAccess(engine.runner, parsed.requestId, person);
      return tell(revokedReply(parsed.requestId, grants), { replaceOriginal: true });
    }
    case 'cancel': {
      const request = cancelRequest(ctx, parsed.requestId, await deps.directory.emailOf(userId));
      return tell(`Request #${request.id} for ${serverList(request.servers)} is cancelled.`);
    }
    case 'extend': {
      const outcome = requestExtension(ctx, await requesterOf(deps, userId), parsed.requestId, parsed.duration);
      return tell(outcomeReply(outcome));
    }
  }
}

export function registerCommands(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    let parsed: AccessCommand;
    try {
      parsed = parseAccessCommand(command.text, PREFIX);
    } catch (error) {
      if (!isUserError(error)) throw error;
      await ack({ response_type: 'ephemeral', text: error.message });
      return;
    }
    if (parsed.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: COMMAND_HELP });
      return;
    }
    await ack();
    await afterAcknowledgements();
    const tell = tellByResponseUrl(respond);
    await answerErrors(deps, tell, `command ${parsed.kind}`, () => run(deps, parsed, command.user_id, command.trigger_id, tell));
  });
}
