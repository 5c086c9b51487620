// The App Home tab and the `list` / `servers` / `help` replies: my active access (Extend, Revoke), my pending
// requests (Cancel), approvals waiting for me (Approve, Deny), and what I may request.
import type { types } from '@slack/bolt';
import type { ActiveAccess } from '../../access/queries.js';
import { formatDuration } from '../../core/duration.js';
import type { AccessRequest } from '../../access/chat-port.js';
import {
  ACTION, actions, button, confirmDialog, context, divider, escape, header, message, section, serverList, serversInBrief, slackDate, type Block, type SlackMessage,
} from './blocks.js';
import type { RequestableServer } from './blocks-views.js';

export interface MyAccess {
  active: ActiveAccess[];
  pending: AccessRequest[];
  toApprove: AccessRequest[];
}

// A Home tab holds 100 blocks and a message 50; each item takes up to two.
const HOME_ITEMS = 15;
const MESSAGE_ITEMS = 5;

/** What a section says about the items it leaves out. */
type More = (left: number) => string;

function capped<T>(items: T[], limit: number, more: More, render: (item: T) => Block[]): Block[] {
  const shown = items.slice(0, limit).flatMap(render);
  return items.length > limit ? [...shown, context(more(items.length - limit))] : shown;
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
    section(`*#${r.id}* ${r.requesterEmail} → ${serverList(r.servers)} · ${formatDuration(r.durationSeconds)} · flow ${r.flow}\n>${escape(r.reason) || '_no reason_'}`),
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
      ...accessSections(my, HOME_ITEMS, (left) => `…and ${left} more.`),
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
    accessSections(my, MESSAGE_ITEMS, (left) => `…${left} more: open the Keyway Home tab.`));
}

export function serversReply(servers: RequestableServer[]): SlackMessage {
  if (servers.length === 0) return message('No access flow lets you request any server. Ask a Keyway admin to add you to a flow.');
  const lines = servers.slice(0, 60).map((s) => `• \`${s.server.name}\` (${s.integration.name}) · flow ${s.flow.name} · up to ${formatDuration(s.flow.maxDuration)}${s.flow.autoApprove ? ' · approved automatically' : ''}`);
  const more = servers.length > 60 ? `\n…and ${servers.length - 60} more.` : '';
  return message(`You may request ${servers.length} server(s)`, [section(`*You may request:*\n${lines.join('\n')}${more}`), context('`/ssh-access request <server>[,<server>…] <duration> <reason>`')]);
}
