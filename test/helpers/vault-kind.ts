// A target kind that exists only in the tests: "vault", whose account is kw-<user> and whose credential is a
// password. It records what it is asked, so a test can see that access/, store/ and chat/ drive a kind they do
// not know, registered from the test beside the real SSH driver.
import type { BoundGrant, TargetDriver } from '../../src/access/target-driver.js';
import { enqueueEvent } from '../../src/store/outbox.js';

export const VAULT_PASSWORD = 'correct horse battery staple';

/** A kind that only records what it is asked: its account is the user's name, its credential a password. */
export function vaultKind(calls: string[] = []): TargetDriver {
  const issued = new Map<number, number>();
  return {
    kind: 'vault',
    accountFor: (ref, grant) => ({ kind: ref.integration.type, address: `vault://${ref.server.host}`, account: { name: `kw-${grant.linuxUser}` } }),
    async provision(_ctx, grant) { calls.push(`provision ${grant.server} ${String(grant.targetAccount.name)}`); },
    needsCredential: (_ctx, request) => !issued.has(request.id),
    issueCredential(c, request, active) {
      calls.push(`credential ${active.map((g) => g.server).join(',')}`);
      issued.set(request.id, issued.size + 1);
      enqueueEvent(c.db, { kind: 'access_granted', requestId: request.id, serial: issued.get(request.id)! }, c.now());
      return true;
    },
    credentialView: (_ctx, request, grants) => ({
      kind: 'password', title: 'Vault access', requestId: request.id, credentialId: `pw-${issued.get(request.id)}`, account: `kw-${request.linuxUser}`,
      validUntil: request.accessExpiresAt!, targets: grants.filter((g) => g.state === 'active').map((g) => g.server),
      secret: { label: 'your password', text: VAULT_PASSWORD, filename: 'vault.txt' },
      connect: grants.map((g) => ({ target: g.server, lines: [`vault login ${g.targetAddress}`] })), notReady: [], notes: [],
      scope: 'The password opens only the vaults of this request',
    }),
    async revoke(_ctx, grant, scope) { calls.push(`revoke ${grant.server} other=${scope.otherGrantsLive}`); return {}; },
    accountsToClean: (_ctx, revoked: BoundGrant[]) => revoked.map((g) => ({ grants: [g], audit: { action: 'vault.account_deleted', subject: `vault:${g.server}`, details: { account: g.targetAccount.name } } })),
    async cleanUp(_ctx, account) { calls.push(`cleanup ${account.grants.map((g) => g.server).join(',')}`); },
    describe: (grant) => `kw-${grant.linuxUser} on ${grant.server}`,
  };
}

