// Turns grant records into effects on targets: provision, issue the credential, revoke. Each step writes the new
// state before acting (provisioning/revoking), so a crash leaves a record that the next pass finishes; failures are
// states with a reason and a retry time, never dropped. Kind-agnostic: the grant's driver is picked by the kind it
// was bound to, and a grant is bound to its target (kind, address, account) before the target is first touched,
// so its revoke never depends on the config or the inventory as they are later.
import { retryDelayMs } from '../core/backoff.js';
import { isOutage } from '../core/errors.js';
import { findServer } from '../core/policy.js';
import type { GrantState } from '../core/lifecycle.js';
import type { ServerRef } from '../core/model.js';
import { appendAudit } from '../store/audit-log.js';
import { bindGrantTarget, getGrant, grantsOfRequest, moveGrant, otherLiveGrantsOnServer, type Grant } from '../store/grants.js';
import { enqueueEvent } from '../store/outbox.js';
import { getRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';
import {
  driverFor, isBound, type BoundGrant, type DriverRegistry, type Outcome, type RevokeItem, type RevokeNotes,
} from './target-driver.js';

export interface GrantRunner {
  ctx: AccessContext;
  drivers: DriverRegistry;
  /** The operation under way per grant: operations on one grant run one after another, never side by side. */
  inFlight: Map<number, Promise<unknown>>;
}

export function createGrantRunner(ctx: AccessContext, drivers: DriverRegistry): GrantRunner {
  return { ctx, drivers, inFlight: new Map() };
}

/** The grant's server as the config has it now: required to provision (no new access on a server that left it). */
function serverOf(runner: GrantRunner, grant: Grant): ServerRef {
  const ref = findServer(runner.ctx.config(), grant.server);
  if (!ref || ref.integration.name !== grant.integration) {
    throw new Error(`server ${grant.server} of integration ${grant.integration} is no longer in the config; restore it so Keyway can reach it`);
  }
  return ref;
}

/**
 * Binds the grant to its target from the config, if it is not bound yet (or is a pre-0006 row without an address).
 * Returns the grant as stored afterwards; `required` throws when the server is not in the config.
 */
function bound(runner: GrantRunner, grant: Grant, required: boolean): Grant {
  if (grant.targetKind !== null && grant.targetAddress !== null) return grant;
  const ref = findServer(runner.ctx.config(), grant.server);
  if (!ref || ref.integration.name !== grant.integration) {
    if (required) serverOf(runner, grant);
    return grant;
  }
  if (grant.targetKind !== null && grant.targetKind !== ref.integration.type) return grant;
  const target = driverFor(runner.drivers, ref.integration.type).accountFor(ref, grant);
  bindGrantTarget(runner.ctx.db, grant.id, target);
  return getGrant(runner.ctx.db, grant.id)!;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}

// A revoke that arrives while the grant is being provisioned waits for it, so it cannot be undone by it. A batch
// waits for every operation under way on any of its grants, and holds them all until it is done.
function exclusively<T>(runner: GrantRunner, grantIds: readonly number[], work: () => Promise<T>): Promise<T> {
  const ids = [...new Set(grantIds)];
  const before = Promise.all(ids.map((id) => runner.inFlight.get(id)));
  const run = before.then(work, work);
  const settled = run.then(() => undefined, () => undefined);
  for (const id of ids) runner.inFlight.set(id, settled);
  void settled.then(() => {
    for (const id of ids) if (runner.inFlight.get(id) === settled) runner.inFlight.delete(id);
  });
  return run;
}

/** Grants that share a target (kind, integration, server, address): what one batch of a driver may hold. */
function byTarget<T extends { grant: BoundGrant }>(items: T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const g = item.grant;
    const key = [g.targetKind, g.integration, g.server, g.targetAddress ?? ''].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups.values()];
}

/** Runs a target's batch through the driver's batch call when it has one (and there is more than one grant), else one by one, in parallel. */
async function perGrant<T, I extends { grant: BoundGrant }>(
  items: I[], batch: ((items: I[]) => Promise<Array<Outcome<T>>>) | undefined, one: (item: I) => Promise<T>,
): Promise<Array<Outcome<T>>> {
  if (batch && items.length > 1) {
    try {
      return await batch(items);
    } catch (error) {
      return items.map(() => ({ ok: false, error: error instanceof Error ? error : new Error(String(error)) }));
    }
  }
  return Promise.all(items.map(async (item): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await one(item) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }));
}

/** Provisions one grant that is in `provisioning` (or moves a due `provision_failed` back to it first). Calls made
 * in the same turn of the event loop are provisioned together: one batch per target. */
