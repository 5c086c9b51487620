// Issues the certificate for an approved request: the serial comes from the database row written first,
// so a crash between signing and delivery leaves a record that recovery finds.
import type { CaKey } from '../ca/ca-key.js';
import { signCertificate, validityWindow } from '../ca/certificate.js';
import { certificateKeyId, requestPrincipal } from '../ca/certificate-identity.js';
import { parseUserPublicKey } from '../ca/user-key.js';
import { UserError } from '../core/errors.js';
import type { Flow } from '../core/model.js';
import { appendAudit } from '../store/audit-log.js';
import { currentKey } from '../store/people.js';
import { enqueueEvent } from '../store/outbox.js';
import type { AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';

export interface IssuedCertificate {
  serial: number;
  line: string;
  validAfter: number;
  validBefore: number;
}

export function certificateExtensions(flow: Flow | undefined): string[] {
  const extensions = ['permit-pty'];
  if (flow?.allowAgentForwarding) extensions.push('permit-agent-forwarding');
  if (flow?.allowPortForwarding) extensions.push('permit-port-forwarding');
  return extensions;
}

/** Signs the request's certificate and, in the same transaction, owes the requester a message with it. */
export function issueCertificate(ctx: AccessContext, ca: CaKey, request: AccessRequest): IssuedCertificate {
  if (request.state !== 'approved' || request.accessExpiresAt === null) {
    throw new UserError('invalid_transition', `Request ${request.id} is ${request.state}; only approved requests get a certificate.`);
  }
  const key = currentKey(ctx.db, request.requesterEmail);
  if (!key) throw new UserError('unknown_person', `${request.requesterEmail} has no registered SSH public key.`);
  const publicKey = parseUserPublicKey(key.keyLine);
  const flow = ctx.config().flows.find((f) => f.name === request.flow);
  const now = ctx.now();
  const window = validityWindow(new Date(now), Math.max(1, Math.ceil((request.accessExpiresAt - now) / 1000)));
  const keyId = certificateKeyId({ requestId: request.id, person: request.requesterEmail, servers: request.servers });
  const principals = [requestPrincipal(request.id)];
  return ctx.db.transaction(() => {
    const serial = Number(ctx.db.prepare(`INSERT INTO certificates (request_id, key_id, principals, key_fingerprint, ca_fingerprint, valid_after, valid_before, issued_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(request.id, keyId, JSON.stringify(principals), publicKey.fingerprint, ca.fingerprint, window.validAfter, window.validBefore, now).lastInsertRowid);
    const signed = signCertificate(ca, {
      publicKey, serial: BigInt(serial), keyId, principals, validAfter: window.validAfter, validBefore: window.validBefore,
      extensions: certificateExtensions(flow),
      criticalOptions: flow && (flow.sourceAddress.length > 0 || flow.forceCommand)
        ? { sourceAddress: flow.sourceAddress.length > 0 ? flow.sourceAddress : undefined, forceCommand: flow.forceCommand }
        : undefined,
    });
    ctx.db.prepare('UPDATE certificates SET certificate = ? WHERE serial = ?').run(signed.line, serial);
    appendAudit(ctx.db, {
      actor: 'system', action: 'certificate.issued', subject: `request:${request.id}`,
      details: { serial, keyId, principals, key: publicKey.fingerprint, validBefore: window.validBefore },
    }, now);
    enqueueEvent(ctx.db, { kind: 'access_granted', requestId: request.id, serial }, now);
    return { serial, line: signed.line, validAfter: window.validAfter, validBefore: window.validBefore };
  }).immediate();
}

export function certificateOf(ctx: AccessContext, requestId: number): IssuedCertificate | undefined {
  const row = ctx.db.prepare('SELECT serial, certificate, valid_after, valid_before FROM certificates WHERE request_id = ? AND certificate IS NOT NULL ORDER BY serial DESC LIMIT 1')
    .get(requestId) as { serial: number; certificate: string; valid_after: number; valid_before: number } | undefined;
  return row && { serial: row.serial, line: row.certificate, validAfter: row.valid_after, validBefore: row.valid_before };
}

/** True when the request has no certificate yet, or only one that ends before its access does (after an extension). */
export function needsCertificate(ctx: AccessContext, request: AccessRequest): boolean {
  if (request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= ctx.now()) return false;
  const latest = certificateOf(ctx, request.id);
  return !latest || latest.validBefore < Math.floor(request.accessExpiresAt / 1000);
}
