// What the SSH driver does on a server, behind a small port so tests can stand in for real servers: grants become
// accounts, groups and principals on servers (provision.ts), and are taken back.
import type { RevokeNotes, RevokeScope } from '../../access/target-driver.js';
import type { ServerRef } from '../../core/model.js';
import type { Grant } from '../../store/grants.js';
import { cleanupUser, provisionGrant, revokeGrant, type HostsContext } from './provision.js';

export type { RevokeNotes, RevokeScope };

export interface HostEffects {
  provision(ref: ServerRef, grant: Grant): Promise<void>;
  revoke(ref: ServerRef, grant: Grant, scope: RevokeScope): Promise<RevokeNotes | void>;
  cleanup(ref: ServerRef, linuxUser: string): Promise<void>;
}

export function sshHostEffects(hosts: HostsContext): HostEffects {
  return {
    async provision(ref, grant) {
      await provisionGrant(hosts, ref, { linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal });
    },
    async revoke(ref, grant, scope) {
      const result = await revokeGrant(hosts, ref, {
        linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal,
        groupsStillGranted: scope.keepGroups, otherActiveGrants: scope.otherGrantsLive,
      });
      return result.hooksMoved.length > 0 ? { movedAside: result.hooksMoved, movedTo: result.hooksMovedTo } : {};
    },
    async cleanup(ref, linuxUser) {
      await cleanupUser(hosts, ref, linuxUser);
    },
  };
}
