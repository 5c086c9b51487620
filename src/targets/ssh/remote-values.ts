// The only values that may reach a remote command. Each is checked here and branded, so the command builder
// (remote-commands.ts) cannot be handed a raw string: a hostile or mistaken value is refused before any shell sees it.
import { UserError } from '../../core/errors.js';
import {
  KEYWAY_GROUP_NAME, validateGrantableGroup, validateGroupName, validateLoginShell,
} from '../../core/linux-names.js';
import type { Integration } from '../../core/model.js';
import { validateUsername } from '../../core/username.js';

declare const brand: unique symbol;
type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** A Linux account Keyway may create, change or delete: never root, a system or reserved name. */
export type ManagedUserName = Brand<string, 'ManagedUserName'>;
export type GroupName = Brand<string, 'GroupName'>;
export type Principal = Brand<string, 'Principal'>;
export type LoginShell = Brand<string, 'LoginShell'>;
export type Uid = Brand<number, 'Uid'>;
export type CaPublicKeyLine = Brand<string, 'CaPublicKeyLine'>;

export const PRINCIPAL_PATTERN = /^[a-z0-9_][a-z0-9._@-]{0,63}$/;
const CA_KEY_LINE_PATTERN = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]{16,8192}={0,2}( [A-Za-z0-9@._:-]{1,64})?$/;

/** The group bootstrap creates; its members get `AuthorizedKeysFile none`. Never granted as a flow group. */
export const KEYWAY_GROUP = KEYWAY_GROUP_NAME as GroupName;
/** The lowest UID Keyway ever creates or touches: below it are system accounts. */
export const FIRST_REGULAR_UID = 1000;
const MAX_UID = 2 ** 31 - 2;
const NOBODY_UID = 65534;

export function managedUserName(name: string): ManagedUserName {
  return validateUsername(name) as ManagedUserName;
}

export function groupName(name: string): GroupName {
  return validateGroupName(name) as GroupName;
}

/** A group a grant may add, never root or keyway-users; root-equivalent groups are judged by grantableGroupIn. */
export function grantableGroup(name: string): GroupName {
  return validateGrantableGroup(name, { allowPrivileged: true }) as GroupName;
}

/**
 * The groups an integration's grants may add, judged as `keyway config check` judges them: also refuses
 * root-equivalent groups (sudo, docker, …) unless the integration says allow_privileged_groups: true.
 */
export function grantableGroupIn(integration: Pick<Integration, 'name' | 'allowPrivilegedGroups'>): (name: string) => GroupName {
  const options = { allowPrivileged: integration.allowPrivilegedGroups, integration: integration.name };
  return (name) => validateGrantableGroup(name, options) as GroupName;
}

export function principal(value: string): Principal {
  if (!PRINCIPAL_PATTERN.test(value)) {
    throw new UserError('config_invalid', `${JSON.stringify(value)} is not a principal Keyway writes: use 1 to 64 characters of a-z, 0-9, ".", "_", "@" and "-".`);
  }
  return value as Principal;
}

export function loginShell(path: string): LoginShell {
  return validateLoginShell(path) as LoginShell;
}

export function uid(value: number): Uid {
  if (!Number.isSafeInteger(value) || value < FIRST_REGULAR_UID || value > MAX_UID || value === NOBODY_UID) {
    throw new RangeError(`UID ${value} is not one Keyway creates accounts with (${FIRST_REGULAR_UID}-${MAX_UID}, not ${NOBODY_UID})`);
  }
  return value as Uid;
}

/** The TrustedUserCAKeys line: 'ssh-ed25519 AAAA… keyway-ca'. */
export function caPublicKeyLine(line: string): CaPublicKeyLine {
  const trimmed = line.trim();
  if (!CA_KEY_LINE_PATTERN.test(trimmed)) {
    throw new UserError('ca_key_invalid', 'The CA public key is not one OpenSSH public key line (type, base64, optional comment).');
  }
  return trimmed as CaPublicKeyLine;
}
