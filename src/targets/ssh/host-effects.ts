// What the SSH driver does on a server, behind a small port so tests can stand in for real servers: grants become
// accounts, groups and principals on servers (provision.ts), and are taken back.
import type { Outcome, RevokeNotes, RevokeScope } from '../../access/target-driver.js';
import type { ServerRef } from '../../core/model.js';
import type { Grant } from '../../store/grants.js';
import { cleanupUser, type HostsContext, type RevokeResult } from './provision.js';
import { provisionGrants, revokeGrants } from './provision-batch.js';

export type { RevokeNotes, RevokeScope };

export interface HostEffects {
  provision(ref: ServerRef, grant: Grant): Promise<void>;
  revoke(ref: ServerRef, grant: Grant, scope: RevokeScope): Promise<RevokeNotes | void>;
  cleanup(ref: ServerRef, linuxUser: string): Promise<void>;
  /** Optional: the grants on ref's server in one go; the outcome at index i is grants[i]'s. */
  provisionBatch?(ref: ServerRef, grants: Grant[]): Promise<Array<Outcome<void>>>;
  /** Optional: revokes the grants on ref's server in one go; the outcome at index i is items[i]'s. */
  revokeBatch?(ref: ServerRef, items: Array<{ grant: Grant; scope: RevokeScope }>): Promise<Array<Outcome<RevokeNotes>>>;
}

function notesOf(result: RevokeResult): RevokeNotes {
  return result.hooksMoved.length > 0 ? { movedAside: result.hooksMoved, movedTo: result.hooksMovedTo } : {};
}

export function sshHostEffects(hosts: HostsContext): HostEffects {
  return {
    // One grant is a batch of one: one remote run (no inspection first when Keyway has a record of the account).
    async provision(ref, grant) {
      const [outcome] = await provisionGrants(hosts, ref, [{ linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal }]);
      if (!outcome!.ok) throw outcome!.error;
    },
    // Likewise a revoke: REVOKE_BATCH_SCRIPT is the only revoke script (provision.ts revokeGrant is a batch of one too).
    async revoke(ref, grant, scope) {
      const [outcome] = await revokeGrants(hosts, ref, [{
        linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal,
        groupsStillGranted: scope.keepGroups, otherActiveGrants: scope.otherGrantsLive,
      }]);
      if (!outcome!.ok) throw outcome!.error;
      return notesOf(outcome!.value);
    },
    async provisionBatch(ref, grants) {
      const outcomes = await provisionGrants(hosts, ref, grants.map((g) => ({ linuxUser: g.linuxUser, groups: g.groups, principal: g.principal })));
      return outcomes.map((o) => (o.ok ? { ok: true, value: undefined } : o));
    },
    async revokeBatch(ref, items) {
      const outcomes = await revokeGrants(hosts, ref, items.map(({ grant, scope }) => ({
        linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal,
        groupsStillGranted: scope.keepGroups, otherActiveGrants: scope.otherGrantsLive,
      })));
      return outcomes.map((o) => (o.ok ? { ok: true, value: notesOf(o.value) } : o));
    },
    async cleanup(ref, linuxUser) {
      await cleanupUser(hosts, ref, linuxUser);
    },
  };
}
