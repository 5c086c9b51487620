// What most commands open: settings from the environment, the database, the access config, a quiet logger.
import { userInfo } from 'node:os';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import type { AccessConfig } from '../core/model.js';
import { loadAccessConfig } from '../config/load.js';
import { openDatabase } from '../store/open-database.js';
import { readSettings, type Settings } from '../settings.js';
import type { AccessContext } from '../access/context.js';
import type { CliIO } from './command.js';
import { loadCaKey } from '../ca/ca-key.js';
import type { GrantRunner } from '../access/grant-runner.js';
import { composeKeyway } from '../compose.js';

export interface CliRuntime extends AccessContext {
  settings: Settings;
  close(): void;
}

export function openRuntime(io: CliIO, options: { config?: boolean } = {}): CliRuntime {
  const settings = readSettings(io.env);
  let config: AccessConfig | undefined;
  if (options.config !== false) config = loadAccessConfig(settings.configPath);
  const db: Database = openDatabase(settings.dataDir);
  return {
    settings,
    db,
    config: () => (config ??= loadAccessConfig(settings.configPath)),
    now: () => Date.now(),
    logger: pino({ level: 'silent' }),
    close: () => db.close(),
  };
}

/** The actor the audit log records for a command line user. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

export async function withRuntime<T>(io: CliIO, run: (rt: CliRuntime) => T | Promise<T>, options?: { config?: boolean }): Promise<T> {
  const rt = openRuntime(io, options);
  try {
    return await run(rt);
  } finally {
    rt.close();
  }
}

/** The runtime plus what changes servers: the CA, the target drivers and the grant runner (compose.ts). */
export async function withGrantRunner<T>(io: CliIO, run: (rt: CliRuntime, runner: GrantRunner) => T | Promise<T>): Promise<T> {
  return withRuntime(io, async (rt) => {
    const { caKey } = loadCaKey(io.env);
    const keyway = composeKeyway({ env: io.env, db: rt.db, config: rt.config, ca: caKey, logger: rt.logger, now: rt.now });
    try {
      return await run(rt, keyway.runner);
    } finally {
      await keyway.close();
    }
  });
}
