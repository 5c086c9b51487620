// A local stand-in for the Bot Connector service that Teams activities name as their serviceUrl: answers
// the calls botbuilder makes (send, reply, update an activity, get a member) like the real service does,
// records them, and can go down. TeamsSender posts Teams-shaped activities to Keyway's /api/messages.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';

export const TENANT_ID = '72f988bf-0000-4000-8000-00000000cafe';
export const BOT_ID = '28:keyway-bot';

export interface FakeTeamsUser {
  id: string;
  email: string;
  name?: string;
  /** What the Bot Connector says of the member: 'user' (the default), 'guest' or 'anonymous'. */
  userRole?: 'user' | 'guest' | 'anonymous';
}

export interface ConnectorCall {
  seq: number;
  method: string;
  path: string;
  conversationId: string;
  activityId?: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded bodies are whatever botbuilder sent
  body: Record<string, any>;
  authorization?: string;
}

export interface PostedActivity {
  id: string;
  conversationId: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the activity as it stands after updates
  body: Record<string, any>;
  updates: number;
}

export interface FakeBotConnector {
  serviceUrl: string;
  calls: ConnectorCall[];
  /** Activities the bot posted to a conversation, oldest first, as they stand now (after updates). */
  posted(conversationId: string): PostedActivity[];
  activity(id: string): PostedActivity | undefined;
  setDown(down: boolean): void;
  /** Holds every request (after recording it) until the returned function is called, as a slow Bot Connector would. */
  hold(): () => void;
  /** Answers 403 to sends and updates in this conversation, as when the person removed or blocked the app. */
  block(conversationId: string): void;
  close(): Promise<void>;
}

export function personalConversationOf(user: FakeTeamsUser): string {
  return `a:personal-${user.id}`;
}

/** Plain text of a posted activity: its text, or every TextBlock and fact of its card. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activities are loosely typed JSON
export function textOf(activity: Record<string, any>): string {
  const parts: string[] = [];
  if (typeof activity.text === 'string') parts.push(activity.text);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.type === 'TextBlock' && typeof o.text === 'string') parts.push(o.text);
      if (o.type === 'RichTextBlock' && Array.isArray(o.inlines)) parts.push(o.inlines.map((run: { text?: string }) => run.text ?? '').join(''));
      if (typeof o.title === 'string' && typeof o.value === 'string') parts.push(`${o.title}: ${o.value}`);
      Object.values(o).forEach(walk);
    }
  };
  walk(activity.attachments);
  return parts.join('\n');
}

/** The `keyway` actions of a posted card's buttons. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activities are loosely typed JSON
export function buttonsOf(activity: Record<string, any>): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- card JSON
  const actions = (activity.attachments ?? []).flatMap((a: any) => a.content?.actions ?? []);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- card JSON
  return actions.map((a: any) => String(a.data?.keyway));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
}

export async function startFakeBotConnector(users: FakeTeamsUser[]): Promise<FakeBotConnector> {
  const calls: ConnectorCall[] = [];
  const activities = new Map<string, PostedActivity>();
  let seq = 0;
  let down = false;
  const blocked = new Set<string>();
  let held: Promise<void> | undefined;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };

  const server = createServer((req, res) => void (async () => {
    const body = await readJson(req);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = /^\/v3\/conversations\/([^/]+)(?:\/(activities|members)(?:\/([^/]+))?)?$/.exec(path);
    const conversationId = decodeURIComponent(match?.[1] ?? '');
    const activityId = match?.[3] ? decodeURIComponent(match[3]) : undefined;
    calls.push({ seq: ++seq, method: req.method ?? '', path, conversationId, activityId, body, authorization: req.headers.authorization });
    if (held) await held;
    if (down) return send(res, 503, { error: { code: 'ServiceUnavailable', message: 'down' } });
    if (blocked.has(conversationId) && req.method !== 'GET') return send(res, 403, { error: { code: 'BotDisabledByAdmin', message: 'The bot is not part of the conversation roster.' } });
    if (match?.[2] === 'members' && req.method === 'GET' && activityId) {
      const user = users.find((u) => u.id === activityId);
      if (!user) return send(res, 404, { error: { code: 'MemberNotFoundInConversation', message: 'The member was not found' } });
      return send(res, 200, {
        id: user.id, name: user.name ?? user.email, objectId: `aad-${user.id}`, givenName: user.name ?? '', surname: '',
        email: user.email, userPrincipalName: user.email, tenantId: TENANT_ID, userRole: user.userRole ?? 'user',
      });
    }
    if (match?.[2] === 'activities' && req.method === 'POST') {
      const id = `act-${seq}`;
      activities.set(id, { id, conversationId, body, updates: 0 });
      return send(res, 201, { id });
    }
    if (match?.[2] === 'activities' && req.method === 'PUT' && activityId) {
      const existing = activities.get(activityId);
      if (!existing) return send(res, 404, { error: { code: 'ActivityNotFoundInConversation', message: 'not found' } });
      existing.body = body;
      existing.updates++;
      return send(res, 200, { id: activityId });
    }
    return send(res, 404, { error: { code: 'NotFound', message: `no route ${req.method} ${path}` } });
  })());
  const listening = await listenLocally(server);
  const serviceUrl = `http://127.0.0.1:${listening.port}/`;
  return {
    serviceUrl,
    calls,
    posted: (conversationId) => [...activities.values()].filter((a) => a.conversationId === conversationId),
    activity: (id) => activities.get(id),
    setDown: (value) => void (down = value),
    hold() {
      let release = () => undefined as void;
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    block: (conversationId) => void blocked.add(conversationId),
    close: listening.close,
  };
}

/** Posts Teams-shaped activities from a user's personal chat to Keyway's messaging endpoint. */
export class TeamsSender {
  /**
   * `settled` (optional) is awaited after each post: Keyway answers a message at once and works on it after, so a
   * test that looks at the replies right after a post waits for that work first.
   */
  constructor(
    private readonly endpoint: string, private readonly serviceUrl: string, private readonly authorization?: string,
    private readonly settled: () => Promise<void> = async () => undefined,
  ) {}

