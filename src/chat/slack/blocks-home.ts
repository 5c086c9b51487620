// The App Home tab and the `list` / `servers` / `help` replies: my active access (Extend, Revoke), my pending
// requests (Cancel), approvals waiting for me (Approve, Deny), and what I may request.
import type { types } from '@slack/bolt';
import type { ActiveAccess } from '../../access/queries.js';
import { formatDuration } from '../../core/duration.js';
import type { AccessRequest } from '../../access/chat-port.js';
import {
  ACTION, MESSAGE_BLOCKS, SECTION_CHARS, VIEW_BLOCKS, actions, button, code, confirmDialog, context, divider, escape, header, joinWithin, message, section, serverList, serversInBrief,
  slackDate, userText, type Block, type SlackMessage,
} from './blocks.js';
import type { RequestableServer } from './blocks-views.js';

export interface MyAccess {
  active: ActiveAccess[];
  pending: AccessRequest[];
  toApprove: AccessRequest[];
}

// The blocks around the three lists: their titles and dividers, and the Home tab's header, button and footer.
const LIST_FRAME_BLOCKS = 5;
const HOME_FRAME_BLOCKS = 5;
/** The blocks each list may take (the "…and N more" line included) within a message's 50 and a Home tab's 100. */
const MESSAGE_LIST_BLOCKS = Math.floor((MESSAGE_BLOCKS - LIST_FRAME_BLOCKS) / 3);
const HOME_LIST_BLOCKS = Math.floor((VIEW_BLOCKS - LIST_FRAME_BLOCKS - HOME_FRAME_BLOCKS) / 3);

/** What a section says about the items it leaves out. */
type More = (left: number) => string;

/** Whole items while they fit in `budget` blocks, keeping one for "…and N more" when some are left out. */
function capped<T>(items: T[], budget: number, more: More, render: (item: T) => Block[]): Block[] {
  const shown: Block[] = [];
  for (let i = 0; i < items.length; i += 1) {
    const blocks = render(items[i]!);
    const reserve = i < items.length - 1 ? 1 : 0;
    if (shown.length + blocks.length + reserve > budget) return [...shown, context(more(items.length - i))];
    shown.push(...blocks);
  }
  return shown;
}

function activeBlocks(items: ActiveAccess[], limit: number, more: More): Block[] {
  if (items.length === 0) return [context('No active access.')];
  return capped(items, limit, more, ({ request, grants }) => [
    section(`*#${request.id}* ${serverList(grants.map((g) => g.server))} as \`${request.linuxUser}\` · ends ${request.accessExpiresAt === null ? '?' : slackDate(request.accessExpiresAt)}${grants.some((g) => g.state !== 'active') ? ' · _being prepared_' : ''}`),
    actions(`active:${request.id}`, [
      button('Extend…', ACTION.extend, String(request.id)),
      button('Revoke', ACTION.revoke, String(request.id), 'danger',
        confirmDialog('Revoke access?', `End request #${request.id} on ${serversInBrief(request.servers)} now?`, 'Revoke')),
    ]),
  ]);
}

function pendingBlocks(items: AccessRequest[], limit: number, more: More): Block[] {
  if (items.length === 0) return [context('No pending requests.')];
  return capped(items, limit, more, (r) => [section(
    `*#${r.id}* ${serverList(r.servers)} · ${formatDuration(r.durationSeconds)} · waiting for approval (flow ${r.flow}) · expires ${slackDate(r.pendingUntil)}`,
    button('Cancel', ACTION.cancel, String(r.id)),
  )]);
}

function approvalBlocks(items: AccessRequest[], limit: number, more: More): Block[] {
  if (items.length === 0) return [context('Nothing waits for your approval.')];
  return capped(items, limit, more, (r) => [
    section(`*#${r.id}* ${r.requesterEmail} → ${serverList(r.servers)} · ${formatDuration(r.durationSeconds)} · flow ${r.flow}`),
    userText('Reason', r.reason),
    actions(`home-approval:${r.id}`, [
      button('Approve', ACTION.approve, String(r.id), 'primary'),
      button('Deny…', ACTION.deny, String(r.id), 'danger'),
    ]),
  ]);
}

function accessSections(my: MyAccess, limit: number, more: More): Block[] {
  return [
    section('*Your active access*'), ...activeBlocks(my.active, limit, more), divider(),
    section('*Your pending requests*'), ...pendingBlocks(my.pending, limit, more), divider(),
    section('*Approvals waiting for you*'), ...approvalBlocks(my.toApprove, limit, more),
  ];
}

export function homeView(my: MyAccess): types.HomeView {
  return {
    type: 'home',
    blocks: [
      header('Keyway: just-in-time SSH access'),
      actions('home-top', [button('Request access…', ACTION.openRequest, 'open', 'primary')]),
      divider(),
      ...accessSections(my, HOME_LIST_BLOCKS, (left) => `…and ${left} more.`),
      context('Also on the command line of Slack: `/ssh-access help`.'),
    ],
  };
}

/** The Home tab of someone Keyway cannot serve yet, saying why and what to do. */
export function homeRefusal(why: string): types.HomeView {
  return { type: 'home', blocks: [header('Keyway: just-in-time SSH access'), section(`:warning: ${escape(why)}`)] };
}

export function listReply(my: MyAccess): SlackMessage {
  return message(`You have ${my.active.length} active access, ${my.pending.length} pending request(s), ${my.toApprove.length} approval(s) waiting.`,
    accessSections(my, MESSAGE_LIST_BLOCKS, (left) => `…and ${left} more: open the Keyway Home tab.`));
}

export function serversReply(servers: RequestableServer[]): SlackMessage {
  if (servers.length === 0) return message('No access flow lets you request any server. Ask a Keyway admin to add you to a flow.');
  const lines = servers.map((s) => `• ${code(s.server.name)} (${escape(s.integration.name)}) · flow ${escape(s.flow.name)} · up to ${formatDuration(s.flow.maxDuration)}${s.flow.autoApprove ? ' · approved automatically' : ''}`);
  // One section's worth of whole lines; the request form searches all of them.
  const list = joinWithin(lines, '\n', SECTION_CHARS - 100, (left) => `…and ${left} more: the request form (\`/ssh-access\`) finds them as you type.`);
  return message(`You may request ${servers.length} server(s)`, [section(`*You may request:*\n${list}`), context('`/ssh-access request <server>[, <server>…] <duration> <reason>` (quote a name with spaces)')]);
}
