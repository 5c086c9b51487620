// The grant runner and the sweeper pick a grant's driver by the kind it was bound to: a test-only kind registered
// beside SSH goes through provision → credential → revoke → cleanup without the SSH driver being asked anything.
import { afterEach, describe, expect, it } from 'vitest';
import { credentialViewOf } from '../../src/access/credential-view.js';
import { createGrantRunner, endAccess, provisionRequest } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import type { BoundGrant, TargetDriver } from '../../src/access/target-driver.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { targetDrivers } from '../../src/compose.js';
import type { Integration } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { enqueueEvent, dueOutbox } from '../../src/store/outbox.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';

let ctx: TestContext | undefined;
afterEach(() => ctx?.close());

/** A kind that only records what it is asked: its account is the user's name, its credential a password. */
function recordingKind(calls: string[]): TargetDriver {
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
      secret: { label: 'your password', text: 'correct horse', filename: 'vault.txt' },
      connect: grants.map((g) => ({ target: g.server, lines: [`vault login ${g.targetAddress}`] })), notReady: [], notes: [],
      scope: 'The password opens only the vaults of this request',
    }),
    async revoke(_ctx, grant, scope) { calls.push(`revoke ${grant.server} other=${scope.otherGrantsLive}`); return {}; },
    accountsToClean: (_ctx, revoked: BoundGrant[]) => revoked.map((g) => ({ grants: [g], audit: { action: 'vault.account_deleted', subject: `vault:${g.server}`, details: { account: g.targetAccount.name } } })),
    async cleanUp(_ctx, account) { calls.push(`cleanup ${account.grants.map((g) => g.server).join(',')}`); },
    describe: (grant) => `kw-${grant.linuxUser} on ${grant.server}`,
  };
}

describe('the driver registry', () => {
  it('takes a grant of a test-only kind from provision through credential and revoke to cleanup', async () => {
    const vaults = { ...integration('vaults', [server('vault-1', { host: 'vault.internal', tags: { env: 'prod' } })], { cleanupAfterDays: 0 }), type: 'vault' } as unknown as Integration;
    ctx = testContext(accessConfig({ integrations: [vaults], flows: [flow('vault-debug', 'vaults')] }));
    registerKey(ctx, 'dev@example.com', 'dev');
    const calls: string[] = [];
    const sshUntouched = { provision: async () => { throw new Error('the SSH driver was asked'); }, revoke: async () => { throw new Error('the SSH driver was asked'); }, cleanup: async () => { throw new Error('the SSH driver was asked'); } };
    const runner = createGrantRunner(ctx, new Map([...targetDrivers({ hosts: sshUntouched, ca: generateCaKey().caKey }), ['vault', recordingKind(calls)]]));

    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['vault-1'], duration: 3600, reason: 'INC-13' }, 'test');
    expect(voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve').kind).toBe('approved');
    const grants = await provisionRequest(runner, request.id);
    expect(grants.map((g) => [g.state, g.targetKind, g.targetAddress, g.targetAccount])).toEqual([['active', 'vault', 'vault://vault.internal', { name: 'kw-dev' }]]);
    expect(calls).toEqual(['provision vault-1 kw-dev', 'credential vault-1']);
    expect(dueOutbox(ctx.db, Number.MAX_SAFE_INTEGER).map((e) => e.event)).toContainEqual({ kind: 'access_granted', requestId: request.id, serial: 1 });
    expect(credentialViewOf(runner, request.id)?.view).toMatchObject({ kind: 'password', credentialId: 'pw-1', account: 'kw-dev', connect: [{ target: 'vault-1', lines: ['vault login vault://vault.internal'] }] });

    expect((await endAccess(runner, request.id, 'revoked', 'dev@example.com')).map((g) => g.state)).toEqual(['revoked']);
    expect(calls.at(-1)).toBe('revoke vault-1 other=false');

    const report = await sweepOnce(runner);
    expect(report.usersCleaned).toBe(1);
    expect(calls.at(-1)).toBe('cleanup vault-1');
    expect(grantsOfRequest(ctx.db, request.id).map((g) => g.state)).toEqual(['cleaned']);
    expect(listAudit(ctx.db, { subject: 'vault:vault-1' }).map((e) => [e.actor, e.action, e.details])).toEqual([['system', 'vault.account_deleted', { account: 'kw-dev' }]]);
  });

  it('refuses to provision a kind no driver is registered for, as a failure to retry, naming the kinds it knows', async () => {
    const odd = { ...integration('odd', [server('odd-1', { tags: { env: 'prod' } })]), type: 'mainframe' } as unknown as Integration;
    ctx = testContext(accessConfig({ integrations: [odd], flows: [flow('odd-debug', 'odd')] }));
    registerKey(ctx, 'dev@example.com', 'dev');
    const runner = createGrantRunner(ctx, targetDrivers({ hosts: { provision: async () => undefined, revoke: async () => undefined, cleanup: async () => undefined }, ca: generateCaKey().caKey }));
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['odd-1'], duration: 3600, reason: 'INC-13' }, 'test');
    voteOnRequest(ctx, request.id, { email: 'lead@example.com' }, 'approve');
    const [grant] = await provisionRequest(runner, request.id);
    expect(grant!.state).toBe('provision_failed');
    expect(grant!.lastError).toBe('no driver for target kind mainframe: this Keyway knows ssh');
  });
});
