// The windows-dc target kind: an Active Directory domain over LDAPS or StartTLS. A person has one account per domain,
// kw-<user>, in Keyway's OU, created on their first grant and recorded (objectGUID) in SQLite. A grant is one group:
// provisioning adds the account to it, enables it and sets accountExpires to the latest end of the person's live
// grants in the domain; the password is made when the credential message is sent (password-credential.ts). Revoke
// takes the group away unless another live grant gives it, and when no grant of the person in the domain is left
// disables the account and sets a random password nobody learns. Cleanup deletes the account. Keyway touches an
// account only if it is in its OU, carries its marker and has the recorded objectGUID.
import type { AccessContext } from '../../../access/context.js';
import type { AccountCleanup, BoundGrant, CredentialView, GrantTarget, TargetDriver } from '../../../access/target-driver.js';
import { readPasswordSecret } from '../../../config/secrets.js';
import { UserError } from '../../../core/errors.js';
import { windowsAccountName } from '../../../core/active-directory-names.js';
import { findIntegration } from '../../../core/lookup.js';
import type { Grant } from '../../../store/grants.js';
import { grantsOfRequest } from '../../../store/grants.js';
import {
  claimWindowsAccount, liveGrantsOfPerson, liveWindowsAccount, markWindowsAccountDeleted, recordObjectGuid,
} from '../../../store/windows-accounts.js';
import {
  generatePassword, needsPassword, owePassword, passwordCredentialId, passwordView, withPassword,
} from '../password-credential.js';
import { KeyedMutex } from '../../ssh/keyed-mutex.js';
import { Directory, dnsDomainOf, type DomainAddress, type FoundAccount } from './directory.js';

export const WINDOWS_DC_KIND = 'windows-dc';
const DAY_MS = 86_400_000;

/** What a windows-dc grant stores (grants.target_account): the domain's address, the account and the group. */
export interface AdGrantAccount extends DomainAddress {
  account: string;
  group: string;
  cleanupAfterDays: number;
}

export interface WindowsDcDriverDeps {
  /** Where {env: NAME} secrets are read from. */
  env: NodeJS.ProcessEnv;
}

function accountOf(grant: Grant): AdGrantAccount {
  return grant.targetAccount as unknown as AdGrantAccount;
}

