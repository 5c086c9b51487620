// THE module that builds every command Keyway runs on a server. A command is a fixed script from remote-scripts.ts
// run as `sudo -n sh -c '<script>' <name> '<arg>'…`: values never become part of the script, they arrive as
// single-quoted positional arguments, and only values validated by remote-values.ts are accepted.
import {
  FIRST_REGULAR_UID, type CaPublicKeyLine, type GroupName, type LoginShell, type ManagedUserName, type Principal, type Uid,
} from './remote-values.js';
import {
  BOOTSTRAP_SCRIPT, CHECK_SCRIPT, DELETE_ACCOUNT_SCRIPT, INSPECT_BATCH_SCRIPT, PROVISION_BATCH_SCRIPT, RECONCILE_INSPECT_SCRIPT,
  REVOKE_BATCH_SCRIPT,
} from './remote-scripts.js';

declare const built: unique symbol;

export interface RemoteCommand {
  /** What the command is for, for logs and error messages (never the script). */
  readonly purpose: string;
  /** The exact command line handed to the connector's login shell. */
  readonly text: string;
  readonly [built]: true;
}

/** POSIX single quoting: the value comes out of any sh exactly as given. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new RangeError('a shell argument cannot contain a NUL byte');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function sudoScript(name: string, purpose: string, script: string, args: readonly string[]): RemoteCommand {
  // `sh -c SCRIPT NAME ARGS…`: NAME becomes $0 (shown by ps and in sudo's log), ARGS become $1, $2, …
  const text = ['sudo', '-n', 'sh', '-c', shellQuote(script), name, ...args.map(shellQuote)].join(' ');
  return { purpose, text } as RemoteCommand;
}

function csv(groups: readonly GroupName[]): string {
  return [...new Set(groups)].join(',');
}

export interface ProvisionSpec {
  user: ManagedUserName;
  uid: Uid;
  /** Keyway recorded the account with this UID before this call: it may exist (and is opened again). false: the UID
   * is chosen now, and the account must not exist yet. */
  recorded: boolean;
  shell: LoginShell;
  principal: Principal;
  /** Beyond the user's own group and keyway-users; empty for Default. */
  groups: readonly GroupName[];
}

export interface RevokeSpec {
  user: ManagedUserName;
  /** The UID Keyway recorded for the user; undefined when it has none (then only an absent account is accepted). */
  uid: Uid | undefined;
  principal: Principal;
  groupsToRemove: readonly GroupName[];
  /** Lock the account and end its processes, sessions, crontab and lingering services. */
  endAccess: boolean;
}

export function revokePurpose(spec: Pick<RevokeSpec, 'user' | 'principal'>): string {
  return `revoke ${spec.principal} from ${spec.user}`;
}

/** A grant's five values: user, recorded UID (empty when none), principal, groups to remove, 1 = end access. */
function revokeArgs(spec: RevokeSpec): string[] {
  return [spec.user, spec.uid === undefined ? '' : String(spec.uid), spec.principal, csv(spec.groupsToRemove), spec.endAccess ? '1' : '0'];
}

/** The most grants one batch command carries: its arguments stay far below the kernel's limits, and its run short. */
export const MAX_BATCH_GRANTS = 40;

/** Every value of a batch as it arrives on the server: $1 the count, then one fixed-size group per grant. */
function batchArgs<T>(specs: readonly T[], argsOf: (spec: T) => string[]): string[] {
  if (specs.length === 0 || specs.length > MAX_BATCH_GRANTS) {
    throw new RangeError(`a batch holds 1 to ${MAX_BATCH_GRANTS} grants, not ${specs.length}`);
  }
  return [String(specs.length), ...specs.flatMap(argsOf)];
}

function batchPurpose(verb: string, specs: ReadonlyArray<{ principal: Principal }>): string {
  const shown = specs.slice(0, 2).map((s) => s.principal).join(', ');
  return `${verb} ${specs.length} grant${specs.length === 1 ? '' : 's'} (${shown}${specs.length > 2 ? ', …' : ''})`;
}

/**
 * Revokes the grants due on one server in one run of REVOKE_BATCH_SCRIPT (the only revoke script: one grant is a
 * batch of one): per grant, in order, the five values of revokeArgs (user, recorded UID or empty, principal, groups to
 * remove, 1 = end access). The script reports per grant (done.N / failed.N, error.N), see remote-scripts.ts.
 */
export function revokeBatchCommand(specs: readonly RevokeSpec[]): RemoteCommand {
  return sudoScript('keyway-revoke-batch', batchPurpose('revoke', specs), REVOKE_BATCH_SCRIPT, batchArgs(specs, revokeArgs));
}

/** Inspects several accounts in one run: $1 first UID, $2 last UID, then the users. Prints account.N=… per user. */
export function inspectAccountsCommand(users: readonly ManagedUserName[], uidRange: { min: Uid; max: Uid }): RemoteCommand {
  if (users.length === 0 || users.length > MAX_BATCH_GRANTS) throw new RangeError(`a batch holds 1 to ${MAX_BATCH_GRANTS} accounts, not ${users.length}`);
  return sudoScript('keyway-inspect-batch', `inspect ${users.length} account${users.length === 1 ? '' : 's'} (${users.slice(0, 2).join(', ')}${users.length > 2 ? ', …' : ''})`,
    INSPECT_BATCH_SCRIPT, [String(Math.max(uidRange.min, FIRST_REGULAR_UID)), String(uidRange.max), ...users]);
}

export function provisionPurpose(spec: Pick<ProvisionSpec, 'user' | 'principal'>): string {
  return `provision ${spec.user} for ${spec.principal}`;
}

/**
 * Provisions the grants that land on one server in one run of PROVISION_BATCH_SCRIPT (the only provisioning script:
 * one grant is a batch of one): per grant, in order, user, UID, login shell, principal, groups (comma-separated, may be
 * empty), 1 = recorded (see ProvisionSpec). The script reports per grant (created.N, done.N / failed.N, error.N).
 */
export function provisionBatchCommand(specs: readonly ProvisionSpec[]): RemoteCommand {
  return sudoScript('keyway-provision-batch', batchPurpose('provision', specs), PROVISION_BATCH_SCRIPT,
    batchArgs(specs, (spec) => [spec.user, String(spec.uid), spec.shell, spec.principal, csv(spec.groups), spec.recorded ? '1' : '0']));
}

export function deleteAccountCommand(user: ManagedUserName, uid: Uid): RemoteCommand {
  return sudoScript('keyway-delete', `delete the account ${user}`, DELETE_ACCOUNT_SCRIPT, [user, String(uid)]);
}

export function bootstrapCommand(caKey: CaPublicKeyLine): RemoteCommand {
  return sudoScript('keyway-bootstrap', 'bootstrap Keyway (CA key, principals directory, sshd drop-in, group)', BOOTSTRAP_SCRIPT, [caKey]);
}

export function checkBootstrapCommand(caKey: CaPublicKeyLine | undefined): RemoteCommand {
  return sudoScript('keyway-check', "check Keyway's settings", CHECK_SCRIPT, [caKey ?? '']);
}

/** Lists the server's principals files and its keyway-managed accounts (read-only; no arguments), for hosts reconcile. */
export function reconcileInspectCommand(): RemoteCommand {
  return sudoScript('keyway-reconcile-inspect', "list Keyway's principals and managed accounts", RECONCILE_INSPECT_SCRIPT, []);
}
