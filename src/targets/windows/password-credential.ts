// One-time passwords for the Windows kinds (windows-dc, rdp), written once: how one is made, when a request is owed
// one, and what the requester is sent. The password is never stored: SQLite keeps only that a request is owed one
// (password_credentials) and the driver makes it and sets it on its targets in completeCredential, right before the
// message goes out. If Keyway stops between setting it and the send being recorded, the next attempt sets a fresh
// one and sends that: the password the requester last received is always the one that works, and revoke never needs
// to know it (it sets another random one nobody learns).
import { randomInt } from 'node:crypto';
import { BREAK_GLASS_FLOW } from '../../access/break-glass.js';
import type { AccessContext } from '../../access/context.js';
import type { CredentialView } from '../../access/target-driver.js';
import { enqueueEvent } from '../../store/outbox.js';
import { insertPasswordCredential, latestPasswordCredential } from '../../store/password-credentials.js';
import type { AccessRequest } from '../../store/requests.js';

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
// No quotes, backslashes, spaces or ';' (they would need escaping in an .rdp file, a shell or PowerShell).
const SYMBOLS = '!#%+-.=?@^_~';
const ALPHABET = UPPER + LOWER + DIGITS + SYMBOLS;
export const PASSWORD_LENGTH = 24;

/** A random password that meets Windows' complexity rules (all four character classes), from the OS's CSPRNG. */
export function generatePassword(length = PASSWORD_LENGTH): string {
  const chars = [UPPER, LOWER, DIGITS, SYMBOLS].map((set) => set[randomInt(set.length)]!);
  while (chars.length < length) chars.push(ALPHABET[randomInt(ALPHABET.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** Owed a password: none yet for this request, or the last one was for access that ended sooner (an extension). */
export function needsPassword(ctx: AccessContext, request: AccessRequest): boolean {
  if (request.accessExpiresAt === null) return false;
  const latest = latestPasswordCredential(ctx.db, request.id);
  return !latest || latest.validUntil < request.accessExpiresAt;
}

/**
 * Records that the request is owed a password and, in the same commit, the message that will carry it. A break-glass
 * grant's password is printed by `keyway grant` instead (handOutCredential): a second copy sent to chat would replace
 * it, since each send sets a fresh one.
 */
export function owePassword(ctx: AccessContext, request: AccessRequest): boolean {
  if (request.accessExpiresAt === null) return false;
  const now = ctx.now();
  ctx.db.transaction(() => {
    const credential = insertPasswordCredential(ctx.db, request.id, request.accessExpiresAt!, now);
    if (request.flow !== BREAK_GLASS_FLOW) enqueueEvent(ctx.db, { kind: 'access_granted', requestId: request.id, serial: credential.serial }, now);
  }).immediate();
  return true;
}

/** The send-once key of a request's latest password message. */
export function passwordCredentialId(ctx: AccessContext, requestId: number): string | undefined {
  const latest = latestPasswordCredential(ctx.db, requestId);
  return latest && `password-${latest.serial}`;
}

/** The contents of an .rdp file that opens a server as the account (the password is typed at the prompt). */
export function rdpFileLines(host: string, port: number, username: string): string[] {
  return [`full address:s:${host}:${port}`, `username:s:${username}`, 'prompt for credentials:i:1', 'authentication level:i:2'];
}

/** How a server is opened over RDP: the .rdp file as lines to paste into a terminal (one code block, no upload). */
export function rdpConnectLines(fileName: string, host: string, port: number, username: string): string[] {
  return [`cat > ${fileName} <<'EOF'`, ...rdpFileLines(host, port, username), 'EOF', `# then open ${fileName} (Windows: mstsc ${fileName}; macOS: Windows App)`];
}

export interface PasswordViewParts {
  title: string;
  requestId: number;
  credentialId: string;
  account: string;
  validUntil: number;
  targets: string[];
  connect: CredentialView['connect'];
  connectHint?: string;
  notReady: string[];
  notes: string[];
  scope: string;
}

/** The password message without the password (it is made when the message is sent: withPassword). */
export function passwordView(parts: PasswordViewParts): CredentialView {
  return { kind: 'password', ...parts };
}

export function withPassword(view: CredentialView, password: string): CredentialView {
  return { ...view, secret: { label: 'your password', text: password } };
}
