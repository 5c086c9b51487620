// The rules for Linux names Keyway writes on servers: group names, which groups may be granted, login shells.
// Both the access file (src/config) and the provisioner (src/hosts/remote-values.ts) call these, so a
// configuration that passes `keyway config check` is never refused when a grant is provisioned or revoked.
import { UserError } from './errors.js';

export const GROUP_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/** The group bootstrap creates; its members get `AuthorizedKeysFile none`. */
export const KEYWAY_GROUP_NAME = 'keyway-users';

/** Granted nowhere, whatever an integration allows. */
export const NEVER_GRANTED_GROUPS: ReadonlyMap<string, string> = new Map([
  ['root', "it owns system files and devices as root's own group"],
  [KEYWAY_GROUP_NAME, 'Keyway puts every account it creates in it and manages it itself'],
]);

/**
 * Groups whose members can become root, or read what lets them, on a typical Debian, Ubuntu, RHEL or Arch server.
 * Granted only by an integration with allow_privileged_groups: true. The reason is shown to the admin.
 */
export const PRIVILEGED_GROUPS: ReadonlyMap<string, string> = new Map([
  ['sudo', 'sudoers lets its members run any command as root'],
  ['wheel', 'sudoers and su (pam_wheel) let its members become root'],
  ['admin', "Ubuntu's sudoers still lets its members run any command as root"],
  ['docker', "the Docker socket starts containers as root with the host's files mounted"],
  ['lxd', "LXD lets its members start privileged containers with the host's files mounted"],
  ['lxc', "LXC/LXD lets its members start privileged containers with the host's files mounted"],
  ['incus-admin', "Incus lets its members start privileged containers with the host's files mounted"],
  ['libvirt', "libvirt lets its members start virtual machines on the host's disks and files"],
  ['microk8s', "MicroK8s lets its members run privileged pods with the host's files mounted"],
  ['disk', 'its members can read and write the raw disks, and so any file, /etc/shadow included'],
  ['shadow', 'its members can read /etc/shadow, the password hashes of every account'],
  ['kmem', "its members can read kernel memory (/dev/kmem, /dev/mem), and so other processes' secrets"],
  ['adm', "its members can read every system log, where passwords typed at a login prompt and services' tokens end up"],
  ['systemd-journal', "its members can read every account's journal, where passwords and tokens end up"],
  ['staff', 'its members can write /usr/local, whose programs come before /usr/bin on the PATH of root too'],
]);

export interface GrantableGroupOptions {
  /** The integration's allow_privileged_groups. */
  allowPrivileged: boolean;
  /** Named in the message, so the admin knows where to opt in. */
  integration?: string;
}

export function validateGroupName(name: string): string {
  if (!GROUP_NAME_PATTERN.test(name)) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} is not a valid Linux group name: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".`);
  }
  return name;
}

/** A group Keyway may add a user to: a valid name, never root or keyway-users, root-equivalent only when allowed. */
export function validateGrantableGroup(name: string, options: GrantableGroupOptions): string {
  const group = validateGroupName(name);
  const never = NEVER_GRANTED_GROUPS.get(group);
  if (never !== undefined) throw new UserError('config_invalid', `the group ${JSON.stringify(group)} is never granted: ${never}. Remove it.`);
  const privileged = PRIVILEGED_GROUPS.get(group);
  if (privileged !== undefined && !options.allowPrivileged) {
    const where = options.integration === undefined ? 'the integration' : `integration ${JSON.stringify(options.integration)}`;
    throw new UserError(
      'config_invalid',
      `the group ${JSON.stringify(group)} is root-equivalent (${privileged}): remove it, or set allow_privileged_groups: true on ${where} if everyone it grants may act as root.`,
    );
  }
  return group;
}

const SHELL_PART = /^[A-Za-z0-9_.-]+$/;
const SHELL_MAX_LENGTH = 255;

/** An absolute, normalised path: what the server runs is what the admin reads in the file. */
export function validateLoginShell(path: string): string {
  const parts = path.split('/').slice(1);
  const normalised = path.startsWith('/') && path.length <= SHELL_MAX_LENGTH
    && parts.every((part) => SHELL_PART.test(part) && part !== '.' && part !== '..');
  if (!normalised) {
    throw new UserError(
      'config_invalid',
      `login_shell ${JSON.stringify(path)} must be a normalised absolute path such as /bin/bash: no "..", "." or empty parts, only letters, digits, "/", "_", "." and "-".`,
    );
  }
  return path;
}
