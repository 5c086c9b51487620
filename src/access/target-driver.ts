// The port of a target kind (design.md: "driver"): everything that differs between Linux over SSH, Windows RDP, an
// Active Directory domain… The grant runner and the sweeper stay kind-agnostic: they pick a grant's driver by the kind
// stored with it (grants.target_kind), from a registry the composition root fills. Adding a kind is a folder under
// src/targets/ and one registry line; access/ never imports targets/.
import type { ServerRef } from '../core/model.js';
import type { Grant, GrantTarget } from '../store/grants.js';
import type { AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';

export type { GrantTarget };

/** A grant bound to its target (target_kind set): what revoke and cleanup work from, config or not. */
export type BoundGrant = Grant & { targetKind: string; targetAccount: Record<string, unknown> };

export function isBound(grant: Grant): grant is BoundGrant {
  return grant.targetKind !== null && grant.targetAccount !== null;
}

export interface RevokeScope {
  /** Groups the account keeps on this target because other live grants give them. */
  keepGroups: string[];
  /** Another grant keeps this account's access alive on this target: do not lock it or end its sessions. */
  otherGrantsLive: boolean;
}

/** What a revoke did that auditors ask about: the user's files it moved aside (mail delivery hooks), and where. */
export interface RevokeNotes {
  movedAside?: string[];
  movedTo?: string;
}

/**
 * What the requester is sent when access is ready, whatever the kind: platform-neutral; Slack and Teams render it.
 * An SSH certificate and a one-time password both fit: `secret` is the thing to keep, `connect` how to use it.
 */
export interface CredentialView {
  /** e.g. 'ssh-certificate', 'password' */
  kind: string;
  /** What the access is called in a heading: 'SSH access', 'Remote Desktop access'. */
  title: string;
  requestId: number;
  /** One message per credential (the certificate's serial; a password's issue): the delivery's send-once key. */
  credentialId: string;
  /** The account the person logs in as. */
  account: string;
  /** Epoch milliseconds. */
  validUntil: number;
  /** The resources it opens now. */
  targets: string[];
  secret?: {
    /** 'the certificate', 'your password' */
    label: string;
    text: string;
    /** Where to keep it: '~/.ssh/id_ed25519-cert.pub'; absent for a password (kept in the person's password manager). */
    filename?: string;
    /** Said after the label: 'next to your key'. */
    where?: string;
    /** Terminal lines that save it as `filename`; absent when the text is shown as it is. */
    install?: string[];
  };
  /** How to connect to each target: lines to paste. */
  connect: Array<{ target: string; lines: string[] }>;
  /** Said after "Connect": 'ssh picks up the certificate next to the key'. */
  connectHint?: string;
  /** Resources of the request not ready yet (Keyway keeps trying). */
  notReady: string[];
  /** Notes from the admins (the integration's custom_access_details). */
  notes: string[];
  /** What the credential opens, as a sentence start: 'The certificate opens only the servers of this request'. */
  scope: string;
}

/** What one grant of a batch came to: each grant of a batch succeeds or fails on its own. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** One grant of a revoke batch, with what other live grants of its account keep. */
export interface RevokeItem {
  grant: BoundGrant;
  scope: RevokeScope;
}

/** An account the sweeper may delete now: the grants it ends and what the audit log says about it. */
export interface AccountCleanup {
  grants: BoundGrant[];
  audit: { action: string; subject: string; details: Record<string, unknown> };
}

export interface TargetDriver {
  /** The integration type it serves ('ssh'). */
  readonly kind: string;
  /**
   * The account a grant gives on a resource, and where the resource is: stored with the grant (bindGrantTarget)
   * before the target is first touched, so later steps never need the config. Pure.
   */
  accountFor(ref: ServerRef, grant: Grant): GrantTarget;
  /** Prepares the account on the target (create, groups, principal…). Idempotent. */
  provision(ctx: AccessContext, grant: BoundGrant): Promise<void>;
  /** Whether the approved request is owed a credential now (none yet, or one ending before the access does). */
  needsCredential(ctx: AccessContext, request: AccessRequest): boolean;
  /**
   * Issues the credential for the request's active grants and, in the same transaction, owes the requester a
   * message (outbox `access_granted`). Returns false when it could not (and logged why).
   */
  issueCredential(ctx: AccessContext, request: AccessRequest, active: BoundGrant[]): boolean;
  /** What the requester is sent for the latest credential; undefined when no grant of the request is active any more. */
  credentialView(ctx: AccessContext, request: AccessRequest, grants: Grant[]): CredentialView | undefined;
  /**
   * Optional, for a credential made at the moment it is sent (a one-time password, which is never stored): makes it,
   * sets it on the targets, and returns the view with its secret. Called right before the message is sent, only when
   * it has not been sent yet, and again for every new attempt (a failed send, a crash before the send was recorded):
   * each call a fresh secret, so the one the requester last received is the one that works. Undefined: nothing to
   * send any more (the access ended meanwhile).
   */
  completeCredential?(ctx: AccessContext, request: AccessRequest, view: CredentialView): Promise<CredentialView | undefined>;
  /** Takes the access back on the target. Needs only the stored grant: never the config. */
  revoke(ctx: AccessContext, grant: BoundGrant, scope: RevokeScope): Promise<RevokeNotes>;
  /**
   * Optional: provisions several grants that share a target (kind, integration, server and address) in one go, as
   * `provision` would one by one; the outcome at index i is grants[i]'s. Without it, the runner calls `provision`.
   */
  provisionBatch?(ctx: AccessContext, grants: BoundGrant[]): Promise<Array<Outcome<void>>>;
  /**
   * Optional: revokes several grants that share a target in one go, as `revoke` would one by one (each grant's
   * access taken back whatever becomes of the others); the outcome at index i is items[i]'s. Without it, the runner
   * calls `revoke`.
   */
  revokeBatch?(ctx: AccessContext, items: RevokeItem[]): Promise<Array<Outcome<RevokeNotes>>>;
  /** The accounts due for deletion among this kind's revoked grants, given every live grant of the kind. */
  accountsToClean(ctx: AccessContext, revoked: BoundGrant[], live: Grant[], now: number): AccountCleanup[];
  /** Deletes one account the sweeper chose from accountsToClean. */
  cleanUp(ctx: AccessContext, account: AccountCleanup): Promise<void>;
  /** The grant for people: 'devhba on web-1 (10.0.100.1:22)'. */
  describe(grant: Grant): string;
}

/** kind → driver; the composition root builds it (tests add test-only kinds). */
export type DriverRegistry = ReadonlyMap<string, TargetDriver>;

export function driverFor(drivers: DriverRegistry, kind: string): TargetDriver {
  const driver = drivers.get(kind);
  if (!driver) throw new Error(`no driver for target kind ${kind}: this Keyway knows ${[...drivers.keys()].join(', ') || 'none'}`);
  return driver;
}
