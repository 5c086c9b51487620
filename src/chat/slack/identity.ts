// Who is who on Slack: the app itself (auth.test), a user's e-mail (users.info) and Slack user groups, and the
// reverse — the Slack users behind an e-mail or a user group. Look-ups are cached briefly; failures never are.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { webApi } from '@slack/bolt';
import { UserError } from '../../core/errors.js';
import type { AccessConfig } from '../../core/model.js';
import type { ApproverSet, Requester } from '../../core/policy.js';
import { rememberChatIdentity } from '../../store/people.js';
import { PromiseCache } from './ttl-cache.js';

export interface SlackSelf {
  teamId: string;
  userId: string;
  botId?: string;
  /** Present when auth.test reports it; interactive payloads for another app are then refused. */
  appId?: string;
  isEnterpriseInstall: boolean;
}

export interface SlackDirectory {
  self(): Promise<SlackSelf>;
  emailOf(userId: string): Promise<string>;
  /** The person behind a Slack user, with the user groups (of those the config and `extraGroups` name) they are in. */
  requesterOf(userId: string, extraGroups?: readonly string[]): Promise<Requester>;
  userIdOf(email: string): Promise<string | undefined>;
  membersOf(usergroupId: string): Promise<string[]>;
  /** The Slack users who may decide: the e-mails and the members of the user groups, without `exclude`. */
  usersOf(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups'>, exclude?: string): Promise<string[]>;
  dmChannelOf(userId: string): Promise<string>;
}

export interface SlackDirectoryOptions {
  client: webApi.WebClient;
  db: Database;
  config: () => AccessConfig;
  now: () => number;
  logger: Logger;
  ttlMs?: number;
}

/** The `error` code of a Slack Web API platform error (e.g. users_not_found), if that is what this is. */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

export function usergroupsNamedBy(config: AccessConfig): string[] {
  return [...new Set(config.flows.flatMap((f) => [...f.requesters.slackUsergroups, ...f.approvers.slackUsergroups]))];
}

export function createSlackDirectory(options: SlackDirectoryOptions): SlackDirectory {
  const { client, db, logger } = options;
  const ttl = options.ttlMs ?? 60_000;
  const emails = new PromiseCache<string, string>(ttl);
  const userIds = new PromiseCache<string, string | undefined>(ttl);
  const groups = new PromiseCache<string, string[]>(ttl);
  const dms = new PromiseCache<string, string>(24 * 3600_000);
  let self: Promise<SlackSelf> | undefined;

  async function loadSelf(): Promise<SlackSelf> {
    const result = await client.auth.test();
    if (!result.team_id || !result.user_id) throw new Error('auth.test did not say which workspace and bot user this token belongs to');
    return {
      teamId: result.team_id, userId: result.user_id, botId: result.bot_id, appId: result.app_id,
      isEnterpriseInstall: result.is_enterprise_install === true,
    };
  }

  async function loadEmail(userId: string): Promise<string> {
    let user;
    try {
      user = (await client.users.info({ user: userId })).user;
    } catch (error) {
      if (slackErrorCode(error) === 'user_not_found') throw new UserError('unknown_person', `Slack does not know the user ${userId}.`);
      throw error;
    }
    const email = user?.profile?.email?.toLowerCase();
    if (!user || user.deleted || user.is_bot || !email) {
      throw new UserError('unknown_person', 'Keyway cannot see an e-mail address on your Slack profile, and it needs one to know who you are. Ask a Slack admin to check your profile (and that the Keyway app has the users:read.email scope).');
    }
    rememberChatIdentity(db, 'slack', userId, email, { teamId: user.team_id }, options.now());
    return email;
  }

  async function loadUserId(email: string): Promise<string | undefined> {
    try {
      return (await client.users.lookupByEmail({ email })).user?.id;
    } catch (error) {
      if (slackErrorCode(error) === 'users_not_found') return undefined;
      throw error;
    }
  }

  async function loadMembers(usergroup: string): Promise<string[]> {
    try {
      return (await client.usergroups.users.list({ usergroup })).users ?? [];
    } catch (error) {
      const code = slackErrorCode(error);
      if (code === 'no_such_subteam' || code === 'subteam_not_found') {
        logger.warn({ usergroup }, 'the config names a Slack user group that does not exist; it counts as empty');
        return [];
      }
      throw error;
    }
  }

  const directory: SlackDirectory = {
    self() {
      self ??= loadSelf().catch((error: unknown) => {
        self = undefined;
        throw error;
      });
      return self;
    },
    emailOf: (userId) => emails.remember(userId, () => loadEmail(userId)),
    userIdOf: (email) => userIds.remember(email.toLowerCase(), () => loadUserId(email.toLowerCase())),
    membersOf: (usergroup) => groups.remember(usergroup, () => loadMembers(usergroup)),
    dmChannelOf: (userId) => dms.remember(userId, async () => {
      const channel = (await client.conversations.open({ users: userId })).channel?.id;
      if (!channel) throw new Error(`conversations.open gave no channel for ${userId}`);
      return channel;
    }),
    async requesterOf(userId, extraGroups = []) {
      const email = await directory.emailOf(userId);
      const candidates = [...new Set([...usergroupsNamedBy(options.config()), ...extraGroups])];
      const member = await Promise.all(candidates.map(async (g) => ((await directory.membersOf(g)).includes(userId) ? g : undefined)));
      return { email, usergroups: member.filter((g): g is string => g !== undefined) };
    },
    async usersOf(approvers, exclude) {
      const fromEmails = await Promise.all(approvers.emails.map((e) => directory.userIdOf(e)));
      const fromGroups = await Promise.all(approvers.slackUsergroups.map((g) => directory.membersOf(g)));
      const all = [...fromEmails.filter((id): id is string => id !== undefined), ...fromGroups.flat()];
      return [...new Set(all)].filter((id) => id !== exclude);
    },
  };
  return directory;
}
