// The fake Bot Framework identity service (fake-bot-identity.ts) with signing keys endorsed for more channels than
// `msteams`, as Microsoft's real keys are (Web Chat, Direct Line, …): botbuilder accepts a token for an activity
// only if the signing key endorses the activity's channel, so this is what lets a test reach Keyway's own check
// of the channel with a valid token. A small proxy in front of the fake rewrites its key list; tokens, the token
// endpoint and the record of issued tokens stay the fake's.
import { createServer } from 'node:http';
import { startFakeBotIdentity, type FakeBotIdentity } from './fake-bot-identity.js';
import { listenLocally } from './local-server.js';

export async function startEndorsingBotIdentity(channels: string[]): Promise<FakeBotIdentity> {
  const inner = await startFakeBotIdentity();
  const server = createServer((req, res) => void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${inner.base}${req.url ?? '/'}`, {
      method: req.method,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : Buffer.concat(chunks),
    });
    let body = await upstream.text();
    if (req.url === '/v1/.well-known/openidconfiguration') body = body.split(inner.base).join(base);
    if (req.url === '/v1/keys') {
      const keys = JSON.parse(body) as { keys: Array<{ endorsements?: string[] }> };
      for (const key of keys.keys) key.endorsements = [...new Set([...(key.endorsements ?? []), ...channels])];
      body = JSON.stringify(keys);
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(body);
  })());
  const listening = await listenLocally(server);
  const base = `http://127.0.0.1:${listening.port}`;
  return {
    ...inner,
    base,
    close: async () => {
      await listening.close();
      await inner.close();
    },
  };
}
