// Delivers the outbox to every configured chat platform through the notifier (which decides who hears what and
// sends each message once), remembering per entry which platforms have it, so a platform that is down delays
// only its own messages and gets them when it is back.
import type { Database } from 'better-sqlite3';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PlatformName } from '../core/chat-platform-name.js';
import { retryDelayMs } from '../core/backoff.js';
import { deliveredPlatformsOf, dueOutbox, markDelivered, markDeliveryFailed, recordDeliveredPlatforms } from '../store/outbox.js';
import type { ChatPlatform } from './chat-port.js';
import type { Notifier } from './notifier.js';

export interface DispatchResult {
  delivered: number;
  failed: number;
  /** More entries are due than one pass takes: run again. */
  more: boolean;
}

const BATCH = 50;

/** Each platform's last delivery: what /healthz reports. */
export type PlatformStatus = Record<string, { ok: boolean; error?: string; at: number }>;

/**
 * `between` runs before each entry: by default one turn of the event loop; the engine passes its wait for
 * quiet, so chat acknowledgements (Slack's 3 seconds) never queue behind a long batch.
 */
export async function dispatchOutbox(db: Database, platforms: readonly ChatPlatform[], notifier: Pick<Notifier, 'deliver'>, now: () => number, logger: Logger, status: PlatformStatus = {}, between: () => Promise<unknown> = yieldToEventLoop): Promise<DispatchResult> {
  const finish = db.transaction((id: number, done: PlatformName[], at: number) => {
    recordDeliveredPlatforms(db, id, done);
    markDelivered(db, id, at);
  });
  const due = dueOutbox(db, now(), BATCH);
  const result: DispatchResult = { delivered: 0, failed: 0, more: due.length === BATCH };
  for (const entry of due) {
    await between();
    const done = deliveredPlatformsOf(db, entry.id);
    const owed = platforms.filter((p) => !done.includes(p.name));
    let failure: string | undefined;
    for (const [index, platform] of owed.entries()) {
      try {
        await notifier.deliver(platform, entry.event);
        status[platform.name] = { ok: true, at: now() };
        done.push(platform.name);
        // The last platform's note is written with markDelivered below, in one commit (one fsync, not two).
        if (index < owed.length - 1 || failure) recordDeliveredPlatforms(db, entry.id, done);
      } catch (error) {
        failure = `${platform.name}: ${(error as Error).message}`;
        status[platform.name] = { ok: false, error: (error as Error).message, at: now() };
        logger.warn({ outboxId: entry.id, kind: entry.event.kind, platform: platform.name, err: (error as Error).message }, 'chat delivery failed; will retry');
      }
    }
    if (failure) {
      markDeliveryFailed(db, entry.id, failure, now() + retryDelayMs(entry.attempts + 1, 5_000, 5 * 60_000));
      result.failed++;
    } else {
      finish(entry.id, done, now());
      result.delivered++;
    }
  }
  return result;
}
