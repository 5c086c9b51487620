// `keyway hosts reconcile`: finds Keyway access on a server that the database does not know (after a lost or an
// older restored database) and takes it back. Read first (RECONCILE_INSPECT_SCRIPT: every principals file and every
// account marked keyway-managed), compare with the live grants and managed users the database has, and remove only
// what is unknown, through the one revoke script (REVOKE_BATCH_SCRIPT): the principal goes first, then the account
// is locked, its processes ended. An account is acted on only when the server marks it keyway-managed (UID ≥ 1000);
// the UID handed to the script is the one the server shows, so the script refuses anything else. Accounts and homes
// are never deleted here: cleanup is for accounts the database knows.
import type { ServerRef } from '../../core/model.js';
import type { LiveAccessOnServer } from '../../store/reconcile.js';
import { accountLocks, lockKey, userFor, type HostsContext } from './account-rules.js';
import { MAX_BATCH_GRANTS, reconcileInspectCommand, revokeBatchCommand, type RevokeSpec } from './remote-commands.js';
import { REMOTE_EXIT } from './remote-scripts.js';
import { FIRST_REGULAR_UID, principal as toPrincipal, uid as toUid, type ManagedUserName, type Principal, type Uid } from './remote-values.js';
import { remoteFailure, runRemote, type RemoteOutput } from './run-remote.js';

/** What a server holds of Keyway's: the lines of its principals files, and its accounts marked keyway-managed. */
export interface ServerInventory {
  principals: Array<{ user: string; principal: string }>;
  /** marked keyway-managed, UID ≥ 1000: user → UID */
  accounts: Map<string, number>;
}

export type Finding =
  | { kind: 'principal'; user: string; principal: string; /** why Keyway cannot remove it itself, if it cannot */ manual?: string }
  | { kind: 'account'; user: string; uid: number; /** the UID the database recorded for this name, if it has a live record */ recordedUid?: number; manual?: string };

export interface FindingOutcome {
  finding: Finding;
  ok: boolean;
  /** what the server did: 'removed', 'already gone', 'locked' */
  done?: string;
  /** for a principal whose account is not Keyway's: the account was left untouched */
  note?: string;
  error?: string;
}

/** The principal used when an unknown account has no unknown principal: no grant ever has it (grants' are keyway-req-N). */
export const RECONCILE_PLACEHOLDER_PRINCIPAL = 'keyway-reconcile';

const EXTRA_MS_PER_USER = 11_000;

export async function inspectServer(ctx: Pick<HostsContext, 'pool'>, ref: ServerRef): Promise<ServerInventory> {
  const output = await runRemote(ctx.pool, ref, reconcileInspectCommand());
  return parseInventory(output);
}

export function parseInventory(output: Pick<RemoteOutput, 'values'>): ServerInventory {
  const principals: ServerInventory['principals'] = [];
  for (const line of output.values.get('principal') ?? []) {
    const space = line.indexOf(' ');
    if (space > 0) principals.push({ user: line.slice(0, space), principal: line.slice(space + 1) });
  }
  const accounts = new Map<string, number>();
  for (const line of output.values.get('account') ?? []) {
    const match = /^(\S+) (\d+)$/.exec(line);
    if (match && Number(match[2]) >= FIRST_REGULAR_UID) accounts.set(match[1]!, Number(match[2]));
  }
  return { principals, accounts };
}

function checkedUser(ref: ServerRef, user: string): { user?: ManagedUserName; manual?: string } {
  try {
    return { user: userFor(ref, user) };
  } catch (error) {
    return { manual: `not an account Keyway manages (${error instanceof Error ? error.message : String(error)}): remove it by hand` };
  }
}

/** What the server holds that the database has no live record of, in the order the server listed it. */
export function findUnknown(ref: ServerRef, inventory: ServerInventory, live: LiveAccessOnServer): Finding[] {
  const findings: Finding[] = [];
  for (const { user, principal } of inventory.principals) {
    if (live.principals.has(`${user} ${principal}`)) continue;
    let manual = checkedUser(ref, user).manual;
    if (!manual) {
      try {
        toPrincipal(principal);
      } catch {
        manual = 'not a principal Keyway writes: remove it by hand';
      }
    }
    findings.push({ kind: 'principal', user, principal, ...(manual ? { manual } : {}) });
  }
  for (const [user, uid] of inventory.accounts) {
    const recordedUid = live.accounts.get(user);
    if (recordedUid === uid) continue;
    let { manual } = checkedUser(ref, user);
    if (!manual && safeUid(uid) === undefined) manual = `UID ${uid} is not one Keyway creates accounts with: remove it by hand`;
    findings.push({ kind: 'account', user, uid, ...(recordedUid === undefined ? {} : { recordedUid }), ...(manual ? { manual } : {}) });
  }
  return findings;
}

