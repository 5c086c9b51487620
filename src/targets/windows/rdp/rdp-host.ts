// What the rdp driver does to one Windows server, over WinRM: grant, revoke, delete a Keyway account, and check the
// connection. Every value is validated (rdp-values.ts) before a connection is opened; every command comes from
// remote-commands.ts. Passwords travel only on a command's stdin and appear in no error.
import type { RdpServer } from '../../../core/model.js';
import { UserError } from '../../../core/errors.js';
import {
  checkCommand, deleteLocalCommand, EXIT, grantDomainCommand, grantLocalCommand, listSessionsCommand, logoffCommand,
  revokeDomainCommand, revokeLocalCommand, sessionIdsOf, type WindowsCommand,
} from './remote-commands.js';
import {
  issuedPassword, netbiosDomain, sessionId, windowsAccountName, windowsGroupName, type WindowsAccountName,
} from './rdp-values.js';
import { withShell, type CommandResult, type WinrmShell } from './winrm-shell.js';
import { warnsUnencrypted, withoutSecret, type WinrmAuth, type WinrmTarget } from './winrm-transport.js';

/** How Keyway logs in to the servers of one rdp integration (resolved from its settings and secret). */
export interface RdpHostSettings {
  /** The admin account (integration `user`): `Administrator`, `HOST\admin` or `CORP\admin`. */
  user: string;
  /** The admin's password (integration `secret`). */
  password: string;
  /** Default 'ntlm'. */
  auth?: WinrmAuth;
  /** PEM text of `tls_ca_file`, when set. */
  tlsCa?: string;
  allowUnencrypted: boolean;
  /** Grants `Backup Operators` and the like (allow_privileged_groups). */
  allowPrivilegedGroups?: boolean;
  /** Deadline of one WinRM request in ms (default 30 000). */
  timeoutMs?: number;
}

/** A Keyway account: local on the server, or a domain account (NetBIOS `domain`) added to the server's groups. */
export interface RdpAccount {
  name: string;
  domain?: string;
}

type Server = Pick<RdpServer, 'name' | 'host' | 'winrmPort' | 'useSsl'>;

/** True when this server is reached over plain HTTP because the admin allowed it: log a warning at every start. */
export function warnsPlainHttp(server: Server, settings: RdpHostSettings): boolean {
  return warnsUnencrypted({ useSsl: server.useSsl, allowUnencrypted: settings.allowUnencrypted });
}

/**
 * Grants `account` on `server`: a local account is created if missing (with Keyway's marker as its description) or
 * taken up again, gets `password`, is enabled, expires at `expiresAt` (null: never) and joins `groups`; a domain
 * account (password null: the windows-dc driver sets it) only joins the groups. Refuses an existing local account
 * without the marker (account_not_managed). Answers whether the local account was created.
 */
export async function grantAccount(server: Server, settings: RdpHostSettings, account: RdpAccount, password: string | null,
  groups: readonly string[], expiresAt: Date | null): Promise<{ created: boolean }> {
  const name = windowsAccountName(account.name);
  const groupNames = validGroups(groups, settings);
  if (account.domain !== undefined) {
    const domain = netbiosDomain(account.domain);
    if (password !== null) throw new Error('a domain account gets its password from the windows-dc driver, not here');
    await session(server, settings, (shell) => runChecked(shell, server, settings, grantDomainCommand(domain, name, groupNames)));
    return { created: false };
  }
  if (password === null) throw new Error('a local account needs a password');
  const command = grantLocalCommand(name, groupNames, issuedPassword(password), expiresAt);
  const result = await session(server, settings, (shell) => runChecked(shell, server, settings, command, password));
  return { created: result.stdout.trim().split(/\r?\n/).pop() === 'created' };
}

/**
 * Takes back a grant: removes `account` from `groups` except `keepGroups` (what other live grants on this server
 * still need). When `keepGroups` is empty, access ends: a local account is disabled and gets `newPassword` (a fresh
 * random one nobody is told), and the account's sessions are logged off. An absent account counts as revoked.
 * Answers how many sessions were logged off.
 */
export async function revokeAccount(server: Server, settings: RdpHostSettings, account: RdpAccount, groups: readonly string[],
  keepGroups: readonly string[], newPassword: string | null): Promise<{ loggedOff: number }> {
  const name = windowsAccountName(account.name);
  const kept = new Set(keepGroups.map((g) => g.toLowerCase()));
  const toRemove = validGroups(groups, { ...settings, allowPrivilegedGroups: true }).filter((g) => !kept.has(g.toLowerCase()));
  const endAccess = keepGroups.length === 0;
  let command: WindowsCommand;
  if (account.domain !== undefined) {
    command = revokeDomainCommand(netbiosDomain(account.domain), name, toRemove);
  } else {
    if (endAccess && newPassword === null) throw new Error('ending access to a local account needs a new password');
    command = revokeLocalCommand(name, toRemove, endAccess, endAccess ? issuedPassword(newPassword!) : undefined);
  }
  return session(server, settings, async (shell) => {
    await runChecked(shell, server, settings, command, newPassword ?? undefined);
    return { loggedOff: endAccess ? await logOffSessions(shell, server, settings, name) : 0 };
  });
}

