// The Slack rendering of each chat view (access/chat-port.ts): Block Kit messages from blocks-*.ts.
import type { ChatView } from '../../access/chat-port.js';
import {
  accessEnded, accessReadyNote, decisionForRequester, expiryWarning, grantMessage, noApproversOnSlack, provisionFailedForOwners,
  provisionFailedForRequester, revokeFailing,
} from './blocks-access.js';
import { approvalMessage, notifyLine } from './blocks-approval.js';
import type { SlackMessage } from './blocks.js';

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
