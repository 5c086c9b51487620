// Modal submissions (request, deny reason, extension) and the server search of the request modal. A
// submission is checked before it is acknowledged, so mistakes show on the field that holds them; the
// checks and the state change are database work only — server work follows the acknowledgement.
import type { App, ViewOutput } from '@slack/bolt';
import { requestExtension } from '../../access/extend.js';
import { registerPublicKey } from '../../access/people.js';
import { submitRequest, voteOnRequest } from '../../access/requests.js';
import { parseDuration } from '../../core/duration.js';
import { UserError, isUserError, type ErrorCode } from '../../core/errors.js';
import { requestableServers } from '../../core/policy.js';
import { getRequest } from '../../store/requests.js';
import { alreadyDecided } from './actions.js';
import { ACTION, VIEW } from './blocks.js';
import { FIELD, STATIC_MENU_LIMIT, requestIdOf, requestSentView, serverOption } from './blocks-views.js';
import { outcomeReply } from './commands.js';
import { apology, logUnexpected } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

type Errors = Record<string, string>;

const FIELD_OF: Partial<Record<ErrorCode, string>> = {
  duration_invalid: FIELD.duration, duration_too_long: FIELD.duration, reason_required: FIELD.reason,
  key_invalid: FIELD.key, key_is_private: FIELD.key, unknown_person: FIELD.key,
};

function text(view: ViewOutput, block: string): string {
  return view.state.values[block]?.[block]?.value?.trim() ?? '';
}

/** The block to show an error on: the field it is about when the modal has it, else `fallback`. */
function errorsFor(deps: SlackDeps, view: ViewOutput, error: unknown, fallback: string): Errors {
  if (!isUserError(error)) return { [fallback]: apology(logUnexpected(deps, error, `modal ${view.callback_id}`)) };
  const field = FIELD_OF[error.code];
  return { [field && view.state.values[field] ? field : fallback]: error.message };
}

function durationOrError(textValue: string, errors: Errors, field: string): number | undefined {
  if (textValue === '') return undefined;
  try {
    return parseDuration(textValue);
  } catch (error) {
    if (!isUserError(error)) throw error;
    errors[field] = error.message;
    return undefined;
  }
}

function requestIdOrThrow(view: ViewOutput): number {
  const id = requestIdOf(view.private_metadata);
  if (id === undefined) throw new UserError('unknown_request', 'This form lost track of its request: close it and click the button again.');
  return id;
}

export function registerViews(app: App, deps: SlackDeps): void {
  const { engine } = deps;

  app.view(VIEW.request, async ({ ack, body, view }) => {
    const servers = view.state.values[FIELD.servers]?.[ACTION.servers]?.selected_options?.map((o) => o.value) ?? [];
    const errors: Errors = {};
    const duration = durationOrError(text(view, FIELD.duration), errors, FIELD.duration);
    if (servers.length === 0) errors[FIELD.servers] = 'Choose at least one server.';
    if (Object.keys(errors).length > 0) return ack({ response_action: 'errors', errors });
    try {
      const person = await deps.directory.requesterOf(body.user.id);
      const keyText = text(view, FIELD.key);
      if (keyText) registerPublicKey(engine.ctx, person.email, keyText, person.email);
      const outcome = submitRequest(engine.ctx, person, { servers, duration, reason: text(view, FIELD.reason) }, 'slack');
      await ack({ response_action: 'update', view: requestSentView(outcomeReply(outcome)) });
      engine.kick();
    } catch (error) {
      await ack({ response_action: 'errors', errors: errorsFor(deps, view, error, FIELD.servers) });
    }
  });

  app.view(VIEW.deny, async ({ ack, body, view }) => {
    let requestId: number;
    try {
      requestId = requestIdOrThrow(view);
      const request = getRequest(engine.ctx.db, requestId);
      if (!request) throw new UserError('unknown_request', `There is no request #${requestId}.`);
      const person = await deps.directory.requesterOf(body.user.id, request.approvers.slackUsergroups);
      const outcome = voteOnRequest(engine.ctx, requestId, person, 'deny', { reason: text(view, FIELD.reason) });
      if (outcome.kind === 'already_decided') return ack({ response_action: 'errors', errors: { [FIELD.reason]: alreadyDecided(outcome.request) } });
    } catch (error) {
      return ack({ response_action: 'errors', errors: errorsFor(deps, view, error, FIELD.reason) });
    }
    await ack();
    engine.kick();
    await deps.approvals.refresh(requestId).catch((error: unknown) => logUnexpected(deps, error, 'refresh after deny'));
  });

  app.view(VIEW.extend, async ({ ack, body, view }) => {
    const errors: Errors = {};
    const duration = durationOrError(text(view, FIELD.duration), errors, FIELD.duration);
    if (duration === undefined) errors[FIELD.duration] ??= 'Say how much longer, like 30m or 1h.';
    if (Object.keys(errors).length > 0 || duration === undefined) return ack({ response_action: 'errors', errors });
    try {
      const person = await deps.directory.requesterOf(body.user.id);
      const outcome = requestExtension(engine.ctx, person, requestIdOrThrow(view), duration);
      await ack({ response_action: 'update', view: requestSentView(outcomeReply(outcome)) });
      engine.kick();
    } catch (error) {
      await ack({ response_action: 'errors', errors: errorsFor(deps, view, error, FIELD.duration) });
    }
  });

  app.options(ACTION.servers, async ({ ack, body }) => {
    try {
      const person = await deps.directory.requesterOf(body.user.id);
      const query = body.value.trim().toLowerCase();
      const matches = requestableServers(engine.ctx.config(), person).filter((s) => s.server.name.toLowerCase().includes(query));
      await ack({ options: matches.slice(0, STATIC_MENU_LIMIT).map(serverOption) });
    } catch (error) {
      logUnexpected(deps, error, 'server search');
      await ack({ options: [] });
    }
  });
}
