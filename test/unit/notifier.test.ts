import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recipientKey, type ChatPlatform, type ChatView, type Recipient, type SentMessage } from '../../src/access/chat-port.js';
import { createNotifier, type Notifier } from '../../src/access/notifier.js';
import { cancelRequest, submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { PlatformName } from '../../src/core/chat-platform-name.js';
import type { AccessConfig } from '../../src/core/model.js';
import type { GrantRunner } from '../../src/access/grant-runner.js';
import type { CredentialView, TargetDriver } from '../../src/access/target-driver.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { createGrantRunner } from '../helpers/grant-runner.js';

interface FakePlatform extends ChatPlatform {
  sent: Array<{ to: string; view: ChatView['kind']; asked?: string[]; notReached?: string[]; otherPlatforms?: string[] }>;
  updated: Array<{ to: string; view: ChatView['kind'] }>;
  /** Who can be reached (recipient keys); everyone when undefined. */
  reachable?: Set<string>;
}

function fakePlatform(name: PlatformName, reach: 'directory' | 'known', reachable?: string[]): FakePlatform {
  const p: FakePlatform = {
    name, reach, sent: [], updated: [], reachable: reachable && new Set(reachable),
    approversOf: async (approvers, exclude) => approvers.emails.filter((e) => e !== exclude).map((email): Recipient => ({ kind: 'person', email })),
    async send(to, view) {
      const key = recipientKey(to);
      if (p.reachable && !p.reachable.has(key)) return undefined;
      p.sent.push({
        to: key, view: view.kind,
        ...(view.kind === 'approvers_asked' ? { asked: view.asked, notReached: view.notReached, otherPlatforms: view.otherPlatforms } : {}),
      });
      return { id: p.sent.length };
    },
    async update(message: SentMessage, view) {
      p.updated.push({ to: message.recipient, view: view.kind });
    },
  };
  return p;
}

const unusedHosts = {
  provision: () => Promise.reject(new Error('unused')), revoke: () => Promise.reject(new Error('unused')), cleanup: () => Promise.reject(new Error('unused')),
};

let ctx: TestContext;
let runner: GrantRunner;
let slack: FakePlatform;
let teams: FakePlatform;
let notifier: Notifier;

function setUp(config: AccessConfig = accessConfig(), teamsReachable?: string[]): void {
  ctx = testContext(config);
  registerKey(ctx, 'dev@example.com', 'dev');
  runner = createGrantRunner(ctx, unusedHosts, generateCaKey().caKey);
  slack = fakePlatform('slack', 'directory');
  teams = fakePlatform('teams', 'known', teamsReachable);
  notifier = createNotifier(runner, [slack, teams]);
}

const dev = { email: 'dev@example.com' };
const lead = { email: 'lead@example.com' };

/** A pending request for web-2 (the flow's approver lead@example.com decides), made on `source`. */
function pending(source: string): number {
  return submitRequest(ctx, dev, { servers: ['web-2'], duration: 3600, reason: 'INC-42' }, source).request.id;
}

afterEach(() => ctx?.close());

describe('notifier: asking approvers', () => {
  beforeEach(() => setUp());

  it('asks the approvers on every platform that reaches them, once, and tells nobody else', async () => {
    const id = pending('slack');
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id });
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id }); // re-delivered: nothing twice
    await notifier.deliver(teams, { kind: 'approval_needed', requestId: id });
    expect(slack.sent).toEqual([{ to: 'lead@example.com', view: 'approval' }]);
    // Teams reaches the approver too; the requester asked on Slack hears nothing from Teams.
    expect(teams.sent).toEqual([{ to: 'lead@example.com', view: 'approval' }]);
  });

  it('does not ask for a request decided before the delivery', async () => {
    const id = pending('slack');
    cancelRequest(ctx, id, dev.email);
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id });
    expect(slack.sent).toEqual([]);
  });

  it('tells the requester on a platform that reaches only known people who was asked, and that the other platforms ask too', async () => {
    ctx.close();
    setUp(accessConfig(), ['dev@example.com']); // lead never wrote to Keyway in Teams
    const id = pending('teams');
    await notifier.deliver(teams, { kind: 'approval_needed', requestId: id });
    expect(teams.sent).toEqual([{ to: 'dev@example.com', view: 'approvers_asked', asked: [], notReached: ['lead@example.com'], otherPlatforms: ['slack'] }]);
  });

  it('tells the requester on a directory platform only when none of the approvers is there', async () => {
    const id = pending('slack');
    slack.approversOf = async () => [];
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id });
    expect(slack.sent).toEqual([{ to: 'dev@example.com', view: 'no_approvers' }]);
  });

  it('asks in the approval channel, and each approver when the platform has no such channel', async () => {
    ctx.close();
    const config = accessConfig({ flows: [flow('prod-debug', 'prod-linux', { approvalChannel: 'C0APPROVE' })] });
    setUp(config, ['lead@example.com']);
    slack.reachable = new Set(['C0APPROVE', 'lead@example.com']);
    const id = pending('slack');
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id });
    await notifier.deliver(teams, { kind: 'approval_needed', requestId: id });
    expect(slack.sent).toEqual([{ to: 'C0APPROVE', view: 'approval' }]);
    expect(teams.sent).toEqual([{ to: 'lead@example.com', view: 'approval' }]);
  });
});

