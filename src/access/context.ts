// What the access service needs from the outside: the database, the live config, a clock, a logger.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { AccessConfig } from '../core/model.js';

export interface AccessContext {
  db: Database;
  config: () => AccessConfig;
  /** Epoch milliseconds; injected so tests move time instead of sleeping. */
  now: () => number;
  logger: Logger;
}
