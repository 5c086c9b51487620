// Who wrote or clicked: the Teams user of the activity (authenticated by the Bot Framework token) → their
// sign-in name from the Bot Connector (TeamsInfo) → the person Keyway knows by e-mail. The user principal
// name comes first: it must be on a domain the tenant has verified, while the mail attribute can be set to
// anything by a tenant admin. Members of another tenant and anonymous users are refused; guests are marked
// `guest`, and core decides what that allows (only flows with allow_guests take them, and never as approvers).
// Cached briefly per user; a failed look-up is not cached.
import { TeamsInfo, type TurnContext } from 'botbuilder';
import { UserError } from '../../core/errors.js';
import type { Requester } from '../../core/policy.js';
import { PromiseCache } from '../ttl-cache.js';

export interface TeamsIdentity {
  personOf(context: TurnContext): Promise<Requester>;
}

export function tenantOf(activity: TurnContext['activity']): string | undefined {
  return activity.conversation?.tenantId ?? (activity.channelData as { tenant?: { id?: string } } | undefined)?.tenant?.id;
}

export function createTeamsIdentity(ttlMs = 10 * 60_000): TeamsIdentity {
  const people = new PromiseCache<string, Requester>(ttlMs);
  return {
    async personOf(context) {
      const { from } = context.activity;
      const tenant = tenantOf(context.activity);
      if (!from?.id) throw new UserError('unknown_person', 'This message has no sender; Keyway cannot tell who you are.');
      return people.remember(`${tenant ?? ''}:${from.id}`, async () => {
        const member = await TeamsInfo.getMember(context, from.id);
        if (tenant && member.tenantId && member.tenantId !== tenant) throw new UserError('not_allowed', 'Your Teams account belongs to another organisation than this chat; Keyway cannot tell who you are.');
        if (member.userRole === 'anonymous') throw new UserError('not_allowed', 'Anonymous users cannot use Keyway: sign in with your organisation\'s account.');
        const address = (member.userPrincipalName || member.email || '').trim().toLowerCase();
        if (!/^[^@\s]+@[^@\s]+$/.test(address)) {
          throw new UserError('unknown_person', 'Teams did not tell Keyway your sign-in name, and access is granted by e-mail. Ask your Teams admin to check your account.');
        }
        return member.userRole === 'guest' ? { email: address, guest: true } : { email: address };
      });
    },
  };
}
