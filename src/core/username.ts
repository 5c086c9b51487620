// Linux usernames: derived from an e-mail, or set per person in the config; always validated here.
import { UserError } from './errors.js';
import { NEVER_GRANTED_GROUPS, PRIVILEGED_GROUPS } from './linux-names.js';

export const USERNAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

// Names that belong to the system or would confuse people and tools; never handed to a person.
const RESERVED = new Set([
  'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data',
  'backup', 'list', 'irc', 'gnats', 'nobody', 'nogroup', 'systemd-network', 'systemd-resolve', 'systemd-timesync',
  'messagebus', 'sshd', 'syslog', 'administrator', 'users',
  'operator', 'halt', 'shutdown', 'ftp', 'postgres', 'mysql', 'redis', 'nginx', 'apache', 'ubuntu',
  'debian', 'ec2-user', 'centos', 'fedora', 'keyway', 'polkitd', 'tss', 'uuidd',
  'tcpdump', 'landscape', 'dnsmasq', 'chrony', 'ntp', 'postfix', '_apt', 'avahi', 'cups', 'git',
  // root, keyway-users, sudo, adm, admin, docker…: useradd gives each user a group of the same name, so a person
  // named like a never-granted or privileged group would get that group.
  ...NEVER_GRANTED_GROUPS.keys(), ...PRIVILEGED_GROUPS.keys(),
]);

export function validateUsername(name: string): string {
  if (!USERNAME_PATTERN.test(name)) {
    throw new UserError(
      'username_invalid',
      `"${name}" is not a valid Linux username: use 1 to 32 characters of a-z, 0-9, "_" and "-", starting with a letter or "_".`,
    );
  }
  if (RESERVED.has(name)) {
    throw new UserError('username_invalid', `"${name}" is a system or reserved account name and is never granted: set another linux_user for this person.`);
  }
  return name;
}

/**
 * The username for an e-mail: the configured override if any, else the e-mail's local part lower-cased,
 * with "." and "+" turned into "_" and anything else outside [a-z0-9_-] refused (no transliteration:
 * a look-alike character must not silently become someone else's name).
 */
export function usernameForEmail(email: string, overrides: ReadonlyMap<string, string> = new Map()): string {
  const key = email.trim().toLowerCase();
  const override = overrides.get(key);
  if (override !== undefined) return validateUsername(override);
  const local = key.split('@')[0] ?? '';
  const candidate = local.replace(/[.+]/g, '_');
  if (!/^[a-z0-9_-]+$/.test(candidate)) {
    throw new UserError(
      'username_invalid',
      `Cannot derive a Linux username from "${email}": it has characters outside a-z, 0-9, ".", "_", "-". Ask an admin to set linux_user for this person under people: in the config.`,
    );
  }
  const name = /^[0-9-]/.test(candidate) ? `_${candidate}` : candidate;
  return validateUsername(name.slice(0, 32));
}

/** Finds two e-mails that would map to the same Linux username. */
export function findUsernameCollisions(emails: Iterable<string>, overrides: ReadonlyMap<string, string> = new Map()): Array<[string, string, string]> {
  const seen = new Map<string, string>();
  const collisions: Array<[string, string, string]> = [];
  for (const email of emails) {
    let name: string;
    try {
      name = usernameForEmail(email, overrides);
    } catch {
      continue; // an underivable name is reported on its own, not as a collision
    }
    const first = seen.get(name);
    if (first !== undefined && first !== email.toLowerCase()) collisions.push([first, email.toLowerCase(), name]);
    else seen.set(name, email.toLowerCase());
  }
  return collisions;
}
