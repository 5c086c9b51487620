// Registering a person's SSH public key (from chat or the CLI), and keeping a Linux user name with the one
// person it belongs to.
import { parseUserPublicKey } from '../ca/user-key.js';
import { UserError } from '../core/errors.js';
import { flowsForRequester, type Requester } from '../core/policy.js';
import { appendAudit } from '../store/audit-log.js';
import { liveAccountsNamed } from '../store/managed-users.js';
import { anotherNameAdvice, assertNameNotTaken, setCurrentKey, upsertPerson } from '../store/people.js';
import type { AccessContext } from './context.js';
import { usernameForEmail } from '../core/username.js';
import { peopleOverrides } from '../core/lookup.js';

export function linuxUserFor(ctx: AccessContext, email: string): string {
  return usernameForEmail(email, peopleOverrides(ctx.config()));
}

/** The Linux name this person gets, refused while another person's accounts still carry it (see below). */
export function availableLinuxUserFor(ctx: AccessContext, email: string): string {
  const linuxUser = linuxUserFor(ctx, email);
  assertLinuxNameAvailable(ctx, email, linuxUser);
  return linuxUser;
}

export interface RegisteredKey {
  email: string;
  linuxUser: string;
  type: string;
  fingerprint: string;
}

export interface RegisterOptions {
  /** An admin registers for someone (`keyway keys add`): no flow need name them yet. The name rules still apply. */
  byAdmin?: boolean;
}

/**
 * Refuses to give `linuxUser` to `email` while accounts Keyway created under that name for another person (or
 * for an owner it cannot name) still exist on a server: the newcomer would log in to their home and files.
 */
export function assertLinuxNameAvailable(ctx: AccessContext, email: string, linuxUser: string): void {
  const lower = email.toLowerCase();
  const others = liveAccountsNamed(ctx.db, linuxUser).filter((a) => a.ownerEmail?.toLowerCase() !== lower);
  if (others.length === 0) return;
  const servers = [...new Set(others.map((a) => a.server))].join(', ');
  throw new UserError('linux_user_taken',
    `The Linux user name "${linuxUser}" still has accounts on ${servers} that Keyway created for another person, so it cannot be given to ${lower}. ` +
    `${anotherNameAdvice(lower)} (Or wait until those accounts are cleaned up.)`);
}

/**
 * Validates and stores the key; a pasted private key is refused (and never stored or logged) by the parser. From
 * chat, `person` must be a requester in some flow (a key is only good for requests); a bare e-mail counts as a
 * person with no chat groups.
 */
export function registerPublicKey(ctx: AccessContext, person: Requester | string, keyText: string, actor: string, options: RegisterOptions = {}): RegisteredKey {
  const key = parseUserPublicKey(keyText);
  const who: Requester = typeof person === 'string' ? { email: person } : person;
  const lower = who.email.toLowerCase();
  if (!options.byAdmin && flowsForRequester(ctx.config(), who).length === 0) {
    throw new UserError('not_allowed', `No access flow lets ${lower} request any server, so Keyway does not take a key for them yet. Ask a Keyway admin to add you (or a chat group you are in) to a flow, then register your key again.`);
  }
  const linuxUser = linuxUserFor(ctx, lower);
  const now = ctx.now();
  ctx.db.transaction(() => {
    assertNameNotTaken(ctx.db, lower, linuxUser);
    assertLinuxNameAvailable(ctx, lower, linuxUser);
    upsertPerson(ctx.db, lower, linuxUser, now);
    setCurrentKey(ctx.db, { email: lower, keyType: key.type, keyLine: key.line, fingerprint: key.fingerprint, createdAt: now });
    appendAudit(ctx.db, { actor, action: 'key.registered', subject: `person:${lower}`, details: { fingerprint: key.fingerprint, type: key.type } }, now);
  }).immediate();
  return { email: lower, linuxUser, type: key.type, fingerprint: key.fingerprint };
}