  private activity(user: FakeTeamsUser, extra: Record<string, unknown>): Record<string, unknown> {
    return {
      type: 'message', id: randomUUID(), timestamp: new Date().toISOString(), serviceUrl: this.serviceUrl, channelId: 'msteams',
      from: { id: user.id, name: user.name ?? user.email, aadObjectId: `aad-${user.id}` },
      conversation: { id: personalConversationOf(user), conversationType: 'personal', tenantId: TENANT_ID },
      recipient: { id: BOT_ID, name: 'Keyway' },
      channelData: { tenant: { id: TENANT_ID } }, locale: 'en-US',
      ...extra,
    };
  }

  async post(activity: Record<string, unknown>, authorization = this.authorization): Promise<{ status: number; text: string }> {
    const res = await fetch(this.endpoint, {
      method: 'POST', body: JSON.stringify(activity),
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    });
    const answer = { status: res.status, text: await res.text() };
    await this.settled();
    return answer;
  }

  message(user: FakeTeamsUser, text: string, extra: Record<string, unknown> = {}) {
    return this.post(this.activity(user, { text, textFormat: 'plain', ...extra }));
  }

  /** An Action.Submit click on a card: Teams sends the card's data and inputs as `value`, replying to the card. */
  submit(user: FakeTeamsUser, value: Record<string, unknown>, cardActivityId?: string) {
    return this.post(this.activity(user, { value, ...(cardActivityId && { replyToId: cardActivityId }) }));
  }

  /** A personal install as Teams announces it: the bot joins the chat, and an installationUpdate follows. */
  async install(user: FakeTeamsUser) {
    const joined = await this.post(this.activity(user, { type: 'conversationUpdate', membersAdded: [{ id: BOT_ID }] }));
    const update = await this.post(this.activity(user, { type: 'installationUpdate', action: 'add' }));
    return { status: Math.max(joined.status, update.status) };
  }

  raw(user: FakeTeamsUser, extra: Record<string, unknown>) {
    return this.activity(user, extra);
  }
}
