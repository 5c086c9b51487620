// Delivering request events on Slack: ask the approvers (the flow's approval channel, or a DM each when there is
// none or Slack refuses it for good), and once decided update every approval message, tell the requester and
// post to the flow's notify_channel.
import { getRequest, votesOf } from '../../store/requests.js';
import { tellsRequester } from '../audience.js';
import { settleAll } from '../work.js';
import { approvalMessage, notifyLine } from './blocks-approval.js';
import { decisionForRequester, noApproversOnSlack } from './blocks-access.js';
import { dmOnce, postOnce } from './poster.js';
import type { SlackDeps } from './slack-deps.js';

export async function deliverApprovalNeeded(deps: SlackDeps, requestId: number): Promise<void> {
  const { ctx } = deps.engine;
  const request = getRequest(ctx.db, requestId);
  if (!request || request.state !== 'pending') return; // decided before we got here: request_decided follows
  const rendered = approvalMessage(request, votesOf(ctx.db, requestId));
  const channel = ctx.config().flows.find((f) => f.name === request.flow)?.approvalChannel;
  if (channel && await postOnce(deps, { requestId, purpose: 'approval', recipient: channel, channel: async () => channel }, rendered)) return;
  const requesterId = request.allowSelfApproval ? undefined : await deps.directory.userIdOf(request.requesterEmail);
  const approvers = await deps.directory.usersOf(request.approvers, requesterId);
  if (approvers.length === 0) {
    deps.logger.warn({ requestId, approvers: request.approvers }, 'no approver of this request is on Slack');
    if (tellsRequester('slack', request)) await dmOnce(deps, request.requesterEmail, requestId, 'no_approvers', noApproversOnSlack(request));
    return;
  }
  await settleAll(approvers.map((userId) =>
    postOnce(deps, { requestId, purpose: 'approval', recipient: userId, channel: () => deps.directory.dmChannelOf(userId) }, rendered)));
}

export async function deliverRequestDecided(deps: SlackDeps, requestId: number): Promise<void> {
  const { ctx } = deps.engine;
  const request = getRequest(ctx.db, requestId);
  if (!request) return;
  await deps.approvals.refresh(requestId);
  const votes = votesOf(ctx.db, requestId);
  const work: Array<Promise<unknown>> = [];
  const toRequester = tellsRequester('slack', request) ? decisionForRequester(request, votes) : undefined;
  if (toRequester) work.push(dmOnce(deps, request.requesterEmail, requestId, 'requester', toRequester));
  const notify = ctx.config().flows.find((f) => f.name === request.flow)?.notifyChannel;
  if (notify) work.push(postOnce(deps, { requestId, purpose: 'notify', recipient: notify, channel: async () => notify }, notifyLine(request, votes)));
  await settleAll(work);
}
