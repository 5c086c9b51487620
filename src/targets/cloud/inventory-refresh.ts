// One refresh of a cloud inventory: ask the cloud (EC2 DescribeInstances, Azure Resource Manager), name the servers
// uniquely, keep those the cloud no longer lists while grants there are live, and store the result as the
// integration's latest snapshot. A refresh that fails stores nothing: the last snapshot stays in force, and the
// failure is recorded for /healthz, `keyway inventory list`, the log and /metrics.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { host as hostSchema } from '../../config/field-schemas.js';
import { isCloudIntegration, type AccessConfig, type CloudIntegration } from '../../core/model.js';
import {
  latestSnapshot, recordRefresh, saveSnapshot, serversWithLiveGrants, type SnapshotServer,
} from '../../store/inventory-snapshots.js';
import type { DiscoveredServer } from './discovered.js';
import { markGoneGrants, type TerminatedCheck } from './gone-instances.js';
import { uniqueNames } from './unique-names.js';

export type Discover<I extends CloudIntegration = CloudIntegration> =
  (settings: I, options: { env: NodeJS.ProcessEnv; signal?: AbortSignal; logger: Logger }) => Promise<DiscoveredServer[]>;

/** How one kind of cloud is asked: its servers, and (where the cloud can say so) which instances are terminated. */
export interface CloudInventory {
  discover: Discover;
  terminated?: TerminatedCheck;
}

export interface RefreshDeps {
  db: Database;
  /** The config as the file has it (cloud integrations' servers empty). */
  config: () => AccessConfig;
  env: NodeJS.ProcessEnv;
  now: () => number;
  logger: Logger;
  clouds: ReadonlyMap<string, CloudInventory>;
  /** How long one refresh may take before it counts as failed (default 2 minutes). */
  timeoutMs?: number;
}

export type RefreshResult =
  | { integration: string; ok: true; servers: number; durationMs: number; renamed: number; missing: number; gone: number }
  | { integration: string; ok: false; error: string };

const DEFAULT_TIMEOUT_MS = 120_000;

export async function refreshInventory(deps: RefreshDeps, integration: CloudIntegration): Promise<RefreshResult> {
  const { db, logger } = deps;
  const cloud = deps.clouds.get(integration.type);
  const startedAt = deps.now();
  const started = performance.now();
  let discovered: DiscoveredServer[];
  try {
    if (!cloud) throw new Error(`this Keyway cannot list ${integration.type} inventories`);
    discovered = await cloud.discover(integration, { env: deps.env, signal: AbortSignal.timeout(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS), logger });
  } catch (error) {
    const reason = oneLine(error);
    recordRefresh(db, integration.name, startedAt, reason);
    logger.error({ integration: integration.name, kind: integration.type, err: reason }, 'inventory refresh failed; the last snapshot stays in force');
    return { integration: integration.name, ok: false, error: reason };
  }

  const usable = discovered.filter((server) => {
    if (hostSchema.safeParse(server.host).success) return true;
    logger.warn({ integration: integration.name, instance: server.id }, 'a discovered instance has no usable address of the configured kind: left out');
    return false;
  });
  const named = uniqueNames(usable, namesTakenElsewhere(deps, integration));
  for (const { server, name, renamedFrom } of named) {
    if (renamedFrom !== undefined) logger.warn({ integration: integration.name, instance: server.id, name: renamedFrom, as: name }, 'discovered server name is not unique (or not a valid name): renamed');
  }
  const servers: SnapshotServer[] = named.map(({ server, name }) => ({
    name, discoveredName: server.name, cloudId: server.id, region: server.region,
    host: server.host, port: server.port, user: server.user, tags: server.tags,
  }));

  // A server the cloud no longer lists while someone has access there stays until that access has ended.
  const listed = new Set(servers.map((s) => s.name));
  const live = serversWithLiveGrants(db, integration.name);
  const kept = (live.size === 0 ? [] : latestSnapshot(db, integration.name)?.servers ?? [])
    .filter((s) => !listed.has(s.name) && live.has(s.name))
    .map((s) => ({ ...s, missingSince: s.missingSince ?? startedAt }));
  for (const s of kept) logger.warn({ integration: integration.name, server: s.name, instance: s.cloudId }, 'the cloud no longer lists a server with live grants: kept until they are revoked');

  const durationMs = Math.round(performance.now() - started);
  saveSnapshot(db, integration.name, startedAt, durationMs, [...servers, ...kept]);
  recordRefresh(db, integration.name, startedAt, undefined);

  let gone = 0;
  if (kept.length > 0 && cloud!.terminated) {
    try {
      gone = await markGoneGrants(deps, integration, kept, cloud!.terminated);
    } catch (error) {
      logger.warn({ integration: integration.name, err: oneLine(error) }, 'could not ask the cloud whether missing instances were terminated; their grants are retried as usual');
    }
  }
  logger.info({ integration: integration.name, servers: servers.length, kept: kept.length, durationMs }, 'inventory refreshed');
  return { integration: integration.name, ok: true, servers: servers.length, durationMs, renamed: named.filter((n) => n.renamedFrom !== undefined).length, missing: kept.length, gone };
}

/** Refreshes every cloud integration of the config (one after another: each may take a while, none blocks a request). */
export async function refreshAllInventories(deps: RefreshDeps, only?: string): Promise<RefreshResult[]> {
  const results: RefreshResult[] = [];
  for (const integration of deps.config().integrations.filter(isCloudIntegration)) {
    if (only === undefined || integration.name === only) results.push(await refreshInventory(deps, integration));
  }
  return results;
}

/** Names listed servers and other integrations' snapshots use: they keep them, this integration's clashes get ids. */
function namesTakenElsewhere(deps: RefreshDeps, integration: CloudIntegration): Set<string> {
  const taken = new Set<string>();
  for (const other of deps.config().integrations) {
    if (other.name === integration.name) continue;
    const servers = isCloudIntegration(other) ? latestSnapshot(deps.db, other.name)?.servers ?? [] : other.servers;
    for (const s of servers) taken.add(s.name);
  }
  return taken;
}

/** The SDKs' errors can be long and multi-line; /healthz shows a code, the log and the CLI this line. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name !== 'Error' ? `${error.name}: ` : ''}${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}
