// The notifier (after Teleport's integrations/access/common): turns each outbox event into messages — a recipient,
// a purpose (the send-once key) and a platform-neutral view — and sends them through a chat platform. It owns the
// rules that are the same on every platform: who hears what (approvers on every platform that reaches them; the
// requester on the platform the request came from; integration owners for failures), the state guards (no
// approval asked for a decided request, no warning about ended access), and the send-once bookkeeping in
// chat_messages, so a re-delivered event tells nobody twice. Platforms only render and carry (chat-port.ts).
import type { PlatformName } from '../core/chat-platform-name.js';
import type { AccessEvent } from '../core/events.js';
import { chatMessagesOf, hasChatMessage, hasChatMessageOnAnyPlatform, recordChatMessage } from '../store/chat-messages.js';
import { getGrant, type Grant } from '../store/grants.js';
import { getRequest, votesOf, type AccessRequest } from '../store/requests.js';
import { recipientKey, type ChatPlatform, type ChatView, type Recipient } from './chat-port.js';
import { credentialViewOf, ownersOf } from './credential-view.js';
import type { GrantRunner } from './grant-runner.js';

/** One message owed: to whom, under which send-once purpose, showing what. */
export interface Note {
  recipient: Recipient;
  purpose: string;
  view: ChatView;
  /**
   * Makes the view's secret right before the send (a one-time password): only for a message not sent yet, again on
   * every attempt. Undefined: nothing to send any more.
   */
  complete?: () => Promise<ChatView | undefined>;
}

export interface Notifier {
  /** Delivers one event on one platform. Throws when the platform cannot be reached; safe to call again. */
  deliver(platform: ChatPlatform, event: AccessEvent): Promise<void>;
  /** Re-renders every approval message of the request on the platform; refreshes of one request run in order. */
  refreshApprovals(platform: ChatPlatform, requestId: number): Promise<void>;
}

const CHAT_SOURCES: readonly string[] = ['slack', 'teams'] satisfies PlatformName[];

/**
 * The requester hears on the platform the request came from, so nobody gets each certificate twice; requests
 * made elsewhere (the CLI) reach the requester wherever Keyway can.
 */
export function tellsRequester(platform: PlatformName, request: Pick<AccessRequest, 'source'>): boolean {
  return request.source === platform || !CHAT_SOURCES.includes(request.source);
}

/** Outcomes the requester is told about (a cancellation is their own doing). */
const TOLD_OUTCOMES: ReadonlySet<string> = new Set(['approved', 'denied', 'expired']);

