// Socket Mode: with SLACK_APP_TOKEN the same handlers serve envelopes from Slack's WebSocket. Slack's side is a
// minimal RFC 6455 server here (text frames, ping/pong, close) that sends envelopes and collects the acks.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { createEngine } from '../../src/access/engine.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../src/chat/slack/slack-app.js';
import { getRequest } from '../../src/store/requests.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { startFakeSlack, type FakeSlack } from '../helpers/fake-slack.js';
import { PEOPLE, approvalMessageOf, dmChannel, recordingHosts } from './slack-harness.js';

interface SlackSocket {
  url: string;
  connected: Promise<void>;
  send(message: object): void;
  ackFor(envelopeId: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, length])
    : length < 65_536 ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  return Buffer.concat([head, payload]);
}

async function startSlackSocket(): Promise<SlackSocket> {
  const acks = new Map<string, (body: Record<string, unknown>) => void>();
  const received = new Map<string, Record<string, unknown>>();
  let socket: Socket | undefined;
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, raw: Socket) => {
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    raw.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket = raw;
    let buffer = Buffer.alloc(0);
    raw.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) [length, offset] = [buffer.readUInt16BE(2), 4];
        else if (length === 127) [length, offset] = [Number(buffer.readBigUInt64BE(2)), 10];
        if (buffer.length < offset + 4 + length) return;
        const mask = buffer.subarray(offset, offset + 4);
        const payload = Buffer.from(buffer.subarray(offset + 4, offset + 4 + length).map((byte, i) => byte ^ mask[i % 4]!));
        buffer = buffer.subarray(offset + 4 + length);
        if (opcode === 0x9) raw.write(frame(0xa, payload));
        else if (opcode === 0x8) raw.end(frame(0x8, Buffer.alloc(0)));
        else if (opcode === 0x1) {
          const message = JSON.parse(payload.toString('utf8')) as { envelope_id: string };
          received.set(message.envelope_id, message);
          acks.get(message.envelope_id)?.(message);
        }
      }
    });
    raw.on('error', () => raw.destroy());
    raw.write(frame(0x1, Buffer.from(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0KEYWAY' } }))));
    onConnected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/link`,
    connected,
    send: (message) => socket!.write(frame(0x1, Buffer.from(JSON.stringify(message)))),
    ackFor: (id) => (received.has(id) ? Promise.resolve(received.get(id)!) : new Promise((resolve) => acks.set(id, resolve))),
    close: () => new Promise((resolve) => {
      socket?.destroy();
      server.close(() => resolve());
    }),
  };
}

let ctx: TestContext | undefined;
let fake: FakeSlack | undefined;
let socket: SlackSocket | undefined;
let front: SlackFrontDoor | undefined;
afterEach(async () => {
  await front?.stop();
  await socket?.close();
  await fake?.close();
  ctx?.close();
});

it('serves the slash command and the approval click over Socket Mode with the same handlers', async () => {
  socket = await startSlackSocket();
  fake = await startFakeSlack({ users: Object.values(PEOPLE), socketUrl: socket.url });
  ctx = testContext(accessConfig());
  registerKey(ctx, PEOPLE.dev.email, 'dev');
  const engine = createEngine(createGrantRunner(ctx, recordingHosts(), generateCaKey().caKey), []);
  front = createSlackFrontDoor({ engine, logger: pino({ level: 'silent' }), slack: { botToken: 'xoxb-test', appToken: 'xapp-test', apiUrl: fake.apiUrl } });
  engine.platforms.push(front.platform);
  expect(front.requestListener).toBeUndefined();
  await front.start();
  await socket.connected;
  expect(fake.callsTo('apps.connections.open')[0]!.token).toBe('xapp-test');

  socket.send({
    envelope_id: 'env-1', type: 'slash_commands', accepts_response_payload: true,
    payload: { command: '/ssh-access', text: 'request web-2 1h INC-9', user_id: PEOPLE.dev.id, team_id: fake.teamId, api_app_id: fake.appId, trigger_id: 't.1', response_url: fake.responseUrl('socket-command'), channel_id: 'C1' },
  });
  expect(await socket.ackFor('env-1')).toMatchObject({ envelope_id: 'env-1' });
  await front.settled();
  expect(getRequest(ctx.db, 1)!.state).toBe('pending');
  const where = approvalMessageOf({ ctx }, 1, PEOPLE.lead.id);
  expect(where.channel).toBe(dmChannel(PEOPLE.lead.id));

  socket.send({
    envelope_id: 'env-2', type: 'interactive', accepts_response_payload: false,
    payload: {
      type: 'block_actions', team: { id: fake.teamId }, user: { id: PEOPLE.lead.id }, api_app_id: fake.appId, trigger_id: 't.2',
      actions: [{ type: 'button', action_id: 'keyway_approve', value: '1' }], container: { type: 'message', channel_id: where.channel, message_ts: where.ts },
      channel: { id: where.channel }, message: { ts: where.ts }, response_url: fake.responseUrl('socket-click'),
    },
  });
  await socket.ackFor('env-2');
  await front.settled();
  expect(getRequest(ctx.db, 1)).toMatchObject({ state: 'approved', decidedBy: PEOPLE.lead.email });
  expect(fake.callsTo('chat.postMessage').some((c) => c.response.channel === dmChannel(PEOPLE.dev.id) && JSON.stringify(c.body).includes('-cert-v01@openssh.com'))).toBe(true);
});
