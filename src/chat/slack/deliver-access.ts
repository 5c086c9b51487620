// Delivering access events on Slack: the certificate DM, provisioning failures, the expiry warning, the end
// of access, and revokes that keep failing (to the integration owners).
import { getGrant, type Grant } from '../../store/grants.js';
import { getRequest, votesOf, type AccessRequest } from '../../store/requests.js';
import { tellsRequester } from '../audience.js';
import { credentialViewOf, ownersOf } from '../../access/credential-view.js';
import {
  accessEnded, accessReadyNote, expiryWarning, grantMessage, provisionFailedForOwners, provisionFailedForRequester, revokeFailing,
} from './blocks-access.js';
import type { SlackMessage } from './blocks.js';
import { slackErrorCode } from './identity.js';
import { slackMessagesOf } from './message-log.js';
import { dmOnce } from './poster.js';
import type { SlackDeps } from './slack-deps.js';

async function dmOwners(deps: SlackDeps, request: AccessRequest, purpose: string, rendered: SlackMessage): Promise<void> {
  const owners = ownersOf(deps.engine.ctx, request.integration);
  if (owners.length === 0) deps.logger.error({ requestId: request.id, purpose }, 'integration has no owners to tell: see the log');
  for (const owner of owners) await dmOnce(deps, owner, request.id, purpose, rendered);
}

export async function deliverAccessGranted(deps: SlackDeps, requestId: number): Promise<void> {
  const { ctx } = deps.engine;
  const owed = credentialViewOf(deps.engine.runner, requestId);
  if (!owed) {
    deps.logger.info({ requestId }, 'no active grant left by the time the certificate was to be sent; not sending it');
    return;
  }
  const { request, view } = owed;
  if (!tellsRequester('slack', request)) return;
  await dmOnce(deps, request.requesterEmail, requestId, `grant:${view.credentialId}`, grantMessage(view));
  // The "approved, preparing access…" message becomes "access is ready".
  const note = accessReadyNote(request, votesOf(ctx.db, requestId));
  for (const ref of slackMessagesOf(ctx.db, requestId, 'requester')) {
    await deps.client.chat.update({ channel: ref.channel, ts: ref.ts, text: note.text, blocks: note.blocks }).catch((error: unknown) => {
      if (slackErrorCode(error) === undefined) throw error;
      deps.logger.warn({ requestId, error: slackErrorCode(error) }, 'could not update the progress message');
    });
  }
}

export async function deliverProvisionFailed(deps: SlackDeps, requestId: number, grantIds: number[]): Promise<void> {
  const { ctx } = deps.engine;
  const request = getRequest(ctx.db, requestId);
  if (!request) return;
  const failed = grantIds.map((id) => getGrant(ctx.db, id)).filter((g): g is Grant => g !== undefined);
  const purpose = `provision_failed:${grantIds.join(',')}`;
  if (tellsRequester('slack', request)) await dmOnce(deps, request.requesterEmail, requestId, purpose, provisionFailedForRequester(request, failed.map((g) => g.server)));
  await dmOwners(deps, request, purpose, provisionFailedForOwners(request, failed));
}

export async function deliverExpiryWarning(deps: SlackDeps, requestId: number): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request || !tellsRequester('slack', request) || request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= deps.engine.ctx.now()) return;
  await dmOnce(deps, request.requesterEmail, requestId, `expiry_warning:${request.accessExpiresAt}`, expiryWarning(request));
}

export async function deliverAccessEnded(deps: SlackDeps, requestId: number, why: 'expired' | 'revoked', by?: string): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request || !tellsRequester('slack', request)) return;
  await dmOnce(deps, request.requesterEmail, requestId, 'access_ended', accessEnded(request, why, by));
}

export async function deliverRevokeFailing(deps: SlackDeps, grantId: number, attempts: number, error: string): Promise<void> {
  const { ctx } = deps.engine;
  const grant = getGrant(ctx.db, grantId);
  const request = grant && getRequest(ctx.db, grant.requestId);
  if (!grant || !request) return;
  await dmOwners(deps, request, `revoke_failing:${grantId}:${attempts}`, revokeFailing(request, grant, attempts, error));
}
