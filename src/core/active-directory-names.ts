// The one place that reads, checks and escapes Active Directory names: distinguished names (RFC 4514), search filter
// values (RFC 4515), group names and the account name Keyway gives a person. The config check and the windows-dc
// driver both use it, so a name the config accepts is one the driver can handle, and no value from a person or the
// config reaches an LDAP request unescaped. Pure.
import { UserError } from './errors.js';

/** sAMAccountName is at most 20 characters (the pre-Windows 2000 logon name). */
export const MAX_ACCOUNT_NAME = 20;

/** The prefix of every account Keyway creates on Windows. */
export const ACCOUNT_PREFIX = 'kw-';

/** Characters AD refuses in a group's sAMAccountName, plus the control characters. */
const GROUP_FORBIDDEN = /["/\\[\]:;|=,+*?<>\p{Cc}]/u;

export interface Rdn {
  /** Lower-case attribute type: 'cn', 'ou', 'dc'. */
  type: string;
  /** The value, unescaped. */
  value: string;
}

function isControl(c: string): boolean {
  return c.charCodeAt(0) < 0x20 || c === '\x7f';
}

/** Control characters as \xNN, so that a refusal shows them instead of breaking its line. */
function visible(text: string): string {
  return [...text].map((c) => (isControl(c) ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c)).join('');
}

function invalidDn(dn: string, why: string): UserError {
  return new UserError('config_invalid', `"${visible(dn)}" is not a distinguished name like OU=Keyway,DC=corp,DC=example,DC=com: ${why}`);
}

/** Splits a DN into its RDNs, unescaping values. Refuses multi-valued RDNs and anything it cannot read exactly. */
export function parseDn(dn: string): Rdn[] {
  if (dn.trim() === '') throw invalidDn(dn, 'it is empty');
  const rdns: Rdn[] = [];
  let i = 0;
  while (i < dn.length) {
    const eq = dn.indexOf('=', i);
    if (eq < 0) throw invalidDn(dn, 'a part has no "="');
    const type = dn.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z][a-z0-9-]*$/.test(type)) throw invalidDn(dn, `"${type}" is not an attribute name`);
    let value = '';
    // Where the last escape ends: spaces after it are trailing (dropped), an escaped space is part of the value.
    let escapedUpTo = 0;
    let j = eq + 1;
    while (j < dn.length && dn[j] === ' ') j++;
    // RFC 4514: a value that starts with "#" is the hex of its BER encoding, which Keyway does not read.
    if (dn[j] === '#') throw invalidDn(dn, `the value of ${type}= starts with "#" (a BER-encoded value): write \\# for a name that starts with #`);
    for (; j < dn.length; j++) {
      const c = dn[j]!;
      if (c === '\\') {
        const next = dn.slice(j + 1, j + 3);
        if (/^[0-9a-fA-F]{2}$/.test(next)) {
          // Hex pairs may spell one UTF-8 character over several escapes: collect them as bytes.
          const bytes: number[] = [];
          while (dn[j] === '\\' && /^[0-9a-fA-F]{2}$/.test(dn.slice(j + 1, j + 3))) {
            bytes.push(parseInt(dn.slice(j + 1, j + 3), 16));
            j += 3;
          }
          try {
            value += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
          } catch {
            throw invalidDn(dn, 'its "\\" hex escapes are not UTF-8');
          }
          escapedUpTo = value.length;
          j--;
        } else if (next.length > 0 && ',+"\\<>;= #'.includes(next[0]!)) {
          value += next[0];
          escapedUpTo = value.length;
          j++;
        } else {
          throw invalidDn(dn, 'it has a stray "\\"');
        }
      } else if (c === ',') {
        break;
      } else if (c === '+') {
        throw invalidDn(dn, 'multi-valued parts (with "+") are not supported');
      } else if ('"<>;='.includes(c) || isControl(c)) {
        throw invalidDn(dn, `the character ${visible(c)} must be escaped: write ${escapeDnValue(`x${c}`).slice(1)}`);
      } else {
        value += c;
      }
    }
    const trimmed = value.slice(0, escapedUpTo) + value.slice(escapedUpTo).replace(/ +$/, '');
    if (trimmed === '') throw invalidDn(dn, `${type}= has no value`);
    rdns.push({ type, value: trimmed });
    i = j + 1;
    if (j < dn.length && i >= dn.length) throw invalidDn(dn, 'it ends with ","');
  }
  return rdns;
}

