// What every platform's grant message shows, gathered once: the driver of the request's grants builds the
// credential view model (the certificate or password, where to connect, what is not ready yet, the admins' notes).
// Platform-neutral; chat adapters render it.
import { findIntegration } from '../core/lookup.js';
import { grantsOfRequest } from '../store/grants.js';
import { getRequest, type AccessRequest } from '../store/requests.js';
import type { AccessContext } from './context.js';
import type { GrantRunner } from './grant-runner.js';
import { driverFor, type CredentialView } from './target-driver.js';

export type { CredentialView };

export interface OwedCredential {
  request: AccessRequest;
  view: CredentialView;
  /** For a credential made when it is sent (TargetDriver.completeCredential): makes it and returns the full view. */
  complete?: () => Promise<CredentialView | undefined>;
}

/** The grant message's content, or undefined when no grant of the request is active any more. */
export function credentialViewOf(runner: GrantRunner, requestId: number): OwedCredential | undefined {
  const request = getRequest(runner.ctx.db, requestId);
  if (!request) throw new Error(`request ${requestId} has no credential to send`);
  const grants = grantsOfRequest(runner.ctx.db, requestId);
  const kind = grants.find((g) => g.state === 'active' && g.targetKind !== null)?.targetKind;
  if (!kind) return undefined;
  const driver = driverFor(runner.drivers, kind);
  const view = driver.credentialView(runner.ctx, request, grants);
  if (!view) return undefined;
  return { request, view, ...(driver.completeCredential && { complete: () => driver.completeCredential!(runner.ctx, request, view) }) };
}

/**
 * The credential of a request, complete (a one-time password made and set now): what `keyway grant` prints.
 * Undefined when no grant of the request is active.
 */
export async function handOutCredential(runner: GrantRunner, requestId: number): Promise<CredentialView | undefined> {
  const owed = credentialViewOf(runner, requestId);
  if (!owed) return undefined;
  return owed.complete ? owed.complete() : owed.view;
}

/** Who hears about failures of an integration: its owners. */
export function ownersOf(ctx: AccessContext, integrationName: string): string[] {
  return findIntegration(ctx.config(), integrationName)?.owners ?? [];
}
