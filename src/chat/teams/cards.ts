// Everything Keyway shows in Teams, as Adaptive Cards (version 1.4, which every Teams client renders) and
// markdown text. Buttons are Action.Submit: their data names the action and the request only; who may act
// is decided from the sender of the click, never from the card.
import { randomUUID } from 'node:crypto';
import { formatDuration } from '../../core/duration.js';
import { DEFAULT_GROUP } from '../../core/model.js';
import { MAX_REASON_LENGTH } from '../../core/policy.js';
import type { ActiveAccess } from '../../access/queries.js';
import type { AccessRequest, ApprovalVote } from '../../access/chat-port.js';
import type { CredentialView } from '../../access/target-driver.js';

export type Card = Record<string, unknown>;
type Element = Record<string, unknown>;

/** What a card's buttons submit: `keyway` names the action. */
export const SUBMIT = {
  request: 'request',
  approve: 'approve',
  deny: 'deny',
  extend: 'extend',
  revoke: 'revoke',
} as const;

/**
 * Card and message text is markdown, and Teams clients disagree on backslash escapes; so user text is
 * neutralised instead: it cannot open a link, a code span or HTML, or start a new line.
 */
export function escapeMarkdown(text: string): string {
  const swap: Record<string, string> = { '[': '［', ']': '］', '<': '‹', '>': '›', '`': "'" };
  return text.replace(/[[\]<>`]/g, (c) => swap[c]!).replace(/\s*\r?\n\s*/g, ' ');
}

/** Teams shows {{DATE}} and {{TIME}} in the reader's own time zone. */
export function teamsDate(epochMs: number): string {
  const iso = new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{{DATE(${iso}, SHORT)}} {{TIME(${iso})}}`;
}

/** For plain text messages, where Teams does not localise dates. */
export function utcDate(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC');
}

export function serverList(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}

function card(body: Element[], actions: Element[] = []): Card {
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.4', body, ...(actions.length > 0 && { actions }) };
}

function text(markdown: string, extra: Element = {}): Element {
  return { type: 'TextBlock', text: markdown, wrap: true, ...extra };
}

function heading(title: string): Element {
  return text(title, { size: 'Medium', weight: 'Bolder' });
}

/** User text (a reason) as a text run: Teams applies no markdown to it, so it cannot become a link or emphasis. */
function plainText(label: string, value: string): Element {
  return { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: `${label}: `, weight: 'Bolder' }, { type: 'TextRun', text: value.replace(/\s*\r?\n\s*/g, ' ') }] };
}

function facts(pairs: Array<[string, string]>): Element {
  return { type: 'FactSet', facts: pairs.map(([title, value]) => ({ title, value })) };
}

function submit(title: string, data: Record<string, unknown>, style?: 'positive' | 'destructive'): Element {
  return { type: 'Action.Submit', title, data, ...(style && { style }) };
}

function groupsText(groups: readonly string[]): string {
  return groups.length === 0 || (groups.length === 1 && groups[0] === DEFAULT_GROUP) ? 'own group only' : groups.join(', ');
}

/** The dataset the request form's server picker asks Teams to search (server-search.ts answers it). */
export const SERVER_SEARCH_DATASET = 'keyway.servers';
/** More servers than this, and the form lists only the first ones and lets Teams search the rest as the person types. */
export const STATIC_CHOICES_LIMIT = 100;

