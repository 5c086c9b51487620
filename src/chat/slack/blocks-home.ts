// The App Home tab and the `list` / `servers` / `help` replies: my active access (Extend, Revoke), my pending
// requests (Cancel), approvals waiting for me (Approve, Deny), and what I may request.
import type { types } from '@slack/bolt';
import type { ActiveAccess } from '../../access/queries.js';
import { formatDuration } from '../../core/duration.js';
import type { AccessRequest } from '../../store/requests.js';
import {
  ACTION, actions, button, confirmDialog, context, divider, escape, header, message, section, serverList, slackDate, type Block, type SlackMessage,
} from './blocks.js';
import type { RequestableServer } from './blocks-views.js';

export interface MyAccess {
  active: ActiveAccess[];
  pending: AccessRequest[];
  toApprove: AccessRequest[];
}

const MAX_ITEMS = 15; // a Home tab holds 100 blocks; each item takes two

function activeBlocks(items: ActiveAccess[]): Block[] {
  if (items.length === 0) return [context('No active access.')];
  return items.slice(0, MAX_ITEMS).flatMap(({ request, grants }) => [
    section(`*#${request.id}* ${serverList(grants.map((g) => g.server))} as \`${request.linuxUser}\` · ends ${request.accessExpiresAt === null ? '?' : slackDate(request.accessExpiresAt)}${grants.some((g) => g.state !== 'active') ? ' · _being prepared_' : ''}`),
    actions(`active:${request.id}`, [
      button('Extend…', ACTION.extend, String(request.id)),
      button('Revoke', ACTION.revoke, String(request.id), 'danger',
        confirmDialog('Revoke access?', `End request #${request.id} on ${serverList(request.servers)} now?`, 'Revoke')),
    ]),
  ]);
}

function pendingBlocks(items: AccessRequest[]): Block[] {
  if (items.length === 0) return [context('No pending requests.')];
  return items.slice(0, MAX_ITEMS).map((r) => section(
    `*#${r.id}* ${serverList(r.servers)} · ${formatDuration(r.durationSeconds)} · waiting for approval (flow ${r.flow}) · expires ${slackDate(r.pendingUntil)}`,
    button('Cancel', ACTION.cancel, String(r.id)),
  ));
}

function approvalBlocks(items: AccessRequest[]): Block[] {
  if (items.length === 0) return [context('Nothing waits for your approval.')];
  return items.slice(0, MAX_ITEMS).flatMap((r) => [
    section(`*#${r.id}* ${r.requesterEmail} → ${serverList(r.servers)} · ${formatDuration(r.durationSeconds)} · flow ${r.flow}\n>${escape(r.reason) || '_no reason_'}`),
    actions(`home-approval:${r.id}`, [
      button('Approve', ACTION.approve, String(r.id), 'primary'),
      button('Deny…', ACTION.deny, String(r.id), 'danger'),
    ]),
  ]);
}

function accessSections(my: MyAccess): Block[] {
  return [
    section('*Your active access*'), ...activeBlocks(my.active), divider(),
    section('*Your pending requests*'), ...pendingBlocks(my.pending), divider(),
    section('*Approvals waiting for you*'), ...approvalBlocks(my.toApprove),
  ];
}

export function homeView(my: MyAccess): types.HomeView {
  return {
    type: 'home',
    blocks: [
      header('Keyway: just-in-time SSH access'),
      actions('home-top', [button('Request access…', ACTION.openRequest, 'open', 'primary')]),
      divider(),
      ...accessSections(my),
      context('Also on the command line of Slack: `/ssh-access help`.'),
    ],
  };
}

export function listReply(my: MyAccess): SlackMessage {
  return message(`You have ${my.active.length} active access, ${my.pending.length} pending request(s), ${my.toApprove.length} approval(s) waiting.`, accessSections(my));
}

export function serversReply(servers: RequestableServer[]): SlackMessage {
  if (servers.length === 0) return message('No access flow lets you request any server. Ask a Keyway admin to add you to a flow.');
  const lines = servers.slice(0, 60).map((s) => `• \`${s.server.name}\` (${s.integration.name}) · flow ${s.flow.name} · up to ${formatDuration(s.flow.maxDuration)}${s.flow.autoApprove ? ' · approved automatically' : ''}`);
  const more = servers.length > 60 ? `\n…and ${servers.length - 60} more.` : '';
  return message(`You may request ${servers.length} server(s)`, [section(`*You may request:*\n${lines.join('\n')}${more}`), context('`/ssh-access request <server>[,<server>…] <duration> <reason>`')]);
}
