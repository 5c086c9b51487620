// A local stand-in for Slack's Web API (after Teleport's slack/testlib/fake_slack.go): answers the methods
// Keyway calls like Slack does, records every call with its parsed body for tests to assert on and wait for,
// serves response_url posts, and can be told to fail a method or to go down altogether.
// Imported by bench/slack.ts too, so no test-framework imports here.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';

export interface FakeSlackUser {
  id: string;
  email?: string;
  name?: string;
  isBot?: boolean;
  /** An app's user (is_app_user), as for a workflow or an app acting on its own. */
  isAppUser?: boolean;
  /** A multi-channel guest (is_restricted). */
  restricted?: boolean;
  /** A single-channel guest (is_restricted and is_ultra_restricted). */
  ultraRestricted?: boolean;
  deleted?: boolean;
  /** The user's workspace; defaults to the fake's own. */
  teamId?: string;
}

export interface FakeSlackOptions {
  users?: FakeSlackUser[];
  /** User group id → member user ids. */
  usergroups?: Record<string, string[]>;
  /** What apps.connections.open answers (Socket Mode's WebSocket URL). */
  socketUrl?: string;
  teamId?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
}

export interface SlackCall {
  seq: number;
  /** Web API method (chat.postMessage…), or 'response_url' for posts to a response URL. */
  method: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded bodies are whatever the client sent
  body: Record<string, any>;
  token?: string;
  /** For response_url calls: the tag given to responseUrl(). */
  tag?: string;
  response: Record<string, unknown>;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the last body posted or updated
  body: Record<string, any>;
}

export interface FakeSlack {
  /** The Web API base for SLACK_API_URL (ends with '/'). */
  apiUrl: string;
  teamId: string;
  appId: string;
  botUserId: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Resolves with the first call (already made or still to come) to `method` that matches. */
  waitFor(method: string, match?: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  /** A response_url that records posts as method 'response_url' with this tag. */
  responseUrl(tag: string): string;
  /** The message as it stands now (after updates). */
  message(channel: string, ts: string): StoredMessage | undefined;
  messages(): StoredMessage[];
  /** The next `times` calls to `method` answer { ok: false, error }. */
  failNext(method: string, error: string, times?: number): void;
  /** chat.postMessage to `channel` answers { ok: false, error } (as for a channel gone, or one the bot is not in). */
  refusePostsTo(channel: string, error: string): void;
  /** Calls to `method` wait for the answer until the returned function is called. */
  hold(method: string): () => void;
  /** While down, every call answers HTTP 503 (and is still recorded). */
  setDown(down: boolean): void;
  addUser(user: FakeSlackUser): void;
  setUsergroup(id: string, members: string[]): void;
  close(): Promise<void>;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) out[key] = JSON_FIELDS.has(key) ? JSON.parse(value) : value;
  return out;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const teamId = options.teamId ?? 'T0KEYWAY';
  const appId = options.appId ?? 'A0KEYWAY';
  const botUserId = options.botUserId ?? 'U0KEYWAYBOT';
  const botId = options.botId ?? 'B0KEYWAY';
  const users = new Map((options.users ?? []).map((u) => [u.id, u]));
  const usergroups = new Map(Object.entries(options.usergroups ?? {}));
  const calls: SlackCall[] = [];
  const stored = new Map<string, StoredMessage>();
  const failures = new Map<string, { error: string; times: number }>();
  const waiters: Array<{ method: string; match: (c: SlackCall) => boolean; resolve: (c: SlackCall) => void }> = [];
  const held = new Map<string, Promise<void>>();
  const refusedChannels = new Map<string, string>();
  let down = false;
  let seq = 0;
  let tsCounter = 0;
  let viewCounter = 0;

  const nextTs = () => `1800000000.${String(++tsCounter).padStart(6, '0')}`;
  const userJson = (u: FakeSlackUser) => ({
    id: u.id, team_id: u.teamId ?? teamId, name: u.name ?? u.id.toLowerCase(), deleted: u.deleted ?? false, is_bot: u.isBot ?? false,
    is_app_user: u.isAppUser ?? false, is_restricted: (u.restricted ?? false) || (u.ultraRestricted ?? false), is_ultra_restricted: u.ultraRestricted ?? false,
    tz: 'Europe/Amsterdam', profile: u.email ? { email: u.email, real_name: u.name ?? u.id } : { real_name: u.name ?? u.id },
  });
  const channelOf = (channel: string) => (channel.startsWith('U') || channel.startsWith('W') ? `D${channel.slice(1)}` : channel);

