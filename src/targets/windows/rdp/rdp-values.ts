// The only values that may reach a command on a Windows server. Each is checked against a strict allowlist here and
// branded, so remote-commands.ts cannot be handed a raw string: a hostile or mistaken value is refused before any
// request is sent.
import { validateRdpGroupName } from '../../../core/active-directory-names.js';
import { UserError } from '../../../core/errors.js';

declare const brand: unique symbol;
type Brand<T, Name extends string> = T & { readonly [brand]: Name };

/** A Keyway account on a Windows server or domain: `kw-<user>`, at most 20 characters (the SAM account name limit). */
export type WindowsAccountName = Brand<string, 'WindowsAccountName'>;
/** A local group on a Windows server (Remote Desktop Users, …). */
export type WindowsGroupName = Brand<string, 'WindowsGroupName'>;
/** A NetBIOS domain name (CORP). */
export type NetbiosDomain = Brand<string, 'NetbiosDomain'>;
/** A password Keyway generated: one line of printable characters. */
export type IssuedPassword = Brand<string, 'IssuedPassword'>;
/** A session ID as quser prints it. */
export type SessionId = Brand<string, 'SessionId'>;

export const ACCOUNT_NAME_PATTERN = /^kw-[a-z0-9][a-z0-9_-]{0,16}$/;
const DOMAIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,14}$/;

export function windowsAccountName(name: string): WindowsAccountName {
  if (!ACCOUNT_NAME_PATTERN.test(name)) {
    throw new UserError('username_invalid', `${JSON.stringify(name)} is not a Keyway Windows account name: use "kw-" and then 1 to 17 characters of a-z, 0-9, "_" and "-" (20 at most).`);
  }
  return name as WindowsAccountName;
}

/** A local group Keyway may grant on a Windows server (the rules the config check applies too). */
export function windowsGroupName(name: string, options: { allowPrivileged?: boolean } = {}): WindowsGroupName {
  return validateRdpGroupName(name, options) as WindowsGroupName;
}

export function netbiosDomain(name: string): NetbiosDomain {
  if (!DOMAIN_PATTERN.test(name)) {
    throw new UserError('config_invalid', `${JSON.stringify(name)} is not a NetBIOS domain name: use 1 to 15 characters of letters, digits and "-".`);
  }
  return name as NetbiosDomain;
}

/** A password Keyway made; it travels on stdin as one line, so no control characters. Never echoed in the error. */
export function issuedPassword(password: string): IssuedPassword {
  if (password.length < 8 || password.length > 127 || [...password].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    throw new Error('an issued Windows password must be 8 to 127 characters without control characters');
  }
  return password as IssuedPassword;
}

export function sessionId(value: string): SessionId {
  if (!/^[0-9]{1,5}$/.test(value)) throw new Error(`${JSON.stringify(value)} is not a session ID`);
  return value as SessionId;
}
