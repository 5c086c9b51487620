// pino, JSON by default; pretty only when asked (LOG_PRETTY=true) and stdout is a TTY. Secrets are redacted by path.
import { pino, type Logger, type DestinationStream } from 'pino';

export const REDACT_PATHS = [
  'token', '*.token', 'botToken', '*.botToken', 'appToken', '*.appToken', 'signingSecret', '*.signingSecret',
  'password', '*.password', 'appPassword', '*.appPassword', 'privateKey', '*.privateKey', '*.*.privateKey',
  'secret', '*.secret', 'caKey', '*.caKey', 'connectorKey', '*.connectorKey', 'authorization', '*.authorization',
  'headers.authorization', 'req.headers.authorization', 'req.headers["x-slack-signature"]', 'env', '*.env',
  'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'MICROSOFT_APP_PASSWORD', 'SSH_CA_KEY_BASE64', 'CONNECTOR_SSH_KEY_BASE64',
];

export function createLogger(options: { level?: string; pretty?: boolean } = {}, destination?: DestinationStream): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (options.pretty && !destination) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return destination ? pino(base, destination) : pino(base);
}
