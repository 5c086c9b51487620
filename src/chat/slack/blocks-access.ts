// What the requester (and, for failures, the integration owners) read in their DMs: the decision, the
// certificate with install and connect instructions, failures, the expiry warning and the end of access.
import { formatDuration } from '../../core/duration.js';
import type { CredentialView } from '../../access/target-driver.js';
import type { AccessRequest, ApprovalVote, Grant } from '../../access/chat-port.js';
import { decisionReasonBlocks, outcomeText } from './blocks-approval.js';
import {
  ACTION, actions, button, confirmDialog, context, escape, header, message, preformatted, section, serverList, serversInBrief, slackDate, type SlackMessage,
} from './blocks.js';

export function decisionForRequester(request: AccessRequest, votes: readonly ApprovalVote[]): SlackMessage | undefined {
  const what = `request #${request.id} for ${serverList(request.servers)}`;
  switch (request.state) {
    case 'approved':
      if (request.extendsRequestId !== null) {
        return message(`${outcomeText(request, votes)}: your access of request #${request.extendsRequestId} now ends ${request.accessExpiresAt === null ? 'later' : slackDate(request.accessExpiresAt)}. A new certificate follows.`);
      }
      return message(`${outcomeText(request, votes)} — your ${what}. Preparing access on the servers…`);
    // The notification text (never shown as a message when there are blocks) says why, escaped so it cannot
    // mention; the message shows the reason literally in a block of its own.
    case 'denied': {
      const next = 'Talk to them, or make a new request that answers their concern.';
      const text = `Your ${what} was denied by ${request.decidedBy ?? 'an approver'}: ${escape(request.decisionReason ?? 'no reason given')}. ${next}`;
      return message(text, [section(`Your ${what} was denied by ${request.decidedBy ?? 'an approver'}. ${next}`), ...decisionReasonBlocks(request)]);
    }
    case 'expired': {
      const next = 'Ask again with `/ssh-access request`, and ping an approver.';
      const text = `Your ${what} expired: ${escape(request.decisionReason ?? 'nobody answered in time')}. ${next}`;
      return message(text, [section(`Your ${what} expired. ${next}`), ...decisionReasonBlocks(request)]);
    }
    default:
      return undefined;
  }
}

export function accessReadyNote(request: AccessRequest, votes: readonly ApprovalVote[]): SlackMessage {
  return message(`${outcomeText(request, votes)} — your request #${request.id} for ${serverList(request.servers)}. Access is ready: the certificate is below.`);
}

/** The credential and how to use it, for any target kind: install or keep the secret, then connect. */
export function grantMessage(v: CredentialView): SlackMessage {
  const ends = slackDate(v.validUntil);
  const blocks = [
    header(`${v.title} ready (request #${v.requestId})`),
    section(`Access to ${serverList(v.targets)} as \`${v.account}\` until *${ends}*.`),
  ];
  let step = 0;
  if (v.secret?.install) {
    blocks.push(section(`*${++step}. Install ${v.secret.label}*${v.secret.where ? ` ${v.secret.where}` : ''}, as \`${v.secret.filename}\` (paste this in a terminal):`));
    blocks.push(preformatted(v.secret.install.join('\n')));
  } else if (v.secret) {
    blocks.push(section(`*${++step}. ${capitalised(v.secret.label)}* (${v.secret.filename ? `keep it as \`${v.secret.filename}\`; ` : ''}it is shown once):`));
    blocks.push(preformatted(v.secret.text));
  }
  blocks.push(section(`*${++step}. Connect*${v.connectHint ? ` (${v.connectHint})` : ''}:`));
  blocks.push(preformatted(v.connect.flatMap((c) => c.lines).join('\n')));
  if (v.notReady.length > 0) {
    blocks.push(section(`:warning: Not ready yet on ${serverList(v.notReady)}: Keyway keeps trying and tells you when it works.`));
  }
  for (const note of v.notes) blocks.push(section(`*From your admins:* ${escape(note)}`));
  blocks.push(context(`${v.scope} and stops working at ${ends} or when the access is revoked. \`/ssh-access list\` shows your access.`));
  return { text: `${v.title} ready for request #${v.requestId} until ${new Date(v.validUntil).toISOString()}`, blocks };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function provisionFailedForRequester(request: AccessRequest, servers: string[]): SlackMessage {
  return message(`:warning: Keyway could not prepare your access on ${serverList(servers)} (request #${request.id}) yet. It keeps retrying and sends you the certificate when it works; your admins have been told.`);
}

