// The SSH target kind (Linux over SSH): a grant is a Keyway-managed Linux account with groups and the request's
// principal on one server; its credential is an OpenSSH certificate signed by Keyway's CA. Revoke and cleanup use
// the address, connector user and account stored with the grant, so a server removed from the config is still
// revoked and cleaned up: with the integration's connector key while the integration exists, else the default
// connector key (CONNECTOR_SSH_KEY_FILE / _BASE64). Host keys stay pinned under the integration and server names.
import type { CaKey } from '../../ca/ca-key.js';
import type { AccessContext } from '../../access/context.js';
import type {
  AccountCleanup, BoundGrant, CredentialView, GrantTarget, Outcome, RevokeItem, RevokeNotes, TargetDriver,
} from '../../access/target-driver.js';
import { DEFAULT_GROUP, type Integration, type ServerRef } from '../../core/model.js';
import { findIntegration, findServer } from '../../core/lookup.js';
import type { Grant } from '../../store/grants.js';
import type { AccessRequest } from '../../store/requests.js';
import { certificateOf, issueCertificate, needsCertificate } from './certificates.js';
import type { HostEffects } from './host-effects.js';

export const SSH_KIND = 'ssh';
const DEFAULT_CLEANUP_AFTER_DAYS = 7;
const DAY_MS = 86_400_000;

/** The account data an SSH grant stores (grants.target_account). host, port and connectorUser are absent only in
 * rows stored before migration 0006: for those the config gives them. */
export interface SshAccount {
  linuxUser: string;
  groups: string[];
  principal: string;
  host?: string;
  port?: number;
  connectorUser?: string;
  cleanupAfterDays?: number;
}

export interface SshDriverDeps {
  hosts: HostEffects;
  ca: CaKey;
}

function accountOf(grant: Grant): SshAccount {
  const stored = (grant.targetAccount ?? {}) as Partial<SshAccount>;
  return {
    ...stored,
    linuxUser: stored.linuxUser ?? grant.linuxUser,
    groups: stored.groups ?? grant.groups,
    principal: stored.principal ?? grant.principal,
  };
}

/** The grant as the host effects see it: the account it was made with, not whatever the row's columns say later. */
function onTarget(grant: Grant): Grant {
  const { linuxUser, groups, principal } = accountOf(grant);
  return { ...grant, linuxUser, groups, principal };
}

/** An integration that has left the config: its grants are still revoked, with the default connector key. */
function goneIntegration(name: string, cleanupAfterDays: number): Integration {
  return {
    name, type: 'ssh', servers: [], userGroups: [DEFAULT_GROUP], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
    uidRange: { min: 60000, max: 64999 }, cleanupAfterDays, owners: [], allowPrivilegedGroups: false,
  };
}

/**
 * Where the grant's server is: the stored address, with the integration as the config has it now (its key and
 * settings) or, when the integration is gone, a stand-in that uses the default connector key. A row stored before
 * migration 0006 has no address: the config gives it, and the old error says to restore the server if it is gone.
 */
export function serverRefOf(ctx: AccessContext, grant: Grant): ServerRef {
  const account = accountOf(grant);
  const config = ctx.config();
  if (account.host === undefined || account.port === undefined || account.connectorUser === undefined) {
    const ref = findServer(config, grant.server);
    if (!ref || ref.integration.name !== grant.integration) {
      throw new Error(`server ${grant.server} of integration ${grant.integration} is no longer in the config, and this grant was stored before Keyway recorded addresses; restore it so Keyway can reach it`);
    }
    return ref;
  }
  const integration = findIntegration(config, grant.integration)
    ?? goneIntegration(grant.integration, account.cleanupAfterDays ?? DEFAULT_CLEANUP_AFTER_DAYS);
  const configured = integration.servers.find((s) => s.name === grant.server);
  return {
    integration,
    server: { name: grant.server, host: account.host, port: account.port, user: account.connectorUser, tags: configured?.tags ?? {} },
  };
}

function cleanupAfterDaysOf(ctx: AccessContext, grant: Grant): number {
  const integration = findIntegration(ctx.config(), grant.integration);
  return integration?.cleanupAfterDays ?? accountOf(grant).cleanupAfterDays ?? DEFAULT_CLEANUP_AFTER_DAYS;
}

function hasAddress(grant: Grant): boolean {
  return accountOf(grant).host !== undefined;
}

