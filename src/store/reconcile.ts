// What the database knows is live on one server, for `keyway hosts reconcile`: the principals of grants that still
// give (or may give, or are being taken from) access, and the accounts Keyway created there and has not deleted.
import type { Database } from 'better-sqlite3';
import type { GrantState } from '../core/lifecycle.js';
import { statement } from './statements.js';

/** Grant states in which the grant's principal may be on the server and must stay there until Keyway revokes it. */
export const LIVE_GRANT_STATES: readonly GrantState[] = ['provisioning', 'provision_failed', 'active', 'revoking', 'revoke_failed'];

export interface LiveAccessOnServer {
  /** `${linuxUser} ${principal}` of every live grant on the server. */
  principals: Set<string>;
  /** linux_user → UID of every live managed_users row on the server. */
  accounts: Map<string, number>;
}

export function liveAccessOnServer(db: Database, integration: string, server: string): LiveAccessOnServer {
  const grants = statement(db, `SELECT linux_user AS user, principal FROM grants
    WHERE integration = ? AND server = ? AND state IN (SELECT value FROM json_each(?))`)
    .all(integration, server, JSON.stringify(LIVE_GRANT_STATES)) as Array<{ user: string; principal: string }>;
  const users = statement(db, 'SELECT linux_user AS user, uid FROM managed_users WHERE integration = ? AND server = ? AND deleted_at IS NULL')
    .all(integration, server) as Array<{ user: string; uid: number }>;
  return {
    principals: new Set(grants.map((g) => `${g.user} ${g.principal}`)),
    accounts: new Map(users.map((u) => [u.user, u.uid])),
  };
}
