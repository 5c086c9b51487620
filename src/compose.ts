// The one place that wires Keyway's parts (after probot's createProbot): the access context over the database and
// the live config, an SSH connection pool, the target drivers, and the grant runner. `keyway start` (main.ts), the
// CLI commands that change servers (cli/runtime.ts) and `keyway demo` all build them here.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { CaKey } from './ca/ca-key.js';
import type { AccessContext } from './access/context.js';
import { attachOncall, createOncallResolver } from './access/oncall.js';
import { createGrantRunner, type GrantRunner } from './access/grant-runner.js';
import type { DriverRegistry, TargetDriver } from './access/target-driver.js';
import type { AccessConfig } from './core/model.js';
import type { ConnectionPool } from './targets/ssh/connection-pool.js';
import { withInventories } from './targets/cloud/inventory-config.js';
import { sshHostEffects, type HostEffects } from './targets/ssh/host-effects.js';
import { openConnectionPool } from './targets/ssh/open-pool.js';
import { sshDriver, type SshDriverDeps } from './targets/ssh/ssh-driver.js';
import { windowsDcDriver } from './targets/windows/ad/windows-dc-driver.js';
import { rdpDriver } from './targets/windows/rdp/rdp-driver.js';

/** kind → driver: one line per target kind (an integration's `type`). `env` holds {env: NAME} secrets. */
export function targetDrivers(ssh: SshDriverDeps, env: NodeJS.ProcessEnv = process.env): DriverRegistry {
  const linuxOverSsh = sshDriver(ssh);
  return new Map<string, TargetDriver>([
    ['ssh', linuxOverSsh],
    // Linux over SSH too: only where the server list comes from differs (targets/cloud/).
    ['aws-ec2', linuxOverSsh],
    ['azure-vm', linuxOverSsh],
    ['windows-dc', windowsDcDriver({ env })],
    ['rdp', rdpDriver({ env })],
  ]);
}

export interface ComposeOptions {
  env: NodeJS.ProcessEnv;
  db: Database;
  /** The access file as loaded; cloud integrations get their servers from their inventory snapshots here. */
  config: () => AccessConfig;
  ca: CaKey;
  logger: Logger;
  /** Epoch milliseconds; Date.now unless a test moves time. */
  now?: () => number;
  /** Stands in for the SSH servers (tests, benchmarks); by default pooled ssh2 connections with pinned host keys. */
  hosts?: HostEffects;
  /** Extra or replacement drivers by kind (a test-only kind). */
  drivers?: Iterable<[string, TargetDriver]>;
}

export interface Composed {
  ctx: AccessContext;
  /** undefined when `hosts` was given. */
  pool: ConnectionPool | undefined;
  drivers: DriverRegistry;
  runner: GrantRunner;
  /** Closes the SSH connections (the database stays the caller's). */
  close(): Promise<void>;
}

export function composeKeyway(options: ComposeOptions): Composed {
  const { env, db, ca, logger } = options;
  const config = withInventories(db, options.config);
  const now = options.now ?? (() => Date.now());
  const ctx: AccessContext = { db, config, now, logger };
  // Shift providers read their tokens from this environment (not only process.env), like the connector keys.
  attachOncall(ctx, createOncallResolver({ config, env, now }));
  const pool = options.hosts ? undefined : openConnectionPool({ db, env, now, logger });
  const hosts = options.hosts ?? sshHostEffects({ pool: pool!, db, now });
  const drivers = new Map([...targetDrivers({ hosts, ca }, env), ...(options.drivers ?? [])]);
  return { ctx, pool, drivers, runner: createGrantRunner(ctx, drivers), close: async () => pool?.close() };
}
