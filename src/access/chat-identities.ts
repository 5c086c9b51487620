// What chat adapters remember about people, behind access so src/chat speaks no SQL: which platform user is which
// e-mail (chat_identities), where a person can be reached without writing first (chat_addresses: Teams'
// conversation references), and the audit entry of a chat payload refused at the door.
import type { PlatformName } from '../core/chat-platform-name.js';
import { appendAudit } from '../store/audit-log.js';
import { chatAddressOf, forgetChatAddress, saveChatAddress } from '../store/chat-addresses.js';
import { rememberChatIdentity } from '../store/people.js';
import type { AccessContext } from './context.js';

/** A platform user is this e-mail (with what the platform says of them, e.g. their team, whether a guest). */
export function rememberChatUser(ctx: AccessContext, platform: PlatformName, platformUserId: string, email: string, details: Record<string, unknown>): void {
  rememberChatIdentity(ctx.db, platform, platformUserId, email, details, ctx.now());
}

/** The person wrote or installed the app: this is where to reach them from now on (replaces the last address). */
export function rememberChatAddress(ctx: AccessContext, platform: PlatformName, email: string, address: unknown): void {
  saveChatAddress(ctx.db, platform, email, address, ctx.now());
}

/** Where the person was last reachable on this platform, if they ever were. */
export function chatAddressFor<A>(ctx: AccessContext, platform: PlatformName, email: string): A | undefined {
  return chatAddressOf<A>(ctx.db, platform, email);
}

/** The person removed the app or blocked it: not reachable there until they write again. */
export function forgetChatAddressOf(ctx: AccessContext, platform: PlatformName, email: string): void {
  forgetChatAddress(ctx.db, platform, email);
}

/** A payload that claimed to come from a chat platform was refused (another app, another workspace): auditors see it. */
export function auditRefusedPayload(ctx: AccessContext, platform: PlatformName, refused: { userId?: string; teamId?: string; appId?: string; why: string }): void {
  appendAudit(ctx.db, {
    actor: `${platform}:${refused.userId ?? 'unknown'}`, action: `${platform}.payload_refused`, subject: `${platform}:${refused.teamId ?? '?'}`,
    details: { appId: refused.appId, teamId: refused.teamId, why: refused.why },
  }, ctx.now());
}
