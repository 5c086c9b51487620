// A person's account in a windows-dc domain, kw-<user>, as every kind that uses it sees it: the domain's own grants
// (its groups) and rdp grants through the domain (the account joins the servers' local groups). One account serves
// all of them, so its lifetime spans both: it is created in Keyway's OU on the first grant (marked, objectGUID
// recorded), accountExpires is the latest end of the person's live grants in the domain of either kind, it is
// disabled with a password nobody learns only when none is left, and cleanup deletes it only when no grant of either
// kind needs it. Keyway touches the account only if it is in its OU, carries its marker and has the recorded objectGUID.
import type { AccessContext } from '../../../access/context.js';
import { readPasswordSecret } from '../../../config/secrets.js';
import { windowsAccountName } from '../../../core/active-directory-names.js';
import { UserError } from '../../../core/errors.js';
import { findIntegration } from '../../../core/lookup.js';
import type { WindowsDcIntegration } from '../../../core/model.js';
import {
  claimWindowsAccount, hasGrantWithAccessInDomain, lastRevokeInDomain, liveGrantsInDomain, liveWindowsAccount,
  markWindowsAccountDeleted, recordObjectGuid,
} from '../../../store/windows-accounts.js';
import { KeyedMutex } from '../../ssh/keyed-mutex.js';
import { generatePassword } from '../password-credential.js';
import { Directory, type DomainAddress, type FoundAccount } from './directory.js';

const DAY_MS = 86_400_000;

/** Which domain account a grant uses: stored with the grant, so revoke and cleanup find it whatever the config says. */
export interface DomainAccountRef extends DomainAddress {
  /** The windows-dc integration. */
  integration: string;
  account: string;
  cleanupAfterDays: number;
}

export function domainAccountRef(domain: WindowsDcIntegration, linuxUser: string): DomainAccountRef {
  return {
    integration: domain.name, url: domain.url, startTls: domain.startTls, bindDn: domain.bindDn, baseDn: domain.baseDn, ou: domain.ou,
    ...(domain.tlsCaFile !== undefined && { tlsCaFile: domain.tlsCaFile }),
    account: windowsAccountName(linuxUser), cleanupAfterDays: domain.cleanupAfterDays,
  };
}

// One change at a time per domain account, whichever driver makes it: two grants never race to create it, and a
// revoke never interleaves with a password being set.
const perAccount = new KeyedMutex();

/**
 * Binds to the domain with the windows-dc integration's password as the config has it now (the address is the one
 * stored with the grant) and runs `work` while no other change to this account runs.
 */
export async function withDomainAccount<T>(ctx: AccessContext, env: NodeJS.ProcessEnv, ref: DomainAccountRef, work: (dir: Directory) => Promise<T>): Promise<T> {
  const integration = findIntegration(ctx.config(), ref.integration);
  if (integration?.type !== 'windows-dc' || !integration.secret) {
    throw new UserError('config_invalid', `windows-dc integration ${ref.integration} is no longer in the config: restore it (with its bind password) so Keyway can reach the domain; the domain controller refuses the account after its accountExpires anyway`);
  }
  const password = readPasswordSecret(integration.secret, env, `the bind password of integration ${integration.name}`);
  return perAccount.run(`${ref.integration}\u0000${ref.account}`, async () => {
    const dir = await Directory.open(ref, password);
    try {
      return await work(dir);
    } finally {
      await dir.close().catch(() => undefined);
    }
  });
}

/** The person's account if it is Keyway's (in its OU, marked, the recorded objectGUID); undefined if it is gone. */
export async function ownedAccount(ctx: AccessContext, dir: Directory, ref: DomainAccountRef): Promise<FoundAccount | undefined> {
  const record = liveWindowsAccount(ctx.db, ref.integration, ref.account);
  const found = await dir.findAccount(ref.account);
  if (!found) return undefined;
  dir.assertInKeywayOu(found, ref.account);
  if (!record) throw new UserError('account_not_managed', `account ${found.dn} is not recorded as created by Keyway: Keyway does not touch it`);
  if (record.objectGuid === null) {
    // Claimed, then Keyway stopped before recording what it created: the marked account in its OU is that one.
    recordObjectGuid(ctx.db, record.id, found.objectGuid);
  } else if (record.objectGuid !== found.objectGuid) {
    throw new UserError('account_not_managed', `account ${found.dn} has objectGUID ${found.objectGuid}, not the ${record.objectGuid} Keyway created: it was replaced, and Keyway does not touch it`);
  }
  return found;
}