/** The request form: only the servers this person may request. */
export function requestForm(servers: ReadonlyArray<{ name: string; integration: string }>, needsKey: boolean, defaults: { duration?: string } = {}): Card {
  const body: Element[] = [heading('Request SSH access')];
  if (needsKey) body.push(text('⚠️ You have no SSH public key on file yet: send `key ssh-ed25519 AAAA… you@laptop` first, or the request waits for it.', { color: 'Warning' }));
  body.push(
    {
      type: 'Input.ChoiceSet', id: 'servers', label: 'Servers', isMultiSelect: true, isRequired: true, errorMessage: 'Choose at least one server.',
      choices: servers.slice(0, STATIC_CHOICES_LIMIT).map((s) => ({ title: `${s.name} (${s.integration})`, value: s.name })),
      ...(servers.length > STATIC_CHOICES_LIMIT && { style: 'filtered', placeholder: 'Type to search servers', 'choices.data': { type: 'Data.Query', dataset: SERVER_SEARCH_DATASET } }),
    },
    { type: 'Input.Text', id: 'duration', label: 'For how long (45m, 2h, 1h30m)', placeholder: 'the flow\'s default', value: defaults.duration ?? '' },
    { type: 'Input.Text', id: 'reason', label: 'Reason', placeholder: 'INC-42: disk full on web-1', isMultiline: true, maxLength: MAX_REASON_LENGTH },
  );
  // A fresh id per form: a second click on the same form is recognised and ignored.
  return card(body, [submit('Request', { keyway: SUBMIT.request, form: randomUUID() })]);
}

/** What a form becomes once it has been used. */
export function noticeCard(markdown: string): Card {
  return card([text(markdown)]);
}

function subject(request: AccessRequest): string {
  return request.extendsRequestId === null ? `SSH access request #${request.id}` : `Extension #${request.id} of request #${request.extendsRequestId}`;
}

function decider(request: AccessRequest): string {
  return request.decidedBy === null || request.decidedBy === 'system' ? 'Keyway' : request.decidedBy;
}

/** The outcome in words: who decided, when, and why. */
export function outcomeText(request: AccessRequest, votes: readonly ApprovalVote[], date: (ms: number) => string = teamsDate): string {
  const when = request.decidedAt === null ? '' : ` at ${date(request.decidedAt)}`;
  switch (request.state) {
    case 'approved': {
      if (request.decidedBy === 'system') return `✅ **Approved automatically** (the flow allows it)${when}`;
      const approvers = [...new Set(votes.filter((v) => v.decision === 'approve').map((v) => v.approverEmail))];
      return `✅ **Approved** by ${approvers.length > 0 ? approvers.join(', ') : decider(request)}${when}`;
    }
    case 'denied': // the reason is the approver's text: cards show it apart, as plain text
      return `❌ **Denied** by ${decider(request)}${when}`;
    case 'expired':
      return `⌛ **Expired**${when}: ${escapeMarkdown(request.decisionReason ?? 'nobody answered in time')}`;
    case 'cancelled':
      return `🚫 **Cancelled** by the requester${when}`;
    case 'pending':
      return '⏳ Waiting for approval';
  }
}

/** The approval card: with Approve and Deny (and a reason box) while pending; the outcome once decided. */
export function approvalCard(request: AccessRequest, votes: readonly ApprovalVote[]): Card {
  const approvals = votes.filter((v) => v.decision === 'approve').map((v) => v.approverEmail);
  const pending = request.state === 'pending';
  const body: Element[] = [
    heading(subject(request)),
    facts([
      ['Requester', request.requesterEmail],
      ['Servers', request.servers.join(', ')],
      ['Linux user', request.linuxUser],
      ['Groups', groupsText(request.groups)],
      [request.extendsRequestId === null ? 'Duration' : 'Extend by', formatDuration(request.durationSeconds)],
      ['Flow', request.flow],
    ]),
    plainText('Reason', request.reason || 'none given'),
  ];
  if (request.minApprovals > 1 || (pending && approvals.length > 0)) {
    body.push(text(`Approvals: ${approvals.length} of ${request.minApprovals} needed${approvals.length > 0 ? ` (${approvals.join(', ')})` : ''}`, { isSubtle: true }));
  }
  if (!pending) {
    body.push(text(outcomeText(request, votes)));
    if (request.state === 'denied' && request.decisionReason) body.push(plainText('Why', request.decisionReason));
    return card(body);
  }
  body.push(
    { type: 'Input.Text', id: 'reason', label: 'Reason (needed to deny)', placeholder: 'why not', maxLength: MAX_REASON_LENGTH },
    text(`Unanswered, the request expires ${teamsDate(request.pendingUntil)}.`, { isSubtle: true, size: 'Small' }),
  );
  return card(body, [
    submit('Approve', { keyway: SUBMIT.approve, requestId: request.id }, 'positive'),
    submit('Deny', { keyway: SUBMIT.deny, requestId: request.id }, 'destructive'),
  ]);
}