export function sshDriver(deps: SshDriverDeps): TargetDriver {
  return {
    kind: SSH_KIND,

    accountFor(ref, grant): GrantTarget {
      const account: SshAccount = {
        linuxUser: grant.linuxUser, groups: grant.groups, principal: grant.principal,
        host: ref.server.host, port: ref.server.port, connectorUser: ref.server.user, cleanupAfterDays: ref.integration.cleanupAfterDays,
      };
      return { kind: ref.integration.type, address: `${ref.server.host}:${ref.server.port}`, account: { ...account } };
    },

    async provision(ctx, grant) {
      await deps.hosts.provision(serverRefOf(ctx, grant), onTarget(grant));
    },

    needsCredential: (ctx, request) => needsCertificate(ctx, request),

    issueCredential: (ctx, request) => issueCertificate(ctx, deps.ca, request) !== undefined,

    credentialView: (ctx, request, grants) => certificateView(ctx, request, grants),

    async revoke(ctx, grant, scope) {
      return (await deps.hosts.revoke(serverRefOf(ctx, grant), onTarget(grant), scope)) ?? {};
    },

    // Only when the host effects can batch (the real ones can; a test's stand-in may not): else one by one.
    ...(deps.hosts.provisionBatch ? {
      async provisionBatch(ctx: AccessContext, grants: BoundGrant[]): Promise<Array<Outcome<void>>> {
        return deps.hosts.provisionBatch!(serverRefOf(ctx, grants[0]!), grants.map(onTarget));
      },
    } : {}),
    ...(deps.hosts.revokeBatch ? {
      async revokeBatch(ctx: AccessContext, items: RevokeItem[]): Promise<Array<Outcome<RevokeNotes>>> {
        return deps.hosts.revokeBatch!(serverRefOf(ctx, items[0]!.grant), items.map(({ grant, scope }) => ({ grant: onTarget(grant), scope })));
      },
    } : {}),

    accountsToClean(ctx, revoked, live, now) {
      const byAccount = new Map<string, BoundGrant[]>();
      for (const g of revoked) {
        const key = `${g.integration}\u0000${g.server}\u0000${accountOf(g).linuxUser}`;
        byAccount.set(key, [...(byAccount.get(key) ?? []), g]);
      }
      const due: AccountCleanup[] = [];
      for (const grants of byAccount.values()) {
        const sample = grants[0]!;
        const { linuxUser } = accountOf(sample);
        const ref = findServer(ctx.config(), sample.server);
        // A pre-0006 grant on a server that has left the config: nothing says where it is until it is restored.
        if (!hasAddress(sample) && (!ref || ref.integration.name !== sample.integration)) continue;
        const lastEnded = Math.max(...grants.map((g) => g.revokedAt ?? 0));
        if (now - lastEnded < cleanupAfterDaysOf(ctx, sample) * DAY_MS) continue;
        if (live.some((g) => g.integration === sample.integration && g.server === sample.server && g.linuxUser === linuxUser)) continue;
        due.push({ grants, audit: { action: 'user.deleted', subject: `server:${sample.server}`, details: { user: linuxUser, grants: grants.map((g) => g.id) } } });
      }
      return due;
    },

    async cleanUp(ctx, account) {
      const sample = account.grants[0]!;
      await deps.hosts.cleanup(serverRefOf(ctx, sample), accountOf(sample).linuxUser);
    },

    describe(grant) {
      return `${accountOf(grant).linuxUser} on ${grant.server} (${grant.targetAddress ?? 'address from the config'})`;
    },
  };
}

/** What the SSH grant message is made of (before target drivers: chat's GrantDetails). */
export interface SshGrantDetails {
  request: AccessRequest;
  certificate: string;
  /** The certificate's serial: one grant message per certificate. */
  serial: number;
  validBefore: number; // epoch seconds
  userKeyName: string;
  targets: Array<{ server: string; host: string; port: number }>;
  notReady: string[];
  customAccessDetails?: string;
}

/** The certificate message as a credential view: install it next to the key, then one ssh line per active server. */
export function sshCredentialView(g: SshGrantDetails): CredentialView {
  const key = `~/.ssh/${g.userKeyName}`;
  return {
    kind: 'ssh-certificate',
    title: 'SSH access',
    requestId: g.request.id,
    credentialId: String(g.serial),
    account: g.request.linuxUser,
    validUntil: g.validBefore * 1000,
    targets: g.targets.map((t) => t.server),
    secret: {
      label: 'the certificate', text: g.certificate, filename: `${key}-cert.pub`, where: 'next to your key',
      install: [`cat > ${key}-cert.pub <<'EOF'`, g.certificate, 'EOF'],
    },
    connect: g.targets.map((t) => ({ target: t.server, lines: [`ssh -i ${key} ${g.request.linuxUser}@${t.host} -p ${t.port}`] })),
    connectHint: 'ssh picks up the certificate next to the key',
    notReady: g.notReady,
    notes: g.customAccessDetails ? [g.customAccessDetails] : [],
    scope: 'The certificate opens only the servers of this request',
  };
}

/** The latest certificate of the request, with the stored address of each active grant. */
function certificateView(ctx: AccessContext, request: AccessRequest, grants: Grant[]): CredentialView | undefined {
  const certificate = certificateOf(ctx, request.id);
  if (!certificate) throw new Error(`request ${request.id} has no certificate to send`);
  const config = ctx.config();
  const targets: SshGrantDetails['targets'] = [];
  for (const g of grants.filter((x) => x.state === 'active')) {
    const account = accountOf(g);
    if (account.host !== undefined && account.port !== undefined) {
      targets.push({ server: g.server, host: account.host, port: account.port });
      continue;
    }
    const ref = findServer(config, g.server);
    if (ref) targets.push({ server: g.server, host: ref.server.host, port: ref.server.port });
  }
  if (targets.length === 0) return undefined;
  const integration = findIntegration(config, request.integration);
  return sshCredentialView({
    request, certificate: certificate.line, serial: certificate.serial, validBefore: certificate.validBefore, targets,
    notReady: grants.filter((g) => g.state === 'provisioning' || g.state === 'provision_failed').map((g) => g.server),
    userKeyName: integration?.userKeyName ?? 'id_ed25519', customAccessDetails: integration?.customAccessDetails,
  });
}
