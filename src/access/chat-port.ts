// The chat platform port (after Teleport's common/bot.go MessagingBot): access decides who hears what and
// builds one platform-neutral view model per message (access/notifier.ts); each platform only renders a view
// and carries it. Defined here, implemented by chat/, so access never depends on a platform.
import type { PlatformName } from '../core/chat-platform-name.js';
import type { ApproverSet } from '../core/policy.js';
import type { Grant } from '../store/grants.js';
import type { AccessRequest, ApprovalVote } from '../store/requests.js';
import type { CredentialView } from './target-driver.js';

// The records a view shows, as chat sees them (src/chat imports nothing from store/).
export type { AccessRequest, ApprovalVote, Grant };

/** Who a message is for: a person (by e-mail, on every platform), a named channel, or a platform's own user id. */
export type Recipient =
  | { kind: 'person'; email: string }
  | { kind: 'channel'; channel: string }
  /** A platform user found by ChatPlatform.approversOf (e.g. a member of a Slack user group). */
  | { kind: 'user'; id: string };

/** The key a recipient is remembered by in the chat message log (send-once). */
export function recipientKey(recipient: Recipient): string {
  switch (recipient.kind) {
    case 'person':
      return recipient.email;
    case 'channel':
      return recipient.channel;
    case 'user':
      return recipient.id;
  }
}

/** What a message shows, platform-neutral: each platform renders it in its own markup. */
export type ChatView =
  /** The approval message: buttons while pending, the outcome once decided. */
  | { kind: 'approval'; request: AccessRequest; votes: readonly ApprovalVote[] }
  /** The requester hears the decision (approved, denied, expired). */
  | { kind: 'decision'; request: AccessRequest; votes: readonly ApprovalVote[] }
  /** One line for a flow's notify_channel. */
  | { kind: 'notify'; request: AccessRequest; votes: readonly ApprovalVote[] }
  /** The requester's progress message once access is ready (platforms that cannot update it leave it). */
  | { kind: 'access_ready'; request: AccessRequest; votes: readonly ApprovalVote[] }
  /** The credential and how to connect. */
  | { kind: 'grant'; credential: CredentialView; now: number }
  | { kind: 'provision_failed'; audience: 'requester' | 'owners'; request: AccessRequest; grants: Grant[] }
  | { kind: 'expiry_warning'; request: AccessRequest }
  | { kind: 'access_ended'; request: AccessRequest; why: 'expired' | 'revoked'; by?: string }
  | { kind: 'revoke_failing'; request: AccessRequest; grant: Grant; attempts: number; error: string }
  /** Nobody of the request's approvers is on this platform. */
  | { kind: 'no_approvers'; request: AccessRequest }
  /**
   * Who was asked where: `asked` on this platform; `notReached` (e-mails) and `groups` (user groups of another
   * platform) could not be asked here, and `otherPlatforms` also ask them when they can.
   */
  | { kind: 'approvers_asked'; request: AccessRequest; asked: string[]; notReached: string[]; groups: string[]; otherPlatforms: PlatformName[] };

export type ChatViewKind = ChatView['kind'];

/** A message sent before: who it went to (its recipient key) and the platform's address to update it. */
export interface SentMessage {
  recipient: string;
  address: unknown;
}

export interface ChatPlatform {
  readonly name: PlatformName;
  /**
   * How this platform finds people: 'directory' reaches anyone of its workspace (Slack), 'known' only people who
   * have written to Keyway there before (Teams), so the requester must hear who could not be asked.
   */
  readonly reach: 'directory' | 'known';
  /** The recipients on this platform who are among `approvers` (their e-mails, and members of this platform's groups), without `exclude`. */
  approversOf(approvers: Pick<ApproverSet, 'emails' | 'slackUsergroups'>, exclude?: string): Promise<Recipient[]>;
  /**
   * Renders and sends a view; returns the address of the sent message (JSON-serialisable), or undefined when the
   * recipient cannot be reached on this platform or the platform refuses the message for good. Throws when the
   * platform cannot be reached (the outbox retries).
   */
  send(to: Recipient, view: ChatView): Promise<unknown>;
  /** Re-renders a sent message; a message that can no longer be updated is skipped. Throws when the platform cannot be reached. */
  update(message: SentMessage, view: ChatView): Promise<void>;
}
