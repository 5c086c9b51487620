// The rdp target kind: Windows servers over WinRM (rdp-host.ts). A person gets a local account kw-<user> on each server
// of a grant, marked with Keyway's description; provisioning creates or takes it up, adds it to the grant's groups
// (the integration's user_groups and the flow's grant_groups) and sets its expiry; the password the requester gets is
// made when the message is sent (password-credential.ts) and set on every server of the request then. Revoke takes
// the groups away unless another live grant on the server gives them and, when none is left, disables the account,
// sets a random password nobody learns and logs off its sessions. Cleanup deletes the account. What a grant needs
// later (where the server is, the account, its groups) is stored with it; the admin password never is: it is read
// from the live config by integration name each time. With `domain:` the account is instead the person's account in
// that windows-dc domain (ad/domain-account.ts: created, expiring, disabled and deleted by the domain's rules, across
// the domain's grants and these), added as DOMAIN\kw-<user> to the servers' groups; its password is set in the domain.
import { readFileSync } from 'node:fs';
import type { AccessContext } from '../../../access/context.js';
import type { AccountCleanup, BoundGrant, CredentialView, GrantTarget, RevokeScope, TargetDriver } from '../../../access/target-driver.js';
import { readPasswordSecret } from '../../../config/secrets.js';
import { windowsAccountName } from '../../../core/active-directory-names.js';
import { UserError } from '../../../core/errors.js';
import { findIntegration } from '../../../core/lookup.js';
import { DEFAULT_GROUP, type AccessConfig, type RdpIntegration } from '../../../core/model.js';
import { grantsOfRequest, type Grant } from '../../../store/grants.js';
import { latestPasswordCredential, passwordMessageSentAt } from '../../../store/password-credentials.js';
import { liveGrantsOfPerson } from '../../../store/windows-accounts.js';
import type { Directory } from '../ad/directory.js';
import {
  deleteDomainAccount, domainAccountDue, domainAccountRef, prepareAccount, releaseAccount, setAccountPassword, withDomainAccount,
  type DomainAccountRef,
} from '../ad/domain-account.js';
import type { AccessRequest } from '../../../store/requests.js';
import { KeyedMutex } from '../../ssh/keyed-mutex.js';
import {
  generatePassword, needsPassword, owePassword, passwordCredentialId, passwordView, rdpConnectLines, withPassword,
} from '../password-credential.js';
import { deleteAccount, grantAccount, revokeAccount, warnsPlainHttp, type RdpHostSettings } from './rdp-host.js';

export const RDP_KIND = 'rdp';
const DAY_MS = 86_400_000;

/** What an rdp grant stores (grants.target_account): the server as it was reached, the account and its groups. */
export interface RdpGrantAccount {
  host: string;
  winrmPort: number;
  rdpPort: number;
  useSsl: boolean;
  tlsCaFile?: string;
  account: string;
  groups: string[];
  cleanupAfterDays: number;
  /** Set when the integration grants through a windows-dc domain: the account is that domain's, not a local one. */
  domain?: { integration: string };
}

export interface RdpDriverDeps {
  /** Where {env: NAME} secrets are read from. */
  env: NodeJS.ProcessEnv;
}

function accountOf(grant: Grant): RdpGrantAccount {
  return grant.targetAccount as unknown as RdpGrantAccount;
}

function serverOf(grant: Grant) {
  const a = accountOf(grant);
  return { name: grant.server, host: a.host, winrmPort: a.winrmPort, useSsl: a.useSsl };
}

/**
 * One line per rdp integration that reaches servers over plain HTTP because allow_unencrypted says so: logged as a
 * warning at every start and config reload.
 */
