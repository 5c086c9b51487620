// Security issue 11, the access-decision part: every decision is checked against the configuration as it is when
// it is made, extensions are checked again when approved, a certificate carries the options its request was
// approved under, and free text and pending requests are limited in the one place every front door goes through.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { certificateOf } from '../../src/targets/ssh/certificates.js';
import { requestExtension } from '../../src/access/extend.js';
import { deliverCertificateIfNeeded, provisionRequest } from '../../src/access/grant-runner.js';
import { createGrantRunner } from '../helpers/grant-runner.js';
import { cancelRequest, submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { AccessConfig, Flow } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { grantsOfRequest } from '../../src/store/grants.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { getRequest, insertRequest } from '../../src/store/requests.js';
import { accessConfig, flow } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { userErrorOf } from '../helpers/user-error.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

const dev = { email: 'dev@example.com' };
const lead = { email: 'lead@example.com' };
const HOUR = 3600;

function setup(flows: Flow[], extra: Partial<AccessConfig> = {}): TestContext {
  ctx = testContext(accessConfig({ flows, ...extra }));
  registerKey(ctx, 'dev@example.com', 'dev');
  return ctx;
}

/** Swaps the live configuration, as a hot reload does. */
function reconfigure(change: (config: AccessConfig) => AccessConfig): void {
  const next = change(structuredClone(ctx.config()));
  ctx.config = () => next;
}

function countRows(table: string): number {
  return (ctx.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

const auditActions = () => listAudit(ctx.db).map((e) => [e.actor, e.action]);
const devFlow = (extra: Partial<Flow> = {}) => flow('prod-debug', 'prod-linux', { requesters: { everyone: false, emails: ['dev@example.com'], slackUsergroups: [] }, ...extra });

describe('an approval is checked against the configuration at decision time', () => {
  it("refuses the click of an approver removed from the flow since the request was made, and audits it", () => {
    setup([devFlow()]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    reconfigure((c) => ({ ...c, flows: [devFlow({ approvers: { everyone: false, emails: ['boss@example.com'], slackUsergroups: [] } })] }));

    const error = userErrorOf(() => voteOnRequest(ctx, request.id, lead, 'approve'));
    expect(error.code).toBe('not_approver');
    expect(error.message).toBe(`lead@example.com is no longer an approver of request ${request.id} under the current configuration, and none of the approvers it was sent to still is: the requester can cancel it and ask again.`);
    // The new approver was not asked when the request was made: both lists must name the person.
    expect(() => voteOnRequest(ctx, request.id, { email: 'boss@example.com' }, 'approve')).toThrow(/boss@example.com is not an approver/);
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');
    expect(grantsOfRequest(ctx.db, request.id)).toEqual([]);
    expect(auditActions().slice(-2)).toEqual([['lead@example.com', 'approval.refused'], ['boss@example.com', 'approval.refused']]);
  });

  it('no longer counts a vote cast by an approver who has since been removed', () => {
    const two = (emails: string[]) => devFlow({ minApprovals: 2, approvers: { everyone: false, emails, slackUsergroups: [] } });
    setup([two(['a@example.com', 'b@example.com', 'c@example.com'])]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    expect(voteOnRequest(ctx, request.id, { email: 'a@example.com' }, 'approve')).toMatchObject({ kind: 'pending', approvals: 1 });
    reconfigure((c) => ({ ...c, flows: [two(['b@example.com', 'c@example.com'])] }));
    expect(voteOnRequest(ctx, request.id, { email: 'b@example.com' }, 'approve')).toMatchObject({ kind: 'pending', approvals: 1 });
    expect(voteOnRequest(ctx, request.id, { email: 'c@example.com' }, 'approve').kind).toBe('approved');
  });

  it("refuses to approve the pending request of a requester removed from the flow, and expires it in that transaction", () => {
    setup([devFlow()]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    reconfigure((c) => ({ ...c, flows: [devFlow({ requesters: { everyone: false, emails: ['someone-else@example.com'], slackUsergroups: [] } })] }));

    const error = userErrorOf(() => voteOnRequest(ctx, request.id, lead, 'approve'));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe(`dev@example.com may no longer request web-2 under the current configuration, so request ${request.id} cannot be approved; Keyway has expired it. If that is a mistake, ask an admin to restore their access, then they can ask again.`);
    const stored = getRequest(ctx.db, request.id)!;
    expect(stored).toMatchObject({ state: 'expired', decidedBy: 'system', decisionReason: 'the requester may no longer request these servers' });
    expect(grantsOfRequest(ctx.db, request.id)).toEqual([]);
    expect(auditActions().slice(-2)).toEqual([['lead@example.com', 'approval.refused'], ['system', 'request.expired']]);
    expect(dueOutbox(ctx.db, ctx.now()).map((e) => e.event)).toContainEqual({ kind: 'request_decided', requestId: request.id });
  });

  it('checks a requester who asked through a Slack user group against the groups recorded when they asked', () => {
    const byGroup = (groups: string[]) => devFlow({ requesters: { everyone: false, emails: [], slackUsergroups: groups } });
    setup([byGroup(['S0DEVS'])]);
    registerKey(ctx, 'x@example.com', 'x');
    const member = { email: 'x@example.com', usergroups: ['S0DEVS'] };
    const first = submitRequest(ctx, member, { servers: ['web-2'], reason: 'INC-1' }, 'slack').request;
    const second = submitRequest(ctx, member, { servers: ['web-2'], reason: 'INC-2' }, 'slack').request;
    expect(getRequest(ctx.db, first.id)).toMatchObject({ requesterUsergroups: ['S0DEVS'], requesterGuest: false });
    expect(voteOnRequest(ctx, first.id, lead, 'approve').kind).toBe('approved');
    reconfigure((c) => ({ ...c, flows: [byGroup(['S0OTHERS'])] }));
    expect(() => voteOnRequest(ctx, second.id, lead, 'approve')).toThrow(/x@example.com may no longer request web-2/);
  });

  it('still lets an approver deny the request of a removed requester', () => {
    setup([devFlow()]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    reconfigure((c) => ({ ...c, flows: [devFlow({ requesters: { everyone: false, emails: [], slackUsergroups: [] } })] }));
    expect(voteOnRequest(ctx, request.id, lead, 'deny', { reason: 'you left the team' }).kind).toBe('denied');
  });

  it('refuses a guest as a requester outside allow_guests flows, and as an approver always, auditing the click', () => {
    setup([devFlow({ requesters: { everyone: true, emails: [], slackUsergroups: [] } })]);
    registerKey(ctx, 'guest@partner.example', 'guest');
    expect(() => submitRequest(ctx, { email: 'guest@partner.example', guest: true }, { servers: ['web-2'], reason: 'INC-1' }, 'slack')).toThrow(/is a guest \(or a bot\)/);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    expect(() => voteOnRequest(ctx, request.id, { ...lead, guest: true }, 'approve')).toThrow(/guests never decide requests/);
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');
    expect(auditActions().at(-1)).toEqual(['lead@example.com', 'approval.refused']);
  });

  it('refuses an approval after request_ttl and expires the request in that transaction', () => {
    setup([devFlow()]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    ctx.clock.now = request.pendingUntil; // the sweeper has not run yet
    const error = userErrorOf(() => voteOnRequest(ctx, request.id, lead, 'approve'));
    expect(error.code).toBe('already_decided');
    expect(error.message).toBe(`Request ${request.id} was not decided within 1h (its flow's request_ttl) and has expired: it can no longer be approved. The requester can ask again.`);
    expect(getRequest(ctx.db, request.id)).toMatchObject({ state: 'expired', decisionReason: 'nobody answered in time', accessExpiresAt: null });
    expect(grantsOfRequest(ctx.db, request.id)).toEqual([]);
    expect(auditActions().slice(-2)).toEqual([['lead@example.com', 'approval.refused'], ['system', 'request.expired']]);
    // Audit and expiry were one commit: both carry the same time, and nothing else was written.
    expect(new Set(listAudit(ctx.db).slice(-2).map((e) => e.at))).toEqual(new Set([ctx.now()]));
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('already_decided');
  });
});

describe('extensions', () => {
  async function runningAccess(maxDuration: number): Promise<number> {
    setup([devFlow({ maxDuration })]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: HOUR, reason: 'INC-1' }, 'slack');
    expect(voteOnRequest(ctx, request.id, lead, 'approve').kind).toBe('approved');
    return request.id;
  }

  it("refuses the second of two extensions that together exceed the flow's max_duration", async () => {
    const id = await runningAccess(4 * HOUR);
    const original = getRequest(ctx.db, id)!;
    const first = requestExtension(ctx, dev, id, 2 * HOUR);
    expect(first.kind).toBe('pending');
    // A second pending extension, as two front doors racing before the one-pending rule (or an older Keyway) left it.
    const second = insertRequest(ctx.db, { ...first.request, reason: `extend request ${id}`, createdAt: ctx.now() });

    expect(voteOnRequest(ctx, first.request.id, lead, 'approve').kind).toBe('approved');
    const error = userErrorOf(() => voteOnRequest(ctx, second.id, lead, 'approve'));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toBe(`The flow prod-debug allows 4h in all: you can extend request ${id} by 1h at most.`);
    expect(getRequest(ctx.db, second.id)!.state).toBe('pending');
    expect(getRequest(ctx.db, id)!.accessExpiresAt).toBe(original.decidedAt! + 3 * HOUR * 1000);
    expect(auditActions().at(-1)).toEqual(['lead@example.com', 'approval.refused']);
  });

  it('refuses an extension whose allowance the flow no longer gives when it is approved', async () => {
    const id = await runningAccess(8 * HOUR);
    const { request } = requestExtension(ctx, dev, id, 4 * HOUR);
    reconfigure((c) => ({ ...c, flows: [devFlow({ maxDuration: 2 * HOUR })] }));
    expect(() => voteOnRequest(ctx, request.id, lead, 'approve')).toThrow(`The flow prod-debug allows 2h in all: you can extend request ${id} by 1h at most.`);
    expect(getRequest(ctx.db, id)!.accessExpiresAt).toBe(getRequest(ctx.db, id)!.decidedAt! + HOUR * 1000);
  });

  it('refuses a second extension while one is pending, naming the pending one', async () => {
    const id = await runningAccess(8 * HOUR);
    const first = requestExtension(ctx, dev, id, HOUR);
    const error = userErrorOf(() => requestExtension(ctx, dev, id, 2 * HOUR));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe(`Request ${first.request.id} already asks to extend request ${id} by 1h and waits for approval: wait for it, or cancel it with \`/ssh-access cancel ${first.request.id}\` and ask again.`);
    expect(countRows('requests')).toBe(2);
    cancelRequest(ctx, first.request.id, 'dev@example.com');
    expect(requestExtension(ctx, dev, id, 2 * HOUR).kind).toBe('pending');
  });
});

/** `ssh-keygen -L`'s listing of a certificate: what sshd will see. */
function keygenListing(line: string): string {
  const temp = makeTempDir('keyway-cert-');
  try {
    const path = join(temp.dir, 'id-cert.pub');
    writeFileSync(path, `${line}\n`);
    const run = spawnSync('ssh-keygen', ['-L', '-f', path], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`ssh-keygen -L refused the certificate: ${run.stderr}`);
    return run.stdout;
  } finally {
    temp.remove();
  }
}

/** The lines under a heading of `ssh-keygen -L` ("Critical Options:" or "Extensions:"). */
function section(listing: string, heading: string): string[] {
  const lines = listing.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading || l.trim().startsWith(`${heading} `));
  if (start < 0) throw new Error(`no ${heading} in\n${listing}`);
  if (lines[start]!.trim() !== heading) return []; // "Critical Options: (none)"
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s{16,}\S/.test(line)) break;
    out.push(line.trim());
  }
  return out;
}

describe('certificate options frozen at approval', () => {
  const restricted = (name: string, extra: Partial<Flow> = {}) => devFlow({ name, sourceAddress: ['10.1.2.0/24'], forceCommand: '/usr/bin/journalctl', allowPortForwarding: true, ...extra });
  const hosts = { provision: async () => undefined, revoke: async () => undefined, cleanup: async () => undefined };

  it("keeps source-address, force-command and forwarding in an extension's certificate after the flow is renamed", async () => {
    setup([restricted('restricted')]);
    const runner = createGrantRunner(ctx, hosts, generateCaKey().caKey);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], duration: HOUR, reason: 'INC-1' }, 'slack');
    voteOnRequest(ctx, request.id, lead, 'approve');
    await provisionRequest(runner, request.id);
    const first = keygenListing(certificateOf(ctx, request.id)!.line);
    expect(section(first, 'Critical Options:')).toEqual(['force-command /usr/bin/journalctl', 'source-address 10.1.2.0/24']);

    // The admin renames the flow and, while at it, drops the restrictions: the running access keeps its own.
    reconfigure((c) => ({ ...c, flows: [restricted('restricted-v2', { sourceAddress: [], forceCommand: undefined, allowPortForwarding: false })] }));
    const extension = requestExtension(ctx, dev, request.id, HOUR);
    expect(voteOnRequest(ctx, extension.request.id, lead, 'approve').kind).toBe('approved');
    deliverCertificateIfNeeded(runner, request.id);
    const reissued = certificateOf(ctx, request.id)!;
    expect(reissued.validBefore).toBeGreaterThan(Math.floor(getRequest(ctx.db, request.id)!.accessExpiresAt! / 1000) - 1);
    const listing = keygenListing(reissued.line);
    expect(section(listing, 'Critical Options:')).toEqual(['force-command /usr/bin/journalctl', 'source-address 10.1.2.0/24']);
    expect(section(listing, 'Extensions:')).toEqual(['permit-port-forwarding', 'permit-pty']);
  });

  it('stores the options with the request in the approval transaction', () => {
    setup([restricted('restricted')]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    expect(getRequest(ctx.db, request.id)!.certificateOptions).toBeNull();
    voteOnRequest(ctx, request.id, lead, 'approve');
    expect(getRequest(ctx.db, request.id)!.certificateOptions).toEqual({ sourceAddress: ['10.1.2.0/24'], forceCommand: '/usr/bin/journalctl', extensions: ['permit-pty', 'permit-port-forwarding'] });
  });

  it('reads a request approved before options were stored (NULL) with its flow as the config has it, and refuses to sign one whose flow is gone', async () => {
    setup([restricted('restricted')]);
    const runner = createGrantRunner(ctx, hosts, generateCaKey().caKey);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    voteOnRequest(ctx, request.id, lead, 'approve');
    ctx.db.prepare('UPDATE requests SET certificate_options = NULL WHERE id = ?').run(request.id);
    await provisionRequest(runner, request.id);
    expect(section(keygenListing(certificateOf(ctx, request.id)!.line), 'Critical Options:')).toContain('source-address 10.1.2.0/24');

    const { request: other } = submitRequest(ctx, dev, { servers: ['web-1'], reason: 'INC-2' }, 'slack');
    voteOnRequest(ctx, other.id, { email: 'ana@example.com' }, 'approve');
    ctx.db.prepare('UPDATE requests SET certificate_options = NULL WHERE id = ?').run(other.id);
    reconfigure((c) => ({ ...c, flows: [restricted('renamed')] }));
    const logged: string[] = [];
    ctx.logger = pino({ level: 'error' }, { write: (line: string) => logged.push(line) });
    // Fail closed without stopping the grant runner or the sweeper: no certificate, and an error that says what to do.
    expect((await provisionRequest(runner, other.id)).map((g) => g.state)).toEqual(['active']);
    expect(certificateOf(ctx, other.id)).toBeUndefined();
    expect(logged.join('')).toContain(`request ${other.id} was approved before Keyway stored certificate options, and its flow restricted is no longer in the configuration: no certificate was signed. Restore the flow (its source-address and force-command) so Keyway can sign it, or revoke the request.`);
  });
});

describe('input limits every front door gets', () => {
  it('refuses a 20,000-character reason with a clear message, and records nothing', () => {
    setup([devFlow()]);
    const error = userErrorOf(() => submitRequest(ctx, dev, { servers: ['web-2'], reason: 'x'.repeat(20_000) }, 'slack'));
    expect(error.message).toBe('The reason is 20000 characters long; Keyway takes at most 500. Shorten it (link to the ticket instead of pasting it) and send it again.');
    expect(countRows('requests')).toBe(0);
    expect(listAudit(ctx.db)).toEqual([]);
  });

  it('takes a reason of exactly 500 characters', () => {
    setup([devFlow()]);
    expect(submitRequest(ctx, dev, { servers: ['web-2'], reason: 'é'.repeat(500) }, 'slack').kind).toBe('pending');
  });

  it('refuses an over-long deny reason and extension reason, leaving everything as it was', () => {
    setup([devFlow()]);
    const { request } = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    expect(() => voteOnRequest(ctx, request.id, lead, 'deny', { reason: 'no'.repeat(300) })).toThrow('The reason is 600 characters long; Keyway takes at most 500.');
    expect(getRequest(ctx.db, request.id)!.state).toBe('pending');
    voteOnRequest(ctx, request.id, lead, 'approve');
    const before = listAudit(ctx.db).length;
    expect(() => requestExtension(ctx, dev, request.id, 600, 'y'.repeat(501))).toThrow('The reason is 501 characters long');
    expect(countRows('requests')).toBe(1);
    expect(listAudit(ctx.db)).toHaveLength(before);
  });

  it('refuses the 6th pending request, saying how many wait and how to cancel one', () => {
    setup([devFlow()]);
    const ids = [1, 2, 3, 4, 5].map((n) => submitRequest(ctx, dev, { servers: ['web-2'], reason: `INC-${n}` }, 'slack').request.id);
    const error = userErrorOf(() => submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-6' }, 'slack'));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe(`You already have 5 requests waiting for approval (#${ids.join(', #')}), the most Keyway allows: wait for them to be decided, or cancel one with \`/ssh-access cancel <id>\` and ask again.`);
    expect(countRows('requests')).toBe(5);
    cancelRequest(ctx, ids[0]!, 'dev@example.com');
    expect(submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-6' }, 'slack').kind).toBe('pending');
  });

  it('does not count a request past its request_ttl that the sweeper has not expired yet', () => {
    setup([devFlow()]);
    const old = submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-0' }, 'slack').request;
    ctx.clock.now = old.pendingUntil;
    const ids = [1, 2, 3, 4, 5].map((n) => submitRequest(ctx, dev, { servers: ['web-2'], reason: `INC-${n}` }, 'slack').request.id);
    expect(getRequest(ctx.db, old.id)!.state).toBe('pending');
    const error = userErrorOf(() => submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-6' }, 'slack'));
    expect(error.message).toContain(`You already have 5 requests waiting for approval (#${ids.join(', #')}),`);
  });

  it('takes max_pending_requests from the configuration', () => {
    setup([devFlow()], { maxPendingRequests: 1 });
    submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-1' }, 'slack');
    expect(() => submitRequest(ctx, dev, { servers: ['web-2'], reason: 'INC-2' }, 'slack')).toThrow(/You already have 1 request waiting for approval \(#1\)/);
  });
});
