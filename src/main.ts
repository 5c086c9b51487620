// The composition root: reads the environment, wires store, config, CA, hosts, access and chat, starts the two HTTP
// listeners (chat on HOST:PORT, /healthz and /metrics on METRICS_ADDR) and the scheduler. Chat is optional at
// runtime: if Slack cannot be reached at start, Keyway still starts, sweeps and revokes, reports the outage in
// /healthz, and delivers what it owes when Slack answers again.
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { loadCaKey } from './ca/ca-key.js';
import { watchAccessConfig } from './config/watch.js';
import type { AccessConfig } from './core/model.js';
import { UserError } from './core/errors.js';
import { createEngine, type Engine } from './access/engine.js';
import { startScheduler } from './access/scheduler.js';
import type { ChatPlatform } from './chat/port.js';
import { createSlackFrontDoor, SLACK_EVENTS_PATH, type SlackFrontDoor } from './chat/slack/slack-app.js';
import { createTeamsFrontDoor, TEAMS_MESSAGES_PATH, type TeamsFrontDoor } from './chat/teams/teams-app.js';
import { startMetricsServer, startPublicServer, type RequestListener } from './http-server.js';
import { composeKeyway, type Composed } from './compose.js';
import { cloudInventories } from './targets/cloud/clouds.js';
import { startInventoryRefresher, type InventoryRefresher } from './targets/cloud/inventory-refresher.js';
import { plainHttpWarnings } from './targets/windows/rdp/rdp-driver.js';
import { createLogger } from './logger.js';
import { acquireLease, LEASE_MS, newLeaseHolder, releaseLease } from './store/lease.js';
import { openDatabase } from './store/open-database.js';
import { readSettings } from './settings.js';

export interface RunningKeyway {
  /** The public listener: Slack and Teams. */
  server: Server;
  port: number;
  /** /healthz and /metrics. */
  metricsServer: Server;
  metricsPort: number;
  stop(): Promise<void>;
}

const LEASE = 'sweeper';

