// Block Kit building blocks shared by every Slack message, modal and App Home view Keyway renders
// (blocks-*.ts hold the renderers; nothing outside them builds Block Kit).
import type { types } from '@slack/bolt';

export type Block = types.KnownBlock;
export type Button = types.Button;

export interface SlackMessage {
  /** The notification and screen-reader text; Slack shows it where blocks cannot be shown. */
  text: string;
  blocks: Block[];
}

/** Action ids: the value of a button carries the request id only, never who may click it. */
export const ACTION = {
  approve: 'keyway_approve',
  deny: 'keyway_deny',
  extend: 'keyway_extend',
  revoke: 'keyway_revoke',
  cancel: 'keyway_cancel',
  openRequest: 'keyway_open_request',
  servers: 'keyway_servers',
} as const;

export const VIEW = {
  request: 'keyway_request',
  deny: 'keyway_deny_reason',
  extend: 'keyway_extend_duration',
  answer: 'keyway_answer',
} as const;

/** Slack mrkdwn treats &, < and > as control characters; user text must not be able to mention or link. */
export function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Text a person typed (a reason), after a bold label, in a rich text block: its text elements are taken literally,
 * never read as mrkdwn, so `*Approved*` stays asterisks, and `<!channel>`, `<@U…>` and links stay inert words.
 */
export function userText(label: string, text: string, empty = 'none given'): Block {
  return {
    type: 'rich_text',
    elements: [{
      type: 'rich_text_section',
      elements: text
        ? [{ type: 'text', text: label, style: { bold: true } }, { type: 'text', text: `: ${text.slice(0, 3000)}` }]
        : [{ type: 'text', text: label, style: { bold: true } }, { type: 'text', text: ': ' }, { type: 'text', text: empty, style: { italic: true } }],
    }],
  };
}

export function plain(text: string): types.PlainTextElement {
  return { type: 'plain_text', text: text.slice(0, 150), emoji: true };
}

export function section(markdown: string, accessory?: Button): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: markdown.slice(0, 3000) }, ...(accessory ? { accessory } : {}) };
}

export function fields(pairs: Array<[string, string]>): Block {
  return { type: 'section', fields: pairs.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}`.slice(0, 2000) })) };
}

/**
 * Text to copy exactly (a certificate, commands), in a rich text block of its own: shown as a code block,
 * taken literally (no mrkdwn, nothing to escape), and never cut: a section's 3,000-character text limit
 * does not apply, and a 4096-bit RSA certificate with its key ID comes close to it on its own.
 */
export function preformatted(text: string): Block {
  return { type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text }] }] };
}

export function context(markdown: string): Block {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: markdown.slice(0, 3000) }] };
}

export function header(text: string): Block {
  return { type: 'header', text: plain(text) };
}

export function divider(): Block {
  return { type: 'divider' };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger', confirm?: types.ConfirmationDialog): Button {
  return { type: 'button', text: plain(text), action_id: actionId, value, ...(style ? { style } : {}), ...(confirm ? { confirm } : {}) };
}

export function actions(blockId: string, elements: Button[]): Block {
  return { type: 'actions', block_id: blockId, elements };
}

/** Slack refuses a confirmation dialog whose text is over 300 characters (name servers with serversInBrief). */
export function confirmDialog(title: string, text: string, yes: string): types.ConfirmationDialog {
  return { title: plain(title), text: { type: 'mrkdwn', text: text.length > 300 ? `${text.slice(0, 299)}…` : text }, confirm: plain(yes), deny: plain('Cancel') };
}

/** A time shown in each reader's own time zone (Slack date formatting), with a UTC fallback. */
export function slackDate(epochMs: number): string {
  const unix = Math.floor(epochMs / 1000);
  const fallback = new Date(unix * 1000).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
  return `<!date^${unix}^{date_short_pretty} at {time}|${fallback}>`;
}

export function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** Slack's limits: blocks in a message and in a Home tab or modal, characters in a section's text. */
export const MESSAGE_BLOCKS = 50;
export const VIEW_BLOCKS = 100;
export const SECTION_CHARS = 3000;

/**
 * As many whole items as fit in `maxChars` when joined by `separator`, then "…and N more" (worded by `more`):
 * a long list is cut between items, never inside one (a name, a mention or a date would break).
 */
export function joinWithin(items: readonly string[], separator: string, maxChars: number, more: (left: number) => string): string {
  let text = '';
  for (let i = 0; i < items.length; i += 1) {
    const next = i === 0 ? items[i]! : `${text}${separator}${items[i]}`;
    const left = items.length - i - 1;
    const tail = left > 0 ? `${separator}${more(left)}` : '';
    if (next.length + tail.length > maxChars) return i === 0 ? more(items.length) : `${text}${separator}${more(items.length - i)}`;
    text = next;
  }
  return text;
}

/** The servers as code words; a long list ends in "…and N more" within `maxChars`. */
export function serverList(names: readonly string[], maxChars = 1000): string {
  return joinWithin(names.map(code), ', ', maxChars, (left) => `…and ${left} more`);
}

/** The servers for a short text (a confirmation dialog): the list, or "N servers" when the list is long. */
export function serversInBrief(names: readonly string[]): string {
  const list = serverList(names);
  return list.length <= 200 ? list : `${names.length} servers`;
}

export function message(text: string, blocks: Block[] = [section(text)]): SlackMessage {
  return { text: text.slice(0, 3000), blocks };
}
