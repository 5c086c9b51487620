// `keyway hosts bootstrap`: puts Keyway's server side in place (CA public key, principals directory, sshd drop-in,
// the keyway-users group), validated with sshd -t before the reload and rolled back if sshd refuses it, then checked
// with sshd -T. Idempotent: a second run changes nothing and says so.
import type { ServerRef } from '../../core/model.js';
import type { ConnectionPool } from './connection-pool.js';
import { bootstrapCommand } from './remote-commands.js';
import { caPublicKeyLine } from './remote-values.js';
import { runRemote } from './run-remote.js';

export interface BootstrapResult {
  server: string;
  status: 'configured' | 'already_configured';
  /** what this run changed, e.g. ['group', 'ca-key', 'sshd-drop-in', 'sshd-reloaded'] */
  changes: string[];
  warnings: string[];
}

export async function bootstrapServer(pool: ConnectionPool, ref: ServerRef, caPublicKey: string): Promise<BootstrapResult> {
  const output = await runRemote(pool, ref, bootstrapCommand(caPublicKeyLine(caPublicKey)));
  const changes = (output.first('changes') ?? '').split(' ').filter(Boolean);
  return {
    server: ref.server.name,
    status: changes.length > 0 ? 'configured' : 'already_configured',
    changes,
    warnings: output.values.get('warning') ?? [],
  };
}

export function describeBootstrap(result: BootstrapResult): string {
  const text = result.status === 'configured' ? `configured (${result.changes.join(', ')})` : 'already configured';
  return [text, ...result.warnings.map((w) => `warning: ${w}`)].join('; ');
}
