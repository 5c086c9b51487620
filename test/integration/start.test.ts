// keyway start: the composition root over HTTP, with Slack's Web API unreachable.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { pino } from 'pino';
import { startKeyway, type RunningKeyway } from '../../src/main.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startFakeBotConnector, TeamsSender, personalConversationOf, textOf } from '../helpers/fake-teams.js';
import { buildKeywayCli, killKeywayChildren, spawnKeyway, waitFor, type KeywayCli } from '../helpers/keyway-process.js';

let temp: { dir: string; remove(): void };
const running: RunningKeyway[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((k) => k.stop()));
  temp?.remove();
});

function env(): NodeJS.ProcessEnv {
  temp ??= makeTempDir();
  return {
    KEYWAY_CONFIG: 'config/access.example.yaml', KEYWAY_DATA_DIR: join(temp.dir, 'data'), PORT: '0', METRICS_ADDR: '127.0.0.1:0',
    SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'test-secret',
    SLACK_API_URL: 'http://127.0.0.1:9/api/', // nothing listens: Slack is "down"
  };
}
const quiet = pino({ level: 'silent' });

describe('keyway start', () => {
  it('refuses to start with neither Slack nor Teams configured, naming what to set', async () => {
    temp = makeTempDir();
    await expect(startKeyway({ KEYWAY_DATA_DIR: join(temp.dir, 'data') }, quiet)).rejects.toThrow(/Neither Slack nor Teams is configured: set SLACK_BOT_TOKEN/);
  });

  it('starts while Slack is unreachable, reports it in /healthz, and serves /metrics', async () => {
    temp = makeTempDir();
    const keyway = await startKeyway(env(), quiet);
    running.push(keyway);
    const base = `http://127.0.0.1:${keyway.metricsPort}`; // /healthz and /metrics are on METRICS_ADDR, not PORT
    let health: { ok: boolean; database: { ok: boolean }; sweeper: { ok: boolean }; chat: Record<string, unknown> } | undefined;
    for (let i = 0; i < 50 && !health?.sweeper.ok; i++) {
      health = (await (await fetch(`${base}/healthz`)).json()) as typeof health;
      if (!health!.sweeper.ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(health, JSON.stringify(health)).toMatchObject({ ok: true, database: { ok: true }, sweeper: { ok: true }, chat: { slack: { ok: false, code: 'unreachable' } } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^keyway_sweeps_total [1-9]/m);
    expect(metrics).toContain('# TYPE keyway_revocation_lag_seconds histogram');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${keyway.port}/nope`)).status).toBe(404);
  });

  it('refuses a second keyway start on the same data directory', async () => {
    temp = makeTempDir();
    const first = await startKeyway(env(), quiet);
    running.push(first);
    const second = { ...env(), PORT: '0', METRICS_ADDR: '127.0.0.1:0' };
    await expect(startKeyway(second, quiet)).rejects.toThrow(/Another Keyway \(pid \d+ on .*\) is running on .*one sweeper per database/);
  });

  it('serves Teams at /api/messages with Slack off, refusing activities without a token when an app id is set', async () => {
    temp = makeTempDir();
    const user = { id: '29:dev', email: 'dev@example.com' };
    const connector = await startFakeBotConnector([user]);
    try {
      const base = { KEYWAY_CONFIG: 'config/access.example.yaml', KEYWAY_DATA_DIR: join(temp.dir, 'data'), PORT: '0', METRICS_ADDR: '127.0.0.1:0' };
      const open = await startKeyway({ ...base, KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED: 'true' }, quiet);
      running.push(open);
      const teams = new TeamsSender(`http://127.0.0.1:${open.port}/api/messages`, connector.serviceUrl);
      expect((await teams.message(user, 'help')).status).toBe(200);
      // Answered at once, replied to through the Bot Connector right after.
      const reply = await waitFor('the reply to help', () => connector.posted(personalConversationOf(user))[0]);
      expect(textOf(reply.body)).toMatch(/request <server>/);
      // Without authentication, only this machine may post: the same request to the machine's network address is refused.
      const external = Object.values(networkInterfaces()).flat().find((i) => i?.family === 'IPv4' && !i.internal);
      if (external) {
        const fromNetwork = new TeamsSender(`http://${external.address}:${open.port}/api/messages`, connector.serviceUrl);
        expect((await fromNetwork.message(user, 'help')).status).toBe(403);
      } else {
        console.warn('start.test: no non-loopback IPv4 address here; the local-only check of KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED was not exercised');
      }
      await Promise.all(running.splice(0).map((k) => k.stop()));

      const guarded = await startKeyway({ ...base, MICROSOFT_APP_ID: '00000000-0000-4000-8000-000000000001', MICROSOFT_APP_PASSWORD: 'not-a-real-secret', MICROSOFT_APP_TENANT_ID: 'tenant-1' }, quiet);
      running.push(guarded);
      const stranger = new TeamsSender(`http://127.0.0.1:${guarded.port}/api/messages`, connector.serviceUrl);
      expect((await stranger.message(user, 'help')).status).toBe(401);
      expect(connector.posted(personalConversationOf(user))).toHaveLength(1);
    } finally {
      await connector.close();
    }
  });

  it('stops everything it started when Slack refuses the token, so the same data directory starts again', async () => {
    temp = makeTempDir();
    const refusing = await listen((_req, res) => res.end(JSON.stringify({ ok: false, error: 'invalid_auth' })));
    try {
      const refused = { ...env(), SLACK_API_URL: `http://127.0.0.1:${refusing.port}/api/` };
      await expect(startKeyway(refused, quiet)).rejects.toThrow(/Slack refused SLACK_BOT_TOKEN \(invalid_auth\)/);
      // The failed start released the sweeper lease: nothing says "Another Keyway is running".
      running.push(await startKeyway(env(), quiet));
    } finally {
      refusing.server.close();
    }
  });
});

describe('keyway start as a process', () => {
  let cli: KeywayCli | undefined;
  afterAll(async () => {
    await killKeywayChildren();
    cli?.remove();
  });

  it('exits 1 within seconds with one line when PORT is taken', async () => {
    temp = makeTempDir();
    cli = await buildKeywayCli();
    const busy = await listen((_req, res) => res.end());
    try {
      const started = Date.now();
      const child = spawnKeyway(cli, ['start'], { ...env(), PORT: String(busy.port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
      const exit = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
      expect(exit, child.output()).toEqual({ code: 1, signal: null });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(child.output().trim()).toBe(`keyway start: Cannot listen on 127.0.0.1:${busy.port} (EADDRINUSE): set HOST and PORT to an address and port that are free.`);
    } finally {
      busy.server.close();
    }
  }, 60_000);
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}
