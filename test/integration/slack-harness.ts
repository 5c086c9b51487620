// The real Bolt app behind a plain node:http server on a free port, a fake Slack Web API, a real SQLite
// database and a recording HostEffects: what the Slack integration tests drive with signed requests.
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { expect } from 'vitest';
import { createEngine, type Engine } from '../../src/access/engine.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { createGrantRunner as createRunner } from '../../src/access/grant-runner.js';
import type { TargetDriver } from '../../src/access/target-driver.js';
import { targetDrivers } from '../../src/compose.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { generateCaKey, type CaKey } from '../../src/ca/ca-key.js';
import { chatMessagesOf } from '../../src/store/chat-messages.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../src/chat/slack/slack-app.js';
import type { AccessConfig, Flow, Integration } from '../../src/core/model.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { testContext, type TestContext } from '../helpers/access-context.js';
import { startFakeSlack, type FakeSlack, type FakeSlackUser, type SlackCall } from '../helpers/fake-slack.js';
import { SlackSender } from '../helpers/slack-requests.js';
import { listenLocally } from '../helpers/local-server.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';

export const PEOPLE = {
  dev: { id: 'U0DEV', email: 'dev@example.com' },
  lead: { id: 'U0LEAD', email: 'lead@example.com' },
  lead2: { id: 'U0LEAD2', email: 'lead2@example.com' },
  ana: { id: 'U0ANA', email: 'ana@example.com' },
  platform: { id: 'U0PLATFORM', email: 'platform@example.com' },
  outsider: { id: 'U0OUTSIDER', email: 'outsider@example.com' },
} as const satisfies Record<string, FakeSlackUser & { email: string }>;

export interface RecordingHosts extends HostEffects {
  provisioned: string[];
  revoked: string[];
}

export function recordingHosts(): RecordingHosts {
  const hosts: RecordingHosts = {
    provisioned: [],
    revoked: [],
    provision: async (ref, grant) => void hosts.provisioned.push(`${ref.server.name}:${grant.linuxUser}`),
    revoke: async (ref, grant) => void hosts.revoked.push(`${ref.server.name}:${grant.linuxUser}`),
    cleanup: async () => undefined,
  };
  return hosts;
}

export interface SlackRig {
  ctx: TestContext;
  engine: Engine;
  fake: FakeSlack;
  front: SlackFrontDoor;
  slack: SlackSender;
  hosts: HostEffects;
  ca: CaKey;
  /** Waits until the handlers are done and the engine is idle. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface RigOptions {
  config?: AccessConfig;
  /** The servers' side; a function gets the rig's context (e.g. for real hosts that pin keys in its database). */
  hosts?: HostEffects | ((ctx: TestContext) => HostEffects);
  /** Epoch ms the test clock starts at (real certificates need the real time). */
  clockStart?: number;
  usergroups?: Record<string, string[]>;
  extraUsers?: FakeSlackUser[];
  /** How long Slack look-ups are cached (0: every look-up asks Slack). */
  cacheTtlMs?: number;
  /** The CA that signs certificates (default: a new ed25519 key). */
  caKey?: CaKey;
  /** Target kinds beside SSH (a test-only kind), registered as the composition root registers real ones. */
  drivers?: Array<[string, TargetDriver]>;
  /** Runs before Keyway first talks to the fake (e.g. to make bots.info fail). */
  prepareFake?: (fake: FakeSlack) => void;
  logger?: Logger;
}

/** A logger whose lines (parsed) the test can read. */
export function capturedLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) });
  return { logger: pino({ level: 'info' }, stream), lines };
}

export async function startSlackRig(options: RigOptions = {}): Promise<SlackRig> {
  const ctx = testContext(options.config ?? accessConfig(), options.clockStart);
  const fake = await startFakeSlack({ users: [...Object.values(PEOPLE), ...(options.extraUsers ?? [])], usergroups: options.usergroups });
  options.prepareFake?.(fake);
  const hosts = typeof options.hosts === 'function' ? options.hosts(ctx) : options.hosts ?? recordingHosts();
  const caKey = options.caKey ?? generateCaKey().caKey;
  const runner = options.drivers
    ? createRunner(ctx, new Map([...targetDrivers({ hosts, ca: caKey }), ...options.drivers]))
    : createGrantRunner(ctx, hosts, caKey);
  const engine = createEngine(runner, []);
  const front = createSlackFrontDoor({
    engine, logger: options.logger ?? pino({ level: 'silent' }), cacheTtlMs: options.cacheTtlMs,
    slack: { botToken: 'xoxb-test-token', signingSecret: SIGNING_SECRET, apiUrl: fake.apiUrl.replace(/\/$/, '') },
  });
  engine.platforms.push(front.platform);
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/slack/events') && front.requestListener) front.requestListener(req, res);
    else res.writeHead(404).end();
  });
  const listening = await listenLocally(server);
  await front.start();
  const url = `http://127.0.0.1:${listening.port}/slack/events`;
  const slack = new SlackSender(url, SIGNING_SECRET, { teamId: fake.teamId, appId: fake.appId }, fake.responseUrl);
  return {
    ctx, engine, fake, front, slack, hosts, ca: caKey,
    settle: () => front.settled(),
    async close() {
      await front.stop();
      await listening.close();
      await fake.close();
      ctx.close();
    },
  };
}

