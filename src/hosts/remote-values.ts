// The only values that may reach a remote command. Each is checked here and branded, so the command builder
// (remote-commands.ts) cannot be handed a raw string: a hostile or mistaken value is refused before any shell sees it.
import { UserError } from '../core/errors.js';
import { validateUsername } from '../core/username.js';

declare const brand: unique symbol;
type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** A Linux account Keyway may create, change or delete: never root, a system or reserved name. */
export type ManagedUserName = Brand<string, 'ManagedUserName'>;
export type GroupName = Brand<string, 'GroupName'>;
export type Principal = Brand<string, 'Principal'>;
export type LoginShell = Brand<string, 'LoginShell'>;
export type Uid = Brand<number, 'Uid'>;
export type CaPublicKeyLine = Brand<string, 'CaPublicKeyLine'>;

export const GROUP_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
export const PRINCIPAL_PATTERN = /^[a-z0-9_][a-z0-9._@-]{0,63}$/;
export const SHELL_PATTERN = /^\/[A-Za-z0-9/_.-]{1,254}$/;
const CA_KEY_LINE_PATTERN = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]{16,8192}={0,2}( [A-Za-z0-9@._:-]{1,64})?$/;

/** The group bootstrap creates; its members get `AuthorizedKeysFile none`. Never granted as a flow group. */
export const KEYWAY_GROUP = 'keyway-users' as GroupName;
/** Grantable nowhere: root's group gives root's files, and keyway-users is Keyway's own. */
const UNGRANTABLE_GROUPS = new Set(['root', KEYWAY_GROUP]);
/** The lowest UID Keyway ever creates or touches: below it are system accounts. */
export const FIRST_REGULAR_UID = 1000;
const MAX_UID = 2 ** 31 - 2;
const NOBODY_UID = 65534;

export function managedUserName(name: string): ManagedUserName {
  return validateUsername(name) as ManagedUserName;
}

export function groupName(name: string): GroupName {
  if (!GROUP_PATTERN.test(name)) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} is not a valid Linux group name: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".`);
  }
  return name as GroupName;
}

/** A group a flow may grant (root and keyway-users are refused). */
export function grantableGroup(name: string): GroupName {
  const group = groupName(name);
  if (UNGRANTABLE_GROUPS.has(group)) throw new UserError('config_invalid', `The group ${group} is never granted by Keyway: remove it from grant_groups.`);
  return group;
}

export function principal(value: string): Principal {
  if (!PRINCIPAL_PATTERN.test(value)) {
    throw new UserError('config_invalid', `${JSON.stringify(value)} is not a principal Keyway writes: use 1 to 64 characters of a-z, 0-9, ".", "_", "@" and "-".`);
  }
  return value as Principal;
}

export function loginShell(path: string): LoginShell {
  if (!SHELL_PATTERN.test(path) || path.split('/').some((part) => part === '..' || part === '.')) {
    throw new UserError('config_invalid', `login_shell ${JSON.stringify(path)} must be an absolute path such as /bin/bash (letters, digits, "/", "_", "." and "-").`);
  }
  return path as LoginShell;
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
