import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  return { lines, logger: createLogger({ level: 'info' }, stream) };
}

describe('logging', () => {
  it('writes JSON and redacts secrets by path', () => {
    const { lines, logger } = capture();
    logger.info({ slack: { botToken: 'xoxb-secret-1', signingSecret: 'sig-secret-2' }, privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----x', env: { SLACK_BOT_TOKEN: 'xoxb-3' }, requestId: 42 }, 'started');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ msg: 'started', requestId: 42, slack: { botToken: '[redacted]', signingSecret: '[redacted]' }, privateKey: '[redacted]', env: '[redacted]' });
    for (const secret of ['xoxb-secret-1', 'sig-secret-2', 'BEGIN OPENSSH', 'xoxb-3']) expect(lines[0]).not.toContain(secret);
  });
});