/** The person's account, created (disabled, marked, recorded) when there is none yet. */
async function ensureAccount(ctx: AccessContext, dir: Directory, ref: DomainAccountRef): Promise<FoundAccount> {
  const existing = await ownedAccount(ctx, dir, ref);
  if (existing) return existing;
  const stale = liveWindowsAccount(ctx.db, ref.integration, ref.account);
  if (stale?.objectGuid) markWindowsAccountDeleted(ctx.db, stale.id, ctx.now()); // deleted in the domain by someone
  const claim = claimWindowsAccount(ctx.db, ref.integration, ref.account, dir.accountDn(ref.account), ctx.now());
  const created = await dir.createAccount(ref.account);
  dir.assertInKeywayOu(created, ref.account);
  recordObjectGuid(ctx.db, claim.id, created.objectGuid);
  ctx.logger.info({ integration: ref.integration, account: ref.account, dn: created.dn }, 'created the Windows account');
  return created;
}

/** The latest end of the person's live grants in the domain, of either kind: accountExpires never cuts one short. */
function accessEndOf(ctx: AccessContext, ref: DomainAccountRef, linuxUser: string, atLeast: number): number {
  return Math.max(atLeast, ...liveGrantsInDomain(ctx.db, ref.integration, linuxUser).map((g) => g.expiresAt));
}

/**
 * Makes the account ready for a grant that lasts until `atLeast`: created if missing, expiring at the latest end of
 * the person's live grants in the domain, enabled (with a password nobody knows: the requester's comes with the
 * message). Answers the account as it was before being enabled.
 */
export async function prepareAccount(ctx: AccessContext, dir: Directory, ref: DomainAccountRef, linuxUser: string, atLeast: number): Promise<FoundAccount> {
  const account = await ensureAccount(ctx, dir, ref);
  await dir.setExpires(account, accessEndOf(ctx, ref, linuxUser, atLeast));
  if (!Directory.isEnabled(account)) {
    await dir.setPassword(account, generatePassword());
    await dir.setEnabled(account, true);
  }
  return account;
}

/** Sets the requester's password on the account; false when it is gone or disabled (revoked meanwhile). */
export async function setAccountPassword(ctx: AccessContext, dir: Directory, ref: DomainAccountRef, linuxUser: string, password: string, atLeast: number): Promise<boolean> {
  const account = await ownedAccount(ctx, dir, ref);
  if (!account || !Directory.isEnabled(account)) return false;
  await dir.setExpires(account, accessEndOf(ctx, ref, linuxUser, atLeast));
  await dir.setPassword(account, password);
  return true;
}

/**
 * After grant `grantId` ended: when no other live grant of the person in the domain (of either kind) is left, the
 * account is disabled and gets a password nobody learns; otherwise it expires at the end of the latest of them.
 * Answers the account (undefined when it is gone already).
 */
export async function releaseAccount(ctx: AccessContext, dir: Directory, ref: DomainAccountRef, linuxUser: string, grantId: number): Promise<FoundAccount | undefined> {
  const account = await ownedAccount(ctx, dir, ref);
  if (!account) return undefined;
  const others = liveGrantsInDomain(ctx.db, ref.integration, linuxUser).filter((g) => g.id !== grantId);
  if (others.length === 0) {
    await dir.setEnabled(account, false);
    await dir.setPassword(account, generatePassword());
  } else {
    await dir.setExpires(account, Math.max(...others.map((g) => g.expiresAt)));
  }
  return account;
}

/**
 * The windows-dc cleanup rule, for either kind: the account goes when no grant of the person in the domain may still
 * give access and the last one ended cleanup_after_days ago (the integration's setting now, else the stored one).
 */
export function domainAccountDue(ctx: AccessContext, ref: DomainAccountRef, linuxUser: string, now: number): boolean {
  if (hasGrantWithAccessInDomain(ctx.db, ref.integration, linuxUser)) return false;
  const days = findIntegration(ctx.config(), ref.integration)?.cleanupAfterDays ?? ref.cleanupAfterDays;
  const ended = lastRevokeInDomain(ctx.db, ref.integration, linuxUser);
  return ended !== undefined && now - ended >= days * DAY_MS;
}

/** Deletes the account if it is still there (and Keyway's), and records that it is gone. */
export async function deleteDomainAccount(ctx: AccessContext, dir: Directory, ref: DomainAccountRef): Promise<void> {
  const account = await ownedAccount(ctx, dir, ref);
  if (account) await dir.deleteAccount(account);
  const record = liveWindowsAccount(ctx.db, ref.integration, ref.account);
  if (record) markWindowsAccountDeleted(ctx.db, record.id, ctx.now());
}
