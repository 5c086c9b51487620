// `/ssh-access`: parse, acknowledge at once, then do the work and answer through the response_url.
import type { App } from '@slack/bolt';
import { answerCommand, myAccess as myAccessOf, type Caller, type CommandReply, type MyAccess } from '../../access/command-runner.js';
import { isUserError } from '../../core/errors.js';
import { requestModal } from './blocks-views.js';
import type { SlackMessage } from './blocks.js';
import { commandHelp, parseAccessCommand, type AccessCommand } from '../command-grammar.js';
import { serverNames } from '../../core/lookup.js';
import { renderSlackReply } from './render.js';
import { answerErrors, tellByResponseUrl, type Tell } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

export const SLASH_COMMAND = '/ssh-access';
const PREFIX = `${SLASH_COMMAND} `;
export const COMMAND_HELP = commandHelp(PREFIX).map(([command, what]) => `*\`${command}\`* — ${what}`).join('\n');

export function myAccess(deps: SlackDeps, userId: string): Promise<MyAccess> {
  return myAccessOf(deps.engine.runner, slackCaller(deps, userId));
}

/** Renders a reply that is never a form. */
export function slackReply(reply: CommandReply): SlackMessage | string {
  return renderSlackReply(reply, COMMAND_HELP);
}

export async function openRequestModal(deps: SlackDeps, userId: string, triggerId: string, tell: Tell): Promise<void> {
  await tellReply(deps, await answerCommand(deps.engine.runner, slackCaller(deps, userId), { kind: 'modal' }, 'slack', deps.logger), triggerId, tell);
}

/** The caller as the Slack directory knows them. */
export function slackCaller(deps: SlackDeps, userId: string): Caller {
  return { email: () => deps.directory.emailOf(userId), personWith: (groups) => deps.directory.personOf(userId, groups) };
}

/** Renders a command's reply; the request form opens as a modal. */
export async function tellReply(deps: SlackDeps, reply: CommandReply, triggerId: string, tell: Tell, options: { replaceOriginal?: boolean } = {}): Promise<void> {
  if (reply.kind === 'request_form' && reply.servers.length > 0) {
    await deps.client.views.open({ trigger_id: triggerId, view: requestModal(reply.servers, reply.needsKey) });
    return;
  }
  await tell(renderSlackReply(reply, COMMAND_HELP), options);
}

async function run(deps: SlackDeps, parsed: AccessCommand, userId: string, triggerId: string, tell: Tell): Promise<void> {
  const reply = await answerCommand(deps.engine.runner, slackCaller(deps, userId), parsed, 'slack', deps.logger, (early) => tell(slackReply(early)));
  await tellReply(deps, reply, triggerId, tell, { replaceOriginal: reply.kind === 'revoked' });
}

export function registerCommands(app: App, deps: SlackDeps): void {
  app.command(SLASH_COMMAND, async ({ command, ack, respond }) => {
    let parsed: AccessCommand;
    try {
      parsed = parseAccessCommand(command.text, PREFIX, serverNames(deps.engine.ctx.config()));
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
    const tell = tellByResponseUrl(respond);
    await answerErrors(deps, tell, `command ${parsed.kind}`, () => run(deps, parsed, command.user_id, command.trigger_id, tell));
  });
}
