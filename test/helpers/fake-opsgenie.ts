// A local stand-in for Opsgenie's Who-is-on-call API, written from the public reference:
// GET /v2/schedules/{id}/on-calls?scheduleIdentifierType=id&flat=true&date=…, `Authorization: GenieKey …`;
// with flat=true it answers { data: { _parent: {id, name, enabled}, onCallRecipients: [user names] }, took, requestId }.
import { createServer, type Server } from 'node:http';
import { listenLocally } from './local-server.js';

export interface FakeOpsgenie {
  apiUrl: string;
  key: string;
  /** schedule id → the user names (e-mails) on call now. */
  schedules: Map<string, string[]>;
  calls: URL[];
  failWith: number | undefined;
  close(): Promise<void>;
}

export async function startFakeOpsgenie(key = 'og-test-key'): Promise<FakeOpsgenie> {
  const fake: FakeOpsgenie = { apiUrl: '', key, schedules: new Map(), calls: [], failWith: undefined, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    fake.calls.push(url);
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `GenieKey ${fake.key}`) return json(401, { message: 'Could not authenticate', took: 0, requestId: 'r' });
    if (fake.failWith) return json(fake.failWith, { message: 'failing as told', took: 0, requestId: 'r' });
    const match = /^\/v2\/schedules\/([^/]+)\/on-calls$/.exec(url.pathname);
    const id = match ? decodeURIComponent(match[1]!) : undefined;
    if (!id || !fake.schedules.has(id)) return json(404, { message: 'Schedule not found', took: 0, requestId: 'r' });
    const people = fake.schedules.get(id)!;
    const parent = { id, name: `schedule ${id}`, enabled: true };
    json(200, url.searchParams.get('flat') === 'true'
      ? { data: { _parent: parent, onCallRecipients: people }, took: 0.01, requestId: 'r' }
      : { data: { _parent: parent, onCallParticipants: people.map((p) => ({ id: p, name: p, type: 'user' })) }, took: 0.01, requestId: 'r' });
  });
  const listening = await listenLocally(server);
  fake.apiUrl = `http://127.0.0.1:${listening.port}`;
  fake.close = listening.close;
  return fake;
}
