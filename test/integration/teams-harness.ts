// The real botbuilder endpoint behind a plain node:http server, a fake Bot Connector, a real SQLite
// database and (by default) recording servers: what the Teams integration tests drive with activities.
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { createEngine, type Engine } from '../../src/access/engine.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { generateCaKey, type CaKey } from '../../src/ca/ca-key.js';
import { createTeamsFrontDoor, TEAMS_MESSAGES_PATH, type BotFrameworkAuthentication, type TeamsFrontDoor } from '../../src/chat/teams/teams-app.js';
import type { AccessConfig } from '../../src/core/model.js';
import type { Settings } from '../../src/settings.js';
import { accessConfig } from '../helpers/access-config.js';
import { testContext, type TestContext } from '../helpers/access-context.js';
import { startFakeBotConnector, TeamsSender, type FakeBotConnector, type FakeTeamsUser } from '../helpers/fake-teams.js';
import { recordingHosts } from './slack-harness.js';
import { listenLocally } from '../helpers/local-server.js';

export const TEAMS_PEOPLE = {
  dev: { id: '29:dev', email: 'dev@example.com', name: 'Dev' },
  lead: { id: '29:lead', email: 'lead@example.com', name: 'Lead' },
  lead2: { id: '29:lead2', email: 'lead2@example.com', name: 'Lead Two' },
  outsider: { id: '29:outsider', email: 'outsider@example.com', name: 'Outsider' },
  platform: { id: '29:platform', email: 'platform@example.com', name: 'Platform' },
  guest: { id: '29:guest', email: 'guest@example.com', name: 'Guest', userRole: 'guest' },
} as const satisfies Record<string, FakeTeamsUser>;

export interface TeamsRig {
  ctx: TestContext;
  engine: Engine;
  connector: FakeBotConnector;
  front: TeamsFrontDoor;
  teams: TeamsSender;
  endpoint: string;
  /** The CA of the rig's own engine (undefined when sharing another rig's engine). */
  ca?: CaKey;
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface TeamsRigOptions {
  config?: AccessConfig;
  hosts?: HostEffects | ((ctx: TestContext) => HostEffects);
  clockStart?: number;
  settings?: Partial<NonNullable<Settings['teams']>>;
  authentication?: BotFrameworkAuthentication;
  /** Share an engine (and its context) with a Slack rig: one Keyway serving both platforms. */
  engine?: Engine;
}

export async function startTeamsRig(options: TeamsRigOptions = {}): Promise<TeamsRig> {
  const connector = await startFakeBotConnector(Object.values(TEAMS_PEOPLE));
  let engine = options.engine;
  let ctx = engine?.ctx as TestContext | undefined;
  let ca: CaKey | undefined;
  if (!engine) {
    ctx = testContext(options.config ?? accessConfig(), options.clockStart);
    const hosts = typeof options.hosts === 'function' ? options.hosts(ctx) : options.hosts ?? recordingHosts();
    ca = generateCaKey().caKey;
    engine = createEngine(createGrantRunner(ctx, hosts, ca), []);
  }
  const front = createTeamsFrontDoor({
    engine, logger: pino({ level: 'silent' }), authentication: options.authentication,
    teams: { appId: '', appPassword: '', tenants: [], allowUnauthenticated: true, ...options.settings },
  });
  engine.platforms.push(front.platform);
  const server: Server = createServer((req, res) => {
    if (req.url === TEAMS_MESSAGES_PATH) front.requestListener(req, res);
    else res.writeHead(404).end();
  });
  const listening = await listenLocally(server);
  const endpoint = `http://127.0.0.1:${listening.port}${TEAMS_MESSAGES_PATH}`;
  return {
    ctx: ctx!, engine, connector, front, endpoint, ca,
    teams: new TeamsSender(endpoint, connector.serviceUrl, undefined, () => front.settled()),
    settle: () => front.settled(),
    async close() {
      await front.settled();
      await listening.close();
      await connector.close();
      if (!options.engine) ctx!.close();
    },
  };
}
