// The connection pool as Keyway runs it: host keys pinned in the database, connector keys from the config and env.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { getPinnedHostKey, pinHostKeyIfAbsent } from '../../store/host-keys.js';
import { ConnectionPool, type ConnectionPoolOptions, type HostKeyPins } from './connection-pool.js';
import { connectorKeyResolver } from './connector-key.js';

export function databaseHostKeyPins(db: Database, now: () => number): HostKeyPins {
  return {
    pinned: (ref) => getPinnedHostKey(db, ref.integration.name, ref.server.name)?.fingerprint,
    pinFirstContact: (ref, fingerprint) => pinHostKeyIfAbsent(db, {
      integration: ref.integration.name, server: ref.server.name, host: ref.server.host, port: ref.server.port,
    }, fingerprint, now()),
  };
}

export interface OpenPoolOptions extends Partial<Omit<ConnectionPoolOptions, 'connectorKey' | 'hostKeys'>> {
  db: Database;
  env: NodeJS.ProcessEnv;
  now: () => number;
  logger?: Logger;
}

export function openConnectionPool(options: OpenPoolOptions): ConnectionPool {
  const { db, env, now, ...rest } = options;
  const connectorKey = connectorKeyResolver(env);
  return new ConnectionPool({ ...rest, connectorKey: (ref) => connectorKey(ref.integration), hostKeys: databaseHostKeyPins(db, now) });
}
