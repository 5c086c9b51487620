// How fast Keyway acknowledges Slack (which gives up after 3 s): 200 approval clicks and 200 slash commands,
// signed, sent at once over HTTP to the real Bolt app (real SQLite, real certificates, simulated servers).
// Slack's side — the load and a local fake of the Web API — runs in a worker thread, as Slack is not in
// Keyway's process; the acknowledgement latency is measured there, from sending to the full answer.
// The floor is a bare Bolt app from the same node_modules whose handlers only ack, driven by the same burst in the
// same run (before and after Keyway's turn, as the machine's load drifts): Keyway should stay within 1.5× of it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { pino } from 'pino';
import { createEngine } from '../src/access/engine.js';
import { createGrantRunner } from '../test/helpers/grant-runner.js';
import type { HostEffects } from '../src/targets/ssh/host-effects.js';
import { submitRequest } from '../src/access/requests.js';
import { generateCaKey } from '../src/ca/ca-key.js';
import { undeliveredCount } from '../src/store/outbox.js';
import { createSlackFrontDoor } from '../src/chat/slack/slack-app.js';
import { accessConfig, flow } from '../test/helpers/access-config.js';
import { registerKey, testContext } from '../test/helpers/access-context.js';
import { startFakeSlack } from '../test/helpers/fake-slack.js';
import { listenLocally } from '../test/helpers/local-server.js';
import { SlackSender } from '../test/helpers/slack-requests.js';

const CLICKS = 200;
const COMMANDS = 200;
const SLACK_DEADLINE_MS = 3_000;
const SECRET = 'bench-signing-secret';
const ROLE = 'keyway-bench-slack-side';
const FLOOR_RATIO = 1.5;
const CEILING_MS = 1_000;

type FromSlack =
  | { kind: 'ready'; apiUrl: string; teamId: string; appId: string }
  | { kind: 'done'; clicks: number[]; commands: number[]; failed: number; startedAt: number; ackedAt: number }
  | { kind: 'closed'; calls: number };
type ToSlack = { kind: 'go'; url: string; pending: number[] } | { kind: 'close' };

const wallClock = () => performance.timeOrigin + performance.now();

/** Slack's side, in the worker: the fake Web API, then the burst of signed requests. */
async function slackSide(): Promise<void> {
  const port = parentPort!;
  const fake = await startFakeSlack({ users: [{ id: 'U0DEV', email: 'dev@example.com' }, { id: 'U0LEAD', email: 'lead@example.com' }] });
  port.on('message', async (message: ToSlack) => {
    if (message.kind === 'close') {
      await fake.close();
      port.postMessage({ kind: 'closed', calls: fake.calls.length } satisfies FromSlack);
      return;
    }
    const slack = new SlackSender(message.url, SECRET, { teamId: fake.teamId, appId: fake.appId }, fake.responseUrl);
    await slack.command('U0LEAD', 'help'); // warm-up: the first request of a connection pays for its set-up
    const startedAt = wallClock();
    const [clicks, commands] = await Promise.all([
      Promise.all(message.pending.map((id) => slack.click('U0LEAD', 'keyway_approve', String(id), { channel: 'D0LEAD', ts: '1.1' }))),
      Promise.all(Array.from({ length: COMMANDS }, (_, i) => slack.command('U0DEV', `request web-1 30m bench command ${i}`))),
    ]);
    port.postMessage({
      kind: 'done', clicks: clicks.map((a) => a.ms), commands: commands.map((a) => a.ms),
      failed: [...clicks, ...commands].filter((a) => a.status !== 200).length, startedAt, ackedAt: wallClock(),
    } satisfies FromSlack);
  });
  port.postMessage({ kind: 'ready', apiUrl: fake.apiUrl, teamId: fake.teamId, appId: fake.appId } satisfies FromSlack);
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) void slackSide();

