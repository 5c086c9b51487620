import { describe, expect, it } from 'vitest';
import { approvalMessage, notifyLine } from '../../src/chat/slack/blocks-approval.js';
import { decisionForRequester, expiryWarning, grantMessage } from '../../src/chat/slack/blocks-access.js';
import { homeView, listReply, serversReply, type MyAccess } from '../../src/chat/slack/blocks-home.js';
import { escape, slackDate, type Block } from '../../src/chat/slack/blocks.js';
import { denyModal, requestModal, STATIC_MENU_LIMIT } from '../../src/chat/slack/blocks-views.js';
import type { AccessRequest } from '../../src/store/requests.js';
import { sshCredentialView } from '../../src/targets/ssh/ssh-driver.js';
import { flow, integration, server } from '../helpers/access-config.js';

const request: AccessRequest = {
  id: 42, requesterEmail: 'dev@example.com', linuxUser: 'dev', flow: 'prod-debug', integration: 'prod-linux', servers: ['web-1', 'web-2'],
  groups: ['developers'], durationSeconds: 7200, reason: 'INC-42 <!channel> & more', approvers: { source: 'flow', emails: ['lead@example.com'], slackUsergroups: [] },
  minApprovals: 1, allowSelfApproval: false, source: 'slack', state: 'pending', createdAt: Date.UTC(2026, 0, 1), pendingUntil: Date.UTC(2026, 0, 1, 1),
  decidedAt: null, decidedBy: null, decisionReason: null, accessExpiresAt: null, extendsRequestId: null,
};