/** Runs every piece of work to the end, then throws the first failure (the outbox retries the whole event). */
export async function settleAll(work: Array<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs work for the same key one after another, so updates of one message land in order and the last shows the truth. */
function serialPerKey<K>(): (key: K, work: () => Promise<void>) => Promise<void> {
  const chains = new Map<K, Promise<void>>();
  return (key, work) => {
    const run = (chains.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    chains.set(key, run);
    void run.catch(() => undefined).finally(() => {
      if (chains.get(key) === run) chains.delete(key);
    });
    return run;
  };
}

const person = (email: string): Recipient => ({ kind: 'person', email });

/**
 * The messages an event owes on a platform that are sent once each and need no answer from the platform
 * (everything but asking approvers and the decision, which also update earlier messages).
 */
export function notesFor(runner: GrantRunner, platform: PlatformName, event: AccessEvent): Note[] {
  const { ctx } = runner;
  const toRequester = (request: AccessRequest, purpose: string, view: ChatView): Note[] =>
    (tellsRequester(platform, request) ? [{ recipient: person(request.requesterEmail), purpose, view }] : []);
  const toOwners = (request: AccessRequest, purpose: string, view: ChatView): Note[] => {
    const owners = ownersOf(ctx, request.integration);
    if (owners.length === 0) ctx.logger.error({ requestId: request.id, purpose }, 'integration has no owners to tell: see the log');
    return owners.map((owner) => ({ recipient: person(owner), purpose, view }));
  };
  switch (event.kind) {
    case 'access_granted': {
      const owed = credentialViewOf(runner, event.requestId);
      if (!owed) {
        ctx.logger.info({ requestId: event.requestId }, 'no active grant left by the time the certificate was to be sent; not sending it');
        return [];
      }
      const notes = toRequester(owed.request, `grant:${owed.view.credentialId}`, { kind: 'grant', credential: owed.view, now: ctx.now() });
      const complete = owed.complete;
      if (!complete) return notes;
      return notes.map((note) => ({ ...note, complete: async (): Promise<ChatView | undefined> => {
        const credential = await complete();
        return credential && { kind: 'grant', credential, now: ctx.now() };
      } }));
    }
    case 'provision_failed': {
      const request = getRequest(ctx.db, event.requestId);
      if (!request) return [];
      const grants = event.grantIds.map((id) => getGrant(ctx.db, id)).filter((g): g is Grant => g !== undefined);
      const purpose = `provision_failed:${event.grantIds.join(',')}`;
      return [
        ...toRequester(request, purpose, { kind: 'provision_failed', audience: 'requester', request, grants }),
        ...toOwners(request, purpose, { kind: 'provision_failed', audience: 'owners', request, grants }),
      ];
    }
    case 'expiry_warning': {
      const request = getRequest(ctx.db, event.requestId);
      // Only access that is still running is worth a warning.
      if (!request || request.state !== 'approved' || request.accessExpiresAt === null || request.accessExpiresAt <= ctx.now()) return [];
      return toRequester(request, `expiry_warning:${request.accessExpiresAt}`, { kind: 'expiry_warning', request });
    }
    case 'access_ended': {
      const request = getRequest(ctx.db, event.requestId);
      if (!request) return [];
      return toRequester(request, 'access_ended', { kind: 'access_ended', request, why: event.why, ...(event.by !== undefined ? { by: event.by } : {}) });
    }
    case 'revoke_failing': {
      const grant = getGrant(ctx.db, event.grantId);
      const request = grant && getRequest(ctx.db, grant.requestId);
      if (!grant || !request) return [];
      return toOwners(request, `revoke_failing:${grant.id}:${event.attempts}`, { kind: 'revoke_failing', request, grant, attempts: event.attempts, error: event.error });
    }
    case 'approval_needed':
    case 'request_decided':
      return [];
  }
}

/** `platforms` is read at delivery time: who else asks approvers (the "asked where" message names them). */
export function createNotifier(runner: GrantRunner, platforms: readonly ChatPlatform[]): Notifier {
  const { ctx } = runner;
  const serially = serialPerKey<string>();

  /** Sends a note unless it was sent before; true once sent (now or before), false when the recipient cannot be reached here. */
  async function sendOnce(platform: ChatPlatform, requestId: number, note: Note): Promise<boolean> {
    const recipient = recipientKey(note.recipient);
    if (hasChatMessage(ctx.db, platform.name, requestId, note.purpose, recipient)) return true;
    // A credential made as it is sent (a one-time password) goes to one platform only: each send sets a new one, so a
    // copy on a second platform would make the first stop working. A request from neither platform (the CLI) gets it
    // on the first platform that reaches the requester.
    if (note.complete && hasChatMessageOnAnyPlatform(ctx.db, requestId, note.purpose, recipient)) return true;
    const view = note.complete ? await note.complete() : note.view;
    if (view === undefined) return true;
    const address = await platform.send(note.recipient, view);
    if (address === undefined) return false;
    recordChatMessage(ctx.db, platform.name, { requestId, purpose: note.purpose, recipient, address }, ctx.now());
    return true;
  }

  async function updateAll(platform: ChatPlatform, requestId: number, purpose: string, view: ChatView): Promise<void> {
    for (const message of chatMessagesOf(ctx.db, platform.name, requestId, purpose)) await platform.update(message, view);
  }

  function refreshApprovals(platform: ChatPlatform, requestId: number): Promise<void> {
    return serially(`${platform.name}:${requestId}`, async () => {
      const request = getRequest(ctx.db, requestId);
      if (!request) return;
      await updateAll(platform, requestId, 'approval', { kind: 'approval', request, votes: votesOf(ctx.db, requestId) });
    });
  }

  async function approvalNeeded(platform: ChatPlatform, requestId: number): Promise<void> {
    const request = getRequest(ctx.db, requestId);
    if (!request || request.state !== 'pending') return; // decided before we got here: request_decided follows
    const view: ChatView = { kind: 'approval', request, votes: votesOf(ctx.db, requestId) };
    // A flow's approval channel first; where the platform has no such channel (or refuses it for good), each approver.
    const channel = ctx.config().flows.find((f) => f.name === request.flow)?.approvalChannel;
    if (channel && await sendOnce(platform, requestId, { recipient: { kind: 'channel', channel }, purpose: 'approval', view })) return;
    const candidates = await platform.approversOf(request.approvers, request.allowSelfApproval ? undefined : request.requesterEmail);
    const asked: Recipient[] = [];
    await settleAll(candidates.map(async (recipient) => {
      if (await sendOnce(platform, requestId, { recipient, purpose: 'approval', view })) asked.push(recipient);
    }));
    const told = tellsRequester(platform.name, request);
    const requester = person(request.requesterEmail);
    if (platform.reach === 'known') {
      if (!told) return;
      const emails = (list: Recipient[]) => list.flatMap((r) => (r.kind === 'person' ? [r.email] : []));
      const others = platforms.map((p) => p.name).filter((name) => name !== platform.name);
      await sendOnce(platform, requestId, {
        recipient: requester, purpose: 'asked',
        view: {
          kind: 'approvers_asked', request, asked: emails(candidates.filter((c) => asked.includes(c))),
          notReached: emails(candidates.filter((c) => !asked.includes(c))), groups: request.approvers.slackUsergroups, otherPlatforms: others,
        },
      });
    } else if (candidates.length === 0) {
      ctx.logger.warn({ requestId, approvers: request.approvers, platform: platform.name }, `no approver of this request is on ${platform.name}`);
      if (told) await sendOnce(platform, requestId, { recipient: requester, purpose: 'no_approvers', view: { kind: 'no_approvers', request } });
    }
  }

  async function requestDecided(platform: ChatPlatform, requestId: number): Promise<void> {
    const request = getRequest(ctx.db, requestId);
    if (!request) return;
    await refreshApprovals(platform, requestId);
    const votes = votesOf(ctx.db, requestId);
    const notes: Note[] = [];
    if (tellsRequester(platform.name, request) && TOLD_OUTCOMES.has(request.state)) {
      notes.push({ recipient: person(request.requesterEmail), purpose: 'requester', view: { kind: 'decision', request, votes } });
    }
    const notify = ctx.config().flows.find((f) => f.name === request.flow)?.notifyChannel;
    if (notify) notes.push({ recipient: { kind: 'channel', channel: notify }, purpose: 'notify', view: { kind: 'notify', request, votes } });
    await settleAll(notes.map((note) => sendOnce(platform, requestId, note)));
  }

  async function accessGranted(platform: ChatPlatform, requestId: number, notes: Note[]): Promise<void> {
    for (const note of notes) await sendOnce(platform, requestId, note);
    if (notes.length === 0) return;
    // The "approved, preparing access…" message becomes "access is ready".
    const request = getRequest(ctx.db, requestId);
    if (request) await updateAll(platform, requestId, 'requester', { kind: 'access_ready', request, votes: votesOf(ctx.db, requestId) });
  }

  return {
    refreshApprovals,
    async deliver(platform, event) {
      switch (event.kind) {
        case 'approval_needed':
          return approvalNeeded(platform, event.requestId);
        case 'request_decided':
          return requestDecided(platform, event.requestId);
        case 'access_granted':
          return accessGranted(platform, event.requestId, notesFor(runner, platform.name, event));
        default: {
          const requestId = event.kind === 'revoke_failing' ? getGrant(ctx.db, event.grantId)?.requestId : event.requestId;
          for (const note of notesFor(runner, platform.name, event)) await sendOnce(platform, requestId!, note);
        }
      }
    },
  };
}
