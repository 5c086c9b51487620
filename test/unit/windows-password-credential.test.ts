// One-time passwords for Windows targets: complex enough for AD, owed once per request (again after an extension),
// never stored; FILETIME and objectGUID conversions as AD writes them.
import { describe, expect, it } from 'vitest';
import { fromFileTime, guidText, toFileTime } from '../../src/targets/windows/ad/directory.js';
import {
  generatePassword, needsPassword, owePassword, passwordCredentialId, rdpConnectLines, withPassword, passwordView,
} from '../../src/targets/windows/password-credential.js';
import { dueOutbox } from '../../src/store/outbox.js';
import { insertRequest, decideRequest, getRequest } from '../../src/store/requests.js';
import { accessConfig } from '../helpers/access-config.js';
import { testContext } from '../helpers/access-context.js';

describe('Windows one-time passwords', () => {
  it('makes 24-character passwords with all four character classes and nothing that needs quoting', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(24);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[0-9]/);
      expect(password).toMatch(/[^A-Za-z0-9]/);
      expect(password).not.toMatch(/["'`\\\s;$]/);
      seen.add(password);
    }
    expect(seen.size).toBe(200);
  });

  it('owes a request one password, and another when an extension makes the access end later; stores no password', () => {
    const ctx = testContext(accessConfig());
    const now = ctx.now();
    const request = insertRequest(ctx.db, {
      requesterEmail: 'dev@example.com', linuxUser: 'dev', flow: 'f', integration: 'corp', servers: ['Server Admins'], groups: [],
      durationSeconds: 3600, reason: 'r', approvers: { source: 'none', emails: [], slackUsergroups: [] }, minApprovals: 1,
      allowSelfApproval: false, source: 'slack', createdAt: now, pendingUntil: now + 3600_000, extendsRequestId: null,
    });
    decideRequest(ctx.db, request.id, { state: 'approved', at: now, by: 'lead@example.com', accessExpiresAt: now + 3600_000 });
    const approved = getRequest(ctx.db, request.id)!;
    expect(needsPassword(ctx, approved)).toBe(true);
    expect(owePassword(ctx, approved)).toBe(true);
    expect(needsPassword(ctx, approved)).toBe(false);
    expect(passwordCredentialId(ctx, request.id)).toMatch(/^password-\d+$/);
    expect(dueOutbox(ctx.db, now, 10).map((e) => e.event.kind)).toContain('access_granted');
    expect(needsPassword(ctx, { ...approved, accessExpiresAt: now + 7200_000 })).toBe(true);
    ctx.close();
  });

  it('puts the password in the view only when it is made, and the .rdp file in the connect lines', () => {
    const view = passwordView({
      title: 'Remote Desktop access', requestId: 1, credentialId: 'password-1', account: 'kw-dev', validUntil: 0, targets: ['ws-1'],
      connect: [{ target: 'ws-1', lines: rdpConnectLines('ws-1.rdp', '10.0.0.7', 3389, 'kw-dev') }], notReady: [], notes: [], scope: 's',
    });
    expect(view.secret).toBeUndefined();
    expect(withPassword(view, 'Pw-1').secret).toEqual({ label: 'your password', text: 'Pw-1' });
    expect(view.connect[0]!.lines).toEqual(expect.arrayContaining(['full address:s:10.0.0.7:3389', 'username:s:kw-dev']));
  });
});

describe('AD value conversions', () => {
  it('writes accountExpires as FILETIME (100 ns since 1601) and reads it back', () => {
    expect(toFileTime(0)).toBe('116444736000000000');
    expect(toFileTime(Date.UTC(2026, 11, 1))).toBe(String((BigInt(Date.UTC(2026, 11, 1)) + 11644473600000n) * 10000n));
    expect(fromFileTime(toFileTime(1_800_000_000_123))).toBe(1_800_000_000_123);
  });

  it('reads objectGUID bytes in the usual text form', () => {
    const bytes = Buffer.from('33221100554477668899aabbccddeeff', 'hex');
    expect(guidText(bytes)).toBe('00112233-4455-6677-8899-aabbccddeeff');
  });
});