export function provisionGrant(runner: GrantRunner, grantId: number): Promise<GrantState | undefined> {
  let queue = provisionQueues.get(runner);
  if (!queue) {
    const fresh: number[] = [];
    const flushed = Promise.resolve().then(() => {
      provisionQueues.delete(runner);
      return provisionGrants(runner, fresh);
    });
    provisionQueues.set(runner, (queue = { ids: fresh, flushed }));
  }
  queue.ids.push(grantId);
  return queue.flushed.then((states) => states.get(grantId));
}

const provisionQueues = new WeakMap<GrantRunner, { ids: number[]; flushed: Promise<Map<number, GrantState | undefined>> }>();

/**
 * Provisions the grants given (each in `provisioning`, or a `provision_failed` one moved back to it first): the grants
 * that share a target in one call of its driver, every target in parallel; each grant recorded on its own.
 */
export async function provisionGrants(runner: GrantRunner, grantIds: readonly number[]): Promise<Map<number, GrantState | undefined>> {
  const { ctx } = runner;
  return exclusively(runner, grantIds, async () => {
    const states = new Map<number, GrantState | undefined>();
    const ready: Array<{ grant: BoundGrant }> = [];
    for (const grantId of new Set(grantIds)) {
      let grant = getGrant(ctx.db, grantId);
      if (grant?.state === 'provision_failed') {
        if (moveGrant(ctx.db, grant.id, 'provision_failed', 'provisioning', { at: ctx.now(), error: grant.lastError, nextAttemptAt: null })) {
          grant = getGrant(ctx.db, grantId)!;
        } else {
          grant = undefined;
        }
      }
      if (grant?.state !== 'provisioning') {
        states.set(grantId, grant?.state);
        continue;
      }
      try {
        serverOf(runner, grant);
        const target = bound(runner, grant, true);
        if (!isBound(target)) throw new Error(`grant ${grant.id} could not be bound to its target`);
        ready.push({ grant: target });
      } catch (error) {
        states.set(grantId, recordProvisionFailure(runner, grant, error));
      }
    }
    await Promise.all(byTarget(ready).map(async (group) => {
      const driver = driverFor(runner.drivers, group[0]!.grant.targetKind);
      const outcomes = await perGrant(group, driver.provisionBatch && ((items) => driver.provisionBatch!(ctx, items.map((i) => i.grant))),
        (item) => driver.provision(ctx, item.grant));
      // The target's outcomes in one commit (synchronous=FULL: one fsync for the batch, not one per grant).
      ctx.db.transaction(() => group.forEach(({ grant }, i) => {
        const outcome = outcomes[i]!;
        states.set(grant.id, outcome.ok ? recordActive(runner, grant) : recordProvisionFailure(runner, grant, outcome.error));
      })).immediate();
    }));
    return states;
  });
}

function recordProvisionFailure(runner: GrantRunner, grant: Grant, error: unknown): GrantState {
  const { ctx } = runner;
  const now = ctx.now();
  const attempts = grant.attempts + 1;
  ctx.db.transaction(() => {
    if (!moveGrant(ctx.db, grant.id, 'provisioning', 'provision_failed', { at: now, error: errorText(error), nextAttemptAt: now + retryDelayMs(attempts), countAttempt: true })) return;
    appendAudit(ctx.db, { actor: 'system', action: 'grant.provision_failed', subject: `grant:${grant.id}`, details: { server: grant.server, error: errorText(error), attempts } }, now);
    if (attempts === 1) enqueueEvent(ctx.db, { kind: 'provision_failed', requestId: grant.requestId, grantIds: [grant.id] }, now);
  }).immediate();
  ctx.logger.warn({ grantId: grant.id, server: grant.server, err: errorText(error), outage: isOutage(error) }, 'provisioning failed; will retry');
  return 'provision_failed';
}

function recordActive(runner: GrantRunner, grant: Grant): GrantState | undefined {
  const { ctx } = runner;
  const now = ctx.now();
  const moved = ctx.db.transaction(() => {
    if (!moveGrant(ctx.db, grant.id, 'provisioning', 'active', { at: now })) return false;
    appendAudit(ctx.db, { actor: 'system', action: 'grant.active', subject: `grant:${grant.id}`, details: { server: grant.server, user: grant.linuxUser } }, now);
    return true;
  }).immediate();
  ctx.logger.info({ grantId: grant.id, server: grant.server }, 'grant active');
  if (moved) deliverCredentialIfNeeded(runner, grant.requestId);
  return getGrant(ctx.db, grant.id)!.state;
}