export function plainHttpWarnings(config: AccessConfig): string[] {
  return config.integrations.flatMap((integration) => {
    if (integration.type !== 'rdp') return [];
    const plain = integration.servers.filter((server) => warnsPlainHttp(server, { user: integration.user, password: '', allowUnencrypted: integration.allowUnencrypted }));
    if (plain.length === 0) return [];
    return [`rdp integration ${integration.name} has allow_unencrypted: true and reaches ${plain.map((s) => `${s.name} (http://${s.host}:${s.winrmPort})`).join(', ')} over plain-HTTP WinRM: the admin login and every password Keyway sets cross the network unprotected. Use HTTPS (5986) and remove allow_unencrypted.`];
  });
}

/** How Keyway logs in to an integration's servers: its admin login, the password its secret names, the CA to trust. */
export function rdpHostSettings(integration: RdpIntegration, env: NodeJS.ProcessEnv, tlsCaFile = integration.tlsCaFile): RdpHostSettings {
  if (!integration.secret) throw new UserError('config_invalid', `rdp integration ${integration.name} has no secret: name the WinRM admin password ({ env: NAME } or { file: PATH })`);
  return {
    user: integration.user,
    password: readPasswordSecret(integration.secret, env, `the WinRM admin password of integration ${integration.name}`),
    allowUnencrypted: integration.allowUnencrypted,
    allowPrivilegedGroups: integration.allowPrivilegedGroups,
    ...(tlsCaFile !== undefined && { tlsCa: readCaFile(tlsCaFile, integration.name) }),
  };
}

export function rdpDriver(deps: RdpDriverDeps): TargetDriver {
  // One change at a time per account and server: a revoke never interleaves with a password being set.
  const perAccount = new KeyedMutex();

  /**
   * How to log in to the grant's server: the admin login and password from the integration as the config has it now;
   * where the server is, from the grant. Refuses when the integration has left the config (the sweeper retries).
   */
  function settingsFor(ctx: AccessContext, grant: Grant): RdpHostSettings {
    const integration = findIntegration(ctx.config(), grant.integration);
    if (integration?.type !== 'rdp' || !integration.secret) {
      throw new UserError('config_invalid', `rdp integration ${grant.integration} is no longer in the config: restore it (with its admin password) so Keyway can reach ${grant.server} and take the access back; the account's expiry ends it on the server meanwhile`);
    }
    const a = accountOf(grant);
    if (!a.useSsl && !integration.allowUnencrypted) {
      throw new UserError('config_invalid', `${grant.server} is reached over plain-HTTP WinRM, but rdp integration ${integration.name} no longer has allow_unencrypted: true: Keyway will not send passwords over it`);
    }
    return rdpHostSettings(integration, deps.env, a.tlsCaFile);
  }

  function onAccount<T>(grant: Grant, work: () => Promise<T>): Promise<T> {
    return perAccount.run(`${grant.integration}\u0000${grant.server}\u0000${accountOf(grant).account}`, work);
  }

  /** The latest end of the person's live grants on this server: the account's expiry never cuts one short. */
  function accessEndOn(ctx: AccessContext, grant: Grant, atLeast: number): Date {
    const live = liveGrantsOfPerson(ctx.db, grant.integration, grant.linuxUser).filter((g) => g.server === grant.server);
    return new Date(Math.max(atLeast, ...live.map((g) => g.expiresAt)));
  }

  /**
   * For a grant through a domain: binds to the domain (windows-dc integration as the config has it now: its address,
   * OU and bind password) and runs `work` on the person's domain account, with the domain's NetBIOS name.
   */
  function inDomain<T>(ctx: AccessContext, grant: Grant, work: (dir: Directory, ref: DomainAccountRef, netbios: string) => Promise<T>): Promise<T> {
    const ref = domainRefOf(ctx, grant);
    return withDomainAccount(ctx, deps.env, ref, async (dir) => work(dir, ref, await dir.netbiosName()));
  }

  /** Grants the account on the grant's server with `password`: created or taken up, enabled, in its groups, expiring. */
  async function grantOn(ctx: AccessContext, grant: Grant, password: string, expiresAt: number): Promise<void> {
    const a = accountOf(grant);
    const settings = settingsFor(ctx, grant);
    const { created } = await grantAccount(serverOf(grant), settings, { name: a.account }, password, a.groups, accessEndOn(ctx, grant, expiresAt));
    if (created) ctx.logger.info({ integration: grant.integration, server: grant.server, account: a.account }, 'created the Windows account');
  }

  /** The request's active rdp grants, if the latest password's message went out before one of them became active. */
  function activatedAfterSend(ctx: AccessContext, request: AccessRequest): boolean {
    const latest = latestPasswordCredential(ctx.db, request.id);
    const sentAt = latest && passwordMessageSentAt(ctx.db, request.id, latest.serial);
    if (sentAt === undefined) return false;
    return grantsOfRequest(ctx.db, request.id).some((g) => g.state === 'active' && g.targetKind === RDP_KIND && (g.activeAt ?? 0) > sentAt);
  }

  return {
    kind: RDP_KIND,

    accountFor(ref, grant): GrantTarget {
      const integration = ref.integration;
      if (integration.type !== 'rdp') throw new Error(`integration ${integration.name} is not an rdp integration`);
      const server = integration.servers.find((s) => s.name === ref.server.name);
      if (!server) throw new Error(`rdp integration ${integration.name} has no server ${ref.server.name}`);
      const account: RdpGrantAccount = {
        host: server.host, winrmPort: server.winrmPort, rdpPort: server.rdpPort, useSsl: server.useSsl,
        ...(integration.tlsCaFile !== undefined && { tlsCaFile: integration.tlsCaFile }),
        account: windowsAccountName(grant.linuxUser), groups: grant.groups.filter((g) => g !== DEFAULT_GROUP),
        cleanupAfterDays: integration.cleanupAfterDays,
        ...(integration.domain !== undefined && { domain: { integration: integration.domain } }),
      };
      return { kind: RDP_KIND, address: `${server.useSsl ? 'https' : 'http'}://${server.host}:${server.winrmPort}`, account: { ...account } };
    },

    async provision(ctx, grant) {
      if (accountOf(grant).groups.length === 0) {
        throw new UserError('config_invalid', `a grant on ${grant.server} names no Windows group: set user_groups on rdp integration ${grant.integration} (default [Remote Desktop Users])`);
      }
      const a = accountOf(grant);
      if (a.domain) {
        // The domain account made ready (created, expiring, enabled) first, then added to the server's groups.
        await inDomain(ctx, grant, async (dir, ref, netbios) => {
          await prepareAccount(ctx, dir, ref, grant.linuxUser, grant.expiresAt);
          await onAccount(grant, () => grantAccount(serverOf(grant), settingsFor(ctx, grant), { name: a.account, domain: netbios }, null, a.groups, null));
        });
        return;
      }
      // A password nobody is told: the requester's is made and set when the message is sent.
      await onAccount(grant, () => grantOn(ctx, grant, generatePassword(), grant.expiresAt));
    },

    // Owed when none was sent yet or the access was extended, and again when a server of the request became ready
    // only after the last password went out (it was provisioned with a password nobody knows).
    needsCredential: (ctx, request) => needsPassword(ctx, request) || activatedAfterSend(ctx, request),

    issueCredential: (ctx, request) => owePassword(ctx, request),

    credentialView(ctx, request, grants) {
      const active = grants.filter((g): g is BoundGrant => g.state === 'active' && g.targetKind === RDP_KIND && g.targetAccount !== null);
      const credentialId = passwordCredentialId(ctx, request.id);
      if (active.length === 0 || !credentialId) return undefined;
      const login = accountOf(active[0]!).account;
      const integration = findIntegration(ctx.config(), request.integration);
      return passwordView({
        title: 'Remote Desktop access', requestId: request.id, credentialId, account: login, validUntil: request.accessExpiresAt!,
        targets: active.map((g) => g.server),
        connect: connectOf(active, login),
        connectHint: 'log in over Remote Desktop with this account and password',
        notReady: grants.filter((g) => g.state === 'provisioning' || g.state === 'provision_failed').map((g) => g.server),
        notes: integration?.customAccessDetails ? [integration.customAccessDetails] : [],
        scope: 'The password opens only the servers of this request, and stops working when your access to them ends',
      });
    },

    async completeCredential(ctx, request, view): Promise<CredentialView | undefined> {
      const active = grantsOfRequest(ctx.db, request.id).filter((g) => g.state === 'active' && g.targetKind === RDP_KIND);
      if (active.length === 0) return undefined;
      const password = generatePassword();
      const first = active[0]!;
      if (accountOf(first).domain) {
        // One domain account for every server of the request: its password is set once, in the domain.
        const login = await inDomain(ctx, first, async (dir, ref, netbios) =>
          (await setAccountPassword(ctx, dir, ref, first.linuxUser, password, request.accessExpiresAt ?? first.expiresAt) ? `${netbios}\\${ref.account}` : undefined));
        if (login === undefined) return undefined; // revoked meanwhile
        return withPassword({
          ...view, account: login, connect: connectOf(active, login),
          scope: `The password is your domain account ${login}'s (a newer one from Keyway replaces it); it opens the servers of this request`,
        }, password);
      }
      // Every server or none: a message whose password does not work on one of its servers is never sent.
      await Promise.all(active.map((grant) => onAccount(grant, () => grantOn(ctx, grant, password, request.accessExpiresAt ?? grant.expiresAt))));
      return withPassword(view, password);
    },

    async revoke(ctx, grant, scope) {
      const a = accountOf(grant);
      if (a.domain) {
        // Out of the server's groups first; the domain account is disabled only when no grant in the domain is left.
        await inDomain(ctx, grant, async (dir, ref, netbios) => {
          await onAccount(grant, async () => {
            const { loggedOff } = await revokeAccount(serverOf(grant), settingsFor(ctx, grant), { name: a.account, domain: netbios }, a.groups, keptGroups(a, scope), null);
            if (loggedOff > 0) ctx.logger.info({ integration: grant.integration, server: grant.server, account: a.account, sessions: loggedOff }, 'logged off the account\'s sessions');
          });
          await releaseAccount(ctx, dir, ref, grant.linuxUser, grant.id);
        });
        return {};
      }
      await onAccount(grant, async () => {
        const { loggedOff } = await revokeAccount(serverOf(grant), settingsFor(ctx, grant), { name: a.account }, a.groups, keptGroups(a, scope), generatePassword());
        if (loggedOff > 0) ctx.logger.info({ integration: grant.integration, server: grant.server, account: a.account, sessions: loggedOff }, 'logged off the account\'s sessions');
      });
      return {};
    },

    accountsToClean(ctx, revoked, live, now) {
      const byAccount = new Map<string, BoundGrant[]>();
      for (const g of revoked) {
        const { domain, account } = accountOf(g);
        // A domain account is one per domain and person, whatever the server: nothing of it lives on the servers.
        const key = domain ? `domain\u0000${domain.integration}\u0000${account}` : `${g.integration}\u0000${g.server}\u0000${account}`;
        byAccount.set(key, [...(byAccount.get(key) ?? []), g]);
      }
      const due: AccountCleanup[] = [];
      for (const grants of byAccount.values()) {
        const sample = grants[0]!;
        const { account, cleanupAfterDays, domain } = accountOf(sample);
        if (domain) {
          // The windows-dc rule: only when no grant of the person in the domain, of either kind, needs the account.
          const dc = findIntegration(ctx.config(), domain.integration);
          if (dc?.type !== 'windows-dc' || !domainAccountDue(ctx, domainAccountRef(dc, sample.linuxUser), sample.linuxUser, now)) continue;
          due.push({ grants, audit: { action: 'windows.account_deleted', subject: `windows-dc:${domain.integration}`, details: { account, via: sample.integration, grants: grants.map((g) => g.id) } } });
          continue;
        }
        const days = findIntegration(ctx.config(), sample.integration)?.cleanupAfterDays ?? cleanupAfterDays;
        if (now - Math.max(...grants.map((g) => g.revokedAt ?? 0)) < days * DAY_MS) continue;
        if (live.some((g) => g.integration === sample.integration && g.server === sample.server && g.linuxUser === sample.linuxUser)) continue;
        due.push({ grants, audit: { action: 'rdp.account_deleted', subject: `server:${sample.server}`, details: { integration: sample.integration, account, grants: grants.map((g) => g.id) } } });
      }
      return due;
    },

    async cleanUp(ctx, cleanup) {
      const sample = cleanup.grants[0]!;
      if (accountOf(sample).domain) {
        await inDomain(ctx, sample, (dir, ref) => deleteDomainAccount(ctx, dir, ref));
        return;
      }
      await onAccount(sample, async () => {
        const { deleted } = await deleteAccount(serverOf(sample), settingsFor(ctx, sample), { name: accountOf(sample).account });
        if (deleted) ctx.logger.info({ integration: sample.integration, server: sample.server, account: accountOf(sample).account }, 'deleted the Windows account');
      });
    },

    describe(grant) {
      const a = grant.targetAccount as Partial<RdpGrantAccount> | null;
      return `${a?.account ?? windowsAccountName(grant.linuxUser)} on ${grant.server} (${grant.targetAddress ?? grant.integration})`;
    },
  };
}

/** How each server is opened as `user`: host, port, user and the .rdp file. */
function connectOf(grants: Grant[], user: string): CredentialView['connect'] {
  return grants.map((g) => {
    const a = accountOf(g);
    return { target: g.server, lines: [`host: ${a.host}`, `port: ${a.rdpPort}`, `user: ${user}`, ...rdpConnectLines(`${g.server}.rdp`, a.host, a.rdpPort, user)] };
  });
}

/** The grant's domain account, from its windows-dc integration as the config has it now. */
function domainRefOf(ctx: AccessContext, grant: Grant): DomainAccountRef {
  const name = accountOf(grant).domain!.integration;
  const domain = findIntegration(ctx.config(), name);
  if (domain?.type !== 'windows-dc') {
    throw new UserError('config_invalid', `windows-dc integration ${name}, through which rdp integration ${grant.integration} grants ${grant.server}, is no longer in the config: restore it (with its bind password) so Keyway can reach the domain; the domain controller refuses the account after its accountExpires anyway`);
  }
  return domainAccountRef(domain, grant.linuxUser);
}

/** What the account keeps on the server: the groups other live grants there give; with another grant live, never none. */
function keptGroups(a: RdpGrantAccount, scope: RevokeScope): string[] {
  if (!scope.otherGrantsLive) return [];
  const kept = scope.keepGroups.filter((g) => g !== DEFAULT_GROUP);
  return kept.length > 0 ? kept : a.groups;
}

function readCaFile(path: string, integration: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError('config_invalid', `cannot read tls_ca_file ${path} of rdp integration ${integration}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message}`);
  }
}
