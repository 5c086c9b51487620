// What most commands open: settings from the environment, the database, the access config, a quiet logger.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import DatabaseConstructor, { type Database } from 'better-sqlite3';
import { pino } from 'pino';
import type { AccessConfig } from '../core/model.js';
import { loadAccessConfig } from '../config/load.js';
import { DATABASE_FILE, openDatabase } from '../store/open-database.js';
import { migrate } from '../store/migrate.js';
import { readSettings, type Settings } from '../settings.js';
import type { AccessContext } from '../access/context.js';
import type { CliIO } from './command.js';
import { loadCaKey } from '../ca/ca-key.js';
import type { GrantRunner } from '../access/grant-runner.js';
import { composeKeyway } from '../compose.js';
import { withInventories } from '../targets/cloud/inventory-config.js';

export interface CliRuntime extends AccessContext {
  settings: Settings;
  close(): void;
}

export interface RuntimeOptions {
  /** false: the command does not need the access config (it is loaded only if asked for). */
  config?: boolean;
  /**
   * true: the command only reads or acts on what is recorded, so it never creates a database: run in the wrong
   * directory, it says so and sees an empty one, instead of leaving a new ./data/keyway.db behind.
   */
  existing?: boolean;
}

export function openRuntime(io: CliIO, options: RuntimeOptions = {}): CliRuntime {
  const settings = readSettings(io.env);
  let config: AccessConfig | undefined;
  if (options.config !== false) config = loadAccessConfig(settings.configPath);
  const db: Database = options.existing ? openExistingDatabase(io, settings.dataDir) : openDatabase(settings.dataDir);
  return {
    settings,
    db,
    // Cloud integrations' servers come from their inventory snapshots in this database.
    config: withInventories(db, () => (config ??= loadAccessConfig(settings.configPath))),
    now: () => Date.now(),
    logger: pino({ level: 'silent' }),
    close: () => db.close(),
  };
}

function openExistingDatabase(io: CliIO, dataDir: string): Database {
  if (existsSync(join(dataDir, DATABASE_FILE))) return openDatabase(dataDir);
  io.err(`note: there is no Keyway database in ${dataDir} (nothing recorded there yet). Is this the service's data directory? Pass --data-dir DIR or set KEYWAY_DATA_DIR.`);
  const db = new DatabaseConstructor(':memory:');
  migrate(db);
  return db;
}

/** The actor the audit log records for a command line user. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

export async function withRuntime<T>(io: CliIO, run: (rt: CliRuntime) => T | Promise<T>, options?: RuntimeOptions): Promise<T> {
  const rt = openRuntime(io, options);
  try {
    return await run(rt);
  } finally {
    rt.close();
  }
}

/** The runtime plus what changes servers: the CA, the target drivers and the grant runner (compose.ts). */
export async function withGrantRunner<T>(io: CliIO, run: (rt: CliRuntime, runner: GrantRunner) => T | Promise<T>, options?: RuntimeOptions): Promise<T> {
  return withRuntime(io, async (rt) => {
    const { caKey } = loadCaKey(io.env);
    const keyway = composeKeyway({ env: io.env, db: rt.db, config: rt.config, ca: caKey, logger: rt.logger, now: rt.now });
    try {
      return await run(rt, keyway.runner);
    } finally {
      await keyway.close();
    }
  }, options);
}