/** The request's active grants, bound, with the driver of their kind (a request's grants share one integration). */
function activeGrantsOf(runner: GrantRunner, requestId: number): BoundGrant[] {
  return grantsOfRequest(runner.ctx.db, requestId).filter((g) => g.state === 'active').map((g) => bound(runner, g, false)).filter(isBound);
}

/** Whether the approved request is owed a credential now: by the driver of its active grants. */
export function needsCredential(runner: GrantRunner, requestId: number): boolean {
  const request = getRequest(runner.ctx.db, requestId);
  const active = activeGrantsOf(runner, requestId);
  if (!request || active.length === 0) return false;
  return driverFor(runner.drivers, active[0]!.targetKind).needsCredential(runner.ctx, request);
}

/**
 * Issues and sends the credential once a grant of the request is active (again after an extension). Returns
 * whether one was issued.
 */
export function deliverCredentialIfNeeded(runner: GrantRunner, requestId: number): boolean {
  const request = getRequest(runner.ctx.db, requestId);
  const active = activeGrantsOf(runner, requestId);
  if (!request || active.length === 0) return false;
  const driver = driverFor(runner.drivers, active[0]!.targetKind);
  if (!driver.needsCredential(runner.ctx, request)) return false;
  return driver.issueCredential(runner.ctx, request, active);
}

/** The former name, for callers that think in certificates. */
export const deliverCertificateIfNeeded = deliverCredentialIfNeeded;

/** Provisions every grant of a request in parallel (one SSH connection per server, pooled by the SSH driver). */
export async function provisionRequest(runner: GrantRunner, requestId: number): Promise<Grant[]> {
  await provisionGrants(runner, grantsOfRequest(runner.ctx.db, requestId).map((g) => g.id));
  return grantsOfRequest(runner.ctx.db, requestId);
}

const REVOCABLE: readonly GrantState[] = ['provisioning', 'provision_failed', 'active', 'revoke_failed'];

/** Revokes one grant: records `revoking` first, then acts; a failure is `revoke_failed` with a retry time. */
export async function revokeGrant(runner: GrantRunner, grantId: number, by: string): Promise<GrantState | undefined> {
  return (await revokeGrants(runner, [grantId], by)).get(grantId);
}

/**
 * Revokes the grants given, each as revokeGrant would: `revoking` recorded first, then the grants that share a
 * target taken back in one call of its driver (every target in parallel), then each grant recorded on its own:
 * `revoked`, or `revoke_failed` with its own reason and retry time.
 */
export async function revokeGrants(runner: GrantRunner, grantIds: readonly number[], by: string): Promise<Map<number, GrantState | undefined>> {
  const { ctx } = runner;
  return exclusively(runner, grantIds, async () => {
    const states = new Map<number, GrantState | undefined>();
    // Every grant moved to revoking in one commit (each move still a compare-and-swap of its own).
    const due = ctx.db.transaction(() => [...new Set(grantIds)].flatMap((grantId) => {
      const grant = getGrant(ctx.db, grantId);
      if (grant && REVOCABLE.includes(grant.state)) {
        const now = ctx.now();
        if (!moveGrant(ctx.db, grant.id, grant.state, 'revoking', { at: now, error: grant.lastError })) {
          states.set(grantId, getGrant(ctx.db, grantId)?.state);
          return [];
        }
        appendAudit(ctx.db, { actor: by, action: 'grant.revoking', subject: `grant:${grant.id}`, details: { server: grant.server, from: grant.state } }, now);
      } else if (grant?.state !== 'revoking') {
        states.set(grantId, grant?.state);
        return [];
      }
      return [getGrant(ctx.db, grantId)!];
    })).immediate();
    // Scopes once every grant of the batch is `revoking`: none of them keeps another's groups or account alive.
    const items: RevokeItem[] = [];
    for (const grant of due) {
      let current = grant;
      try {
        current = bound(runner, grant, false);
      } catch (error) {
        states.set(grant.id, recordRevokeFailure(runner, grant, error));
        continue;
      }
      // Never bound (and its server has left the config): nothing was ever done on a target for it.
      if (!isBound(current)) {
        states.set(grant.id, recordRevoked(runner, current, {}));
        continue;
      }
      const others = otherLiveGrantsOnServer(ctx.db, current);
      items.push({ grant: current, scope: { keepGroups: [...new Set(others.flatMap((g) => g.groups))], otherGrantsLive: others.length > 0 } });
    }
    await Promise.all(byTarget(items).map(async (group) => {
      const driver = driverFor(runner.drivers, group[0]!.grant.targetKind);
      const outcomes = await perGrant(group, driver.revokeBatch && ((batch) => driver.revokeBatch!(ctx, batch)),
        (item) => driver.revoke(ctx, item.grant, item.scope));
      // The target's outcomes in one commit, as for provisioning.
      ctx.db.transaction(() => group.forEach(({ grant }, i) => {
        const outcome = outcomes[i]!;
        states.set(grant.id, outcome.ok ? recordRevoked(runner, grant, outcome.value) : recordRevokeFailure(runner, grant, outcome.error));
      })).immediate();
    }));
    return states;
  });
}

