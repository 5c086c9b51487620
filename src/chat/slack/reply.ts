// Answers to the person who typed or clicked, and the one place handler errors become words: a UserError is
// shown as it is (it says what to do next); anything else is logged with a reference and the person gets a
// short apology with that reference, never a stack.
import { randomBytes } from 'node:crypto';
import type { RespondFn, ViewOutput } from '@slack/bolt';
import { isUserError } from '../../core/errors.js';
import { message as plainMessage, type SlackMessage } from './blocks.js';
import { answerView } from './blocks-views.js';
import type { SlackDeps } from './slack-deps.js';

export type Tell = (reply: SlackMessage | string, options?: { replaceOriginal?: boolean }) => Promise<void>;

function asMessage(reply: SlackMessage | string): SlackMessage {
  return typeof reply === 'string' ? plainMessage(reply) : reply;
}

/** Ephemeral answers through the response_url of a command or a message button (respond throws when refused). */
export function tellByResponseUrl(respond: RespondFn): Tell {
  return async (reply, options = {}) => {
    const { text, blocks } = asMessage(reply);
    await respond({ response_type: 'ephemeral', replace_original: options.replaceOriginal ?? false, text, blocks });
  };
}

/** Answers in a submitted modal that was acknowledged with a "working on it" view, replacing that view. */
export function tellByView(deps: SlackDeps, view: ViewOutput): Tell {
  return async (reply) => {
    await deps.client.views.update({ view_id: view.id, view: answerView(view.title.text, asMessage(reply)) });
  };
}

/** Answers in the app's DM with the person (clicks in the App Home have no response_url). */
export function tellByDm(deps: SlackDeps, userId: string): Tell {
  return async (reply) => {
    const { text, blocks } = asMessage(reply);
    await deps.client.chat.postMessage({ channel: await deps.directory.dmChannelOf(userId), text, blocks });
  };
}

export function tellFor(deps: SlackDeps, userId: string, respond: RespondFn | undefined, hasResponseUrl: boolean): Tell {
  return hasResponseUrl && respond ? tellByResponseUrl(respond) : tellByDm(deps, userId);
}

export function apology(reference: string): string {
  return `Sorry, something went wrong on Keyway's side (reference ${reference}). Try again in a minute; if it keeps happening, give your Keyway admin the reference.`;
}

/** Logs an unexpected error with a fresh reference and returns the reference. */
export function logUnexpected(deps: SlackDeps, error: unknown, what: string): string {
  const reference = randomBytes(4).toString('hex');
  deps.logger.error({ err: error, reference, what }, 'Slack handler failed');
  return reference;
}

export async function answerErrors(deps: SlackDeps, tell: Tell, what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (isUserError(error)) {
      await tell(error.message);
      return;
    }
    await tell(apology(logUnexpected(deps, error, what)));
  }
}
