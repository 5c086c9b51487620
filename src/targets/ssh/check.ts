// `keyway hosts check`: one line per server saying whether Keyway can reach it, run sudo, and finds its own
// settings in place (also that a member of keyway-users cannot log in with a planted key), and which host key is pinned.
import { isOutage, isUserError } from '../../core/errors.js';
import type { ServerRef } from '../../core/model.js';
import type { ConnectionPool } from './connection-pool.js';
import { checkBootstrapCommand } from './remote-commands.js';
import { caPublicKeyLine } from './remote-values.js';
import { RemoteCommandError, runRemote } from './run-remote.js';

export interface HostCheck {
  server: string;
  reachable: boolean;
  /** undefined when the server could not be reached */
  sudo: boolean | undefined;
  /** bootstrap parts missing or out of date; empty when bootstrapped */
  notBootstrapped: string[] | undefined;
  /**
   * What sshd -T shows a member of keyway-users may log in with besides a certificate, e.g. 'AuthorizedKeysFile
   * .ssh/authorized_keys (for a connection from 127.0.0.1)'; must be empty. undefined when not checked.
   */
  plantedKeys: string[] | undefined;
  pinnedHostKey: string | undefined;
  /** why the check stopped, if it did */
  problem: string | undefined;
  ok: boolean;
}

const EXPECTED: Record<string, string[]> = {
  tools: ['ok'],
  'principals-dir': ['yes'],
  group: ['yes'],
  'ca-key': ['current', 'present'],
  'drop-in': ['current'],
  effective: ['yes'],
  'probe-account': ['yes'],
};

export async function checkServer(
  pool: ConnectionPool,
  ref: ServerRef,
  options: { caPublicKey?: string; pinnedHostKey: () => string | undefined },
): Promise<HostCheck> {
  const base = { server: ref.server.name };
  try {
    const output = await runRemote(pool, ref, checkBootstrapCommand(options.caPublicKey ? caPublicKeyLine(options.caPublicKey) : undefined));
    const notBootstrapped = Object.entries(EXPECTED)
      .filter(([key, good]) => !good.includes(output.first(key) ?? ''))
      .map(([key]) => `${key}: ${output.first(key) ?? 'unknown'}`);
    const plantedKeys = output.values.get('member-key') ?? [];
    return {
      ...base, reachable: true, sudo: true, notBootstrapped, plantedKeys, pinnedHostKey: options.pinnedHostKey(),
      problem: undefined, ok: notBootstrapped.length === 0 && plantedKeys.length === 0,
    };
  } catch (error) {
    if (!isUserError(error)) throw error;
    const reachable = !isOutage(error) && error.code !== 'host_key_mismatch';
    // A RemoteCommandError means the command ran: sudo worked unless sudo itself refused.
    const sudo = error instanceof RemoteCommandError ? !error.sudoRefused : undefined;
    return { ...base, reachable, sudo, notBootstrapped: undefined, plantedKeys: undefined, pinnedHostKey: options.pinnedHostKey(), problem: error.message, ok: false };
  }
}

export function describeHostCheck(check: HostCheck): string {
  const parts = [
    check.reachable ? 'reachable' : 'UNREACHABLE',
    check.sudo === undefined ? 'sudo unknown' : check.sudo ? 'sudo ok' : 'NO SUDO',
    check.notBootstrapped === undefined ? 'bootstrap unknown'
      : check.notBootstrapped.length === 0 ? 'bootstrapped' : `NOT BOOTSTRAPPED (${check.notBootstrapped.join(', ')})`,
    ...(check.plantedKeys?.length ? [`PLANTED KEYS WORK for keyway-users (${check.plantedKeys.join('; ')})`] : []),
    `host key ${check.pinnedHostKey ?? 'not pinned'}`,
  ];
  return `${check.server}: ${check.ok ? 'ok' : 'FAIL'}: ${parts.join(', ')}${check.problem ? ` — ${check.problem}` : ''}`;
}