function recordRevokeFailure(runner: GrantRunner, grant: Grant, error: unknown): GrantState {
  const { ctx } = runner;
  const now = ctx.now();
  const attempts = grant.attempts + 1;
  // Compare-and-swap: when another Keyway process finished this revoke meanwhile, its outcome stands and nobody is
  // told of a failure that did not happen.
  const recorded = ctx.db.transaction(() => {
    if (!moveGrant(ctx.db, grant.id, 'revoking', 'revoke_failed', { at: now, error: errorText(error), nextAttemptAt: now + retryDelayMs(attempts), countAttempt: true })) return false;
    appendAudit(ctx.db, { actor: 'system', action: 'grant.revoke_failed', subject: `grant:${grant.id}`, details: { server: grant.server, error: errorText(error), attempts } }, now);
    enqueueEvent(ctx.db, { kind: 'revoke_failing', grantId: grant.id, attempts, error: errorText(error) }, now);
    return true;
  }).immediate();
  if (!recorded) return getGrant(ctx.db, grant.id)?.state ?? 'revoke_failed';
  ctx.logger.error({ grantId: grant.id, server: grant.server, err: errorText(error), attempts, outage: isOutage(error) }, 'revoke failed; will retry');
  return 'revoke_failed';
}

function recordRevoked(runner: GrantRunner, grant: Grant, notes: RevokeNotes): GrantState {
  const { ctx } = runner;
  const now = ctx.now();
  ctx.db.transaction(() => {
    if (moveGrant(ctx.db, grant.id, 'revoking', 'revoked', { at: now })) {
      appendAudit(ctx.db, { actor: 'system', action: 'grant.revoked', subject: `grant:${grant.id}`, details: { server: grant.server, user: grant.linuxUser, ...(notes.movedAside ? { movedAside: notes.movedAside, movedTo: notes.movedTo } : {}) } }, now);
    }
  }).immediate();
  ctx.logger.info({ grantId: grant.id, server: grant.server }, 'grant revoked');
  return 'revoked';
}

/**
 * Records that a request's access ends (expiry or a person's revoke) and owes the requester the message, moving its
 * grants to `revoking`; returns the grants to revoke. endAccess is this then revokeGrants.
 */
export function beginEndingAccess(runner: GrantRunner, requestId: number, why: 'expired' | 'revoked', by: string): number[] {
  const { ctx } = runner;
  const live = grantsOfRequest(ctx.db, requestId).filter((g) => REVOCABLE.includes(g.state) || g.state === 'revoking');
  if (live.length === 0) return [];
  const now = ctx.now();
  const starting = live.filter((g) => g.state !== 'revoking' && g.state !== 'revoke_failed');
  // One commit: the decision to end access, the message saying so, and every grant moved to revoking. A crash
  // after it leaves grants the sweeper finishes; never an ending announced while the grants stay active.
  ctx.db.transaction(() => {
    if (starting.length === 0) return; // a retry of a failed revoke is not a second ending
    appendAudit(ctx.db, { actor: by, action: why === 'expired' ? 'access.expired' : 'access.revoked', subject: `request:${requestId}`, details: { grants: live.map((g) => g.id) } }, now);
    enqueueEvent(ctx.db, { kind: 'access_ended', requestId, why, ...(why === 'revoked' ? { by } : {}) }, now);
    for (const g of starting) {
      if (moveGrant(ctx.db, g.id, g.state, 'revoking', { at: now, error: g.lastError })) {
        appendAudit(ctx.db, { actor: by, action: 'grant.revoking', subject: `grant:${g.id}`, details: { server: g.server, from: g.state } }, now);
      }
    }
  }).immediate();
  return live.map((g) => g.id);
}

/** Ends a request's access (expiry or a person's revoke): tells the requester, then revokes every grant. */
export async function endAccess(runner: GrantRunner, requestId: number, why: 'expired' | 'revoked', by: string): Promise<Grant[]> {
  const ids = beginEndingAccess(runner, requestId, why, by);
  if (ids.length > 0) await revokeGrants(runner, ids, by);
  return grantsOfRequest(runner.ctx.db, requestId);
}
