// keyway start's two listeners: the public one (HOST:PORT) serves only the chat platforms' endpoints; /healthz and
// /metrics are on their own listener (METRICS_ADDR, 127.0.0.1 by default), and /healthz gives codes, not error texts.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Database } from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { health } from '../../src/http-server.js';
import { startKeyway, type RunningKeyway } from '../../src/main.js';
import { readSettings } from '../../src/settings.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const quiet = pino({ level: 'silent' });
let temp: { dir: string; remove(): void } | undefined;
const running: RunningKeyway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  temp?.remove();
  temp = undefined;
});

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  temp ??= makeTempDir();
  return {
    KEYWAY_CONFIG: 'config/access.example.yaml', KEYWAY_DATA_DIR: join(temp.dir, 'data'), PORT: '0', METRICS_ADDR: '127.0.0.1:0',
    SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-secret',
    SLACK_API_URL: 'http://127.0.0.1:9/api/', // nothing listens: Slack is "down", so /healthz has an outage to report
    ...extra,
  };
}

async function start(extra?: NodeJS.ProcessEnv): Promise<RunningKeyway> {
  const keyway = await startKeyway(env(extra), quiet);
  running.push(keyway);
  return keyway;
}

const addressOf = (server: RunningKeyway['server']) => server.address() as AddressInfo;

describe('keyway start listeners', () => {
  it('by default listens on 0.0.0.0:PORT for chat, and on 127.0.0.1:9464 for health and metrics', () => {
    expect(readSettings({})).toMatchObject({ host: '0.0.0.0', port: 3000, metrics: { host: '127.0.0.1', port: 9464 } });
  });

  it('does not serve /healthz or /metrics on the public listener', async () => {
    const keyway = await start();
    expect(addressOf(keyway.server).address).toBe('0.0.0.0');
    const publicBase = `http://127.0.0.1:${keyway.port}`;
    for (const path of ['/healthz', '/metrics']) expect((await fetch(`${publicBase}${path}`)).status, path).toBe(404);
    // Slack's endpoint is there: an unsigned request is refused by Bolt, not "not found".
    expect((await fetch(`${publicBase}/slack/events`, { method: 'POST', body: '{}' })).status).not.toBe(404);
  });

  it('serves /healthz and /metrics on METRICS_ADDR, bound to its address, and nothing else there', async () => {
    const keyway = await start();
    expect(addressOf(keyway.metricsServer).address).toBe('127.0.0.1');
    expect(keyway.metricsPort).not.toBe(keyway.port);
    const metricsBase = `http://127.0.0.1:${keyway.metricsPort}`;
    let body: { ok: boolean; sweeper: { ok: boolean } } | undefined;
    for (let i = 0; i < 50 && !body?.sweeper.ok; i++) {
      const response = await fetch(`${metricsBase}/healthz`);
      body = (await response.json()) as typeof body;
      if (!body!.sweeper.ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).toMatchObject({ ok: true, database: { ok: true }, config: { ok: true }, sweeper: { ok: true }, chat: { slack: { ok: false, code: 'unreachable' } } });
    expect(JSON.stringify(body)).not.toMatch(/error|Web API|127\.0\.0\.1:9/i);
    expect(await (await fetch(`${metricsBase}/metrics`)).text()).toMatch(/^keyway_sweeps_total [1-9]/m);
    expect((await fetch(`${metricsBase}/slack/events`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('refuses to start when METRICS_ADDR is taken, naming the setting, and leaves nothing running', async () => {
    temp ??= makeTempDir();
    const blocker = await start({ KEYWAY_DATA_DIR: join(temp.dir, 'other-data') });
    await expect(startKeyway(env({ METRICS_ADDR: `127.0.0.1:${blocker.metricsPort}` }), quiet)).rejects.toThrow(
      new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${blocker.metricsPort} \\(EADDRINUSE\\): set METRICS_ADDR to an address and port that are free\\.$`),
    );
    // The failed start released the sweeper lease and closed its public listener: the same data directory starts again.
    const again = await start();
    expect(again.metricsPort).toBeGreaterThan(0);
  });

  it('binds the public listener to HOST', async () => {
    const keyway = await start({ HOST: '127.0.0.1' });
    expect(addressOf(keyway.server).address).toBe('127.0.0.1');
  });
});

describe('/healthz', () => {
  it('reports codes only, and sends the details to the log', () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line) as Record<string, unknown>) });
    const brokenDb = { prepare: () => { throw new Error('SQLITE_CORRUPT: database disk image is malformed'); } } as unknown as Database;
    const now = Date.now();
    const { ok, body } = health({
      db: brokenDb,
      sweep: { sweeps: 3, sweepFailures: 1, lastSweepAt: now - 10 * 60_000, lastError: 'connect ECONNREFUSED 10.0.0.1:22' },
      configError: () => 'access.yaml:9:5: unknown field max_duraton',
      chat: () => ({ slack: { ok: false, error: 'invalid_auth from slack.com', at: now } }),
      now: () => now,
      logger,
    });
    expect(ok).toBe(false);
    expect(body).toEqual({
      database: { ok: false, code: 'database_unavailable' },
      config: { ok: false, code: 'config_invalid' },
      sweeper: { ok: false, lastSweepAt: new Date(now - 10 * 60_000).toISOString(), code: 'sweep_failed' },
      chat: { slack: { ok: false, code: 'unreachable', at: now } },
    });
    expect(JSON.stringify(logged)).toContain('SQLITE_CORRUPT');
  });
});
