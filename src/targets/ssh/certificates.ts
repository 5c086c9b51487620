// The SSH driver's credential: issues the certificate for an approved request: the serial comes from the database row written first,
// so a crash between signing and delivery leaves a record that recovery finds. Its options (source-address,
// force-command, forwarding) are the ones stored with the request when it was approved, never the flow as the
// config has it now: renaming or editing a flow changes no running access, nor an extension's re-issue.
import type { CaKey } from '../../ca/ca-key.js';
import { signCertificate, validityWindow } from '../../ca/certificate.js';
import { certificateKeyId, requestPrincipal } from '../../ca/certificate-identity.js';
import { parseUserPublicKey } from '../../ca/user-key.js';
import { UserError } from '../../core/errors.js';
import { certificateOptionsOf, type CertificateOptions } from '../../core/policy.js';
import { BREAK_GLASS_FLOW } from '../../access/break-glass.js';
import type { AccessContext } from '../../access/context.js';
import { appendAudit } from '../../store/audit-log.js';
import { insertCertificateRow, latestCertificateOf, setCertificateLine, type StoredCertificate } from '../../store/certificates.js';
import { currentKey } from '../../store/people.js';
import { enqueueEvent } from '../../store/outbox.js';
import type { AccessRequest } from '../../store/requests.js';

export type IssuedCertificate = StoredCertificate;

/**
 * The options a request's certificate carries: those stored when it was approved. A row approved before they
 * were stored (NULL) takes its flow as the current config has it; undefined when that flow is gone, because
 * signing without its restrictions would silently widen the access.
 */
export function certificateOptionsFor(ctx: AccessContext, request: AccessRequest): CertificateOptions | undefined {
  if (request.certificateOptions) return request.certificateOptions;
  // Break-glass access has no flow: the defaults (permit-pty), as it always had.
  if (request.flow === BREAK_GLASS_FLOW) return certificateOptionsOf(undefined);
  const flow = ctx.config().flows.find((f) => f.name === request.flow);
  return flow && certificateOptionsOf(flow);
}

/**
 * Signs the request's certificate and, in the same transaction, owes the requester a message with it. Signs
 * nothing (and logs why) for an old request whose options cannot be known: fail closed, without stopping the
 * grant runner or the sweeper that call this for every request.
 */
export function issueCertificate(ctx: AccessContext, ca: CaKey, request: AccessRequest): IssuedCertificate | undefined {
  if (request.state !== 'approved' || request.accessExpiresAt === null) {
    throw new UserError('invalid_transition', `Request ${request.id} is ${request.state}; only approved requests get a certificate.`);
  }
  const key = currentKey(ctx.db, request.requesterEmail);
  if (!key) throw new UserError('unknown_person', `${request.requesterEmail} has no registered SSH public key.`);
  const publicKey = parseUserPublicKey(key.keyLine);
  const options = certificateOptionsFor(ctx, request);
  if (!options) {
    ctx.logger.error({ requestId: request.id, flow: request.flow }, `request ${request.id} was approved before Keyway stored certificate options, and its flow ${request.flow} is no longer in the configuration: no certificate was signed. Restore the flow (its source-address and force-command) so Keyway can sign it, or revoke the request.`);
    return undefined;
  }
  const now = ctx.now();
  const window = validityWindow(new Date(now), Math.max(1, Math.ceil((request.accessExpiresAt - now) / 1000)));
  const keyId = certificateKeyId({ requestId: request.id, person: request.requesterEmail, servers: request.servers });
  const principals = [requestPrincipal(request.id)];
  return ctx.db.transaction(() => {
    const { serial } = insertCertificateRow(ctx.db, {
      requestId: request.id, keyId, principals, keyFingerprint: publicKey.fingerprint, caFingerprint: ca.fingerprint,
      validAfter: window.validAfter, validBefore: window.validBefore, issuedAt: now,
    });
    const signed = signCertificate(ca, {
      publicKey, serial: BigInt(serial), keyId, principals, validAfter: window.validAfter, validBefore: window.validBefore,
      extensions: options.extensions,
      criticalOptions: options.sourceAddress.length > 0 || options.forceCommand
        ? { sourceAddress: options.sourceAddress.length > 0 ? options.sourceAddress : undefined, forceCommand: options.forceCommand }
        : undefined,
    });
    setCertificateLine(ctx.db, serial, signed.line);
    appendAudit(ctx.db, {
      actor: 'system', action: 'certificate.issued', subject: `request:${request.id}`,
      details: { serial, keyId, principals, key: publicKey.fingerprint, validBefore: window.validBefore },
    }, now);
    enqueueEvent(ctx.db, { kind: 'access_granted', requestId: request.id, serial }, now);
    return { serial, line: signed.line, validAfter: window.validAfter, validBefore: window.validBefore };
  }).immediate();
}

/** The request's latest certificate (after an extension, the re-issued one). */
export function certificateOf(ctx: Pick<AccessContext, 'db'>, requestId: number): IssuedCertificate | undefined {
  return latestCertificateOf(ctx.db, requestId);
}

/** True when the request has no certificate yet, or only one that ends before its access does (after an extension). */
export function needsCertificate(ctx: AccessContext, request: AccessRequest): boolean {
  if (request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= ctx.now()) return false;
  const latest = certificateOf(ctx, request.id);
  return !latest || latest.validBefore < Math.floor(request.accessExpiresAt / 1000);
}
