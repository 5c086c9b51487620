// The access layer's HostEffects over SSH: grants become accounts, groups and principals on servers.
import type { HostEffects } from '../../access/host-effects.js';
import { cleanupUser, provisionGrant, revokeGrant, type HostsContext } from './provision.js';

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
