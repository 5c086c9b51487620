// The Teams rendering of each chat view (access/chat-port.ts) and of each command reply (access/command-runner.ts):
// Adaptive Cards where there are buttons, markdown text elsewhere.
import type { ChatView } from '../../access/chat-port.js';
import type { CommandReply, RequestableServers } from '../../access/command-runner.js';
import { approvalCard, expiryWarningCard, grantText, listText, requestForm } from './cards.js';
import type { TeamsContent } from './messenger.js';
import {
  HELP, accessEndedText, askedText, decisionText, noApproversText, provisionFailedForOwners, provisionFailedForRequester, revokeFailingText,
  revokedText, serversText, submittedText,
} from './texts.js';

/** The content for a view, or undefined when Teams shows nothing for it. */
export function renderTeams(view: ChatView): TeamsContent | undefined {
  switch (view.kind) {
    case 'approval':
      return approvalCard(view.request, view.votes);
    case 'decision':
      return decisionText(view.request, view.votes);
    case 'notify':
      return undefined; // Teams has no notify channel
    case 'access_ready':
      return undefined; // the decision text stays as it is; the credential follows in its own message
    case 'grant':
      return grantText(view.credential, view.now);
    case 'provision_failed':
      return view.audience === 'requester'
        ? provisionFailedForRequester(view.request, view.grants.map((g) => g.server))
        : provisionFailedForOwners(view.request, view.grants);
    case 'expiry_warning':
      return expiryWarningCard(view.request);
    case 'access_ended':
      return accessEndedText(view.request, view.why, view.by);
    case 'revoke_failing':
      return revokeFailingText(view.request, view.grant, view.attempts, view.error);
    case 'no_approvers':
      return noApproversText(view.request);
    case 'approvers_asked':
      return askedText(view.request, view.asked, [...view.notReached, ...view.groups.map((g) => `Slack group ${g}`)], view.otherPlatforms.includes('slack'));
  }
}

function serverRows(servers: RequestableServers): Array<{ name: string; integration: string }> {
  return servers.map((ref) => ({ name: ref.server.name, integration: ref.integration.name }));
}

/** The Teams answer to a command: markdown text, or the request form as a card. */
export function renderTeamsReply(reply: CommandReply): TeamsContent {
  switch (reply.kind) {
    case 'help':
      return HELP;
    case 'request_form':
      return reply.servers.length === 0 ? serversText([]) : requestForm(serverRows(reply.servers), reply.needsKey);
    case 'submitted':
      return submittedText(reply.request, reply.outcome);
    case 'key_registered':
      return `🔑 Registered your ${reply.key.type} key ${reply.key.fingerprint}. Your Linux user is \`${reply.key.linuxUser}\`; certificates from now on are for this key.`;
    case 'list':
      return listText(reply.mine);
    case 'servers':
      return serversText(serverRows(reply.servers));
    case 'revoking':
      return `Revoking the access of request #${reply.requestId}…`;
    case 'revoked':
      return revokedText(reply.requestId, reply.grants);
    case 'cancelled':
      return `Request #${reply.request.id} is cancelled.`;
    case 'refused':
      return reply.message;
    case 'apology':
      return `Sorry, that failed on Keyway's side (reference ${reply.reference}). Try again in a minute; if it keeps failing, give your Keyway admin the reference.`;
  }
}
