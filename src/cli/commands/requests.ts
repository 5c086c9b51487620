import { REQUEST_STATES, type RequestState } from '../../core/lifecycle.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { listRequests, type AccessRequest } from '../../store/requests.js';
import { voteOnRequest, type Outcome } from '../../access/requests.js';
import { UsageError, flag, JSON_OPTION, positiveId, printJson, stringOption, type CliIO, type Command } from '../command.js';
import { isoTime, table } from '../format.js';
import { withRuntime } from '../runtime.js';

export const requestsList: Command = {
  name: 'requests list',
  summary: 'list access requests, newest first',
  usage: 'keyway requests list [--state pending|approved|denied|expired|cancelled] [--requester EMAIL] [--limit N] [--json]',
  options: {
    state: { type: 'string', value: 'STATE', description: `only requests in this state: ${REQUEST_STATES.join(', ')}` },
    requester: { type: 'string', value: 'EMAIL', description: "only this person's requests" },
    limit: { type: 'string', value: 'N', description: 'show at most N requests (default 100)' },
    ...JSON_OPTION,
  },
  run(args, io) {
    const state = stringOption(args, 'state');
    if (state !== undefined && !REQUEST_STATES.includes(state as RequestState)) throw new UsageError(`--state must be one of ${REQUEST_STATES.join(', ')}`);
    const limit = stringOption(args, 'limit');
    return withRuntime(io, (rt) => {
      const requests = listRequests(rt.db, {
        state: state as RequestState | undefined,
        requesterEmail: stringOption(args, 'requester'),
        limit: limit ? positiveId(limit, 'limit') : 100,
      });
      if (flag(args, 'json')) return printJson(io, requests);
      if (requests.length === 0) {
        io.out('No requests.');
        return;
      }
      io.out(table(['ID', 'STATE', 'REQUESTER', 'SERVERS', 'DURATION', 'FLOW', 'CREATED', 'REASON', 'DECISION'], requests.map((r) => [
        String(r.id), r.state, r.requesterEmail, r.servers.join(','), formatDuration(r.durationSeconds), r.flow, isoTime(r.createdAt), r.reason,
        decisionOf(r),
      ])));
    }, { config: false, existing: true });
  },
};

/** Who decided and why, as the decision record says it ("auto-approved: on call in PagerDuty schedule …"). */
function decisionOf(r: AccessRequest): string {
  if (r.decidedBy === null) return '';
  return r.decisionReason ? `${r.decidedBy}: ${r.decisionReason}` : r.decidedBy;
}

function describeOutcome(outcome: Outcome): string {
  const r = outcome.request;
  switch (outcome.kind) {
    case 'approved': return `Request ${r.id} approved: ${outcome.grants.length} grant(s) until ${isoTime(r.accessExpiresAt)}.`;
    case 'denied': return `Request ${r.id} denied.`;
    case 'pending': return `Approval recorded for request ${r.id}: ${outcome.approvals} of ${r.minApprovals} approvals.`;
    case 'already_decided': return `Request ${r.id} was already ${r.state}; nothing changed.`;
  }
}

function decide(decision: 'approve' | 'deny') {
  return (args: Parameters<Command['run']>[0], io: CliIO) => {
    const id = positiveId(args.positionals[0]);
    const as = stringOption(args, 'as');
    if (!as || !as.includes('@')) throw new UsageError('say who decides with --as EMAIL (the approver; the same rules as in chat apply)');
    const reason = stringOption(args, 'reason') ?? args.positionals.slice(1).join(' ');
    const duration = stringOption(args, 'duration');
    return withRuntime(io, (rt) => {
      const outcome = voteOnRequest(rt, id, { email: as }, decision, {
        reason: reason || undefined,
        duration: duration ? parseDuration(duration) : undefined,
      });
      if (flag(args, 'json')) printJson(io, outcome);
      else io.out(describeOutcome(outcome));
      return outcome.kind === 'already_decided' ? 1 : 0;
    }, { existing: true });
  };
}

export const approveCommand: Command = {
  name: 'approve',
  summary: 'approve a pending request as an approver',
  usage: 'keyway approve ID --as APPROVER-EMAIL [--duration 30m] [--json]',
  args: [{ name: '<id>', description: 'the request id (keyway requests list)' }],
  options: {
    as: { type: 'string', value: 'EMAIL', description: 'the approver deciding (the same rules as in chat apply)' },
    duration: { type: 'string', value: 'DURATION', description: 'shorten the access, like 30m (never longer than asked)' },
    reason: { type: 'string', value: 'TEXT', description: 'a note recorded with the approval' },
    ...JSON_OPTION,
  },
  run: decide('approve'),
};

export const denyCommand: Command = {
  name: 'deny',
  summary: 'deny a pending request as an approver, with a reason',
  usage: 'keyway deny ID --as APPROVER-EMAIL --reason "why" [--json]',
  args: [{ name: '<id>', description: 'the request id (keyway requests list)' }, { name: '[reason...]', description: 'why (or --reason)' }],
  options: {
    as: { type: 'string', value: 'EMAIL', description: 'the approver deciding (the same rules as in chat apply)' },
    reason: { type: 'string', value: 'TEXT', description: 'why the request is denied; the requester sees it' },
    ...JSON_OPTION,
  },
  run: decide('deny'),
};
