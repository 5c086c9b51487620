// A grant runner with the SSH driver over the given host effects (a recording stand-in or real sshd hosts), as the
// tests before target drivers built it: createGrantRunner(ctx, hosts, ca).
import type { CaKey } from '../../src/ca/ca-key.js';
import type { AccessContext } from '../../src/access/context.js';
import { createGrantRunner as createRunner, type GrantRunner } from '../../src/access/grant-runner.js';
import { targetDrivers } from '../../src/compose.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';

export function createGrantRunner(ctx: AccessContext, hosts: HostEffects, ca: CaKey): GrantRunner {
  return createRunner(ctx, targetDrivers({ hosts, ca }));
}