export function provisionFailedForOwners(request: AccessRequest, failed: Array<Pick<Grant, 'id' | 'server' | 'lastError'>>): SlackMessage {
  const lines = failed.map((g) => `• grant ${g.id} on \`${g.server}\`: ${escape(g.lastError ?? 'unknown error')}`).join('\n');
  return message(`:warning: Provisioning ${request.linuxUser} for request #${request.id} (${request.requesterEmail}) failed:\n${lines}\nKeyway retries with backoff; check the server is reachable (\`keyway hosts check\`).`);
}

export function expiryWarning(request: AccessRequest): SlackMessage {
  const ends = request.accessExpiresAt === null ? 'soon' : slackDate(request.accessExpiresAt);
  const text = `:hourglass_flowing_sand: Your access to ${serverList(request.servers)} (request #${request.id}) ends ${ends}.`;
  return message(text, [
    section(text),
    actions(`expiry:${request.id}`, [
      button('Extend…', ACTION.extend, String(request.id), 'primary'),
      button('End it now', ACTION.revoke, String(request.id), 'danger',
        confirmDialog('End access now?', `Revoke request #${request.id} on ${serversInBrief(request.servers)} now?`, 'Revoke')),
    ]),
  ]);
}

export function accessEnded(request: AccessRequest, why: 'expired' | 'revoked', by?: string): SlackMessage {
  const how = why === 'expired' ? 'its time is up' : `revoked by ${by ?? 'an approver'}`;
  return message(`:lock: Your access to ${serverList(request.servers)} (request #${request.id}) has ended: ${how}. Need more time? Make a new request.`);
}

export function revokeFailing(request: AccessRequest, grant: Pick<Grant, 'id' | 'server' | 'linuxUser'>, attempts: number, error: string): SlackMessage {
  return message(`:rotating_light: Revoking \`${grant.linuxUser}\` on \`${grant.server}\` (grant ${grant.id}, request #${request.id}) has failed ${attempts} time(s): ${escape(error)}. Keyway keeps retrying; until it succeeds the access may still work. Check the server (\`keyway hosts check\`) or remove the user by hand.`);
}

export function noApproversOnSlack(request: AccessRequest): SlackMessage {
  return message(`Keyway found none of the approvers of your request #${request.id} on Slack (${[...request.approvers.emails, ...request.approvers.slackUsergroups].join(', ') || 'none configured'}). If they use another chat, they were asked there; otherwise ask an admin to check the flow ${request.flow}.`);
}

/** Approvers as people read them: e-mails, and Slack user groups as group mentions. */
export function approversText(request: AccessRequest): string {
  const names = [...request.approvers.emails, ...request.approvers.slackUsergroups.map((g) => `<!subteam^${g}>`)];
  return names.length > 0 ? names.join(', ') : 'the approvers';
}

export function submittedReply(request: AccessRequest, outcome: 'pending' | 'approved'): SlackMessage {
  const what = `${request.extendsRequestId === null ? 'Request' : 'Extension request'} #${request.id} for ${serverList(request.servers)} (${formatDuration(request.durationSeconds)})`;
  if (outcome === 'approved') return message(`:white_check_mark: ${what} was approved automatically by the flow ${request.flow}: no approval step. Preparing access; the certificate follows in a DM.`);
  const who = approversText(request);
  return message(`:outbox_tray: ${what} is waiting for ${who}${request.minApprovals > 1 ? ` (${request.minApprovals} approvals needed)` : ''}. You get a DM when it is decided; \`/ssh-access list\` shows where it stands.`);
}
