// Admin break-glass: access outside the flows, granted from the command line, approved by the admin who runs it,
// audited as such. Servers must exist and, for SSH certificates, the person must have a registered key; the duration
// is capped. A one-time password (Windows) goes to the admin's terminal, not to chat (see password-credential.ts).
import { UserError } from '../core/errors.js';
import { checkDuration } from '../core/duration.js';
import { certificateOptionsOf, findServer } from '../core/policy.js';
import { needsSshPublicKey } from '../core/model.js';
import { requestPrincipal } from '../ca/certificate-identity.js';
import { appendAudit } from '../store/audit-log.js';
import { insertGrant } from '../store/grants.js';
import { enqueueEvent } from '../store/outbox.js';
import { currentKey, upsertPerson } from '../store/people.js';
import { decideRequest, getRequest, insertRequest, type AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';
import { availableLinuxUserFor } from './people.js';
import { checkFreeText } from './requests.js';

export const BREAK_GLASS_FLOW = 'break-glass';
export const BREAK_GLASS_MAX_SECONDS = 24 * 3600;

export function grantBreakGlass(ctx: AccessContext, admin: string, email: string, servers: string[], durationSeconds: number, reason: string): AccessRequest {
  const lower = email.toLowerCase();
  checkFreeText(reason, 'reason');
  if (!reason.trim()) throw new UserError('reason_required', 'Break-glass access needs a reason (--reason "INC-123: …"): it goes to the audit log.');
  checkDuration(durationSeconds, BREAK_GLASS_MAX_SECONDS, 'break-glass allows');
  const refs = servers.map((name) => {
    const ref = findServer(ctx.config(), name);
    if (!ref) throw new UserError('unknown_server', `There is no server called "${name}" in the configuration.`);
    return ref;
  });
  const integrations = new Set(refs.map((r) => r.integration.name));
  if (integrations.size !== 1) throw new UserError('not_allowed', 'Break-glass servers must belong to one integration: grant them separately.');
  if (needsSshPublicKey(refs[0]!.integration) && !currentKey(ctx.db, lower)) throw new UserError('unknown_person', `${lower} has no SSH public key registered: add one first with keyway keys add.`);
  const linuxUser = availableLinuxUserFor(ctx, lower);
  const now = ctx.now();
  const expiresAt = now + durationSeconds * 1000;
  const id = ctx.db.transaction(() => {
    upsertPerson(ctx.db, lower, linuxUser, now);
    const request = insertRequest(ctx.db, {
      requesterEmail: lower, linuxUser, flow: BREAK_GLASS_FLOW, integration: refs[0]!.integration.name,
      servers: refs.map((r) => r.server.name), groups: refs[0]!.integration.userGroups, durationSeconds, reason: reason.trim(),
      approvers: { source: 'none', emails: [], slackUsergroups: [] }, minApprovals: 1, allowSelfApproval: false,
      source: 'cli', createdAt: now, pendingUntil: now, extendsRequestId: null,
    });
    // No flow: the default certificate options (permit-pty only), frozen like any approval's.
    decideRequest(ctx.db, request.id, { state: 'approved', at: now, by: admin, accessExpiresAt: expiresAt, reason: 'break-glass', certificateOptions: certificateOptionsOf(undefined) });
    for (const ref of refs) {
      insertGrant(ctx.db, {
        requestId: request.id, integration: ref.integration.name, server: ref.server.name, linuxUser,
        groups: ref.integration.userGroups, principal: requestPrincipal(request.id), expiresAt,
      }, now);
    }
    appendAudit(ctx.db, { actor: admin, action: 'access.break_glass', subject: `request:${request.id}`, details: { person: lower, servers, duration: durationSeconds, reason } }, now);
    enqueueEvent(ctx.db, { kind: 'request_decided', requestId: request.id }, now);
    return request.id;
  }).immediate();
  return getRequest(ctx.db, id)!;
}
