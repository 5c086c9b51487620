// One sweep: everything time or failure left undone. Expire unanswered requests, end access whose time is up,
// retry failed provisions and revokes, finish what a crash interrupted, clean up accounts (each kind's driver says
// which), and re-send what is owed.
// Safe to run at any time and any number of times: every step starts from what the database says.
import { expiryWarningAt } from '../core/expiry-warning.js';
import { GRANT_STATES_WITH_ACCESS } from '../core/lifecycle.js';
import { appendAudit } from '../store/audit-log.js';
import { grantsDueForRevoke, listGrants, moveGrant, type Grant } from '../store/grants.js';
import { liveRequestsNotWarned, listRequests, markExpiryWarned, pendingRequestsPastTtl, type AccessRequest } from '../store/requests.js';
import { enqueueEvent } from '../store/outbox.js';
import {
  beginEndingAccess, deliverCredentialIfNeeded, needsCredential, provisionGrants, revokeGrants, type GrantRunner,
} from './grant-runner.js';
import { reportTargetOperation } from './metrics-port.js';
import { expireUnansweredRequests } from './requests.js';
import { isBound } from './target-driver.js';

export interface SweepReport {
  requestsExpired: number;
  accessEnded: number;
  expiryWarnings: number;
  provisionRetried: number;
  revokeRetried: number;
  certificatesIssued: number;
  usersCleaned: number;
  failures: number;
}

export async function sweepOnce(runner: GrantRunner): Promise<SweepReport> {
  const { ctx } = runner;
  const now = ctx.now();
  const report: SweepReport = { requestsExpired: 0, accessEnded: 0, expiryWarnings: 0, provisionRetried: 0, revokeRetried: 0, certificatesIssued: 0, usersCleaned: 0, failures: 0 };
  const idle = (g: Grant) => !runner.inFlight.has(g.id);

  report.requestsExpired = expireUnansweredRequests(ctx, pendingRequestsPastTtl(ctx.db, now)).length;

  const dueRequests = [...new Set(grantsDueForRevoke(ctx.db, now).map((g) => g.requestId))];
  // Every ending recorded first, then all their grants revoked together: the grants due on one server in one batch
  // (one remote run), every server in parallel, so that when many expire at once the last one's lag is about one
  // revoke, not the sum of them all.
  const ending = dueRequests.flatMap((requestId) => beginEndingAccess(runner, requestId, 'expired', 'system'));
  const ended = await revokeGrants(runner, ending, 'system');
  report.accessEnded = dueRequests.length;
  report.failures += [...ended.values()].filter((state) => state === 'revoke_failed').length;

  for (const request of liveRequestsNotWarned(ctx.db, now).filter((r) => warningTimeOf(r) <= now)) {
    const warned = ctx.db.transaction(() => markExpiryWarned(ctx.db, request.id, request.accessExpiresAt!)
      && enqueueEvent(ctx.db, { kind: 'expiry_warning', requestId: request.id }, now) > 0).immediate();
    if (warned) report.expiryWarnings++;
  }

  // Grants left in provisioning or revoking by a crash, and failures whose retry time has come: batched per target
  // like the rest.
  const provisionDue = listGrants(ctx.db, { states: ['provisioning', 'provision_failed'] }).filter(idle)
    .filter((g) => g.state !== 'provision_failed' || (g.nextAttemptAt ?? 0) <= now);
  report.provisionRetried = provisionDue.length;
  if (provisionDue.length > 0) {
    const states = await provisionGrants(runner, provisionDue.map((g) => g.id));
    report.failures += [...states.values()].filter((state) => state === 'provision_failed').length;
  }
  const revokeDue = listGrants(ctx.db, { states: ['revoking', 'revoke_failed'] }).filter(idle)
    .filter((g) => g.state !== 'revoke_failed' || (g.nextAttemptAt ?? 0) <= now);
  report.revokeRetried = revokeDue.length;
  if (revokeDue.length > 0) {
    const states = await revokeGrants(runner, revokeDue.map((g) => g.id), 'system');
    report.failures += [...states.values()].filter((state) => state === 'revoke_failed').length;
  }

  // Approved requests whose credential was never issued (a crash between provisioning and signing), or is owed
  // again (an extension).
  for (const request of listRequests(ctx.db, { state: 'approved', limit: 500 })) {
    if (!needsCredential(runner, request.id)) continue;
    deliverCredentialIfNeeded(runner, request.id);
    report.certificatesIssued++;
  }

  report.usersCleaned = await cleanUpAccounts(runner, now);
  return report;
}

/** When the requester of this approved request is told that access is about to end. */
export function warningTimeOf(request: AccessRequest): number {
  return expiryWarningAt(request.decidedAt ?? request.createdAt, request.accessExpiresAt!);
}

/** Deletes the accounts each kind's driver says are due (SSH: users whose last grant on a server ended more than
 * cleanup_after_days ago), from what the grants stored: a server that has left the config is cleaned up too. */
async function cleanUpAccounts(runner: GrantRunner, now: number): Promise<number> {
  const { ctx } = runner;
  const revoked = listGrants(ctx.db, { states: ['revoked'], limit: 5000 }).filter(isBound);
  const live = listGrants(ctx.db, { states: GRANT_STATES_WITH_ACCESS, limit: 100_000 });
  let cleaned = 0;
  for (const [kind, driver] of runner.drivers) {
    const due = driver.accountsToClean(ctx, revoked.filter((g) => g.targetKind === kind), live.filter((g) => g.targetKind === kind || g.targetKind === null), now);
    for (const account of due) {
      try {
        await reportTargetOperation(ctx, 'cleanup', driver.cleanUp(ctx, account));
      } catch (error) {
        ctx.logger.warn({ kind, grants: account.grants.map((g) => g.id), err: (error as Error).message }, 'cleanup failed; will retry');
        continue;
      }
      ctx.db.transaction(() => {
        for (const g of account.grants) moveGrant(ctx.db, g.id, 'revoked', 'cleaned', { at: now });
        appendAudit(ctx.db, { actor: 'system', ...account.audit }, now);
      }).immediate();
      cleaned++;
    }
  }
  return cleaned;
}
