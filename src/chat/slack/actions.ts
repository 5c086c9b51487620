// Button clicks: Approve and Deny on approval messages and the App Home, Extend and Revoke on access, Cancel on
// a pending request, and the Home's "Request access". Every click is acknowledged first; who may act comes
// from the clicking user (server-side user.id) checked against the stored request, never from the button.
import type { App, BlockAction, RespondFn } from '@slack/bolt';
import { extensionAllowance } from '../../access/extend.js';
import { revokeAccess } from '../../access/command-runner.js';
import { cancelRequest, voteOnRequest, type Outcome } from '../../access/requests.js';
import { UserError, isUserError } from '../../core/errors.js';
import { ACTION, serverList } from './blocks.js';
import { denyModal, extendModal } from './blocks-views.js';
import { openRequestModal, revokedReply } from './commands.js';
import { publishHome } from './home.js';
import { deciderOf } from './identity.js';
import { afterAcknowledgements, answerErrors, logUnexpected, tellFor, type Tell } from './reply.js';
import type { SlackDeps } from './slack-deps.js';
import { alreadyDecided, requestOf } from './stored-request.js';

interface Click {
  userId: string;
  triggerId: string;
  requestId: number;
  tell: Tell;
}

async function approve(deps: SlackDeps, click: Click): Promise<void> {
  const request = requestOf(deps, click.requestId);
  const person = await deciderOf(deps.directory, click.userId, request);
  const outcome: Outcome = voteOnRequest(deps.engine.ctx, request.id, person, 'approve');
  // The messages show the vote (or the outcome) at once; provisioning may take a while. The vote is in: a failed
  // refresh is only logged (the request_decided delivery refreshes them again), never "try again".
  await deps.approvals.refresh(request.id).catch((error: unknown) => logUnexpected(deps, error, 'refresh after approve'));
  if (outcome.kind === 'already_decided') await click.tell(alreadyDecided(outcome.request));
}

async function askDenyReason(deps: SlackDeps, click: Click): Promise<void> {
  const request = requestOf(deps, click.requestId);
  const person = await deciderOf(deps.directory, click.userId, request);
  try {
    // voteOnRequest checks (and audits) eligibility before it asks for a reason, so a deny without a
    // reason is exactly the eligibility check we need before opening the reason modal.
    const outcome = voteOnRequest(deps.engine.ctx, request.id, person, 'deny');
    await click.tell(alreadyDecided(outcome.request));
  } catch (error) {
    if (!isUserError(error) || error.code !== 'reason_required') throw error;
    await deps.client.views.open({ trigger_id: click.triggerId, view: denyModal(request) });
  }
}

async function askExtension(deps: SlackDeps, click: Click): Promise<void> {
  const request = requestOf(deps, click.requestId);
  const email = await deps.directory.emailOf(click.userId);
  if (request.requesterEmail !== email) throw new UserError('not_allowed', `Only ${request.requesterEmail} can extend request #${request.id}.`);
  if (request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= deps.engine.ctx.now()) {
    throw new UserError('invalid_transition', `Request #${request.id} has no running access to extend: make a new request.`);
  }
  const flow = deps.engine.ctx.config().flows.find((f) => f.name === request.flow);
  const left = flow ? extensionAllowance(request, flow.maxDuration) : 0;
  await deps.client.views.open({ trigger_id: click.triggerId, view: extendModal(request, left) });
}

async function revoke(deps: SlackDeps, click: Click): Promise<void> {
  const person = await deciderOf(deps.directory, click.userId, requestOf(deps, click.requestId));
  await click.tell(`Revoking the access of request #${click.requestId}…`);
  const grants = await revokeAccess(deps.engine.runner, click.requestId, person);
  await click.tell(revokedReply(click.requestId, grants));
}

async function cancel(deps: SlackDeps, click: Click): Promise<void> {
  const email = await deps.directory.emailOf(click.userId);
  const request = cancelRequest(deps.engine.ctx, click.requestId, email);
  await click.tell(`Request #${request.id} for ${serverList(request.servers)} is cancelled.`);
}

type ClickHandler = (deps: SlackDeps, click: Click) => Promise<void>;

function onClick(app: App, deps: SlackDeps, actionId: string, handle: ClickHandler): void {
  app.action(actionId, async ({ ack, body, action, respond }) => {
    await ack();
    await afterAcknowledgements();
    const b = body as BlockAction;
    const tell = tellFor(deps, b.user.id, respond as RespondFn | undefined, Boolean(b.response_url));
    await answerErrors(deps, tell, actionId, async () => {
      const value = (action as { value?: unknown }).value;
      const requestId = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : 0;
      if (requestId === 0 && actionId !== ACTION.openRequest) throw new UserError('unknown_request', 'This button does not name a request: open the App Home or use `/ssh-access list`.');
      await handle(deps, { userId: b.user.id, triggerId: b.trigger_id, requestId, tell });
    });
    if (b.view?.type === 'home' && actionId !== ACTION.openRequest) await publishHome(deps, b.user.id);
  });
}

export function registerActions(app: App, deps: SlackDeps): void {
  onClick(app, deps, ACTION.approve, approve);
  onClick(app, deps, ACTION.deny, askDenyReason);
  onClick(app, deps, ACTION.extend, askExtension);
  onClick(app, deps, ACTION.revoke, revoke);
  onClick(app, deps, ACTION.cancel, cancel);
  onClick(app, deps, ACTION.openRequest, (d, click) => openRequestModal(d, click.userId, click.triggerId, click.tell));
}
