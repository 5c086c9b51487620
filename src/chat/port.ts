// The chat platform port (after Teleport's common/bot.go): each platform renders and delivers the events
// Keyway owes people. Adapters decide nothing: they read state and render it.
import type { AccessEvent } from '../access/events.js';

export type PlatformName = 'slack' | 'teams';

export interface ChatPlatform {
  readonly name: PlatformName;
  /**
   * Delivers one event to whoever on this platform should hear it (approvers, the requester, a channel),
   * reading the current state from the store. Throws when the platform cannot be reached: the entry stays
   * in the outbox and is retried. Must tolerate being called again for the same event after a partial failure.
   */
  deliver(event: AccessEvent): Promise<void>;
}
