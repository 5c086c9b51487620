// Who wrote or clicked: the Teams user of the activity (authenticated by the Bot Framework token) → their
// e-mail from the Bot Connector (TeamsInfo) → the person Keyway knows. Cached briefly per user; a failed
// look-up is not cached.
import { TeamsInfo, type TurnContext } from 'botbuilder';
import { UserError } from '../../core/errors.js';
import type { Requester } from '../../core/policy.js';
import { PromiseCache } from '../ttl-cache.js';

export interface TeamsIdentity {
  personOf(context: TurnContext): Promise<Requester>;
}

export function createTeamsIdentity(ttlMs = 10 * 60_000): TeamsIdentity {
  const emails = new PromiseCache<string, string>(ttlMs);
  return {
    async personOf(context) {
      const { from, conversation } = context.activity;
      if (!from?.id) throw new UserError('unknown_person', 'This message has no sender; Keyway cannot tell who you are.');
      const email = await emails.remember(`${conversation?.tenantId ?? ''}:${from.id}`, async () => {
        const member = await TeamsInfo.getMember(context, from.id);
        const address = (member.email || member.userPrincipalName || '').trim().toLowerCase();
        if (!address.includes('@')) {
          throw new UserError('unknown_person', 'Teams did not tell Keyway your e-mail address, and access is granted by e-mail. Ask your Teams admin to check your account.');
        }
        return address;
      });
      return { email };
    },
  };
}
