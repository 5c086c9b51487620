// Coded errors have a kind: a refusal the person can fix, or an outage (a server unreachable) they cannot. Both
// stay UserErrors, so the CLI and chat still answer with their one sentence; retries and alerts ask isOutage.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isOutage, isUserError, OutageError, UserError } from '../../src/core/errors.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { checkBootstrapCommand } from '../../src/targets/ssh/remote-commands.js';
import { integration, server } from '../helpers/access-config.js';

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('error kinds', () => {
  it('tells an outage from a refusal, and both are shown to the person', () => {
    const outage = new OutageError('host_unreachable', 'Cannot reach server web-1.');
    const refusal = new UserError('duration_too_long', 'At most 8h.');
    expect([isOutage(outage), isUserError(outage), outage.kind, outage.name]).toEqual([true, true, 'outage', 'OutageError']);
    expect([isOutage(refusal), isUserError(refusal), refusal.kind]).toEqual([false, true, 'refusal']);
    expect(isOutage(new Error('a bug'))).toBe(false);
  });

  it('reports a server nobody answers on as an outage (host_unreachable)', async () => {
    const port = await closedPort();
    const lab = integration('lab', [server('nobody', { port })]);
    const pool = new ConnectionPool({
      connectorKey: () => generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey,
      hostKeys: { pinned: () => undefined, pinFirstContact: (_ref, fingerprint) => fingerprint },
      connectTimeoutMs: 2000,
    });
    try {
      const error = await pool.run({ integration: lab, server: lab.servers[0]! }, checkBootstrapCommand(undefined)).then(() => undefined, (e: unknown) => e);
      expect(isOutage(error), String(error)).toBe(true);
      expect((error as OutageError).code).toBe('host_unreachable');
    } finally {
      await pool.close();
    }
  });
});