/** Everything Slack was sent in a call, as one string (blocks included), for "does it mention X" checks. */
export function callText(call: SlackCall): string {
  return JSON.stringify(call.body);
}

/** Action ids of the buttons in a message body. */
export function buttonsOf(body: { blocks?: Array<{ type: string; elements?: Array<{ action_id?: string }>; accessory?: { action_id?: string } }> }): string[] {
  return (body.blocks ?? []).flatMap((b) => [...(b.elements ?? []).map((e) => e.action_id), b.accessory?.action_id]).filter((a): a is string => a !== undefined);
}

export function dmChannel(userId: string): string {
  return `D${userId.slice(1)}`;
}

export function countRows(rig: SlackRig, table: string): number {
  return (rig.ctx.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Sends `/ssh-access <text>` as the person, waits for the follow-up work, returns the newest request id. */
export async function requestByCommand(rig: SlackRig, userId: string, text: string): Promise<number> {
  const answer = await rig.slack.command(userId, text);
  if (answer.status !== 200) throw new Error(`command answered ${answer.status}`);
  await rig.settle();
  const row = rig.ctx.db.prepare('SELECT MAX(id) AS id FROM requests').get() as { id: number | null };
  if (row.id === null) throw new Error(`no request was created; Slack was told: ${rig.fake.callsTo('response_url').map(callText).join(' | ')}`);
  return row.id;
}

/** Where the approval message of a request for this Slack user (or channel) was posted. */
export function approvalMessageOf(rig: Pick<SlackRig, 'ctx'>, requestId: number, recipient: string): { channel: string; ts: string } {
  const ref = chatMessagesOf<{ channel: string; ts: string }>(rig.ctx.db, 'slack', requestId, 'approval').find((m) => m.recipient === recipient)?.address;
  if (!ref) throw new Error(`no approval message of request ${requestId} for ${recipient}`);
  return { channel: ref.channel, ts: ref.ts };
}

/** The approver clicks Approve on the request's approval message; returns when the work it started has finished. */
export async function approveAs(rig: SlackRig, approverId: string, requestId: number): Promise<void> {
  await rig.slack.click(approverId, 'keyway_approve', String(requestId), approvalMessageOf(rig, requestId, approverId));
  await rig.settle();
  await rig.engine.idle();
  await rig.settle();
}

/** The one-time password of the latest credential DM to this user (among Web API calls from `fromCall` on). */
export function passwordFromDm(rig: SlackRig, userId: string, fromCall = 0): string {
  const call = rig.fake.callsTo('chat.postMessage').slice(fromCall).filter((c) => c.response.channel === dmChannel(userId) && callText(c).includes('Your password')).at(-1);
  expect(call, 'the credential DM').toBeDefined();
  const blocks = (call!.body as { blocks: Array<{ type: string; text?: { text: string }; elements?: Array<{ elements?: Array<{ text?: string }> }> }> }).blocks;
  const at = blocks.findIndex((b) => b.text?.text.includes('Your password'));
  const password = blocks[at + 1]?.elements?.[0]?.elements?.[0]?.text;
  expect(password, 'the password block (after "Your password")').toMatch(/^\S{24}$/);
  return password!;
}

/** What submitted modals were updated to show after the "working on it" acknowledgement, newest last. */
export function modalAnswers(rig: SlackRig): string[] {
  return rig.fake.callsTo('views.update').map((c) => JSON.stringify(c.body.view.blocks));
}

/** The response_url answers the person got, newest last. */
export function repliesTo(rig: SlackRig, userId: string): string[] {
  return rig.fake.callsTo('response_url').filter((c) => c.tag?.includes(`-${userId}-`)).map((c) => String(c.body.text));
}

/** A flow over every server of an integration, open to everyone unless `extra` says otherwise. */
export function openFlow(name: string, over: Integration, extra: Partial<Flow> = {}): Flow {
  return flow(name, over.name, {
    resources: { integration: over.name, servers: over.servers.map((s) => s.name), tags: {} },
    requesters: { everyone: true, emails: [], slackUsergroups: [] }, ...extra,
  });
}
