// Modal submissions (request, deny reason, extension) and the server search of the request modal. Slack waits
// 3 s for a submission's answer, and finding out who submitted can take longer (user groups are rate-limited),
// so only what needs no network is checked before the acknowledgement — those mistakes show on the field that
// holds them. The rest follows it: the request and extension modals say "working on it" and then show the
// answer; the deny modal closes, and anything left to say arrives as a DM.
import type { AckFn, App, ViewOutput, ViewResponseAction } from '@slack/bolt';
import { alreadyDecided, checkExtension, pendingRequestOf, requestOf, requesterOf, runCommand, voteAs } from '../../access/command-runner.js';
import { refusePrivateKey } from '../../access/requests.js';
import { parseUserPublicKey } from '../../ca/user-key.js';
import { parseDuration } from '../../core/duration.js';
import { UserError, isUserError } from '../../core/errors.js';
import { requestableServers } from '../../core/policy.js';
import { ACTION, VIEW, message } from './blocks.js';
import { FIELD, STATIC_MENU_LIMIT, answerView, openedOnHome, requestIdOf, serverOption } from './blocks-views.js';
import { refreshHome } from './home.js';
import { slackCaller, slackReply } from './commands.js';
import { answerErrors, logUnexpected, tellByDm, tellByView, type Tell } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

type Errors = Record<string, string>;

function text(view: ViewOutput, block: string): string {
  return view.state.values[block]?.[block]?.value?.trim() ?? '';
}

/** Runs a check that needs no network; the UserError it throws becomes the error on `field` (the first one wins). */
function checkField<T>(errors: Errors, field: string, check: () => T): T | undefined {
  try {
    return check();
  } catch (error) {
    if (!isUserError(error)) throw error;
    errors[field] ??= error.message;
    return undefined;
  }
}

function requestIdOrThrow(view: ViewOutput): number {
  const id = requestIdOf(view.private_metadata);
  if (id === undefined) throw new UserError('unknown_request', 'This form lost track of its request: close it and click the button again.');
  return id;
}

/** Acknowledges with a "working on it" view, then shows there what `work` tells (or what went wrong). */
async function answerInView(deps: SlackDeps, ack: AckFn<void> | AckFn<ViewResponseAction>, view: ViewOutput, work: (tell: Tell) => Promise<void>): Promise<void> {
  await ack({ response_action: 'update', view: answerView(view.title.text, message(':hourglass_flowing_sand: Working on it…')) });
  const tell = tellByView(deps, view);
  await answerErrors(deps, tell, `modal ${view.callback_id}`, () => work(tell));
}

export function registerViews(app: App, deps: SlackDeps): void {
  const { runner } = deps.engine;

  app.view(VIEW.request, async ({ ack, body, view }) => {
    const servers = view.state.values[FIELD.servers]?.[ACTION.servers]?.selected_options?.map((o) => o.value) ?? [];
    const [durationText, reason, keyText] = [text(view, FIELD.duration), text(view, FIELD.reason), text(view, FIELD.key)];
    const errors: Errors = {};
    if (servers.length === 0) errors[FIELD.servers] = 'Choose at least one server.';
    const duration = durationText ? checkField(errors, FIELD.duration, () => parseDuration(durationText)) : undefined;
    checkField(errors, FIELD.reason, () => refusePrivateKey(reason, 'reason'));
    if (keyText) checkField(errors, FIELD.key, () => parseUserPublicKey(keyText));
    if (Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    await answerInView(deps, ack, view, async (tell) => {
      const caller = slackCaller(deps, body.user.id);
      if (keyText) await runCommand(runner, caller, { kind: 'key', keyText }, 'slack');
      await tell(slackReply(await runCommand(runner, caller, { kind: 'request', servers, duration, reason }, 'slack')));
    });
    // The form may have been opened from the Home tab ("Request access…"), which cannot be told from here: the
    // submitter's Home is refreshed so it lists the new request.
    await refreshHome(deps, body.user.id);
  });

  app.view(VIEW.deny, async ({ ack, body, view }) => {
    const reason = text(view, FIELD.reason);
    const errors: Errors = {};
    const request = checkField(errors, FIELD.reason, () => pendingRequestOf(runner, requestIdOrThrow(view)));
    if (!reason) errors[FIELD.reason] ??= 'Say why you deny the request: the requester sees your reason.';
    checkField(errors, FIELD.reason, () => refusePrivateKey(reason, 'reason'));
    if (!request || Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    await ack();
    const tell = tellByDm(deps, body.user.id);
    await answerErrors(deps, tell, 'modal deny', async () => {
      const outcome = await voteAs(runner, slackCaller(deps, body.user.id), request.id, 'deny', reason);
      if (outcome.kind === 'already_decided') return tell(alreadyDecided(outcome.request));
      await deps.approvals.refresh(request.id).catch((error: unknown) => logUnexpected(deps, error, 'refresh after deny'));
    });
    if (openedOnHome(view.private_metadata)) await refreshHome(deps, body.user.id);
  });

  app.view(VIEW.extend, async ({ ack, body, view }) => {
    const durationText = text(view, FIELD.duration);
    const errors: Errors = {};
    const duration = durationText ? checkField(errors, FIELD.duration, () => parseDuration(durationText)) : undefined;
    if (!durationText) errors[FIELD.duration] = 'Say how much longer, like 30m or 1h.';
    const request = checkField(errors, FIELD.duration, () => (duration === undefined ? requestOf(runner, requestIdOrThrow(view)) : checkExtension(runner, requestIdOrThrow(view), duration)));
    if (!request || duration === undefined || Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    await answerInView(deps, ack, view, async (tell) => {
      await tell(slackReply(await runCommand(runner, slackCaller(deps, body.user.id), { kind: 'extend', requestId: request.id, duration }, 'slack')));
    });
    if (openedOnHome(view.private_metadata)) await refreshHome(deps, body.user.id);
  });

  // Slack needs the options in the acknowledgement itself: the look-up cannot wait (it is cached for a minute).
  app.options(ACTION.servers, async ({ ack, body }) => {
    try {
      const person = await requesterOf(runner, slackCaller(deps, body.user.id));
      const query = body.value.trim().toLowerCase();
      const matches = requestableServers(runner.ctx.config(), person).filter((s) => s.server.name.toLowerCase().includes(query));
      await ack({ options: matches.slice(0, STATIC_MENU_LIMIT).map(serverOption) });
    } catch (error) {
      logUnexpected(deps, error, 'server search');
      await ack({ options: [] });
    }
  });
}
