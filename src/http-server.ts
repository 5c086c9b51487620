// Keyway's two HTTP listeners: the public one (HOST:PORT) mounts only the chat platforms' endpoints, by path; the
// operations one (METRICS_ADDR, loopback by default) serves /healthz and /metrics, which say how Keyway is doing and
// so are nobody else's business.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { SweepStatus } from './access/scheduler.js';
import type { InventoryHealth } from './targets/cloud/inventory-refresher.js';
import { createMetrics, type ConfigReloads } from './metrics.js';
import type { ListenAddress } from './settings.js';
import { pingDatabase } from './store/stats.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface HealthSources {
  db: Database;
  sweep: SweepStatus;
  /** Set when the last config reload failed: the last good config is still in force. */
  configError: () => string | undefined;
  /** Config reloads since start, by result (counted by the config watcher's callbacks). */
  configReloads?: ConfigReloads;
  /** Chat platforms and whether they answer. */
  chat: () => Record<string, { ok: boolean; error?: string; at: number }>;
  /** Cloud inventories and how their last refresh went. */
  inventory?: () => InventoryHealth[];
  now: () => number;
  /** Where the details behind a failing part go: /healthz itself shows only codes. */
  logger: Logger;
}

interface Part {
  ok: boolean;
  code?: string;
}

// The backstop sweeps every minute; three missed minutes means the sweeper is stuck.
const SWEEP_OVERDUE_MS = 3 * 60_000;

/**
 * Codes, never error texts: a health endpoint is scraped and shown in dashboards, and an error message can carry
 * hostnames, paths or a platform's answer. Config, sweep and chat errors are logged where they happen.
 */
export function health(sources: HealthSources): { ok: boolean; body: Record<string, unknown> } {
  let database: Part = { ok: true };
  try {
    pingDatabase(sources.db);
  } catch (error) {
    database = { ok: false, code: 'database_unavailable' };
    sources.logger.error({ err: (error as Error).message }, 'health check: the database does not answer');
  }
  const { lastSweepAt, lastError } = sources.sweep;
  const sweepOk = lastSweepAt !== undefined && sources.now() - lastSweepAt < SWEEP_OVERDUE_MS;
  const sweeper = {
    ok: sweepOk,
    lastSweepAt: lastSweepAt ? new Date(lastSweepAt).toISOString() : null,
    ...(!sweepOk && { code: lastError !== undefined ? 'sweep_failed' : 'sweep_overdue' }),
  };
  const config: Part = sources.configError() === undefined ? { ok: true } : { ok: false, code: 'config_invalid' };
  const chat = Object.fromEntries(
    Object.entries(sources.chat()).map(([platform, status]) => [platform, { ok: status.ok, ...(!status.ok && { code: 'unreachable' }), at: status.at }]),
  );
  const inventories = Object.fromEntries((sources.inventory?.() ?? []).map((i) => [i.integration, {
    ok: i.ok, ...(!i.ok && { code: i.snapshotAt === undefined ? 'no_snapshot' : 'refresh_failed_snapshot_kept' }),
    servers: i.servers, snapshotAt: i.snapshotAt === undefined ? null : new Date(i.snapshotAt).toISOString(),
  }]));
  // A chat or cloud API outage is reported but does not make Keyway unhealthy: revocation depends on neither.
  return { ok: database.ok && sweeper.ok, body: { database, config, sweeper, chat, ...(Object.keys(inventories).length > 0 && { inventories }) } };
}

/** Slack and Teams: only the routes given, everything else 404. */
export function startPublicServer(address: ListenAddress, routes: Record<string, RequestListener>): Promise<Server> {
  return listen(address, (req, res) => {
    const route = routes[pathOf(req)];
    if (route) return route(req, res);
    notFound(res);
  });
}

/** /healthz and /metrics, for health checks and Prometheus. */
export function startMetricsServer(address: ListenAddress, sources: HealthSources): Promise<Server> {
  const metrics = createMetrics(sources);
  return listen(address, (req, res) => {
    const path = pathOf(req);
    if (req.method === 'GET' && path === '/healthz') {
      const { ok, body } = health(sources);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, ...body }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: unknown) => {
          sources.logger.error({ err: (error as Error).message }, '/metrics failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
        },
      );
      return;
    }
    notFound(res);
  });
}

function listen(address: ListenAddress, handler: RequestListener): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}
