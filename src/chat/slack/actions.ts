// Button clicks: Approve and Deny on approval messages and the App Home, Extend and Revoke on access, Cancel on
// a pending request, and the Home's "Request access". Every click is acknowledged first; who may act comes
// from the clicking user (server-side user.id) checked against the stored request, never from the button.
import type { App, BlockAction, RespondFn } from '@slack/bolt';
import { alreadyDecided, extensionFormOf, requestOf, runCommand, voteAs } from '../../access/command-runner.js';
import { UserError, isUserError } from '../../core/errors.js';
import { ACTION } from './blocks.js';
import { denyModal, extendModal } from './blocks-views.js';
import { openRequestModal, slackCaller, slackReply } from './commands.js';
import { refreshHome } from './home.js';
import { answerErrors, logUnexpected, tellFor, type Tell } from './reply.js';
import type { SlackDeps } from './slack-deps.js';

interface Click {
  userId: string;
  triggerId: string;
  requestId: number;
  tell: Tell;
  /** Clicked on the Home tab: a form it opens refreshes the Home when submitted. */
  onHome: boolean;
}

async function approve(deps: SlackDeps, click: Click): Promise<void> {
  const outcome = await voteAs(deps.engine.runner, slackCaller(deps, click.userId), click.requestId, 'approve');
  // The messages show the vote (or the outcome) at once; provisioning may take a while. The vote is in: a failed
  // refresh is only logged (the request_decided delivery refreshes them again), never "try again".
  await deps.approvals.refresh(click.requestId).catch((error: unknown) => logUnexpected(deps, error, 'refresh after approve'));
  if (outcome.kind === 'already_decided') await click.tell(alreadyDecided(outcome.request));
}

async function askDenyReason(deps: SlackDeps, click: Click): Promise<void> {
  try {
    // A deny without a reason is exactly the eligibility check we need before opening the reason modal.
    const outcome = await voteAs(deps.engine.runner, slackCaller(deps, click.userId), click.requestId, 'deny');
    await click.tell(alreadyDecided(outcome.request));
  } catch (error) {
    if (!isUserError(error) || error.code !== 'reason_required') throw error;
    await deps.client.views.open({ trigger_id: click.triggerId, view: denyModal(requestOf(deps.engine.runner, click.requestId), { home: click.onHome }) });
  }
}

async function askExtension(deps: SlackDeps, click: Click): Promise<void> {
  const { request, left } = await extensionFormOf(deps.engine.runner, slackCaller(deps, click.userId), click.requestId);
  await deps.client.views.open({ trigger_id: click.triggerId, view: extendModal(request, left, { home: click.onHome }) });
}

/** Revoke and Cancel are the commands of the same name. */
function command(kind: 'revoke' | 'cancel') {
  return async (deps: SlackDeps, click: Click): Promise<void> => {
    const reply = await runCommand(deps.engine.runner, slackCaller(deps, click.userId), { kind, requestId: click.requestId }, 'slack', (early) => click.tell(slackReply(early)));
    await click.tell(slackReply(reply));
  };
}

type ClickHandler = (deps: SlackDeps, click: Click) => Promise<void>;

const CLICKS: Record<string, ClickHandler> = {
  [ACTION.approve]: approve,
  [ACTION.deny]: askDenyReason,
  [ACTION.extend]: askExtension,
  [ACTION.revoke]: command('revoke'),
  [ACTION.cancel]: command('cancel'),
  [ACTION.openRequest]: (d, click) => openRequestModal(d, click.userId, click.triggerId, click.tell),
};

// One listener for every button: Bolt runs each listener's middleware for every request it receives, so one
// listener instead of six keeps the work before an acknowledgement small.
export function registerActions(app: App, deps: SlackDeps): void {
  app.action({ type: 'block_actions' }, async ({ ack, body, action, respond }) => {
    const actionId = (action as { action_id?: string }).action_id ?? '';
    if (!Object.hasOwn(CLICKS, actionId)) return; // not a button of Keyway's (the server list's options have their own listener)
    await ack();
    const b = body as BlockAction;
    const onHome = b.view?.type === 'home';
    const tell = tellFor(deps, b.user.id, respond as RespondFn | undefined, Boolean(b.response_url));
    await answerErrors(deps, tell, actionId, async () => {
      const value = (action as { value?: unknown }).value;
      const requestId = typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : 0;
      if (requestId === 0 && actionId !== ACTION.openRequest) throw new UserError('unknown_request', 'This button does not name a request: open the App Home or use `/ssh-access list`.');
      await CLICKS[actionId]!(deps, { userId: b.user.id, triggerId: b.trigger_id, requestId, tell, onHome });
    });
    // A click on the Home tab is answered by the Home itself: refreshed, so it never shows what the click changed
    // (a decided approval, a cancelled request) as still to do. A failed refresh is only logged: the click is done.
    if (onHome && actionId !== ACTION.openRequest) await refreshHome(deps, b.user.id);
  });
}
