import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { boltLogLine, boltLogger } from '../../src/chat/slack/bolt-logger.js';
import { PromiseCache, RecentKeys } from '../../src/chat/ttl-cache.js';

describe('what Bolt may log', () => {
  it('never logs a Socket Mode payload or anything that looks like a private key', () => {
    expect(boltLogLine(['Received a message on the WebSocket: {"payload":{"text":"key -----BEGIN OPENSSH PRIVATE KEY-----"}}']))
      .toBe('Received a message on the WebSocket: [payload not logged]');
    expect(boltLogLine(['Calling ack() - type: slash_commands, envelope_id: 1, data: {"text":"secret"}'])).toBe('Calling ack() - type: slash_commands, envelope_id: 1, data: [payload not logged]');
    expect(boltLogLine(['oops', new Error('-----BEGIN RSA PRIVATE KEY----- MII')])).not.toContain('MII');
    // The Web API client's debug echo of a grant message would carry a Windows password.
    expect(boltLogLine(['http request body: {"blocks":[{"text":"Pw-secret-1"}]}'])).toBe('http request body: [payload not logged]');
    expect(boltLogLine(['http request result: {"ok":true,"message":{"text":"Pw-secret-1"}}'])).toBe('http request result: [payload not logged]');
    expect(boltLogLine(['Sending request', { method: 'chat.update' }])).toBe('Sending request {"method":"chat.update"}');
  });

  it('makes text of a debug line only when debug lines are logged (Bolt writes several for every request)', () => {
    let serialized = 0;
    const part = { toJSON: () => ({ n: ++serialized }) };
    const lines: string[] = [];
    const sink = { write: (line: string) => void lines.push(line) };
    boltLogger(pino({ level: 'info' }, sink)).debug('Calling listener', part);
    expect(serialized).toBe(0);
    expect(lines).toEqual([]);
    boltLogger(pino({ level: 'debug' }, sink)).debug('Calling listener', part);
    expect(serialized).toBe(1);
    expect(JSON.parse(lines[0]!).msg).toBe('Calling listener {"n":1}');
  });
});

describe('Slack look-up caches', () => {
  it('asks once per key while an answer is fresh, again after the TTL, and never keeps a failure', async () => {
    let now = 0;
    let calls = 0;
    const cache = new PromiseCache<string, number>(1000, 10, () => now);
    const load = async () => ++calls;
    expect(await Promise.all([cache.remember('a', load), cache.remember('a', load)])).toEqual([1, 1]);
    now = 1001;
    expect(await cache.remember('a', load)).toBe(2);
    await expect(cache.remember('b', async () => { throw new Error('slack down'); })).rejects.toThrow('slack down');
    expect(await cache.remember('b', load)).toBe(3);
  });

  it('remembers a bounded number of recent trigger ids', () => {
    const seen = new RecentKeys(2);
    expect([seen.add('t1'), seen.add('t1'), seen.add('t2'), seen.add('t3'), seen.add('t1')]).toEqual([true, false, true, true, true]);
  });
});