export async function startKeyway(env: NodeJS.ProcessEnv, logger: Logger = createLogger({ level: readSettings(env).logLevel, pretty: readSettings(env).logPretty && process.stdout.isTTY === true })): Promise<RunningKeyway> {
  const settings = readSettings(env);
  if (!settings.slack && !settings.teams) {
    throw new UserError('usage', 'Neither Slack nor Teams is configured: set SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP), or MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD (Teams). See .env.example; `keyway demo` needs neither.');
  }

  let configError: string | undefined;
  const configReloads = { success: 0, failure: 0 };
  const watcher = watchAccessConfig(settings.configPath, {
    onReload: (config: AccessConfig) => {
      configError = undefined;
      configReloads.success++;
      logger.info({ flows: config.flows.length, integrations: config.integrations.length }, 'access config reloaded');
      for (const warning of plainHttpWarnings(config)) logger.warn(warning);
    },
    onError: (error) => {
      configError = error.message;
      configReloads.failure++;
      logger.error({ err: error.message }, 'access config not reloaded: the last good config stays in force');
    },
  });

  let db: ReturnType<typeof openDatabase>;
  try {
    db = openDatabase(settings.dataDir);
  } catch (error) {
    watcher.close();
    throw error;
  }
  const me = newLeaseHolder();
  const other = acquireLease(db, LEASE, Date.now(), me);
  if (other) {
    db.close();
    watcher.close();
    throw new UserError('usage', `Another Keyway (pid ${other.pid} on ${other.host}) is running on ${settings.dataDir}: one sweeper per database. Stop it first, or use another KEYWAY_DATA_DIR.`);
  }
  const leaseTimer = setInterval(() => {
    const holder = acquireLease(db, LEASE, Date.now(), me);
    if (holder) logger.fatal({ holder }, 'lost the sweeper lease to another Keyway');
  }, LEASE_MS / 3);
  leaseTimer.unref();

  // From here on, a start that fails stops what it started (scheduler, lease, watcher, database) before it throws:
  // a refused token or a taken port must not leave a half-started Keyway holding the sweeper lease.
  let keyway: Composed | undefined;
  let engine: Engine | undefined;
  let scheduler: ReturnType<typeof startScheduler> | undefined;
  let inventories: InventoryRefresher | undefined;
  let slack: SlackFrontDoor | undefined;
  let teams: TeamsFrontDoor | undefined;
  let server: Server | undefined;
  let metricsServer: Server | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= (async () => {
    logger.info('keyway stopping');
    scheduler?.stop();
    await inventories?.stop();
    clearInterval(leaseTimer);
    await Promise.all([server, metricsServer].map((s) => s && closeServer(s)));
    await slack?.stop();
    await teams?.settled();
    await engine?.idle();
    await keyway?.close();
    watcher.close();
    releaseLease(db, LEASE, me);
    db.close();
  })());

  const routes: Record<string, RequestListener> = {};
  try {
    const ca = loadCaKey(env, { create: true });
    if (ca.created) logger.warn({ path: ca.path, fingerprint: ca.caKey.fingerprint }, 'generated a new CA key; put its public key on servers with keyway hosts bootstrap');
    for (const warning of ca.warnings) logger.warn(warning);

    keyway = composeKeyway({ env, db, config: watcher.current, ca: ca.caKey, logger });
    // Cloud inventories: listed now and every `refresh`, into snapshots the live config reads (never on a request).
    inventories = startInventoryRefresher({ db, config: watcher.current, env, now: keyway.ctx.now, logger, clouds: cloudInventories() });
    for (const warning of plainHttpWarnings(watcher.current())) logger.warn(warning);
    const platforms: ChatPlatform[] = [];
    engine = createEngine(keyway.runner, platforms);

    if (settings.slack) {
      slack = createSlackFrontDoor({ engine, slack: settings.slack, logger });
      platforms.push(slack.platform);
      if (slack.requestListener) routes[SLACK_EVENTS_PATH] = slack.requestListener;
      try {
        await slack.start();
        engine.platformStatus.slack = { ok: true, at: keyway.ctx.now() };
      } catch (error) {
        if (error instanceof UserError) throw error; // a refused token is the admin's to fix, not an outage
        engine.platformStatus.slack = { ok: false, error: (error as Error).message, at: keyway.ctx.now() };
        logger.error({ err: (error as Error).message }, 'Slack is unreachable; Keyway runs on and delivers messages when it answers');
      }
    }

    if (settings.teams) {
      if (settings.teams.allowUnauthenticated) {
        logger.warn(`KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED=true: ${TEAMS_MESSAGES_PATH} accepts activities WITHOUT checking their Bot Framework token. Anyone who can reach this port can act as any Teams user. For local development only.`);
      }
      teams = createTeamsFrontDoor({ engine, teams: settings.teams, logger });
      platforms.push(teams.platform);
      routes[TEAMS_MESSAGES_PATH] = teams.requestListener;
    }

    scheduler = startScheduler(engine);
  } catch (error) {
    await stop();
    throw error;
  }
  const { ctx } = keyway;
  const running = { engine, scheduler, inventories: inventories! };

  let setting = 'HOST and PORT';
  try {
    server = await startPublicServer({ host: settings.host, port: settings.port }, routes);
    setting = 'METRICS_ADDR';
    metricsServer = await startMetricsServer(settings.metrics, {
      db, sweep: running.scheduler.status, configError: () => configError, configReloads, chat: () => running.engine.platformStatus, inventory: () => running.inventories.health(), now: ctx.now, logger,
    });
  } catch (error) {
    await stop(); // a port already taken must not leave a half-started Keyway holding the sweeper lease
    throw listenError(error, setting);
  }
  const port = portOf(server, settings.port);
  const metricsPort = portOf(metricsServer, settings.metrics.port);
  logger.info({
    listen: `${settings.host}:${port}`, metrics: `${settings.metrics.host}:${metricsPort}`, host: hostname(),
    slack: settings.slack ? (settings.slack.appToken ? 'socket-mode' : 'http') : 'off',
    teams: settings.teams ? (settings.teams.allowUnauthenticated ? 'UNAUTHENTICATED' : settings.teams.tenantId ? 'single-tenant' : 'multi-tenant') : 'off',
  }, 'keyway started');
  return { server, port, metricsServer, metricsPort, stop };
}

function portOf(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function listenError(error: unknown, setting: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL' && code !== 'EACCES') return error;
  const { address, port } = error as { address?: string; port?: number };
  return new UserError('usage', `Cannot listen on ${address ?? '?'}:${port ?? '?'} (${code}): set ${setting} to an address and port that are free.`);
}
