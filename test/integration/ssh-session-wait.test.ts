// The test helper's wait on an ssh session is bounded: a session the server never ends (e.g. a revoke that left
// the user's processes running) fails with a message saying so, instead of hanging until the test times out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootTestSkipReason } from '../helpers/root.js';
import { startSshSession } from '../helpers/ssh-client.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

describe.skipIf(!!reason)(`waiting on an ssh session${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let host: TestHost;
  beforeAll(async () => (host = await startTestHost({ name: 'wait' })));
  afterAll(async () => host?.stop());

  const open = async (command: string) => {
    const session = startSshSession(host, { user: host.connectorUser, keyPath: host.connectorKeyPath, command });
    await session.waitForOutput('ready', 15_000);
    return session;
  };

  it('fails within its bound, naming the session, when the server never ends it', async () => {
    const session = await open('echo ready; sleep 600');
    const started = Date.now();
    await expect(session.wait(1_500)).rejects.toThrow(
      new RegExp(`the ssh session of ${host.connectorUser}@127\\.0\\.0\\.1:${host.port} was still open after 1500 ms: the server did not end it`),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(session.child.exitCode !== null || session.child.signalCode !== null || session.child.killed, 'the local ssh client was stopped').toBe(true);
  });

  it('resolves with the exit as soon as the server ends the session', async () => {
    const session = await open('echo ready; sleep 600');
    const killed = await host.exec(`pkill -KILL -u ${host.connectorUser} -x sleep`);
    expect(killed.code, killed.stderr).toBe(0);
    const ended = await session.wait(10_000);
    expect(ended.code).not.toBe(0);
    expect(ended.stdout).toContain('ready');
  });
});
