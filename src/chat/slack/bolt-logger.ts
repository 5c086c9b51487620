// Bolt and the Slack Web API client log through Keyway's pino logger (and so through its redaction).
import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { looksLikePrivateKey } from '../../ca/user-key.js';

// At debug level the Socket Mode client echoes whole payloads (a slash command's text may hold a pasted key) and the
// Web API client echoes request and response bodies (a grant message holds a one-time Windows password).
const PAYLOAD_ECHO = /^(Received a message on the WebSocket|Calling ack\(\).*?, data|Unable to parse an incoming WebSocket message|http request (body|result))/;

export function boltLogLine(parts: unknown[]): string {
  const text = parts.map((p) => (p instanceof Error ? p.message : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  const echo = PAYLOAD_ECHO.exec(text);
  if (echo) return `${echo[0]}: [payload not logged]`;
  return looksLikePrivateKey(text) ? '[a log line that looked like it held a private key was not logged]' : text;
}

export function boltLogger(logger: Logger): BoltLogger {
  const log = logger.child({ component: 'slack' });
  let level = LogLevel.INFO;
  return {
    // Bolt writes debug lines for every request: made into text only when they are logged.
    debug: (...parts) => log.isLevelEnabled('debug') && log.debug(boltLogLine(parts)),
    info: (...parts) => log.isLevelEnabled('info') && log.info(boltLogLine(parts)),
    warn: (...parts) => log.warn(boltLogLine(parts)),
    error: (...parts) => log.error(boltLogLine(parts)),
    setLevel: (next) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}
