// The Teams rendering of each chat view (access/chat-port.ts): Adaptive Cards where there are buttons, markdown
// text elsewhere.
import type { ChatView } from '../../access/chat-port.js';
import { approvalCard, expiryWarningCard, grantText } from './cards.js';
import type { TeamsContent } from './messenger.js';
import {
  accessEndedText, askedText, decisionText, noApproversText, provisionFailedForOwners, provisionFailedForRequester, revokeFailingText,
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
