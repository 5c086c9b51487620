// The chat port on Teams: renders and delivers each event Keyway owes people, reading the current state.
// Approvers are reached through the conversation saved when they last wrote to Keyway; whoever cannot be
// reached here is asked on Slack when it is configured, and the requester is told who was asked where.
// Throws when the Bot Connector cannot be reached (the outbox retries); every step is safe to repeat.
import type { AccessEvent } from '../../core/events.js';
import { getGrant, type Grant } from '../../store/grants.js';
import { getRequest, votesOf, type AccessRequest } from '../../store/requests.js';
import { tellsRequester } from '../audience.js';
import { credentialViewOf, ownersOf } from '../../access/credential-view.js';
import type { ChatPlatform } from '../../access/chat-port.js';
import { approvalCard, expiryWarningCard, grantText } from './cards.js';
import { settleAll, serialPerKey } from '../work.js';
import { sendOnce, teamsMessagesOf, updateInConversation, type TeamsContent, type TeamsDeps } from './messenger.js';
import {
  accessEndedText, askedText, decisionText, provisionFailedForOwners, provisionFailedForRequester, revokeFailingText,
} from './texts.js';

async function toRequester(deps: TeamsDeps, request: AccessRequest, purpose: string, content: TeamsContent): Promise<void> {
  if (tellsRequester('teams', request)) await sendOnce(deps, request.requesterEmail, request.id, purpose, content);
}

async function toOwners(deps: TeamsDeps, request: AccessRequest, purpose: string, content: TeamsContent): Promise<void> {
  for (const owner of ownersOf(deps.engine.ctx, request.integration)) await sendOnce(deps, owner, request.id, purpose, content);
}

/** What TeamsDeps.refreshApprovalCards does: re-render every approval card of a request, one refresh at a time. */
export function approvalCardRefresher(deps: TeamsDeps): (requestId: number) => Promise<void> {
  const serially = serialPerKey<number>();
  return (requestId) => serially(requestId, async () => {
    const request = getRequest(deps.engine.ctx.db, requestId);
    if (!request) return;
    const card = approvalCard(request, votesOf(deps.engine.ctx.db, requestId));
    await settleAll(teamsMessagesOf(deps, requestId, 'approval').map((m) => updateInConversation(deps, m.recipient, m.address, card)));
  });
}

async function approvalNeeded(deps: TeamsDeps, requestId: number): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request || request.state !== 'pending') return; // decided before we got here: request_decided follows
  const card = approvalCard(request, votesOf(deps.engine.ctx.db, requestId));
  const candidates = request.approvers.emails.filter((e) => request.allowSelfApproval || e !== request.requesterEmail);
  const asked: string[] = [];
  await settleAll(candidates.map(async (email) => {
    if (await sendOnce(deps, email, requestId, 'approval', card)) asked.push(email);
  }));
  const elsewhere = [...candidates.filter((e) => !asked.includes(e)), ...request.approvers.slackUsergroups.map((g) => `Slack group ${g}`)];
  await toRequester(deps, request, 'asked', askedText(request, candidates.filter((e) => asked.includes(e)), elsewhere, deps.slackAlsoAsks));
}

async function requestDecided(deps: TeamsDeps, requestId: number): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request) return;
  const text = decisionText(request, votesOf(deps.engine.ctx.db, requestId));
  await settleAll([deps.refreshApprovalCards(requestId), ...(text ? [toRequester(deps, request, 'requester', text)] : [])]);
}

async function accessGranted(deps: TeamsDeps, requestId: number): Promise<void> {
  const owed = credentialViewOf(deps.engine.runner, requestId);
  if (!owed) return; // no active grant left by the time the credential was to be sent
  await toRequester(deps, owed.request, `grant:${owed.view.credentialId}`, grantText(owed.view, deps.engine.ctx.now()));
}

async function provisionFailed(deps: TeamsDeps, requestId: number, grantIds: number[]): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request) return;
  const failed = grantIds.map((id) => getGrant(deps.engine.ctx.db, id)).filter((g): g is Grant => g !== undefined);
  const purpose = `provision_failed:${grantIds.join(',')}`;
  await toRequester(deps, request, purpose, provisionFailedForRequester(request, failed.map((g) => g.server)));
  await toOwners(deps, request, purpose, provisionFailedForOwners(request, failed));
}

async function expiryWarning(deps: TeamsDeps, requestId: number): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (!request || request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= deps.engine.ctx.now()) return;
  await toRequester(deps, request, `expiry_warning:${request.accessExpiresAt}`, expiryWarningCard(request));
}

async function accessEnded(deps: TeamsDeps, requestId: number, why: 'expired' | 'revoked', by?: string): Promise<void> {
  const request = getRequest(deps.engine.ctx.db, requestId);
  if (request) await toRequester(deps, request, 'access_ended', accessEndedText(request, why, by));
}

async function revokeFailing(deps: TeamsDeps, grantId: number, attempts: number, error: string): Promise<void> {
  const grant = getGrant(deps.engine.ctx.db, grantId);
  const request = grant && getRequest(deps.engine.ctx.db, grant.requestId);
  if (grant && request) await toOwners(deps, request, `revoke_failing:${grantId}:${attempts}`, revokeFailingText(request, grant, attempts, error));
}

export function createTeamsPlatform(deps: TeamsDeps): ChatPlatform {
  return {
    name: 'teams',
    async deliver(event: AccessEvent): Promise<void> {
      switch (event.kind) {
        case 'approval_needed':
          return approvalNeeded(deps, event.requestId);
        case 'request_decided':
          return requestDecided(deps, event.requestId);
        case 'access_granted':
          return accessGranted(deps, event.requestId);
        case 'provision_failed':
          return provisionFailed(deps, event.requestId, event.grantIds);
        case 'expiry_warning':
          return expiryWarning(deps, event.requestId);
        case 'access_ended':
          return accessEnded(deps, event.requestId, event.why, event.by);
        case 'revoke_failing':
          return revokeFailing(deps, event.grantId, event.attempts, event.error);
      }
    },
  };
}
