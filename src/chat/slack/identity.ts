// Who is who on Slack: the app itself (auth.test, then bots.info for its app id), a user's e-mail (users.info,
// only for users of our own workspace or organisation), whether they are a guest or a bot (core decides what
// that allows), and the Slack user groups they are in, and the reverse —
// the Slack users behind an e-mail or a user group. Look-ups are cached briefly; failures never are. User
// groups are looked up only when they can change the answer: usergroups.users.list is rate-limited (~20/min).
import type { Logger } from 'pino';
import type { webApi } from '@slack/bolt';
import { UserError } from '../../core/errors.js';
import type { ApproverSet, Requester } from '../../core/policy.js';
import { rememberChatUser } from '../../access/chat-identities.js';
import type { AccessContext } from '../../access/context.js';
import { PromiseCache } from '../ttl-cache.js';

export interface SlackSelf {
  teamId: string;
  enterpriseId?: string;
  userId: string;
  botId: string;
  /** From bots.info (auth.test does not say it for a bot token); unknown means every payload is refused. */
  appId?: string;
  isEnterpriseInstall: boolean;
}

export interface SlackDirectory {
  self(): Promise<SlackSelf>;
  emailOf(userId: string): Promise<string>;
  /**
   * The person behind a Slack user, with those of `groups` they are in (only these are looked up), marked
   * `guest` when Slack says they are a guest (restricted, ultra-restricted), a bot or an app's user.
   */
  personOf(userId: string, groups: readonly string[]): Promise<Requester>;
  userIdOf(email: string): Promise<string | undefined>;
  membersOf(usergroupId: string): Promise<string[]>;
  /** The Slack users who may decide: the e-mails and the members of the user groups, without `exclude`. */
  usersOf(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups'>, exclude?: string): Promise<string[]>;
  dmChannelOf(userId: string): Promise<string>;
}

export interface SlackDirectoryOptions {
  client: webApi.WebClient;
  /** Where who-is-who is remembered (the access context). */
  ctx: AccessContext;
  logger: Logger;
  ttlMs?: number;
}

/** The `error` code of a Slack Web API platform error (e.g. users_not_found), if that is what this is. */
export function slackErrorCode(error: unknown): string | undefined {
  const data = (error as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

type SlackUser = NonNullable<webApi.UsersInfoResponse['user']>;

/** What users.info says about who a Slack user is: their e-mail, and whether Slack counts them a full member. */
interface SlackPerson {
  email: string;
  guest: boolean;
}

/** Single- and multi-channel guests, bots and apps' users: core lets them request only under allow_guests. */
function isGuestOrBot(user: SlackUser): boolean {
  return user.is_restricted === true || user.is_ultra_restricted === true || user.is_bot === true || user.is_app_user === true;
}

/** A user of the workspace the token belongs to (or, for an organisation-wide install, of its organisation). */
function isOurs(user: SlackUser, self: SlackSelf): boolean {
  if (self.isEnterpriseInstall) return self.enterpriseId !== undefined && user.enterprise_user?.enterprise_id === self.enterpriseId;
  return user.team_id === self.teamId || (user.enterprise_user?.teams ?? []).includes(self.teamId);
}

export function createSlackDirectory(options: SlackDirectoryOptions): SlackDirectory {
  const { client, ctx, logger } = options;
  const ttl = options.ttlMs ?? 60_000;
  const people = new PromiseCache<string, SlackPerson>(ttl);
  const userIds = new PromiseCache<string, string | undefined>(ttl);
  const groups = new PromiseCache<string, string[]>(ttl);
  const dms = new PromiseCache<string, string>(24 * 3600_000);
  let self: Promise<SlackSelf> | undefined;

  async function loadSelf(): Promise<SlackSelf> {
    const result = await client.auth.test();
    if (!result.team_id || !result.user_id || !result.bot_id) throw new Error('auth.test did not say which workspace, bot user and bot this token belongs to: is SLACK_BOT_TOKEN a bot token (xoxb-…)?');
    return {
      teamId: result.team_id, enterpriseId: result.enterprise_id, userId: result.user_id, botId: result.bot_id,
      appId: await loadAppId(result.bot_id), isEnterpriseInstall: result.is_enterprise_install === true,
    };
  }

  async function loadAppId(bot: string): Promise<string | undefined> {
    let appId: string | undefined;
    try {
      appId = (await client.bots.info({ bot })).bot?.app_id;
    } catch (error) {
      if (slackErrorCode(error) === undefined) throw error;
      logger.error({ error: slackErrorCode(error) }, 'bots.info did not say which Slack app this bot belongs to');
    }
    if (!appId) logger.error('Keyway does not know its own Slack app id, so it refuses every Slack payload until it does: check that the app has the users:read scope (manifests/slack-app.yaml) and reinstall it');
    return appId;
  }

  async function loadPerson(userId: string): Promise<SlackPerson> {
    let user;
    try {
      user = (await client.users.info({ user: userId })).user;
    } catch (error) {
      if (slackErrorCode(error) === 'user_not_found') throw new UserError('unknown_person', `Slack does not know the user ${userId}.`);
      throw error;
    }
    if (user && !isOurs(user, await directory.self())) {
      throw new UserError('not_allowed', 'Your Slack account belongs to another workspace than the one Keyway serves, so Keyway cannot take your e-mail address as proof of who you are. Use Keyway from its own workspace, or ask your admins to install it in yours.');
    }
    const email = user?.profile?.email?.toLowerCase();
    if (!user || user.deleted || !email) {
      throw new UserError('unknown_person', 'Keyway cannot see an e-mail address on your Slack profile, and it needs one to know who you are. Ask a Slack admin to check your profile (and that the Keyway app has the users:read.email scope).');
    }
    const guest = isGuestOrBot(user);
    rememberChatUser(ctx, 'slack', userId, email, { teamId: user.team_id, ...(guest ? { guest } : {}) });
    return { email, guest };
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

  const personOf = (userId: string) => people.remember(userId, () => loadPerson(userId));

  const directory: SlackDirectory = {
    self() {
      // Kept once complete; without an app id it is asked again on the next payload (payloads are refused meanwhile).
      self ??= loadSelf().then((loaded) => {
        if (!loaded.appId) self = undefined;
        return loaded;
      }, (error: unknown) => {
        self = undefined;
        throw error;
      });
      return self;
    },
    emailOf: async (userId) => (await personOf(userId)).email,
    userIdOf: (email) => userIds.remember(email.toLowerCase(), () => loadUserId(email.toLowerCase())),
    membersOf: (usergroup) => groups.remember(usergroup, () => loadMembers(usergroup)),
    dmChannelOf: (userId) => dms.remember(userId, async () => {
      const channel = (await client.conversations.open({ users: userId })).channel?.id;
      if (!channel) throw new Error(`conversations.open gave no channel for ${userId}`);
      return channel;
    }),
    async personOf(userId, groups) {
      const { email, guest } = await personOf(userId);
      const member = await Promise.all([...new Set(groups)].map(async (g) => ((await directory.membersOf(g)).includes(userId) ? g : undefined)));
      return { email, usergroups: member.filter((g): g is string => g !== undefined), ...(guest ? { guest } : {}) };
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
