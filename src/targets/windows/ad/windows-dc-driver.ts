// The windows-dc target kind: an Active Directory domain over LDAPS or StartTLS. A person has one account per domain,
// kw-<user>, in Keyway's OU, created on their first grant and recorded (objectGUID) in SQLite. A grant is one group:
// provisioning adds the account to it, enables it and sets accountExpires to the latest end of the person's live
// grants in the domain (rdp grants through it included); the password is made when the credential message is sent (password-credential.ts). Revoke
// takes the group away unless another live grant gives it, and when no grant of the person in the domain is left
// disables the account and sets a random password nobody learns. Cleanup deletes the account. Keyway touches an
// account only if it is in its OU, carries its marker and has the recorded objectGUID. The account's lifetime (creation,
// expiry, disabling, deletion) is shared with rdp integrations that grant through the domain: domain-account.ts.
import type { AccessContext } from '../../../access/context.js';
import type { AccountCleanup, BoundGrant, CredentialView, GrantTarget, TargetDriver } from '../../../access/target-driver.js';
import { windowsAccountName } from '../../../core/active-directory-names.js';
import { findIntegration } from '../../../core/lookup.js';
import type { Grant } from '../../../store/grants.js';
import { grantsOfRequest } from '../../../store/grants.js';
import {
  generatePassword, needsPassword, owePassword, passwordCredentialId, passwordView, withPassword,
} from '../password-credential.js';
import { dnsDomainOf, type Directory, type DomainAddress } from './directory.js';
import {
  deleteDomainAccount, domainAccountDue, prepareAccount, releaseAccount, setAccountPassword, withDomainAccount, type DomainAccountRef,
} from './domain-account.js';

export const WINDOWS_DC_KIND = 'windows-dc';

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

/** The grant's domain account (the windows-dc integration is the grant's own). */
function refOf(grant: Grant): DomainAccountRef {
  return { ...accountOf(grant), integration: grant.integration };
}

export function windowsDcDriver(deps: WindowsDcDriverDeps): TargetDriver {
  const withDirectory = <T>(ctx: AccessContext, grant: Grant, work: (dir: Directory, account: AdGrantAccount) => Promise<T>): Promise<T> =>
    withDomainAccount(ctx, deps.env, refOf(grant), (dir) => work(dir, accountOf(grant)));

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
        const account = await prepareAccount(ctx, dir, refOf(grant), grant.linuxUser, grant.expiresAt);
        await dir.addMember(await dir.groupDn(a.group), account);
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
      const password = generatePassword();
      const set = await withDirectory(ctx, grant, (dir) => setAccountPassword(ctx, dir, refOf(grant), grant.linuxUser, password, request.accessExpiresAt ?? grant.expiresAt));
      return set ? withPassword(view, password) : undefined; // revoked meanwhile
    },

    async revoke(ctx, grant, scope) {
      await withDirectory(ctx, grant, async (dir, a) => {
        const account = await releaseAccount(ctx, dir, refOf(grant), grant.linuxUser, grant.id);
        if (account && !scope.otherGrantsLive) await dir.removeMember(await dir.groupDn(a.group), account);
      });
      return {};
    },

    // The account is the person's in the whole domain: it goes only when no grant of the domain's or of an rdp
    // integration through it needs it (domainAccountDue).
    accountsToClean(ctx, revoked, _live, now) {
      const byAccount = new Map<string, BoundGrant[]>();
      for (const g of revoked) {
        const key = `${g.integration}\u0000${accountOf(g).account}`;
        byAccount.set(key, [...(byAccount.get(key) ?? []), g]);
      }
      const due: AccountCleanup[] = [];
      for (const grants of byAccount.values()) {
        const sample = grants[0]!;
        if (!domainAccountDue(ctx, refOf(sample), sample.linuxUser, now)) continue;
        due.push({ grants, audit: { action: 'windows.account_deleted', subject: `windows-dc:${sample.integration}`, details: { account: accountOf(sample).account, grants: grants.map((g) => g.id) } } });
      }
      return due;
    },

    async cleanUp(ctx, cleanup) {
      const sample = cleanup.grants[0]!;
      await withDirectory(ctx, sample, (dir) => deleteDomainAccount(ctx, dir, refOf(sample)));
    },

    describe(grant) {
      const a = grant.targetAccount as Partial<AdGrantAccount> | null;
      return `${a?.account ?? windowsAccountName(grant.linuxUser)} in group ${grant.server} (${grant.targetAddress ?? grant.integration})`;
    },
  };
}
