// The plain markdown messages Keyway sends in Teams: answers to commands and what happened to a request.
import { formatDuration } from '../../core/duration.js';
import type { AccessRequest, ApprovalVote, Grant } from '../../access/chat-port.js';
import { commandHelp } from '../command-grammar.js';
import { escapeMarkdown, outcomeText, serverList, utcDate } from './cards.js';

export const HELP = ['**Keyway** gives you short-lived SSH access. Write to me here:', '',
  ...commandHelp('').map(([command, what]) => `- \`${command}\` — ${what}`)].join('\n');

export function submittedText(request: AccessRequest, outcome: 'pending' | 'approved'): string {
  const what = `${request.extendsRequestId === null ? 'Request' : 'Extension request'} #${request.id} for ${serverList(request.servers)} (${formatDuration(request.durationSeconds)})`;
  if (outcome === 'approved') return `✅ ${what} was approved automatically by the flow ${request.flow}: no approval step. Preparing access; the certificate follows here.`;
  const who = [...request.approvers.emails, ...request.approvers.slackUsergroups.map((g) => `Slack group ${g}`)].join(', ') || 'the approvers';
  return `📤 ${what} is waiting for ${who}${request.minApprovals > 1 ? ` (${request.minApprovals} approvals needed)` : ''}. I tell you here when it is decided; \`list\` shows where it stands.`;
}

/** Who was asked where: approvers Keyway cannot reach on Teams are asked on Slack when it is configured. */
export function askedText(request: AccessRequest, onTeams: string[], elsewhere: string[], slackAlsoAsks: boolean): string {
  const lines = [`Request #${request.id}: asked ${onTeams.length > 0 ? `${onTeams.join(', ')} in Teams` : 'nobody in Teams'}.`];
  if (elsewhere.length > 0) {
    lines.push(slackAlsoAsks
      ? `Not reachable in Teams: ${elsewhere.join(', ')} — Keyway asks them on Slack if they are there; if they use neither, ask them to open Keyway in Teams once, or ping another approver.`
      : `Not reachable: ${elsewhere.join(', ')} — they have not opened a chat with Keyway in Teams yet. Ask them to say hello to Keyway, or ping another approver.`);
  }
  return lines.join(' ');
}

export function decisionText(request: AccessRequest, votes: readonly ApprovalVote[]): string | undefined {
  const what = `request #${request.id} for ${serverList(request.servers)}`;
  switch (request.state) {
    case 'approved':
      if (request.extendsRequestId !== null) {
        return `${outcomeText(request, votes, utcDate)}: your access of request #${request.extendsRequestId} now ends ${request.accessExpiresAt === null ? 'later' : utcDate(request.accessExpiresAt)}. A new certificate follows.`;
      }
      if (request.decisionReason?.startsWith('auto-approved: on call')) {
        return `Your ${what} was ${escapeMarkdown(request.decisionReason)}. Preparing access on the servers…`;
      }
      return `${outcomeText(request, votes, utcDate)} — your ${what}. Preparing access on the servers…`;
    case 'denied':
      return `Your ${what} was denied by ${request.decidedBy ?? 'an approver'}: ${escapeMarkdown(request.decisionReason ?? 'no reason given')}. Talk to them, or make a new request that answers their concern.`;
    case 'expired':
      return `Your ${what} expired: ${escapeMarkdown(request.decisionReason ?? 'nobody answered in time')}. Ask again with \`request\`, and ping an approver.`;
    default:
      return undefined;
  }
}

export function provisionFailedForRequester(request: AccessRequest, servers: string[]): string {
  return `⚠️ Keyway could not prepare your access on ${serverList(servers)} (request #${request.id}) yet. It keeps retrying and sends you the certificate when it works; your admins have been told.`;
}

export function provisionFailedForOwners(request: AccessRequest, failed: Array<Pick<Grant, 'id' | 'server' | 'lastError'>>): string {
  const lines = failed.map((g) => `- grant ${g.id} on \`${g.server}\`: ${escapeMarkdown(g.lastError ?? 'unknown error')}`);
  return [`⚠️ Provisioning ${request.linuxUser} for request #${request.id} (${request.requesterEmail}) failed:`, ...lines,
    'Keyway retries with backoff; check the server is reachable (`keyway hosts check`).'].join('\n');
}

export function accessEndedText(request: AccessRequest, why: 'expired' | 'revoked', by?: string): string {
  const how = why === 'expired' ? 'its time is up' : `revoked by ${by ?? 'an approver'}`;
  return `🔒 Your access to ${serverList(request.servers)} (request #${request.id}) has ended: ${how}. Need more time? Make a new request.`;
}

export function revokeFailingText(request: AccessRequest, grant: Pick<Grant, 'id' | 'server' | 'linuxUser'>, attempts: number, error: string): string {
  return `🚨 Revoking \`${grant.linuxUser}\` on \`${grant.server}\` (grant ${grant.id}, request #${request.id}) has failed ${attempts} time(s): ${escapeMarkdown(error)}. Keyway keeps retrying; until it succeeds the access may still work. Check the server (\`keyway hosts check\`) or remove the user by hand.`;
}

export function revokedText(requestId: number, grants: Grant[]): string {
  const failed = grants.filter((g) => g.state === 'revoke_failed').map((g) => g.server);
  const done = grants.filter((g) => g.state === 'revoked' || g.state === 'cleaned').map((g) => g.server);
  if (failed.length > 0) return `⚠️ Request #${requestId}: revoked on ${serverList(done) || 'no server yet'}; not yet on ${serverList(failed)} — Keyway keeps retrying and the owners are told.`;
  return `🔒 Access of request #${requestId} revoked on ${serverList(done)}.`;
}

export function serversText(servers: ReadonlyArray<{ name: string; integration: string }>): string {
  if (servers.length === 0) return 'No access flow lets you request any server. Ask a Keyway admin to add you to a flow.';
  return ['**Servers you may request**', ...servers.map((s) => `- \`${s.name}\` (${s.integration})`), '', 'Send `request <server> <duration> <reason>`, or `request` for a form.'].join('\n');
}

/** Only for a platform that finds people in a directory; Teams reports who was asked where instead (askedText). */
export function noApproversText(request: AccessRequest): string {
  return `Keyway found none of the approvers of your request #${request.id} in Teams. Ask an admin to check the flow ${request.flow}.`;
}
