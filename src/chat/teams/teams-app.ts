// The Teams front door: botbuilder's CloudAdapter behind a request listener that Keyway's own HTTP server
// mounts at /api/messages, and the Teams chat platform. Every activity's Bot Framework token is checked
// (MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD, MICROSOFT_APP_TENANT_ID for single-tenant apps) unless
// KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED=true, which is for local development only.
// Everything botbuilder is inside src/chat/teams/, so moving to its successor stays a local change.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import {
  ActivityTypes, CloudAdapter, ConfigurationBotFrameworkAuthentication, type Activity, type TurnContext,
} from 'botbuilder';
import type { Engine } from '../../access/engine.js';
import type { Settings } from '../../settings.js';
import type { ChatPlatform } from '../../access/chat-port.js';
import { RecentKeys } from '../ttl-cache.js';
import { createTeamsPlatform } from './teams-platform.js';
import { handleInstall, handleMessage } from './handlers.js';
import { handleServerSearch, SEARCH_INVOKE } from './server-search.js';
import { createTeamsIdentity, tenantOf } from './identity.js';
import type { TeamsDeps } from './messenger.js';

/** How tokens are checked and obtained (botframework-connector's type, reached through botbuilder). */
export type BotFrameworkAuthentication = NonNullable<ConstructorParameters<typeof CloudAdapter>[0]>;

export const TEAMS_MESSAGES_PATH = '/api/messages';
const MAX_BODY_BYTES = 256 * 1024;

export interface TeamsFrontDoorOptions {
  engine: Engine;
  teams: NonNullable<Settings['teams']>;
  logger: Logger;
  /** Overrides how tokens are checked and obtained (tests with a local identity provider). */
  authentication?: BotFrameworkAuthentication;
}

export interface TeamsFrontDoor {
  platform: ChatPlatform;
  requestListener: (req: IncomingMessage, res: ServerResponse) => void;
  /** Resolves once no turn and no work a turn started is running, and the engine is idle. */
  settled(): Promise<void>;
}

/** CloudAdapter's process() wants express-like objects and prints refusals to the console; this takes the activity directly. */
class KeywayAdapter extends CloudAdapter {
  handle(authHeader: string, activity: Activity, logic: (context: TurnContext) => Promise<void>) {
    return this.processActivity(authHeader, activity, logic);
  }
}

export function teamsAuthentication(teams: NonNullable<Settings['teams']>): BotFrameworkAuthentication {
  if (teams.allowUnauthenticated) return new ConfigurationBotFrameworkAuthentication({});
  return new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: teams.appId,
    MicrosoftAppPassword: teams.appPassword,
    MicrosoftAppType: teams.tenantId ? 'SingleTenant' : 'MultiTenant',
    ...(teams.tenantId && { MicrosoftAppTenantId: teams.tenantId }),
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isLoopback(address: string | undefined): boolean {
  return address === '::1' || /^(::ffff:)?127\./.test(address ?? '');
}

export function createTeamsFrontDoor(options: TeamsFrontDoorOptions): TeamsFrontDoor {
  const { engine, teams } = options;
  const log = options.logger.child({ component: 'teams' });
  const adapter = new KeywayAdapter(options.authentication ?? teamsAuthentication(teams));
  adapter.onTurnError = async (_context, error) => {
    log.error({ err: error.message }, 'unhandled error in a Teams turn');
  };
  const seen = new RecentKeys();
  const running = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    running.add(work);
    void work.catch(() => undefined).finally(() => running.delete(work));
  };
  const deps: TeamsDeps = {
    engine, adapter, appId: teams.allowUnauthenticated ? '' : teams.appId, logger: log, track,
    firstTime: (key) => seen.add(key),
    forget: (key) => seen.forget(key),
    refreshApprovalCards: (requestId) => engine.notifier.refreshApprovals(platform, requestId),
  };
  const platform = createTeamsPlatform(deps);
  const identity = createTeamsIdentity();

  /**
   * One authenticated activity. A message (a command, a card's Submit) or an install is acknowledged at once with 200
   * and worked on once no other request waits for its answer, as Slack's are (engine.acknowledgements): the replies
   * go out through the Bot Connector, not in the HTTP answer. An invoke (the server search) answers in the HTTP
   * response itself, so it is worked on at once.
   */
  async function turn(context: TurnContext, acknowledge: () => void): Promise<void> {
    const { activity } = context;
    if (teams.tenants.length > 0 && !teams.tenants.includes(tenantOf(activity) ?? '')) {
      log.warn({ tenant: tenantOf(activity) }, 'ignored an activity from a Microsoft tenant Keyway does not serve (MICROSOFT_APP_TENANT_ID, KEYWAY_TEAMS_TENANTS)');
      return;
    }
    // The same bot registration may have Web Chat or Direct Line channels: only Teams speaks for a Teams user.
    if (!teams.allowUnauthenticated && activity.channelId !== 'msteams') return;
    // Teams may deliver an activity again; one click is one action.
    if (activity.id && !deps.firstTime(`activity:${activity.conversation?.id ?? ''}:${activity.id}`)) return;
    if (activity.type !== ActivityTypes.Invoke) {
      acknowledge();
      await engine.acknowledgements.quiet();
    }
    if (activity.type === ActivityTypes.Message) await handleMessage(deps, identity, context);
    else if (activity.type === ActivityTypes.Invoke && activity.name === SEARCH_INVOKE) await handleServerSearch(deps, identity, context);
    else if (activity.type === ActivityTypes.ConversationUpdate || activity.type === ActivityTypes.InstallationUpdate) await handleInstall(deps, identity, context);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    if (teams.allowUnauthenticated && !isLoopback(req.socket.remoteAddress)) {
      log.warn({ from: req.socket.remoteAddress }, 'refused a Teams activity from another machine: without authentication only this machine may post');
      res.writeHead(403).end('Without authentication (KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED) only local clients may post.');
      return;
    }
    let activity: Activity;
    try {
      activity = JSON.parse(await readBody(req)) as Activity;
      if (typeof activity !== 'object' || activity === null || typeof activity.type !== 'string') throw new Error('no activity type');
    } catch {
      res.writeHead(400).end('Expected a Bot Framework activity (JSON with a type).');
      return;
    }
    const acknowledge = () => {
      if (!res.headersSent) res.writeHead(200).end();
    };
    try {
      const invoke = await adapter.handle(req.headers.authorization ?? '', activity, (context) => turn(context, acknowledge));
      if (res.headersSent) return;
      const body = invoke?.body === undefined ? undefined : JSON.stringify(invoke.body);
      res.writeHead(invoke?.status ?? 200, body ? { 'content-type': 'application/json' } : {}).end(body);
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode === 401 ? 401 : 500;
      if (status === 401) log.warn({ err: (error as Error).message }, 'refused a Teams activity without a valid Bot Framework token');
      else log.error({ err: (error as Error).message }, 'Teams activity failed');
      if (!res.headersSent) res.writeHead(status).end(status === 401 ? 'Unauthorized' : 'Internal error');
    }
  }

  return {
    platform,
    requestListener(req, res) {
      res.once('close', engine.acknowledgements.arrived());
      const work = serve(req, res);
      track(work);
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
