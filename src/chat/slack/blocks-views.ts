// Modals: ask for access (servers, duration, reason, and a public key when none is registered), the deny
// reason, the extension length, and what the requester sees after submitting.
import type { types } from '@slack/bolt';
import { formatDuration } from '../../core/duration.js';
import type { ServerRef, Flow } from '../../core/model.js';
import { MAX_REASON_LENGTH } from '../../core/policy.js';
import type { AccessRequest } from '../../access/chat-port.js';
import { ACTION, VIEW, context, plain, section, serverList, slackDate, userText, type Block, type SlackMessage } from './blocks.js';

/** Slack's static menus hold 100 options; beyond that the menu searches as the user types (external select). */
export const STATIC_MENU_LIMIT = 100;

export const FIELD = { servers: 'servers', duration: 'duration', reason: 'reason', key: 'key' } as const;

export type RequestableServer = ServerRef & { flow: Flow };

export function serverOption(ref: RequestableServer): types.PlainTextOption {
  return { text: plain(`${ref.server.name} · ${ref.flow.name} (max ${formatDuration(ref.flow.maxDuration)})`.slice(0, 75)), value: ref.server.name };
}

function input(blockId: string, label: string, element: types.InputBlockElement, options: { optional?: boolean; hint?: string } = {}): Block {
  return {
    type: 'input', block_id: blockId, label: plain(label), element, optional: options.optional ?? false,
    ...(options.hint ? { hint: plain(options.hint) } : {}),
  };
}

function modal(callbackId: string, title: string, blocks: Block[], submit: string | undefined, metadata = ''): types.ModalView {
  return {
    type: 'modal', callback_id: callbackId, title: plain(title), close: plain(submit ? 'Cancel' : 'Close'),
    ...(submit ? { submit: plain(submit) } : {}), private_metadata: metadata, blocks,
  };
}

export function requestModal(servers: RequestableServer[], needsKey: boolean): types.ModalView {
  const external = servers.length > STATIC_MENU_LIMIT;
  const menu: types.InputBlockElement = external
    ? { type: 'multi_external_select', action_id: ACTION.servers, placeholder: plain('Type to search servers'), min_query_length: 0 }
    : { type: 'multi_static_select', action_id: ACTION.servers, placeholder: plain('Choose servers'), options: servers.map(serverOption) };
  const defaults = [...new Set(servers.map((s) => formatDuration(s.flow.defaultDuration)))];
  const blocks: Block[] = [
    input(FIELD.servers, 'Servers', menu, { hint: 'Only servers an access flow lets you request are listed.' }),
    input(FIELD.duration, 'Duration', { type: 'plain_text_input', action_id: FIELD.duration, placeholder: plain('e.g. 30m, 2h, 1h30m') },
      { optional: true, hint: `Leave empty for the flow's default (${defaults.join(' or ')}).` }),
    input(FIELD.reason, 'Reason', { type: 'plain_text_input', action_id: FIELD.reason, multiline: true, max_length: MAX_REASON_LENGTH, placeholder: plain('The incident, ticket or task') },
      { optional: true, hint: 'Approvers see it; most flows require one.' }),
  ];
  if (needsKey) {
    blocks.push(input(FIELD.key, 'Your SSH public key', { type: 'plain_text_input', action_id: FIELD.key, multiline: true, placeholder: plain('ssh-ed25519 AAAA… you@laptop') },
      { hint: 'You have no key registered yet: paste the .pub file (never the private key).' }));
  }
  return modal(VIEW.request, 'Request SSH access', blocks, 'Request');
}

/** A modal that only tells (no submit): what became of a submitted form, or that it is being worked on. */
export function answerView(title: string, reply: SlackMessage): types.ModalView {
  return modal(VIEW.answer, title, reply.blocks, undefined);
}

function metadataOf(requestId: number, origin: { home?: boolean }): string {
  return JSON.stringify(origin.home ? { requestId, home: true } : { requestId });
}

/** True when a modal was opened from the Home tab, which is then refreshed after the submission. */
export function openedOnHome(privateMetadata: string): boolean {
  try {
    return (JSON.parse(privateMetadata) as { home?: unknown }).home === true;
  } catch {
    return false;
  }
}

export function denyModal(request: AccessRequest, origin: { home?: boolean } = {}): types.ModalView {
  return modal(VIEW.deny, `Deny request #${request.id}`.slice(0, 24), [
    section(`${request.requesterEmail} asks for ${serverList(request.servers)} for ${formatDuration(request.durationSeconds)}.`),
    userText('Reason', request.reason),
    input(FIELD.reason, 'Why do you deny it?', { type: 'plain_text_input', action_id: FIELD.reason, multiline: true, max_length: MAX_REASON_LENGTH },
      { hint: 'The requester sees your reason.' }),
  ], 'Deny', metadataOf(request.id, origin));
}

export function extendModal(request: AccessRequest, maxLeftSeconds: number, origin: { home?: boolean } = {}): types.ModalView {
  return modal(VIEW.extend, `Extend request #${request.id}`.slice(0, 24), [
    section(`Your access to ${serverList(request.servers)} ends ${request.accessExpiresAt === null ? 'soon' : slackDate(request.accessExpiresAt)}.`),
    input(FIELD.duration, 'Extend by', { type: 'plain_text_input', action_id: FIELD.duration, placeholder: plain('e.g. 30m, 1h') },
      { hint: maxLeftSeconds > 0 ? `The flow allows ${formatDuration(maxLeftSeconds)} more at most.` : 'The flow allows no more time: make a new request.' }),
    context('An extension is approved like a request, under the same flow.'),
  ], 'Extend', metadataOf(request.id, origin));
}

/** The request id a Keyway modal carries in private_metadata (a pointer only: who may act is checked again). */
export function requestIdOf(privateMetadata: string): number | undefined {
  try {
    const id = (JSON.parse(privateMetadata) as { requestId?: unknown }).requestId;
    return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}
