// What every platform's grant message shows, gathered once from the store and the config: the certificate,
// where to connect, what is not ready yet, and the integration's notes. Platform-neutral; adapters render it.
import type { AccessContext } from '../access/context.js';
import { certificateOf } from '../access/certificates.js';
import { findServer } from '../core/policy.js';
import { grantsOfRequest } from '../store/grants.js';
import { getRequest, type AccessRequest } from '../store/requests.js';

export interface SshTarget {
  server: string;
  host: string;
  port: number;
}

export interface GrantDetails {
  request: AccessRequest;
  certificate: string;
  /** The certificate's serial: one grant message per certificate. */
  serial: number;
  validBefore: number; // epoch seconds
  userKeyName: string;
  targets: SshTarget[];
  notReady: string[];
  customAccessDetails?: string;
}

/** The grant message's content, or undefined when no grant of the request is active any more. */
export function grantDetailsOf(ctx: AccessContext, requestId: number): GrantDetails | undefined {
  const request = getRequest(ctx.db, requestId);
  const certificate = certificateOf(ctx, requestId);
  if (!request || !certificate) throw new Error(`request ${requestId} has no certificate to send`);
  const config = ctx.config();
  const grants = grantsOfRequest(ctx.db, requestId);
  const targets: SshTarget[] = [];
  for (const g of grants.filter((x) => x.state === 'active')) {
    const ref = findServer(config, g.server);
    if (ref) targets.push({ server: g.server, host: ref.server.host, port: ref.server.port });
  }
  if (targets.length === 0) return undefined;
  const integration = config.integrations.find((i) => i.name === request.integration);
  return {
    request, certificate: certificate.line, serial: certificate.serial, validBefore: certificate.validBefore, targets,
    notReady: grants.filter((g) => g.state === 'provisioning' || g.state === 'provision_failed').map((g) => g.server),
    userKeyName: integration?.userKeyName ?? 'id_ed25519', customAccessDetails: integration?.customAccessDetails,
  };
}

/** Who hears about failures of an integration: its owners. */
export function ownersOf(ctx: AccessContext, integrationName: string): string[] {
  return ctx.config().integrations.find((i) => i.name === integrationName)?.owners ?? [];
}
