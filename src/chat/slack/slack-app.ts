// The Slack front door: one Bolt app whose handlers serve both transports — Socket Mode when an app token
// is set, else HTTP through a request listener that Keyway's own server mounts at /slack/events — and the
// Slack chat platform that delivers what Keyway owes people.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { App, HTTPReceiver, SocketModeReceiver, webApi, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { AcknowledgementsFirst, Engine } from '../../access/engine.js';
import { UserError } from '../../core/errors.js';
import type { Settings } from '../../settings.js';
import type { ChatPlatform } from '../../access/chat-port.js';
import { registerActions } from './actions.js';
import { boltLogger } from './bolt-logger.js';
import { registerCommands } from './commands.js';
import { registerHome } from './home.js';
import { createSlackDirectory, slackErrorCode } from './identity.js';
import { requestGuard } from './request-guard.js';
import type { SlackDeps } from './slack-deps.js';
import { createSlackPlatform } from './slack-platform.js';
import { registerViews } from './views.js';

export const SLACK_EVENTS_PATH = '/slack/events';

export interface SlackFrontDoorOptions {
  engine: Engine;
  slack: NonNullable<Settings['slack']>;
  logger: Logger;
  /** How long Slack look-ups (user e-mails, user group members) are cached; default 60 s. */
  cacheTtlMs?: number;
}

export interface SlackFrontDoor {
  platform: ChatPlatform;
  /** HTTP mode only: mount at /slack/events. */
  requestListener?: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Checks the bot token (auth.test) and, in Socket Mode, connects. Throws a UserError when Slack refuses the
   * token, and an Error when Slack cannot be reached: then HTTP handlers retry the check on the first event
   * and Socket Mode keeps trying to connect in the background, so the caller may run on and report the outage.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once no Slack handler is running and the engine is idle (tests; graceful shutdown). */
  settled(): Promise<void>;
}

const REFUSED_TOKEN = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired']);

/** Bolt's Web API base must end with a slash; SLACK_API_URL may be given without one. */
export function webApiBase(apiUrl: string | undefined): string | undefined {
  if (!apiUrl) return undefined;
  return apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`;
}

/**
 * Bolt's receiver with two changes: a handler's `await ack()` sends the answer at once and returns only when no
 * other request is waiting for its own (engine.acknowledgements), so the work after an ack — SQLite writes with
 * their fsyncs, Web API calls — never delays another request's acknowledgement; and every event is counted in
 * `running` from its arrival (settled() waits for it, including an event whose ack is still holding its work back).
 */
function acknowledgingFirst(inner: Receiver, acknowledgements: AcknowledgementsFirst, running: Set<Promise<unknown>>): Receiver {
  return {
    init(app) {
      const processEvent = async (event: ReceiverEvent) => {
        const work = app.processEvent({
          ...event,
          ack: async (response) => {
            await event.ack(response);
            await acknowledgements.quiet();
          },
        });
        running.add(work);
        try {
          return await work;
        } finally {
          running.delete(work);
        }
      };
      inner.init({ processEvent } as unknown as App); // the receivers use nothing of the app but processEvent
    },
    start: (...args: unknown[]) => inner.start(...args),
    stop: (...args: unknown[]) => inner.stop(...args),
  };
}

export function createSlackFrontDoor(options: SlackFrontDoorOptions): SlackFrontDoor {
  const { engine, slack, logger } = options;
  const log = logger.child({ component: 'slack' });
  const boltLog = boltLogger(logger);
  const slackApiUrl = webApiBase(slack.apiUrl);
  // Few, quick retries: a failed delivery stays in the outbox and is retried there.
  const clientOptions: webApi.WebClientOptions = {
    ...(slackApiUrl ? { slackApiUrl } : {}), logger: boltLog, timeout: 10_000,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1_000 },
  };
  const client = new webApi.WebClient(slack.botToken, clientOptions);
  const directory = createSlackDirectory({ client, ctx: engine.ctx, logger: log, ttlMs: options.cacheTtlMs });
  const deps: SlackDeps = {
    engine, client, directory, logger: log,
    approvals: { refresh: (requestId) => engine.notifier.refreshApprovals(platform, requestId) },
  };
  const platform = createSlackPlatform(deps);

  let receiver: Receiver;
  let requestListener: SlackFrontDoor['requestListener'];
  if (slack.appToken) {
    receiver = new SocketModeReceiver({ appToken: slack.appToken, logger: boltLog, installerOptions: { clientOptions } });
  } else {
    if (!slack.signingSecret) throw new UserError('usage', 'Slack over HTTP needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode).');
    const http = new HTTPReceiver({ signingSecret: slack.signingSecret, endpoints: SLACK_EVENTS_PATH, logger: boltLog });
    receiver = http;
    requestListener = (req, res) => {
      res.once('close', engine.acknowledgements.arrived());
      try {
        http.requestListener(req, res);
      } catch (error) {
        log.warn({ err: (error as Error).message, url: req.url, method: req.method }, 'request not for Slack');
        res.writeHead(404).end();
      }
    };
  }

  const running = new Set<Promise<unknown>>();
  const app = new App({
    receiver: acknowledgingFirst(receiver, engine.acknowledgements, running), logger: boltLog, clientOptions, convoStore: false,
    authorize: async () => {
      const self = await directory.self();
      return { botToken: slack.botToken, botId: self.botId, botUserId: self.userId, teamId: self.teamId };
    },
  });
  app.use(requestGuard(deps));
  registerCommands(app, deps);
  registerActions(app, deps);
  registerViews(app, deps);
  registerHome(app, deps);
  app.error(async (error) => {
    log.error({ err: error.message, code: error.code }, 'unhandled error in a Slack handler');
  });

  /** Undefined when Slack accepted the token; the reason when Slack could not be reached. */
  async function checkToken(): Promise<string | undefined> {
    try {
      const self = await directory.self();
      log.info({ teamId: self.teamId, botUserId: self.userId, mode: slack.appToken ? 'socket' : 'http' }, 'Slack connected');
      return undefined;
    } catch (error) {
      const code = slackErrorCode(error);
      if (code && REFUSED_TOKEN.has(code)) throw new UserError('usage', `Slack refused SLACK_BOT_TOKEN (${code}): copy the Bot User OAuth Token (xoxb-…) from the app's "OAuth & Permissions" page.`);
      return (error as Error).message;
    }
  }

  // Socket Mode connects out to Slack: while Slack cannot be reached, keep trying in the background.
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  async function connectSocket(attempt: number): Promise<void> {
    if (stopped) return;
    try {
      await app.start();
    } catch (error) {
      const delay = Math.min(60_000, 2_000 * 2 ** Math.min(attempt, 5));
      log.warn({ err: (error as Error).message, retryInMs: delay }, 'Socket Mode could not connect; retrying');
      retry = setTimeout(() => void connectSocket(attempt + 1), delay);
    }
  }

  return {
    platform,
    requestListener,
    async start() {
      const unreachable = await checkToken();
      if (slack.appToken) await connectSocket(0);
      if (unreachable) throw new Error(`Slack's Web API is unreachable (${unreachable}); Keyway retries`);
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      if (slack.appToken) await app.stop().catch((error: unknown) => log.warn({ err: (error as Error).message }, 'Socket Mode did not stop cleanly'));
      await this.settled();
    },
    async settled() {
      while (running.size > 0) {
        await Promise.allSettled([...running]);
        await engine.idle();
      }
      await engine.idle();
    },
  };
}