describe('Block Kit rendering', () => {
  it('formats times for the reader\'s time zone with a UTC fallback', () => {
    expect(slackDate(Date.UTC(2026, 10, 23, 14, 5, 30))).toBe('<!date^1795442730^{date_short_pretty} at {time}|2026-11-23 14:05 UTC>');
  });

  it('escapes user text so a reason cannot mention @channel or link', () => {
    expect(escape('<!channel> & <http://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
    expect(mrkdwnOf(approvalMessage(request, [])).join('\n')).not.toContain('<!channel>');
  });

  it('gives a pending approval message Approve and Deny buttons carrying only the request id', () => {
    const rendered = approvalMessage(request, []);
    const buttons = rendered.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b) => [('action_id' in b ? b.action_id : ''), ('value' in b ? b.value : '')])).toEqual([['keyway_approve', '42'], ['keyway_deny', '42']]);
  });

  it('shows the outcome, who and when, and no buttons once decided', () => {
    const decided = { ...request, state: 'denied' as const, decidedAt: Date.UTC(2026, 0, 1, 0, 10), decidedBy: 'lead@example.com', decisionReason: 'use staging' };
    const rendered = approvalMessage(decided, []);
    expect(rendered.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(rendered)).toMatch(/Denied\* by lead@example.com at <!date\^\d+.*use staging/);
  });

  it('lists servers in a multi-select up to the menu limit and searches beyond it', () => {
    const servers = (n: number) => Array.from({ length: n }, (_, i) => ({
      integration: integration('i', []), server: server(`s-${i}`), flow: flow('f', 'i'),
    }));
    const small = requestModal(servers(3), false);
    expect(JSON.stringify(small)).toContain('"multi_static_select"');
    expect(JSON.stringify(small)).not.toContain('"block_id":"key"');
    const large = requestModal(servers(STATIC_MENU_LIMIT + 1), true);
    expect(JSON.stringify(large)).toContain('"multi_external_select"');
    expect(JSON.stringify(large)).toContain('"block_id":"key"');
  });

  it('caps the reason a form takes at the 500 characters Keyway accepts, in the request and the deny modal', () => {
    const inputs = (view: { blocks: unknown[] }) => (view.blocks as Block[]).filter((b): b is Extract<Block, { type: 'input' }> => b.type === 'input');
    const reason = inputs(requestModal([], false)).find((b) => b.block_id === 'reason')!;
    expect(reason.element).toMatchObject({ type: 'plain_text_input', multiline: true, max_length: 500 });
    expect(inputs(denyModal(request))[0]!.element).toMatchObject({ max_length: 500 });
  });

  it('tells how to install the certificate and gives one ssh line per server', () => {
    const text = JSON.stringify(grantMessage(sshCredentialView({
      request: { ...request, state: 'approved' }, certificate: 'ssh-ed25519-cert-v01@openssh.com AAAAcert', validBefore: 1_800_000_000,
      userKeyName: 'id_work', targets: [{ server: 'web-1', host: '10.0.0.1', port: 22 }, { server: 'web-2', host: 'web2.internal', port: 2222 }],
      notReady: [], customAccessDetails: 'Use the VPN.', serial: 1,
    })));
    expect(text).toContain('~/.ssh/id_work-cert.pub');
    expect(text).toContain('ssh -i ~/.ssh/id_work dev@10.0.0.1 -p 22');
    expect(text).toContain('ssh -i ~/.ssh/id_work dev@web2.internal -p 2222');
    expect(text).toContain('<!date^1800000000^');
    expect(text).toContain('Use the VPN.');
  });

  it('keeps a `list` reply within Slack\'s 50 blocks and the Home tab within 100, cutting between items with "…and N more"', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ ...request, id: i + 1 }));
    const my: MyAccess = {
      active: many(30).map((r) => ({ request: { ...r, state: 'approved' as const, accessExpiresAt: Date.UTC(2026, 0, 2) }, grants: [] })),
      pending: many(30), toApprove: many(30),
    };
    const reply = listReply(my);
    expect(reply.blocks.length).toBeLessThanOrEqual(50);
    expect(JSON.stringify(reply.blocks)).toContain('…and 23 more: open the Keyway Home tab.');
    expect(homeView(my).blocks.length).toBeLessThanOrEqual(100);
  });

  it('fits 300 servers and 120 requests in Slack\'s limits, never cutting a name, a date or a line', () => {
    const names = Array.from({ length: 300 }, (_, i) => `server-with-a-long-name-${i}`);
    const big = (id: number) => ({ ...request, id, servers: names, reason: 'r'.repeat(500) });
    const requests = Array.from({ length: 120 }, (_, i) => big(i + 1));
    const my: MyAccess = {
      active: requests.map((r) => ({ request: { ...r, state: 'approved' as const, accessExpiresAt: Date.UTC(2026, 0, 2) }, grants: names.map((server) => ({ server, state: 'active' })) as never })),
      pending: requests, toApprove: requests,
    };
    const servers = names.map((name) => ({ integration: integration('prod-linux', []), server: server(name), flow: flow('prod-debug', 'prod-linux') }));
    for (const [what, blocks, limit] of [['list', listReply(my).blocks, 50], ['Home', homeView(my).blocks, 100], ['servers', serversReply(servers).blocks, 50]] as const) {
      expect(blocks.length, what).toBeLessThanOrEqual(limit);
      for (const text of mrkdwnOf(blocks)) {
        expect(text.length, what).toBeLessThanOrEqual(3000);
        expect((text.match(/`/g) ?? []).length % 2, `${what}: a code word cut in ${text}`).toBe(0);
        expect(text.split('<').length, `${what}: a date or mention cut in ${text}`).toBe(text.split('>').length);
      }
      expect(JSON.stringify(blocks), what).toMatch(/…and \d+ more/);
    }
    const shown = mrkdwnOf(serversReply(servers).blocks).join('\n');
    const listed = shown.match(/^• `server-with-a-long-name-\d+` \(prod-linux\) · flow prod-debug · up to 8h$/gm)!.length;
    expect(shown).toContain(`…and ${300 - listed} more`);
    expect(JSON.stringify(homeView(my))).toMatch(/…and \d+ more\./);
  });

  it('keeps confirmation dialogs within Slack\'s 300 characters, counting servers when they are many', () => {
    const servers = Array.from({ length: 40 }, (_, i) => `server-with-a-long-name-${i}`);
    const warning = expiryWarning({ ...request, servers, state: 'approved', accessExpiresAt: Date.UTC(2026, 0, 2) });
    const home = homeView({ active: [{ request: { ...request, servers, state: 'approved', accessExpiresAt: Date.UTC(2026, 0, 2) }, grants: [] }], pending: [], toApprove: [] });
    const dialogs = [...warning.blocks, ...(home.blocks as Block[])].flatMap((b) => (b.type === 'actions' ? b.elements : [])).flatMap((e) => ('confirm' in e && e.confirm ? [e.confirm] : []));
    expect(dialogs).toHaveLength(2);
    for (const dialog of dialogs) {
      expect(dialog.text.text.length).toBeLessThanOrEqual(300);
      expect(dialog.text.text).toContain('40 servers');
    }
  });
});

/** Every string Slack shows as mrkdwn in a message, view or block list: each mrkdwn text object. */
function mrkdwnOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => mrkdwnOf(v, found));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (object.type === 'mrkdwn' && typeof object.text === 'string') found.push(object.text);
    Object.values(object).forEach((v) => mrkdwnOf(v, found));
  }
  return found;
}

/** The literal text of rich text and plain_text elements, where nothing formats, mentions or links. */
function literalOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => literalOf(v, found));
  else if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ((object.type === 'text' || object.type === 'plain_text') && typeof object.text === 'string') found.push(object.text);
    Object.values(object).forEach((v) => literalOf(v, found));
  }
  return found;
}

describe('user text in Block Kit', () => {
  const FAKE = '*Approved* <!channel> ~x~ _y_ `z` <https://evil.example|click> <@U0LEAD>';
  const denied = { ...request, reason: FAKE, state: 'denied' as const, decidedAt: Date.UTC(2026, 0, 1, 0, 10), decidedBy: 'lead@example.com', decisionReason: FAKE };
  const my = (r: AccessRequest): MyAccess => ({ active: [], pending: [r], toApprove: [r] });
  const rendered: Array<[string, unknown]> = [
    ['approval message', approvalMessage({ ...request, reason: FAKE }, [])],
    ['decided approval message', approvalMessage(denied, [])],
    ['notify line', notifyLine(denied, [])],
    ['requester DM (denied)', decisionForRequester(denied, [])],
    ['requester DM (expired)', decisionForRequester({ ...denied, state: 'expired' }, [])],
    ['App Home', homeView(my({ ...request, reason: FAKE }))],
    ['list', listReply(my({ ...request, reason: FAKE }))],
    ['deny modal', denyModal({ ...request, reason: FAKE })],
  ];

  it.each(rendered)('shows a reason like "*Approved* <!channel> ~x~" inert in the %s: never as mrkdwn, always as literal text', (_, view) => {
    const mrkdwn = mrkdwnOf(view).join('\n');
    for (const part of ['*Approved*', '<!channel>', '~x~', '_y_', '`z`', '<https://evil', '<@U0LEAD>', 'Approved']) expect(mrkdwn).not.toContain(part);
    expect(literalOf(view).join('\n')).toContain(FAKE);
    // A message's own text is the notification (not shown when there are blocks): it may say why, but never mention or link.
    const notification = String((view as { text?: unknown }).text ?? '');
    for (const part of ['<!channel>', '<https://evil', '<@U0LEAD>']) expect(notification).not.toContain(part);
  });
});
