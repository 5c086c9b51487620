// The chat port on Slack: renders and delivers each event Keyway owes people. Throws when Slack cannot be
// reached (the outbox retries); every step is safe to repeat.
import type { AccessEvent } from '../../core/events.js';
import type { ChatPlatform } from '../../access/chat-port.js';
import { deliverAccessEnded, deliverAccessGranted, deliverExpiryWarning, deliverProvisionFailed, deliverRevokeFailing } from './deliver-access.js';
import { deliverApprovalNeeded, deliverRequestDecided } from './deliver-requests.js';
import type { SlackDeps } from './slack-deps.js';

export function createSlackPlatform(deps: SlackDeps): ChatPlatform {
  return {
    name: 'slack',
    async deliver(event: AccessEvent): Promise<void> {
      switch (event.kind) {
        case 'approval_needed':
          return deliverApprovalNeeded(deps, event.requestId);
        case 'request_decided':
          return deliverRequestDecided(deps, event.requestId);
        case 'access_granted':
          return deliverAccessGranted(deps, event.requestId);
        case 'provision_failed':
          return deliverProvisionFailed(deps, event.requestId, event.grantIds);
        case 'expiry_warning':
          return deliverExpiryWarning(deps, event.requestId);
        case 'access_ended':
          return deliverAccessEnded(deps, event.requestId, event.why, event.by);
        case 'revoke_failing':
          return deliverRevokeFailing(deps, event.grantId, event.attempts, event.error);
      }
    },
  };
}
