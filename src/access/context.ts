// What the access service needs from the outside: the database, the live config, a clock, a logger, and a way to
// schedule the follow-up work of a state change.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AccessConfig } from '../core/model.js';

export interface AccessContext {
  db: Database;
  config: () => AccessConfig;
  /** Epoch milliseconds; injected so tests move time instead of sleeping. */
  now: () => number;
  logger: Logger;
  /**
   * Schedules the follow-up work of a state change (provisioning new grants, delivering the outbox): the
   * composition root connects it to the engine (createEngine does). The access functions that enqueue events
   * or create grants call it once their transaction has committed; chat adapters never do. Unset (the CLI's
   * one-shot commands, unit tests): nothing is scheduled.
   */
  schedule?: () => void;
}

/** Asks for the follow-up work of a committed state change. */
export function scheduleFollowUp(ctx: AccessContext): void {
  ctx.schedule?.();
}