  function answer(method: string, body: Record<string, unknown>): Record<string, unknown> {
    const failure = failures.get(method);
    if (failure && failure.times > 0) {
      failure.times--;
      return { ok: false, error: failure.error };
    }
    switch (method) {
      case 'auth.test': // as Slack answers for a bot token: no app_id (bots.info says it)
        return { ok: true, url: 'https://keyway-test.slack.com/', team: 'Keyway Test', user: 'keyway', team_id: teamId, user_id: botUserId, bot_id: botId, is_enterprise_install: false };
      case 'bots.info':
        return body.bot === botId
          ? { ok: true, bot: { id: botId, deleted: false, name: 'keyway', updated: 1_700_000_000, app_id: appId, user_id: botUserId } }
          : { ok: false, error: 'bot_not_found' };
      case 'chat.postMessage': {
        if (typeof body.channel !== 'string' || body.channel === '') return { ok: false, error: 'channel_not_found' };
        const refused = refusedChannels.get(body.channel);
        if (refused) return { ok: false, error: refused };
        const message: StoredMessage = { channel: channelOf(body.channel), ts: nextTs(), body };
        stored.set(`${message.channel}/${message.ts}`, message);
        return { ok: true, channel: message.channel, ts: message.ts, message: { text: body.text, ts: message.ts } };
      }
      case 'chat.update': {
        const key = `${String(body.channel)}/${String(body.ts)}`;
        const message = stored.get(key);
        if (!message) return { ok: false, error: 'message_not_found' };
        message.body = body;
        return { ok: true, channel: message.channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: nextTs() };
      case 'conversations.open': {
        const user = String(body.users ?? '').split(',')[0] ?? '';
        if (!users.has(user)) return { ok: false, error: 'user_not_found' };
        return { ok: true, channel: { id: channelOf(user) } };
      }
      case 'users.info': {
        const user = users.get(String(body.user));
        return user ? { ok: true, user: userJson(user) } : { ok: false, error: 'user_not_found' };
      }
      case 'users.lookupByEmail': {
        const email = String(body.email).toLowerCase();
        const user = [...users.values()].find((u) => u.email?.toLowerCase() === email && !u.deleted);
        return user ? { ok: true, user: userJson(user) } : { ok: false, error: 'users_not_found' };
      }
      case 'usergroups.users.list': {
        const members = usergroups.get(String(body.usergroup));
        return members ? { ok: true, users: members } : { ok: false, error: 'no_such_subteam' };
      }
      case 'apps.connections.open':
        return options.socketUrl ? { ok: true, url: options.socketUrl } : { ok: false, error: 'not_allowed_token_type' };
      case 'views.open':
      case 'views.publish':
      case 'views.update':
      case 'views.push':
        return { ok: true, view: { id: `V${String(++viewCounter).padStart(8, '0')}`, ...(body.view as object) } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  function record(call: Omit<SlackCall, 'seq'>): SlackCall {
    const full = { seq: ++seq, ...call };
    calls.push(full);
    for (const waiter of [...waiters]) {
      if (waiter.method === full.method && waiter.match(full)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(full);
      }
    }
    return full;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-slack');
    const body = parseBody(await readAll(req), req.headers['content-type']);
    const respondUrl = /^\/response\/([^/]+)$/.exec(url.pathname);
    if (respondUrl) {
      record({ method: 'response_url', body, tag: decodeURIComponent(respondUrl[1]!), response: { ok: true } });
      res.writeHead(down ? 503 : 200, { 'content-type': 'text/plain' }).end(down ? 'down' : 'ok');
      return;
    }
    const method = /^\/api\/([\w.]+)$/.exec(url.pathname)?.[1] ?? url.pathname;
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : typeof body.token === 'string' ? body.token : undefined;
    await held.get(method);
    if (down) {
      record({ method, body, token, response: { down: true } });
      res.writeHead(503, { 'content-type': 'text/plain' }).end('service unavailable');
      return;
    }
    const response = token ? answer(method, body) : { ok: false, error: 'not_authed' };
    record({ method, body, token, response });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(response));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  const listening = await listenLocally(server);
  const base = `http://127.0.0.1:${listening.port}`;

  return {
    apiUrl: `${base}/api/`,
    teamId,
    appId,
    botUserId,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor(method, match = () => true, timeoutMs = 10_000) {
      const existing = calls.find((c) => c.method === method && match(c));
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter = { method, match, resolve: (c: SlackCall) => (clearTimeout(timer), resolve(c)) };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no ${method} call matched within ${timeoutMs} ms; calls so far: ${calls.map((c) => c.method).join(', ')}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    responseUrl: (tag) => `${base}/response/${encodeURIComponent(tag)}`,
    message: (channel, ts) => stored.get(`${channel}/${ts}`),
    messages: () => [...stored.values()],
    failNext(method, error, times = 1) {
      failures.set(method, { error, times });
    },
    refusePostsTo: (channel, error) => void refusedChannels.set(channel, error),
    hold(method) {
      let release!: () => void;
      held.set(method, new Promise<void>((resolve) => (release = resolve)));
      return () => {
        held.delete(method);
        release();
      };
    },
    setDown(value) {
      down = value;
    },
    addUser: (user) => void users.set(user.id, user),
    setUsergroup: (id, members) => void usergroups.set(id, members),
    close: listening.close,
  };
}
