// The Slack rendering of each chat view (access/chat-port.ts): Block Kit messages from blocks-*.ts.
import type { ChatView } from '../../access/chat-port.js';
import type { CommandReply } from '../../access/command-runner.js';
import { listReply, serversReply } from './blocks-home.js';
import {
  accessEnded, accessReadyNote, submittedReply, decisionForRequester, expiryWarning, grantMessage, noApproversOnSlack, provisionFailedForOwners,
  provisionFailedForRequester, revokeFailing,
} from './blocks-access.js';
import { approvalMessage, notifyLine } from './blocks-approval.js';
import { message, serverList, type SlackMessage } from './blocks.js';

/** The message for a view, or undefined when Slack shows nothing for it. */
export function renderSlack(view: ChatView): SlackMessage | undefined {
  switch (view.kind) {
    case 'approval':
      return approvalMessage(view.request, view.votes);
    case 'decision':
      return decisionForRequester(view.request, view.votes);
    case 'notify':
      return notifyLine(view.request, view.votes);
    case 'access_ready':
      return accessReadyNote(view.request, view.votes);
    case 'grant':
      return grantMessage(view.credential);
    case 'provision_failed':
      return view.audience === 'requester'
        ? provisionFailedForRequester(view.request, view.grants.map((g) => g.server))
        : provisionFailedForOwners(view.request, view.grants);
    case 'expiry_warning':
      return expiryWarning(view.request);
    case 'access_ended':
      return accessEnded(view.request, view.why, view.by);
    case 'revoke_failing':
      return revokeFailing(view.request, view.grant, view.attempts, view.error);
    case 'no_approvers':
      return noApproversOnSlack(view.request);
    case 'approvers_asked':
      return undefined; // Slack finds approvers in its directory: only "nobody found" is worth a message
  }
}

/** The Slack answer to a command (the request form with servers is a modal: commands.ts opens it). */
export function renderSlackReply(reply: CommandReply, help: string): SlackMessage | string {
  switch (reply.kind) {
    case 'help':
      return help;
    case 'request_form':
      return 'No access flow lets you request any server. Ask a Keyway admin to add you (or a Slack group you are in) to a flow.';
    case 'submitted':
      return submittedReply(reply.request, reply.outcome);
    case 'key_registered':
      return `:key: Registered your ${reply.key.type} key ${reply.key.fingerprint}. Your Linux user is \`${reply.key.linuxUser}\`; certificates from now on are for this key.`;
    case 'list':
      return listReply(reply.mine);
    case 'servers':
      return serversReply(reply.servers);
    case 'revoking':
      return `Revoking the access of request #${reply.requestId}…`;
    case 'revoked': {
      const failed = reply.grants.filter((g) => g.state === 'revoke_failed').map((g) => g.server);
      const done = reply.grants.filter((g) => g.state === 'revoked' || g.state === 'cleaned').map((g) => g.server);
      if (failed.length > 0) {
        return message(`:warning: Request #${reply.requestId}: revoked on ${serverList(done) || 'no server yet'}; not yet on ${serverList(failed)} — Keyway keeps retrying and the owners are told.`);
      }
      return message(`:lock: Access of request #${reply.requestId} revoked on ${serverList(done)}.`);
    }
    case 'cancelled':
      return `Request #${reply.request.id} for ${serverList(reply.request.servers)} is cancelled.`;
    case 'refused':
      return reply.message;
    case 'apology':
      return `Sorry, something went wrong on Keyway's side (reference ${reply.reference}). Try again in a minute; if it keeps happening, give your Keyway admin the reference.`;
  }
}