export function windowsDcDriver(deps: WindowsDcDriverDeps): TargetDriver {
  // One change at a time per account: two grants of one person never race to create it, and a revoke never
  // interleaves with the password being set.
  const perAccount = new KeyedMutex();

  /** Binds with the integration's password as the config has it now; the address is the one stored with the grant. */
  async function withDirectory<T>(ctx: AccessContext, grant: Grant, work: (dir: Directory, account: AdGrantAccount) => Promise<T>): Promise<T> {
    const integration = findIntegration(ctx.config(), grant.integration);
    if (!integration?.secret) {
      throw new UserError('config_invalid', `windows-dc integration ${grant.integration} is no longer in the config: restore it (with its bind password) so Keyway can reach the domain; the domain controller refuses the account after its accountExpires anyway`);
    }
    const account = accountOf(grant);
    const password = readPasswordSecret(integration.secret, deps.env, `the bind password of integration ${integration.name}`);
    return perAccount.run(`${grant.integration}\u0000${account.account}`, async () => {
      const dir = await Directory.open(account, password);
      try {
        return await work(dir, account);
      } finally {
        await dir.close().catch(() => undefined);
      }
    });
  }

  /** The person's account if it is Keyway's (in its OU, marked, the recorded objectGUID); undefined if it is gone. */
  async function ownedAccount(ctx: AccessContext, dir: Directory, integration: string, name: string): Promise<FoundAccount | undefined> {
    const record = liveWindowsAccount(ctx.db, integration, name);
    const found = await dir.findAccount(name);
    if (!found) return undefined;
    dir.assertInKeywayOu(found, name);
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
  async function ensureAccount(ctx: AccessContext, dir: Directory, integration: string, name: string): Promise<FoundAccount> {
    const existing = await ownedAccount(ctx, dir, integration, name);
    if (existing) return existing;
    const stale = liveWindowsAccount(ctx.db, integration, name);
    if (stale?.objectGuid) markWindowsAccountDeleted(ctx.db, stale.id, ctx.now()); // deleted in the domain by someone
    const claim = claimWindowsAccount(ctx.db, integration, name, dir.accountDn(name), ctx.now());
    const created = await dir.createAccount(name);
    dir.assertInKeywayOu(created, name);
    recordObjectGuid(ctx.db, claim.id, created.objectGuid);
    ctx.logger.info({ integration, account: name, dn: created.dn }, 'created the Windows account');
    return created;
  }

  /** The latest end of the person's live grants in the domain: accountExpires never cuts another grant short. */
  function accessEndOf(ctx: AccessContext, integration: string, linuxUser: string, atLeast: number): number {
    return Math.max(atLeast, ...liveGrantsOfPerson(ctx.db, integration, linuxUser).map((g) => g.expiresAt));
  }

  return {
    kind: WINDOWS_DC_KIND,

    accountFor(ref, grant): GrantTarget {
      const integration = ref.integration;
      if (integration.type !== 'windows-dc') throw new Error(`integration ${integration.name} is not a windows-dc integration`);
      const account: AdGrantAccount = {
        url: integration.url, startTls: integration.startTls, bindDn: integration.bindDn, baseDn: integration.baseDn, ou: integration.ou,
        ...(integration.tlsCaFile !== undefined && { tlsCaFile: integration.tlsCaFile }),
        account: windowsAccountName(grant.linuxUser), group: ref.server.name, cleanupAfterDays: integration.cleanupAfterDays,
      };
      return { kind: WINDOWS_DC_KIND, address: integration.url, account: { ...account } };
    },

    async provision(ctx, grant) {
      await withDirectory(ctx, grant, async (dir, a) => {
        const account = await ensureAccount(ctx, dir, grant.integration, a.account);
        await dir.addMember(await dir.groupDn(a.group), account);
        await dir.setExpires(account, accessEndOf(ctx, grant.integration, grant.linuxUser, grant.expiresAt));
        // A disabled account gets a password nobody knows before it is enabled; the requester's comes with the message.
        if (!Directory.isEnabled(account)) {
          await dir.setPassword(account, generatePassword());
          await dir.setEnabled(account, true);
        }
      });
    },

    needsCredential: (ctx, request) => needsPassword(ctx, request),

    issueCredential: (ctx, request) => owePassword(ctx, request),

    credentialView(ctx, request, grants) {
      const active = grants.filter((g): g is BoundGrant => g.state === 'active' && g.targetKind === WINDOWS_DC_KIND && g.targetAccount !== null);
      const credentialId = passwordCredentialId(ctx, request.id);
      if (active.length === 0 || !credentialId) return undefined;
      const a = accountOf(active[0]!);
      const login = `${a.account}@${dnsDomainOf(a.baseDn)}`;
      const integration = findIntegration(ctx.config(), request.integration);
      return passwordView({
        title: 'Active Directory access', requestId: request.id, credentialId, account: login, validUntil: request.accessExpiresAt!,
        targets: active.map((g) => g.server),
        connect: [{ target: a.url, lines: [`user: ${login}`, `domain controller: ${a.url}`, `groups: ${active.map((g) => g.server).join(', ')}`] }],
        connectHint: 'sign in to the domain\'s machines and services with this account',
        notReady: grants.filter((g) => g.state === 'provisioning' || g.state === 'provision_failed').map((g) => g.server),
        notes: integration?.customAccessDetails ? [integration.customAccessDetails] : [],
        scope: 'The password opens only the groups of your live requests in this domain, and stops working when they end',
      });
    },

    async completeCredential(ctx, request, view): Promise<CredentialView | undefined> {
      const active = grantsOfRequest(ctx.db, request.id).filter((g) => g.state === 'active' && g.targetKind === WINDOWS_DC_KIND);
      if (active.length === 0) return undefined;
      const grant = active[0]!;
      return withDirectory(ctx, grant, async (dir, a) => {
        const account = await ownedAccount(ctx, dir, grant.integration, a.account);
        if (!account || !Directory.isEnabled(account)) return undefined; // revoked meanwhile
        const password = generatePassword();
        await dir.setExpires(account, accessEndOf(ctx, grant.integration, grant.linuxUser, request.accessExpiresAt ?? grant.expiresAt));
        await dir.setPassword(account, password);
        return withPassword(view, password);
      });
    },

    async revoke(ctx, grant, scope) {
      await withDirectory(ctx, grant, async (dir, a) => {
        const account = await ownedAccount(ctx, dir, grant.integration, a.account);
        if (!account) return; // deleted already: nothing left to take back
        const others = liveGrantsOfPerson(ctx.db, grant.integration, grant.linuxUser).filter((g) => g.id !== grant.id);
        if (others.length === 0) {
          await dir.setEnabled(account, false);
          await dir.setPassword(account, generatePassword());
        } else {
          await dir.setExpires(account, Math.max(...others.map((g) => g.expiresAt)));
        }
        if (!scope.otherGrantsLive) await dir.removeMember(await dir.groupDn(a.group), account);
      });
      return {};
    },

    accountsToClean(ctx, revoked, live, now) {
      const byAccount = new Map<string, BoundGrant[]>();
      for (const g of revoked) {
        const key = `${g.integration}\u0000${accountOf(g).account}`;
        byAccount.set(key, [...(byAccount.get(key) ?? []), g]);
      }
      const due: AccountCleanup[] = [];
      for (const grants of byAccount.values()) {
        const sample = grants[0]!;
        const { account, cleanupAfterDays } = accountOf(sample);
        const days = findIntegration(ctx.config(), sample.integration)?.cleanupAfterDays ?? cleanupAfterDays;
        if (now - Math.max(...grants.map((g) => g.revokedAt ?? 0)) < days * DAY_MS) continue;
        if (live.some((g) => g.integration === sample.integration && g.linuxUser === sample.linuxUser)) continue;
        due.push({ grants, audit: { action: 'windows.account_deleted', subject: `windows-dc:${sample.integration}`, details: { account, grants: grants.map((g) => g.id) } } });
      }
      return due;
    },

    async cleanUp(ctx, cleanup) {
      const sample = cleanup.grants[0]!;
      await withDirectory(ctx, sample, async (dir, a) => {
        const account = await ownedAccount(ctx, dir, sample.integration, a.account);
        if (account) await dir.deleteAccount(account);
        const record = liveWindowsAccount(ctx.db, sample.integration, a.account);
        if (record) markWindowsAccountDeleted(ctx.db, record.id, ctx.now());
      });
    },

    describe(grant) {
      const a = grant.targetAccount as Partial<AdGrantAccount> | null;
      return `${a?.account ?? windowsAccountName(grant.linuxUser)} in group ${grant.server} (${grant.targetAddress ?? grant.integration})`;
    },
  };
}
