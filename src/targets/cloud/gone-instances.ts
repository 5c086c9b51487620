// An instance that left the cloud while granted: its grants are revoked through the address stored with them, like
// any other. When that revoke fails and the cloud says the instance was terminated, there is nothing left to revoke
// on: the grants are recorded as revoked and cleaned (audit `grant.revoked` with gone: true), not retried for ever.
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { CloudIntegration } from '../../core/model.js';
import { appendAudit } from '../../store/audit-log.js';
import { listGrants, moveGrant } from '../../store/grants.js';
import type { SnapshotServer } from '../../store/inventory-snapshots.js';

/** Of the given cloud ids, those the cloud reports terminated (or no longer knows at all). */
export type TerminatedCheck = (settings: CloudIntegration, ids: string[], options: { env: NodeJS.ProcessEnv; signal?: AbortSignal }) => Promise<Set<string>>;

export interface GoneDeps {
  db: Database;
  env: NodeJS.ProcessEnv;
  now: () => number;
  logger: Logger;
}

export async function markGoneGrants(deps: GoneDeps, integration: CloudIntegration, missing: readonly SnapshotServer[], terminated: TerminatedCheck): Promise<number> {
  const { db, logger } = deps;
  const byName = new Map(missing.map((s) => [s.name, s]));
  const failing = listGrants(db, { states: ['revoke_failed'], limit: 100_000 })
    .filter((g) => g.integration === integration.name && byName.has(g.server));
  if (failing.length === 0) return 0;
  const ids = [...new Set(failing.map((g) => byName.get(g.server)!.cloudId))];
  const dead = await terminated(integration, ids, { env: deps.env, signal: AbortSignal.timeout(60_000) });
  let marked = 0;
  for (const grant of failing) {
    const server = byName.get(grant.server)!;
    if (!dead.has(server.cloudId)) continue;
    const now = deps.now();
    const done = db.transaction(() => {
      if (!moveGrant(db, grant.id, 'revoke_failed', 'revoking', { at: now })) return false;
      moveGrant(db, grant.id, 'revoking', 'revoked', { at: now });
      moveGrant(db, grant.id, 'revoked', 'cleaned', { at: now });
      appendAudit(db, {
        actor: 'system', action: 'grant.revoked', subject: `grant:${grant.id}`,
        details: { server: grant.server, user: grant.linuxUser, gone: true, instance: server.cloudId, reason: 'the cloud reports the instance terminated: nothing left to revoke' },
      }, now);
      return true;
    }).immediate();
    if (!done) continue;
    marked++;
    logger.warn({ grantId: grant.id, server: grant.server, instance: server.cloudId }, 'instance terminated while its revoke was failing: grant marked revoked (gone)');
  }
  return marked;
}