function next<K extends FromSlack['kind']>(worker: Worker, kind: K): Promise<Extract<FromSlack, { kind: K }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromSlack) => {
      if (message.kind !== kind) return;
      worker.off('message', onMessage).off('error', reject);
      resolve(message as Extract<FromSlack, { kind: K }>);
    };
    worker.on('message', onMessage).once('error', reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(label: string, samples: number[]): string {
  const ms = [...samples].sort((a, b) => a - b);
  const f = (n: number) => `${n.toFixed(1).padStart(7)} ms`;
  return `  ${label.padEnd(16)} p50 ${f(percentile(ms, 50))}   p99 ${f(percentile(ms, 99))}   max ${f(ms.at(-1) ?? Number.NaN)}`;
}

/** Serves Slack's endpoint over HTTP on a free loopback port; returns its URL and how to close it. */
async function serve(listener: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const listening = await listenLocally(createServer(listener));
  return { url: `http://127.0.0.1:${listening.port}/slack/events`, close: listening.close };
}

/** The floor: a bare Bolt app whose handlers only ack, driven by the same signed burst. */
async function bareBolt(worker: Worker, pending: number[]): Promise<Extract<FromSlack, { kind: 'done' }>> {
  const receiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  const app = new App({ receiver, logLevel: LogLevel.ERROR, authorize: async () => ({ botToken: 'xoxb-bench', botId: 'B0BARE', botUserId: 'U0BARE' }) });
  app.command('/ssh-access', async ({ ack }) => ack());
  app.action(/.*/, async ({ ack }) => ack());
  const endpoint = await serve((req, res) => receiver.requestListener(req, res));
  try {
    const done = next(worker, 'done');
    worker.postMessage({ kind: 'go', url: endpoint.url, pending } satisfies ToSlack);
    return await done;
  } finally {
    await endpoint.close();
  }
}

export async function benchSlack(): Promise<string[]> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
  const ready = await next(worker, 'ready');
  const pendingIds = Array.from({ length: CLICKS }, (_, i) => i + 1);
  const floorBefore = await bareBolt(worker, pendingIds);
  const ctx = testContext(accessConfig({
    maxPendingRequests: CLICKS + COMMANDS, // one requester makes every request of the burst: none is refused for waiting
    integrations: accessConfig().integrations.map((i) => ({ ...i, resourceOwnerTag: undefined })),
    flows: [flow('bench', 'prod-linux', {
      resources: { integration: 'prod-linux', servers: ['web-1', 'web-2', 'db-1'], tags: {} },
      requesters: { everyone: false, emails: ['dev@example.com'], slackUsergroups: [] },
      approvers: { everyone: false, emails: ['lead@example.com'], slackUsergroups: [] },
    })],
  }), Date.now());
  registerKey(ctx, 'dev@example.com', 'dev');
  // Servers answer in 20–80 ms, as over SSH; what is measured is Keyway's side of Slack, not provisioning.
  let provisioned = 0;
  const serverLatency = () => new Promise<void>((resolve) => setTimeout(resolve, 20 + ((provisioned++ * 37) % 61)));
  const hosts: HostEffects = { provision: serverLatency, revoke: serverLatency, cleanup: async () => undefined };
  const engine = createEngine(createGrantRunner(ctx, hosts, generateCaKey().caKey), []);
  const front = createSlackFrontDoor({ engine, logger: pino({ level: 'silent' }), slack: { botToken: 'xoxb-bench', signingSecret: SECRET, apiUrl: ready.apiUrl } });
  engine.platforms.push(front.platform);
  const endpoint = await serve((req, res) => front.requestListener!(req, res));
  try {
    await front.start();
    const pending = Array.from({ length: CLICKS }, (_, i) => submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: `bench ${i}` }, 'bench').request.id);
    while (undeliveredCount(ctx.db) > 0) {
      engine.kick();
      await front.settled(); // the approval messages exist before the burst
    }

    const done = next(worker, 'done');
    worker.postMessage({ kind: 'go', url: endpoint.url, pending } satisfies ToSlack);
    const result = await done;
    await front.settled();
    // The engine delivers the outbox in batches; keep it going until everything owed has been sent.
    for (let round = 0; round < 100 && undeliveredCount(ctx.db) > 0; round++) {
      engine.kick();
      await front.settled();
    }
    const followUp = wallClock() - result.startedAt;
    const floorAfter = await bareBolt(worker, pendingIds);
    const closed = next(worker, 'closed');
    worker.postMessage({ kind: 'close' } satisfies ToSlack);
    const { calls } = await closed;

    const all = [...result.clicks, ...result.commands];
    const slowest = Math.max(...all);
    const p99 = percentile([...all].sort((a, b) => a - b), 99);
    const floorP99s = [floorBefore, floorAfter].map((f) => percentile([...f.clicks, ...f.commands].sort((a, b) => a - b), 99));
    const floor = (floorP99s[0]! + floorP99s[1]!) / 2;
    const ratio = p99 / floor;
    const count = (sql: string) => (ctx.db.prepare(sql).get() as { n: number }).n;
    return [
      `Slack acknowledgement latency: ${CLICKS} approval clicks + ${COMMANDS} slash commands sent at once (signed HTTP, real Bolt app, SQLite with synchronous=FULL):`,
      summary('approval clicks', result.clicks),
      summary('slash commands', result.commands),
      summary('all', all),
      `  all ${all.length} answered within ${(result.ackedAt - result.startedAt).toFixed(0)} ms; ${result.failed} not 200; slowest ${slowest.toFixed(0)} ms (Slack's limit ${SLACK_DEADLINE_MS} ms: ${result.failed === 0 && slowest < SLACK_DEADLINE_MS ? 'met' : 'NOT MET'})`,
      `  bare Bolt floor (handlers only ack, same burst, same run): all p99 ${floorP99s.map((n) => `${n.toFixed(1)} ms`).join(' before, ')} after; ` +
        `${floorBefore.failed + floorAfter.failed} not 200`,
      `  Keyway all p99 ${p99.toFixed(1)} ms = ${ratio.toFixed(2)}× the bare-Bolt floor ${floor.toFixed(1)} ms ` +
        `(target ≤ ${FLOOR_RATIO}× and ≤ ${CEILING_MS} ms: ${ratio <= FLOOR_RATIO && p99 <= CEILING_MS ? 'met' : 'NOT MET'})`,
      `  follow-up work finished ${followUp.toFixed(0)} ms after the burst began: ${count("SELECT COUNT(*) AS n FROM requests WHERE state = 'approved'")} requests approved, provisioned and certified; ` +
        `${count("SELECT COUNT(*) AS n FROM requests WHERE source = 'slack'")} new requests sent to the approver; ${calls} Web API calls in all, ${undeliveredCount(ctx.db)} messages left undelivered`,
    ];
  } finally {
    await front.stop();
    await endpoint.close();
    await worker.terminate();
    ctx.close();
  }
}
