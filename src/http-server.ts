// Keyway's one HTTP server: /healthz, /metrics, and the chat platforms' endpoints mounted by path.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Database } from 'better-sqlite3';
import type { SweepStatus } from './access/scheduler.js';
import { renderMetrics } from './metrics.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface HealthSources {
  db: Database;
  sweep: SweepStatus;
  /** Set when the last config reload failed: the last good config is still in force. */
  configError: () => string | undefined;
  /** Chat platforms and whether they answer. */
  chat: () => Record<string, { ok: boolean; error?: string; at: number }>;
  now: () => number;
}

export function health(sources: HealthSources): { ok: boolean; body: Record<string, unknown> } {
  let database: { ok: boolean; error?: string };
  try {
    sources.db.prepare('SELECT 1').get();
    database = { ok: true };
  } catch (error) {
    database = { ok: false, error: (error as Error).message };
  }
  const lastSweepAt = sources.sweep.lastSweepAt;
  // The backstop sweeps every minute; three missed minutes means the sweeper is stuck.
  const sweeper = { ok: lastSweepAt !== undefined && sources.now() - lastSweepAt < 3 * 60_000, lastSweepAt: lastSweepAt ? new Date(lastSweepAt).toISOString() : null, lastError: sources.sweep.lastError ?? null };
  const configError = sources.configError();
  const config = { ok: configError === undefined, ...(configError ? { error: configError } : {}) };
  const chat = sources.chat();
  // A chat outage is reported but does not make Keyway unhealthy: revocation does not depend on chat.
  return { ok: database.ok && sweeper.ok, body: { database, config, sweeper, chat } };
}

export function startHttpServer(port: number, sources: HealthSources, routes: Record<string, RequestListener>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/healthz') {
      const { ok, body } = health(sources);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, ...body }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(sources.db, sources.sweep));
      return;
    }
    const route = routes[path];
    if (route) return route(req, res);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve(server));
  });
}