/** Escapes one RDN value (RFC 4514 section 2.4); NUL and the other control characters as hex pairs. */
export function escapeDnValue(value: string): string {
  let out = '';
  const chars = [...value];
  for (const [index, c] of chars.entries()) {
    if (',+"\\<>;='.includes(c)) out += `\\${c}`;
    else if ((index === 0 && (c === ' ' || c === '#')) || (index === chars.length - 1 && c === ' ')) out += `\\${c}`;
    else if (isControl(c)) out += `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

/** A DN written back from its parts, escaped: the form Keyway sends. */
export function formatDn(rdns: readonly Rdn[]): string {
  return rdns.map((r) => `${r.type.toUpperCase()}=${escapeDnValue(r.value)}`).join(',');
}

/** A DN in one comparable form (types and values lower-case, escapes normalised). */
export function normalizeDn(dn: string): string {
  return formatDn(parseDn(dn)).toLowerCase();
}

/** Whether `dn` is `parent` itself or lies below it (compared in normal form). */
export function isUnderDn(dn: string, parent: string): boolean {
  const child = parseDn(dn).map((r) => `${r.type}=${r.value.toLowerCase()}`);
  const above = parseDn(parent).map((r) => `${r.type}=${r.value.toLowerCase()}`);
  if (above.length > child.length) return false;
  return above.every((rdn, i) => child[child.length - above.length + i] === rdn);
}

/** The parent of `dn`: everything after its first RDN. */
export function parentDn(dn: string): string {
  return formatDn(parseDn(dn).slice(1));
}

/** Escapes a value for an LDAP search filter (RFC 4515 section 3). */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A group people may request: a sAMAccountName AD accepts (up to 256 characters, none of "/\[]:;|=,+*?<>). */
export function validateWindowsGroupName(name: string): string {
  if (name.length === 0 || name.length > 256) throw new UserError('config_invalid', `group "${name}" must be 1 to 256 characters`);
  if (name !== name.trim()) throw new UserError('config_invalid', `group "${name}" must not start or end with spaces`);
  if (GROUP_FORBIDDEN.test(name)) throw new UserError('config_invalid', `group "${name}" has a character Active Directory refuses in a group name ("/\\[]:;|=,+*?<> or a control character)`);
  return name;
}

const RDP_GROUP_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9_-])?$/;
/** Never granted on a Windows server: full control of it. */
const RDP_NEVER_GRANTED = new Set(['administrators']);
/** Administrator-equivalent or remote-management rights: only with allow_privileged_groups. */
const RDP_PRIVILEGED = new Set([
  'backup operators', 'hyper-v administrators', 'power users', 'remote management users', 'print operators',
  'server operators', 'account operators', 'network configuration operators', 'domain admins', 'enterprise admins', 'schema admins',
]);

/**
 * A local group Keyway may grant on a Windows server (rdp): a strict allowlist of characters (the name reaches a
 * PowerShell literal), never Administrators, and the administrator-equivalent groups only with allow_privileged_groups.
 * The config check and the rdp driver both use it.
 */
export function validateRdpGroupName(name: string, options: { allowPrivileged?: boolean } = {}): string {
  if (!RDP_GROUP_PATTERN.test(name)) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} is not a Windows group Keyway grants: use 1 to 64 characters of letters, digits, space, ".", "_" and "-", starting with a letter or digit.`);
  }
  const key = name.toLowerCase();
  if (RDP_NEVER_GRANTED.has(key)) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} gives full control of the server and is never granted.`);
  }
  if (RDP_PRIVILEGED.has(key) && options.allowPrivileged !== true) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} gives administrator-equivalent or remote-management rights: set allow_privileged_groups: true on the integration to grant it.`);
  }
  return name;
}

// FNV-1a: a short, stable tag for names that must be shortened (no crypto needed: collisions only cost a refusal).
function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const c of text) {
    hash ^= c.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0').slice(0, 4);
}

/**
 * The Windows account Keyway keeps for a person: kw-<linux user>, or, when that is longer than sAMAccountName's 20
 * characters, the first 12 characters of the Linux user and a 4-character hash of the whole name.
 */
export function windowsAccountName(linuxUser: string): string {
  if (!/^[a-z_][a-z0-9_-]*$/.test(linuxUser)) throw new UserError('config_invalid', `"${linuxUser}" is not a Linux user name Keyway derives a Windows account from`);
  const full = `${ACCOUNT_PREFIX}${linuxUser}`;
  if (full.length <= MAX_ACCOUNT_NAME) return full;
  return `${ACCOUNT_PREFIX}${linuxUser.slice(0, MAX_ACCOUNT_NAME - ACCOUNT_PREFIX.length - 5)}-${shortHash(linuxUser)}`;
}