/**
 * Deletes a local Keyway account (after logging off any session it still has); refuses one without Keyway's marker
 * (account_not_managed). A domain account has nothing local to delete. Answers whether an account was deleted.
 */
export async function deleteAccount(server: Server, settings: RdpHostSettings, account: RdpAccount): Promise<{ deleted: boolean }> {
  const name = windowsAccountName(account.name);
  if (account.domain !== undefined) {
    netbiosDomain(account.domain);
    return { deleted: false };
  }
  return session(server, settings, async (shell) => {
    await logOffSessions(shell, server, settings, name);
    const result = await runChecked(shell, server, settings, deleteLocalCommand(name));
    return { deleted: result.stdout.trim().split(/\r?\n/).pop() === 'deleted' };
  });
}

export interface RdpCheck {
  computer: string;
  /** The admin login is an elevated administrator. */
  admin: boolean;
  /** The Microsoft.PowerShell.LocalAccounts cmdlets exist (Windows Server 2016 and later). */
  localAccounts: boolean;
  /** The groups of `groups` that do not exist on the server. */
  missingGroups: string[];
}

/** Logs in over WinRM and reports what a grant needs; throws what a grant would throw (TLS, login, reachability). */
export async function checkConnection(server: Server, settings: RdpHostSettings, groups: readonly string[]): Promise<RdpCheck> {
  const groupNames = validGroups(groups, settings);
  const result = await session(server, settings, (shell) => runChecked(shell, server, settings, checkCommand(groupNames)));
  const lines = result.stdout.split(/\r?\n/);
  const value = (key: string) => lines.find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim() ?? '';
  return {
    computer: value('computer'),
    admin: value('admin') === 'True',
    localAccounts: value('localaccounts') === 'True',
    missingGroups: lines.flatMap((l) => /^group=False=(.+)$/.exec(l.trim())?.[1] ?? []),
  };
}

function validGroups(groups: readonly string[], settings: RdpHostSettings) {
  return groups.map((g) => windowsGroupName(g, { allowPrivileged: settings.allowPrivilegedGroups === true }));
}

function targetOf(server: Server, settings: RdpHostSettings): WinrmTarget {
  return {
    host: server.host, port: server.winrmPort, useSsl: server.useSsl, user: settings.user, password: settings.password,
    auth: settings.auth ?? 'ntlm', allowUnencrypted: settings.allowUnencrypted, timeoutMs: settings.timeoutMs ?? 30_000,
    ...(settings.tlsCa === undefined ? {} : { tlsCa: settings.tlsCa }),
  };
}

function session<T>(server: Server, settings: RdpHostSettings, work: (shell: WinrmShell) => Promise<T>): Promise<T> {
  return withShell(targetOf(server, settings), work);
}

/** Runs a command; a non-zero exit becomes a coded error with stderr's first lines, any password removed. */
async function runChecked(shell: WinrmShell, server: Server, settings: RdpHostSettings, command: WindowsCommand, secret?: string): Promise<CommandResult> {
  const result = await shell.run(command.command, command.args, command.stdin === undefined ? {} : { stdin: command.stdin });
  if (result.exitCode === EXIT.ok) return result;
  const reason = scrub(firstLines(result.stderr) || `exit code ${result.exitCode}`, [settings.password, secret]);
  if (result.exitCode === EXIT.notManaged) {
    throw new UserError('account_not_managed', `${server.name}: ${reason}`);
  }
  throw new UserError('remote_command_failed', `${server.name}: could not ${command.purpose}: ${reason}`);
}

async function logOffSessions(shell: WinrmShell, server: Server, settings: RdpHostSettings, name: WindowsAccountName): Promise<number> {
  const listing = await shell.run('quser', listSessionsCommand(name).args);
  if (listing.exitCode !== 0) {
    // quser exits 1 when the account has no session ("No User exists for …", localised); only a missing quser is an error.
    if (/not recognized|cannot find/i.test(listing.stderr)) {
      throw new UserError('remote_command_failed', `${server.name}: cannot list sessions: ${scrub(firstLines(listing.stderr), [settings.password])}`);
    }
    return 0;
  }
  const ids = sessionIdsOf(listing.stdout, name);
  for (const id of ids) await runChecked(shell, server, settings, logoffCommand(sessionId(id)));
  return ids.length;
}

function firstLines(text: string): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ').slice(0, 400);
}

function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  return secrets.reduce<string>((out, s) => (s ? withoutSecret(out, s) : out), text);
}
