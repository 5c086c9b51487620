// The grant runner and the sweeper pick a grant's driver by the kind it was bound to: a test-only kind registered
// beside SSH goes through provision → credential → revoke → cleanup without the SSH driver being asked anything.
import { afterEach, describe, expect, it } from 'vitest';
import { credentialViewOf } from '../../src/access/credential-view.js';
import { createGrantRunner, endAccess, provisionRequest } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { targetDrivers } from '../../src/compose.js';
import type { Integration } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { vaultKind } from '../helpers/vault-kind.js';

let ctx: TestContext | undefined;
afterEach(() => ctx?.close());

describe('the driver registry', () => {
  it('takes a grant of a test-only kind from provision through credential and revoke to cleanup', async () => {
    const vaults = { ...integration('vaults', [server('vault-1', { host: 'vault.internal', tags: { env: 'prod' } })], { cleanupAfterDays: 0 }), type: 'vault' } as unknown as Integration;
    ctx = testContext(accessConfig({ integrations: [vaults], flows: [flow('vault-debug', 'vaults')] }));
    registerKey(ctx, 'dev@example.com', 'dev');
    const calls: string[] = [];
    const sshUntouched = { provision: async () => { throw new Error('the SSH driver was asked'); }, revoke: async () => { throw new Error('the SSH driver was asked'); }, cleanup: async () => { throw new Error('the SSH driver was asked'); } };
    const runner = createGrantRunner(ctx, new Map([...targetDrivers({ hosts: sshUntouched, ca: generateCaKey().caKey }), ['vault', vaultKind(calls)]]));

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
    expect(grant!.lastError).toBe('no driver for target kind mainframe: this Keyway knows ssh, aws-ec2, azure-vm, windows-dc, rdp');
  });
});