describe('notifier: the decision', () => {
  beforeEach(() => setUp(accessConfig({ flows: [flow('prod-debug', 'prod-linux', { notifyChannel: 'C0LOG' })] })));

  it('updates every approval message, tells the requester on the platform the request came from, and posts to the notify channel', async () => {
    const id = pending('slack');
    await notifier.deliver(slack, { kind: 'approval_needed', requestId: id });
    voteOnRequest(ctx, id, lead, 'approve');
    await notifier.deliver(slack, { kind: 'request_decided', requestId: id });
    await notifier.deliver(slack, { kind: 'request_decided', requestId: id });
    await notifier.deliver(teams, { kind: 'request_decided', requestId: id });
    expect(slack.updated).toEqual([{ to: 'lead@example.com', view: 'approval' }, { to: 'lead@example.com', view: 'approval' }]);
    expect(slack.sent.slice(1)).toEqual([{ to: 'dev@example.com', view: 'decision' }, { to: 'C0LOG', view: 'notify' }]);
    expect(teams.sent).toEqual([{ to: 'C0LOG', view: 'notify' }]); // the requester hears on Slack only
  });

  it('does not tell the requester about their own cancellation', async () => {
    const id = pending('slack');
    cancelRequest(ctx, id, dev.email);
    await notifier.deliver(slack, { kind: 'request_decided', requestId: id });
    expect(slack.sent).toEqual([{ to: 'C0LOG', view: 'notify' }]);
  });

  it('tells the requester of a request made elsewhere (the CLI) on every platform', async () => {
    const id = pending('cli');
    voteOnRequest(ctx, id, lead, 'deny', { reason: 'not now' });
    await notifier.deliver(slack, { kind: 'request_decided', requestId: id });
    await notifier.deliver(teams, { kind: 'request_decided', requestId: id });
    expect(slack.sent.filter((s) => s.to === 'dev@example.com')).toEqual([{ to: 'dev@example.com', view: 'decision' }]);
    expect(teams.sent.filter((s) => s.to === 'dev@example.com')).toEqual([{ to: 'dev@example.com', view: 'decision' }]);
  });
});