/**
 * The credential, how to install or keep it, and how to connect to each target: a markdown message, because Teams
 * keeps the lines of a code block in a message (a card's text would join them) and people copy them into a terminal.
 */
export function grantText(v: CredentialView, now: number): string {
  const ends = `${utcDate(v.validUntil)} (in ${formatDuration(Math.max(60, Math.round((v.validUntil - now) / 60_000) * 60))})`;
  const lines = [
    `**${v.title} ready (request #${v.requestId})**`,
    '',
    `Access to ${serverList(v.targets)} as \`${v.account}\` until **${ends}**.`,
    '',
  ];
  let step = 0;
  if (v.secret?.install) {
    lines.push(`**${++step}. Install ${v.secret.label}**${v.secret.where ? ` ${v.secret.where}` : ''}, as \`${v.secret.filename}\` (paste this in a terminal):`, '```', ...v.secret.install, '```');
  } else if (v.secret) {
    lines.push(`**${++step}. ${v.secret.label.charAt(0).toUpperCase()}${v.secret.label.slice(1)}** (${v.secret.filename ? `keep it as \`${v.secret.filename}\`; ` : ''}it is shown once):`, '```', v.secret.text, '```');
  }
  lines.push(`**${++step}. Connect**${v.connectHint ? ` (${v.connectHint})` : ''}:`, '```', ...v.connect.flatMap((c) => c.lines), '```');
  if (v.notReady.length > 0) lines.push(`⚠️ Not ready yet on ${serverList(v.notReady)}: Keyway keeps trying and tells you when it works.`, '');
  for (const note of v.notes) lines.push(`**From your admins:** ${escapeMarkdown(note)}`, '');
  lines.push(`${v.scope} and stops working at its expiry or when the access is revoked. Send \`list\` to see your access.`);
  return lines.join('\n');
}

/** Access is about to end: extend it (the flow's approval rules apply) or end it now. */
export function expiryWarningCard(request: AccessRequest): Card {
  const ends = request.accessExpiresAt === null ? 'soon' : teamsDate(request.accessExpiresAt);
  return card([
    text(`⏳ Your access to ${serverList(request.servers)} (request #${request.id}) ends ${ends}.`),
    { type: 'Input.Text', id: 'duration', label: 'Extend by (30m, 1h)', value: '1h' },
  ], [
    submit('Extend', { keyway: SUBMIT.extend, requestId: request.id }, 'positive'),
    submit('End it now', { keyway: SUBMIT.revoke, requestId: request.id }, 'destructive'),
  ]);
}

/** `list`: my access, my pending requests, approvals waiting for me. */
export function listText(mine: { active: ActiveAccess[]; pending: AccessRequest[]; toApprove: AccessRequest[] }): string {
  const lines: string[] = ['**Your access**'];
  if (mine.active.length === 0) lines.push('- none');
  for (const a of mine.active) {
    lines.push(`- #${a.request.id}: ${serverList(a.grants.map((g) => g.server))} until ${a.request.accessExpiresAt === null ? '?' : utcDate(a.request.accessExpiresAt)} — \`extend ${a.request.id} 1h\` · \`revoke ${a.request.id}\``);
  }
  lines.push('', '**Your pending requests**');
  if (mine.pending.length === 0) lines.push('- none');
  for (const r of mine.pending) lines.push(`- #${r.id}: ${serverList(r.servers)} for ${formatDuration(r.durationSeconds)} — \`cancel ${r.id}\``);
  lines.push('', '**Waiting for your approval**');
  if (mine.toApprove.length === 0) lines.push('- none');
  for (const r of mine.toApprove) lines.push(`- #${r.id}: ${r.requesterEmail} → ${serverList(r.servers)} for ${formatDuration(r.durationSeconds)} (decide on its card)`);
  return lines.join('\n');
}
