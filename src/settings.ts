// Settings from the environment: a pure function of env, so tests pass an object (after probot's read-env-options).
import { UserError } from './core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Settings {
  configPath: string;
  dataDir: string;
  /** The public listener, for Slack (/slack/events) and Teams (/api/messages): HOST and PORT. */
  host: string;
  port: number;
  /** /healthz and /metrics, never on the public listener: METRICS_ADDR. */
  metrics: ListenAddress;
  logLevel: string;
  logPretty: boolean;
  slack?: { botToken: string; signingSecret?: string; appToken?: string; apiUrl?: string };
  teams?: {
    appId: string; appPassword: string; tenantId?: string;
    /** Microsoft tenants whose users may use Keyway: MICROSOFT_APP_TENANT_ID, or KEYWAY_TEAMS_TENANTS for a multi-tenant bot. */
    tenants: string[];
    allowUnauthenticated: boolean;
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_METRICS_ADDR = '127.0.0.1:9464';
const ADDRESS = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const port = Number(env.PORT ?? 3000);
  if (!isPort(port)) throw new UserError('usage', `PORT must be a port number, not "${env.PORT}".`);
  const host = env.HOST || DEFAULT_HOST;
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new UserError('usage', `HOST must be an address to listen on, such as 0.0.0.0 or 127.0.0.1, not "${host}".`);
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new UserError('usage', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
  const settings: Settings = {
    configPath: env.KEYWAY_CONFIG || 'config/access.yaml',
    dataDir: env.KEYWAY_DATA_DIR || './data',
    host,
    port,
    metrics: listenAddress(env.METRICS_ADDR || DEFAULT_METRICS_ADDR),
    logLevel,
    logPretty: env.LOG_PRETTY === 'true',
  };
  if (env.SLACK_BOT_TOKEN) {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      throw new UserError('usage', 'SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP) is: set one of them.');
    }
    settings.slack = { botToken: env.SLACK_BOT_TOKEN, signingSecret: env.SLACK_SIGNING_SECRET, appToken: env.SLACK_APP_TOKEN, apiUrl: env.SLACK_API_URL };
  }
  const allowUnauthenticated = env.KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED === 'true';
  if (env.MICROSOFT_APP_ID || allowUnauthenticated) {
    if (env.MICROSOFT_APP_ID && allowUnauthenticated) {
      throw new UserError('usage', 'KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED=true is for local development without a bot registration: unset it, or unset MICROSOFT_APP_ID.');
    }
    if (env.MICROSOFT_APP_ID && !env.MICROSOFT_APP_PASSWORD) throw new UserError('usage', 'MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is not: set the client secret of the bot\'s app registration.');
    const tenantId = env.MICROSOFT_APP_TENANT_ID || undefined;
    const tenants = tenantId ? [tenantId] : (env.KEYWAY_TEAMS_TENANTS ?? '').split(',').map((t) => t.trim()).filter((t) => t.length > 0);
    if (!allowUnauthenticated && tenants.length === 0) {
      throw new UserError('usage', 'Teams needs to know whose users may use Keyway: set MICROSOFT_APP_TENANT_ID (a single-tenant bot), or KEYWAY_TEAMS_TENANTS with your tenant id(s) for a multi-tenant bot. Otherwise anyone in any Microsoft tenant could message it.');
    }
    settings.teams = { appId: env.MICROSOFT_APP_ID ?? '', appPassword: env.MICROSOFT_APP_PASSWORD ?? '', tenantId, tenants, allowUnauthenticated };
  }
  return settings;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

/** METRICS_ADDR: host:port, with an IPv6 address in brackets ([::1]:9464). */
function listenAddress(text: string): ListenAddress {
  const match = ADDRESS.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !isPort(port)) {
    throw new UserError('usage', `METRICS_ADDR must be an address and port for /healthz and /metrics, such as ${DEFAULT_METRICS_ADDR}, not "${text}".`);
  }
  return { host: match[1] ?? match[2]!, port };
}
