// A local stand-in for PagerDuty's REST API v2 `GET /oncalls`, written from the public reference: schedule_ids[],
// include[]=users (the user object then carries its email), since/until, offset/limit/more paging, and
// `Authorization: Token token=…`. It records calls, and can answer an error status instead.
import { createServer, type Server } from 'node:http';
import { listenLocally } from './local-server.js';

export interface FakeShift {
  email: string;
  /** Epoch ms. */
  start: number;
  end: number;
}

export interface FakePagerDuty {
  apiUrl: string;
  token: string;
  /** schedule id → its shifts. */
  schedules: Map<string, FakeShift[]>;
  calls: URL[];
  /** Set to answer every call with this status (401, 429, 500…). */
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startFakePagerDuty(token = 'pd-test-token'): Promise<FakePagerDuty> {
  const fake: FakePagerDuty = { apiUrl: '', token, schedules: new Map(), calls: [], failWith: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    fake.calls.push(url);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Token token=${fake.token}`) return json(401, { error: { message: 'Unauthorized', code: 2006 } });
    if (fake.failWith) return json(fake.failWith, { error: { message: 'failing as told', code: 2001 } });
    if (url.pathname !== '/oncalls') return json(404, { error: { message: 'Not Found', code: 2100 } });
    const since = Date.parse(url.searchParams.get('since') ?? new Date().toISOString());
    const until = Date.parse(url.searchParams.get('until') ?? new Date(since).toISOString());
    const withUsers = url.searchParams.getAll('include[]').includes('users');
    const all = url.searchParams.getAll('schedule_ids[]').flatMap((id) => (fake.schedules.get(id) ?? [])
      .filter((s) => s.start < until && s.end > since)
      .map((s, i) => ({
        escalation_policy: { id: 'PEP1', type: 'escalation_policy_reference' },
        escalation_level: 1,
        schedule: { id, type: 'schedule_reference', summary: id },
        user: withUsers
          ? { id: `PU${i}`, type: 'user', name: s.email.split('@')[0], email: s.email, summary: s.email.split('@')[0] }
          : { id: `PU${i}`, type: 'user_reference', summary: s.email.split('@')[0] },
        start: new Date(s.start).toISOString(),
        end: new Date(s.end).toISOString(),
      })));
    const limit = Number(url.searchParams.get('limit') ?? 25);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    json(200, { oncalls: all.slice(offset, offset + limit), limit, offset, more: offset + limit < all.length, total: null });
  });
  const listening = await listenLocally(server);
  fake.apiUrl = `http://127.0.0.1:${listening.port}`;
  fake.close = listening.close;
  return fake;
}