function safeUid(value: number): Uid | undefined {
  try {
    return toUid(value);
  } catch {
    return undefined;
  }
}

interface Planned { spec: RevokeSpec; findings: Finding[] }

/**
 * Removes the findings Keyway can remove (those without `manual`), per user one or more grants of one revoke batch:
 * every unknown principal of the user, with the UID the server shows when the account is marked keyway-managed
 * (else none, so the script removes the principal and leaves any account alone), and access ended (account locked
 * and expired, processes killed) unless the database has a live grant of the user there. An unknown account is
 * always locked. Returns one outcome per finding given, in order.
 */
export async function removeUnknown(
  ctx: Pick<HostsContext, 'pool'>, ref: ServerRef, inventory: ServerInventory, live: LiveAccessOnServer, findings: readonly Finding[],
): Promise<FindingOutcome[]> {
  const outcomes = new Map<Finding, FindingOutcome>();
  const byUser = new Map<string, Finding[]>();
  for (const finding of findings) {
    if (finding.manual) {
      outcomes.set(finding, { finding, ok: false, error: finding.manual });
      continue;
    }
    byUser.set(finding.user, [...(byUser.get(finding.user) ?? []), finding]);
  }
  const planned: Planned[] = [];
  for (const [name, mine] of byUser) {
    const user = userFor(ref, name);
    const serverUid = inventory.accounts.get(name);
    const accountUnknown = mine.some((f) => f.kind === 'account');
    const hasLiveGrant = [...live.principals].some((p) => p.startsWith(`${name} `));
    const base = { user, uid: serverUid === undefined ? undefined : safeUid(serverUid), groupsToRemove: [], endAccess: accountUnknown || !hasLiveGrant };
    const principals = mine.filter((f): f is Extract<Finding, { kind: 'principal' }> => f.kind === 'principal');
    const account = mine.filter((f) => f.kind === 'account');
    if (principals.length === 0) {
      planned.push({ spec: { ...base, principal: toPrincipal(RECONCILE_PLACEHOLDER_PRINCIPAL) }, findings: account });
    } else {
      principals.forEach((f, i) => planned.push({ spec: { ...base, principal: f.principal as Principal }, findings: i === 0 ? [f, ...account] : [f] }));
    }
  }
  for (let i = 0; i < planned.length; i += MAX_BATCH_GRANTS) {
    const chunk = planned.slice(i, i + MAX_BATCH_GRANTS);
    const users = [...new Set(chunk.map((p) => p.spec.user))];
    await holding(ref, users, async () => {
      let output: RemoteOutput;
      try {
        output = await runRemote(ctx.pool, ref, revokeBatchCommand(chunk.map((p) => p.spec)), {
          timeoutMs: ctx.pool.commandTimeoutMs + users.length * EXTRA_MS_PER_USER,
        });
      } catch (error) {
        for (const p of chunk) for (const f of p.findings) outcomes.set(f, { finding: f, ok: false, error: error instanceof Error ? error.message : String(error) });
        return;
      }
      chunk.forEach((p, index) => {
        const n = index + 1;
        const done = output.first(`done.${n}`) === '1';
        const code = Number(output.first(`failed.${n}`) ?? '0');
        const error = done ? undefined : remoteFailure(ref, { purpose: `remove ${p.spec.principal} of ${p.spec.user}` }, code, output.first(`error.${n}`) ?? 'the server reported nothing').message;
        for (const f of p.findings) {
          if (f.kind === 'principal') {
            const removed = output.first(`principal-removed.${n}`) === '1';
            const notKeyways = code === REMOTE_EXIT.notManaged || code === REMOTE_EXIT.systemAccount;
            if (done || (removed && notKeyways)) {
              outcomes.set(f, {
                finding: f, ok: true, done: removed ? 'removed' : 'already gone',
                ...(done ? {} : { note: 'the account is not marked keyway-managed: left untouched' }),
              });
            } else {
              outcomes.set(f, { finding: f, ok: false, ...(removed ? { done: 'removed' } : {}), error: error! });
            }
          } else if (done && output.first(`access-ended.${n}`) === '1') {
            outcomes.set(f, { finding: f, ok: true, done: 'locked' });
          } else {
            outcomes.set(f, { finding: f, ok: false, error: error ?? 'the account was not locked' });
          }
        }
      });
    });
  }
  return findings.map((f) => outcomes.get(f)!);
}

async function holding<T>(ref: ServerRef, users: readonly string[], work: () => Promise<T>): Promise<T> {
  const keys = [...new Set(users.map((user) => lockKey(ref, user)))].sort();
  const hold = (i: number): Promise<T> => (i === keys.length ? work() : accountLocks.run(keys[i]!, () => hold(i + 1)));
  return hold(0);
}
