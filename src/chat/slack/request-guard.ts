// Global middleware in front of every handler: a trigger_id seen before is a replay and is dropped, and a
// payload meant for another app or workspace than the one this token belongs to is refused. It fails closed:
// a payload without an app id, or while Keyway does not know its own, is refused too.
// (Bolt has already checked the signature and the timestamp.)
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { auditRefusedPayload } from '../../access/chat-identities.js';
import type { SlackSelf } from './identity.js';
import type { SlackDeps } from './slack-deps.js';
import { RecentKeys } from '../ttl-cache.js';

interface PayloadIds {
  triggerId?: string;
  appId?: string;
  teamId?: string;
  userId?: string;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function payloadIds(body: Record<string, unknown>): PayloadIds {
  const team = body.team as { id?: unknown } | null | undefined;
  const user = body.user as { id?: unknown } | undefined;
  return {
    triggerId: str(body.trigger_id),
    appId: str(body.api_app_id),
    teamId: str(team?.id) ?? str(body.team_id),
    userId: str(user?.id) ?? str(body.user_id),
  };
}

/** Why a payload is not for us, or undefined when it is. */
function refusal(ids: PayloadIds, self: SlackSelf): string | undefined {
  if (self.appId === undefined) return 'own app id unknown';
  if (ids.appId !== self.appId) return 'another app';
  if (ids.teamId !== undefined && !self.isEnterpriseInstall && ids.teamId !== self.teamId) return 'another workspace';
  return undefined;
}

export function requestGuard(deps: SlackDeps, seenTriggers = new RecentKeys(20_000)): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const ack = 'ack' in args && typeof args.ack === 'function' ? (args.ack as () => Promise<void>) : undefined;
    const ids = payloadIds(args.body as Record<string, unknown>);
    if (ids.triggerId && !seenTriggers.add(ids.triggerId)) {
      deps.logger.warn({ userId: ids.userId }, 'dropped a Slack payload with a trigger_id seen before (a replay)');
      await ack?.();
      return;
    }
    const self = await deps.directory.self();
    const why = refusal(ids, self);
    if (why) {
      auditRefusedPayload(deps.engine.ctx, 'slack', { userId: ids.userId, teamId: ids.teamId, appId: ids.appId, why });
      deps.logger.warn({ appId: ids.appId, teamId: ids.teamId, why }, 'refused a Slack payload');
      await ack?.();
      return;
    }
    await args.next();
  };
}