describe('notifier: access', () => {
  beforeEach(() => setUp());

  function approved(source: string): number {
    const id = pending(source);
    voteOnRequest(ctx, id, lead, 'approve');
    return id;
  }

  it('tells the requester and the integration owners when provisioning fails, once', async () => {
    const id = approved('teams');
    const grantIds = grantsOfRequest(ctx.db, id).map((g) => g.id);
    for (const p of [slack, teams, slack]) await notifier.deliver(p, { kind: 'provision_failed', requestId: id, grantIds });
    expect(slack.sent).toEqual([{ to: 'platform@example.com', view: 'provision_failed' }]);
    expect(teams.sent).toEqual([{ to: 'dev@example.com', view: 'provision_failed' }, { to: 'platform@example.com', view: 'provision_failed' }]);
  });

  it('tells only the integration owners when a revoke keeps failing, once per attempt count', async () => {
    const id = approved('slack');
    const grantId = grantsOfRequest(ctx.db, id)[0]!.id;
    await notifier.deliver(slack, { kind: 'revoke_failing', grantId, attempts: 3, error: 'x' });
    await notifier.deliver(slack, { kind: 'revoke_failing', grantId, attempts: 3, error: 'x' });
    await notifier.deliver(slack, { kind: 'revoke_failing', grantId, attempts: 6, error: 'x' });
    expect(slack.sent).toEqual([{ to: 'platform@example.com', view: 'revoke_failing' }, { to: 'platform@example.com', view: 'revoke_failing' }]);
  });

  it('warns about expiry only while the access runs, and tells the end once', async () => {
    const id = approved('slack');
    ctx.db.prepare("UPDATE requests SET access_expires_at = ? WHERE id = ?").run(ctx.now() + 600_000, id);
    await notifier.deliver(slack, { kind: 'expiry_warning', requestId: id });
    await notifier.deliver(slack, { kind: 'expiry_warning', requestId: id });
    ctx.clock.now += 700_000;
    const later = approved('slack');
    ctx.db.prepare("UPDATE requests SET access_expires_at = ? WHERE id = ?").run(ctx.now() - 1, later);
    await notifier.deliver(slack, { kind: 'expiry_warning', requestId: later }); // already over: no warning
    await notifier.deliver(slack, { kind: 'access_ended', requestId: id, why: 'expired' });
    await notifier.deliver(slack, { kind: 'access_ended', requestId: id, why: 'expired' });
    await notifier.deliver(teams, { kind: 'access_ended', requestId: id, why: 'expired' });
    expect(slack.sent).toEqual([{ to: 'dev@example.com', view: 'expiry_warning' }, { to: 'dev@example.com', view: 'access_ended' }]);
    expect(teams.sent).toEqual([]);
  });

  it('sends a credential made as it is sent (a one-time password) on one platform only, even for a request from the CLI', async () => {
    const id = approved('cli');
    ctx.db.prepare("UPDATE grants SET state = 'active', target_kind = 'password-kind', target_account = '{}' WHERE request_id = ?").run(id);
    let made = 0;
    const view: CredentialView = {
      kind: 'password', title: 'Remote Desktop access', requestId: id, credentialId: 'password-1', account: 'kw-dev', validUntil: ctx.now() + 3_600_000,
      targets: ['web-2'], connect: [], notReady: [], notes: [], scope: 'The password opens web-2',
    };
    const driver = {
      kind: 'password-kind', credentialView: () => view,
      completeCredential: async () => ({ ...view, secret: { label: 'your password', text: `password-${++made}` } }),
    } as unknown as TargetDriver;
    const withPasswords = createNotifier({ ...runner, drivers: new Map([...runner.drivers, ['password-kind', driver]]) }, [slack, teams]);

    slack.reachable = new Set(); // the requester is not on Slack: Teams gets the password
    await withPasswords.deliver(slack, { kind: 'access_granted', requestId: id, serial: 1 });
    await withPasswords.deliver(teams, { kind: 'access_granted', requestId: id, serial: 1 });
    expect(teams.sent).toEqual([{ to: 'dev@example.com', view: 'grant' }]);
    const madeBefore = made;
    // Delivered again (a retry), and on Slack now that it reaches the requester: no second password anywhere.
    slack.reachable = undefined;
    await withPasswords.deliver(slack, { kind: 'access_granted', requestId: id, serial: 1 });
    await withPasswords.deliver(teams, { kind: 'access_granted', requestId: id, serial: 1 });
    expect(slack.sent).toEqual([]);
    expect(teams.sent).toHaveLength(1);
    expect(made).toBe(madeBefore);
  });

  it('sends no credential when no grant of the request is active', async () => {
    const id = approved('slack');
    await notifier.deliver(slack, { kind: 'access_granted', requestId: id, serial: 1 });
    expect(slack.sent).toEqual([]);
    expect(slack.updated).toEqual([]);
  });
});
