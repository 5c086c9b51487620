// The request a button or a modal names, read from the database, and what to say when it is already decided.
import { UserError } from '../../core/errors.js';
import { getRequest, type AccessRequest } from '../../store/requests.js';
import type { SlackDeps } from './slack-deps.js';

export function requestOf(deps: SlackDeps, id: number): AccessRequest {
  const request = getRequest(deps.engine.ctx.db, id);
  if (!request) throw new UserError('unknown_request', `There is no request #${id}: \`/ssh-access list\` shows your requests.`);
  return request;
}

export function alreadyDecided(request: AccessRequest): string {
  const by = request.decidedBy && request.decidedBy !== 'system' ? ` by ${request.decidedBy}` : '';
  return `Request #${request.id} is already ${request.state}${by}: nothing more to do.`;
}
