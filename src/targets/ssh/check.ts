// `keyway hosts check`: one line per server saying whether Keyway can reach it, run sudo, and finds its own
// settings in place (also that a member of keyway-users cannot log in with a planted key), and which host key is pinned.
// When a check stops early it says what it did not check and why, never guessing at what it did not see.
import { isOutage, isUserError, type UserError } from '../../core/errors.js';
import type { ServerRef } from '../../core/model.js';
import type { ConnectionPool } from './connection-pool.js';
import { checkBootstrapCommand } from './remote-commands.js';
import { caPublicKeyLine } from './remote-values.js';
import { RemoteCommandError, runRemote } from './run-remote.js';

/**
 * How far the check got: `not_tried` (Keyway had no usable connector key, so it never connected), `unreachable`
 * (no connection or no login), `host_key_changed` (the server is not the one pinned: Keyway did not log in),
 * `logged_in` (the connector logged in; sudo and the settings were then looked at).
 */
export type HostCheckStage = 'not_tried' | 'unreachable' | 'host_key_changed' | 'logged_in';

export interface HostCheck {
  server: string;
  stage: HostCheckStage;
  /** undefined when Keyway did not try to connect */
  reachable: boolean | undefined;
  /** undefined when not checked */
  sudo: boolean | undefined;
  /** bootstrap parts missing or out of date; empty when bootstrapped; undefined when not checked */
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
      ...base, stage: 'logged_in', reachable: true, sudo: true, notBootstrapped, plantedKeys, pinnedHostKey: options.pinnedHostKey(),
      problem: undefined, ok: notBootstrapped.length === 0 && plantedKeys.length === 0,
    };
  } catch (error) {
    if (!isUserError(error)) throw error;
    const stage = stageOf(error);
    // A RemoteCommandError means the command ran: sudo worked unless sudo itself refused.
    const sudo = error instanceof RemoteCommandError ? !error.sudoRefused : undefined;
    return {
      ...base, stage, reachable: stage === 'not_tried' ? undefined : stage === 'logged_in', sudo, notBootstrapped: undefined,
      plantedKeys: undefined, pinnedHostKey: options.pinnedHostKey(), problem: error.message, ok: false,
    };
  }
}

function stageOf(error: UserError): HostCheckStage {
  if (isOutage(error)) return 'unreachable';
  if (error.code === 'host_key_mismatch') return 'host_key_changed';
  // The pool reads the connector key before it opens a connection; these are the only refusals that lookup raises
  // (connector-key.ts, config/secrets.ts), and nothing later in a run does.
  if (error.code === 'config_invalid' || error.code === 'key_invalid') return 'not_tried';
  return 'logged_in';
}

export function describeHostCheck(check: HostCheck): string {
  const verdict = `${check.server}: ${check.ok ? 'ok' : 'FAIL'}: `;
  const host = `host key ${check.pinnedHostKey ?? 'not pinned'}`;
  const why = check.problem ? ` — ${check.problem}` : '';
  switch (check.stage) {
    case 'not_tried':
      return `${verdict}not checked (Keyway did not connect: no usable connector key)${why}`;
    case 'unreachable':
      return `${verdict}UNREACHABLE (could not connect and log in; sudo and bootstrap not checked), ${host}${why}`;
    case 'host_key_changed':
      return `${verdict}HOST KEY CHANGED (did not log in; sudo and bootstrap not checked), ${host}${why}`;
    case 'logged_in': {
      const parts = [
        'reachable',
        check.sudo === undefined ? 'sudo not checked' : check.sudo ? 'sudo ok' : 'NO SUDO',
        check.notBootstrapped === undefined ? 'bootstrap not checked'
          : check.notBootstrapped.length === 0 ? 'bootstrapped' : `NOT BOOTSTRAPPED (${check.notBootstrapped.join(', ')})`,
        ...(check.plantedKeys?.length ? [`PLANTED KEYS WORK for keyway-users (${check.plantedKeys.join('; ')})`] : []),
        host,
      ];
      return `${verdict}${parts.join(', ')}${why}`;
    }
  }
}
