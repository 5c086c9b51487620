// Settings from the environment: a pure function of env, so tests pass an object (after probot's read-env-options).
import { UserError } from './core/errors.js';

export interface Settings {
  configPath: string;
  dataDir: string;
  port: number;
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

export function readSettings(env: NodeJS.ProcessEnv): Settings {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError('usage', `PORT must be a port number, not "${env.PORT}".`);
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new UserError('usage', `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}.`);
  const settings: Settings = {
    configPath: env.KEYWAY_CONFIG || 'config/access.yaml',
    dataDir: env.KEYWAY_DATA_DIR || './data',
    port,
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
