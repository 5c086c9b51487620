// Skip policy for integration tests that need root (test hosts): skip with a reason locally, fail under CI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let cached: { reason: string | undefined } | undefined;

function findReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const path of ['/usr/sbin/sshd', '/usr/bin/ssh', '/usr/bin/ssh-keygen', '/usr/bin/sudo']) {
    if (!existsSync(path)) return `${path} is missing (install openssh-server, openssh-client and sudo)`;
  }
  const probe = spawnSync('unshare', ['--mount', '--uts', '--pid', '--fork', '--mount-proc', '--propagation', 'private', 'true'],
    { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return `unshare does not work here: ${(probe.stderr || probe.error?.message || '').trim()}`;
  return undefined;
}

/** Returns undefined when the test can run; otherwise a reason to skip. Under CI it throws instead of skipping. */
export function rootTestSkipReason(): string | undefined {
  cached ??= { reason: findReason() };
  const ci = process.env.CI;
  if (cached.reason && ci && ci !== 'false' && ci !== '0') {
    throw new Error(`root integration tests cannot run (${cached.reason}) but CI=${ci} requires them`);
  }
  return cached.reason;
}
