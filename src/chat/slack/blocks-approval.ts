// The approval message approvers see (with Approve and Deny while the request is pending), the same message
// once decided (who, when, no buttons), and the one-line decision posted to a flow's notify_channel.
import { formatDuration } from '../../core/duration.js';
import { DEFAULT_GROUP } from '../../core/model.js';
import type { AccessRequest, ApprovalVote } from '../../access/chat-port.js';
import { ACTION, actions, button, context, fields, header, section, serverList, slackDate, userText, type Block, type SlackMessage } from './blocks.js';

export function groupsText(groups: readonly string[]): string {
  return groups.length === 0 || (groups.length === 1 && groups[0] === DEFAULT_GROUP) ? 'own group only' : groups.map((g) => `\`${g}\``).join(', ');
}

function decider(request: AccessRequest): string {
  return request.decidedBy === null || request.decidedBy === 'system' ? 'Keyway' : request.decidedBy;
}

/**
 * "approved by lead@example.com at <date>", "denied by …", "expired …" — the outcome in words (mrkdwn). The
 * reason of a denial or an expiry is not in it: outcomeBlocks shows it literally.
 */
export function outcomeText(request: AccessRequest, votes: readonly ApprovalVote[] = []): string {
  const when = request.decidedAt === null ? '' : ` at ${slackDate(request.decidedAt)}`;
  switch (request.state) {
    case 'approved': {
      if (request.decidedBy === 'system') return `:white_check_mark: *Approved automatically* (the flow allows it)${when}`;
      const approvers = [...new Set(votes.filter((v) => v.decision === 'approve').map((v) => v.approverEmail))];
      return `:white_check_mark: *Approved* by ${approvers.length > 0 ? approvers.join(', ') : decider(request)}${when}`;
    }
    case 'denied':
      return `:x: *Denied* by ${decider(request)}${when}`;
    case 'expired':
      return `:hourglass: *Expired*${when}`;
    case 'cancelled':
      return `:no_entry_sign: *Cancelled* by the requester${when}`;
    case 'pending':
      return ':hourglass_flowing_sand: Waiting for approval';
  }
}

/** Why a request was denied, expired or approved for being on call, as typed (a denial) or as Keyway said it (an expiry): literal text. */
export function decisionReasonBlocks(request: AccessRequest): Block[] {
  if (request.state === 'denied') return [userText('Reason', request.decisionReason ?? '', 'none given')];
  if (request.state === 'expired') return [userText('Why', request.decisionReason ?? 'nobody answered in time')];
  // An auto-approval because the requester is on call says so (which schedule, when the shift ends).
  if (request.state === 'approved' && request.decisionReason?.startsWith('auto-approved: on call')) return [userText('Why', request.decisionReason)];
  return [];
}

function subject(request: AccessRequest): string {
  return request.extendsRequestId === null
    ? `SSH access request #${request.id}`
    : `Extension #${request.id} of request #${request.extendsRequestId}`;
}

export function approvalMessage(request: AccessRequest, votes: readonly ApprovalVote[]): SlackMessage {
  const approvals = votes.filter((v) => v.decision === 'approve').map((v) => v.approverEmail);
  const pending = request.state === 'pending';
  const blocks: Block[] = [
    header(subject(request)),
    fields([
      ['Requester', request.requesterEmail],
      ['Servers', serverList(request.servers)],
      ['Linux user and groups', `\`${request.linuxUser}\` · ${groupsText(request.groups)}`],
      [request.extendsRequestId === null ? 'Duration' : 'Extend by', formatDuration(request.durationSeconds)],
      ['Flow', request.flow],
      ['Requested', slackDate(request.createdAt)],
    ]),
    userText('Reason', request.reason),
  ];
  if (request.minApprovals > 1 || (pending && approvals.length > 0)) {
    blocks.push(context(`Approvals: ${approvals.length} of ${request.minApprovals} needed${approvals.length > 0 ? ` (${approvals.join(', ')})` : ''}`));
  }
  if (pending) {
    blocks.push(actions(`approval:${request.id}`, [
      button('Approve', ACTION.approve, String(request.id), 'primary'),
      button('Deny…', ACTION.deny, String(request.id), 'danger'),
    ]));
    blocks.push(context(`Unanswered requests expire ${slackDate(request.pendingUntil)}.`));
  } else {
    blocks.push(section(outcomeText(request, votes)), ...decisionReasonBlocks(request));
  }
  const state = pending ? 'waiting for your decision' : request.state;
  return { text: `${subject(request)} from ${request.requesterEmail} for ${request.servers.join(', ')}: ${state}`, blocks };
}

export function notifyLine(request: AccessRequest, votes: readonly ApprovalVote[]): SlackMessage {
  const text = `#${request.id} ${request.requesterEmail} → ${serverList(request.servers)} for ${formatDuration(request.durationSeconds)} (flow ${request.flow}): ${outcomeText(request, votes)}`;
  return { text: text.replace(/\*/g, ''), blocks: [section(text), ...decisionReasonBlocks(request)] };
}
