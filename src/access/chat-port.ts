// The chat platform port (after Teleport's common/bot.go): access owes people messages (the outbox) and each
// platform renders and delivers them. Defined here, implemented by chat/, so access never depends on a platform.
import type { PlatformName } from '../core/chat-platform-name.js';
import type { AccessEvent } from '../core/events.js';

export interface ChatPlatform {
  readonly name: PlatformName;
  /**
   * Delivers one event to whoever on this platform should hear it (approvers, the requester, a channel),
   * reading the current state from the store. Throws when the platform cannot be reached: the entry stays
   * in the outbox and is retried. Must tolerate being called again for the same event after a partial failure.
   */
  deliver(event: AccessEvent): Promise<void>;
}
