// Registering a person's SSH public key (from chat or the CLI).
import { parseUserPublicKey } from '../ca/user-key.js';
import { appendAudit } from '../store/audit-log.js';
import { setCurrentKey, upsertPerson } from '../store/people.js';
import type { AccessContext } from './context.js';
import { linuxUserFor } from './requests.js';

export interface RegisteredKey {
  email: string;
  linuxUser: string;
  type: string;
  fingerprint: string;
}

/** Validates and stores the key; a pasted private key is refused (and never stored or logged) by the parser. */
export function registerPublicKey(ctx: AccessContext, email: string, keyText: string, actor: string): RegisteredKey {
  const key = parseUserPublicKey(keyText);
  const lower = email.toLowerCase();
  const linuxUser = linuxUserFor(ctx, lower);
  const now = ctx.now();
  ctx.db.transaction(() => {
    upsertPerson(ctx.db, lower, linuxUser, now);
    setCurrentKey(ctx.db, { email: lower, keyType: key.type, keyLine: key.line, fingerprint: key.fingerprint, createdAt: now });
    appendAudit(ctx.db, { actor, action: 'key.registered', subject: `person:${lower}`, details: { fingerprint: key.fingerprint, type: key.type } }, now);
  }).immediate();
  return { email: lower, linuxUser, type: key.type, fingerprint: key.fingerprint };
}
