// Access policy (src/core/policy.ts) at the edges policy.test.ts and oncall-policy.test.ts leave open: the exact
// refusals people read, the limits of reasons and extensions, who is named as able to decide, and on-call
// auto-approval at the end of a shift. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import type { Flow } from '../../src/core/model.js';
import {
  approvedDuration, assertExtensionFits, assertMayDecide, assertReasonLength, assertStillMayDecide, certificateOptionsOf, describeSchedule, extensionAllowance,
  flowsForRequester, formatShiftEnd, integrationOf, isInAudience, isOnCallIn, onCallAutoApproval, planRequest, resolveApprovers,
  schedulesOfConfig, stillApprovers, whoDecides, type ApproverSet,
} from '../../src/core/policy.js';
import { accessConfig, flow, integration, server } from '../helpers/access-config.js';
import { userErrorOf } from '../helpers/user-error.js';

const dev = { email: 'dev@example.com' };
const HOUR = 3600;
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('planRequest refusals', () => {
  const config = accessConfig();

  it('a request naming no server, or only blanks', () => {
    for (const servers of [[], ['  ', '']]) {
      const error = userErrorOf(() => planRequest(config, dev, { servers, reason: 'x' }));
      expect(error.code).toBe('unknown_server');
      expect(error.message).toBe('Name at least one server. `/ssh-access servers` lists the ones you may request.');
    }
  });

  it('an unknown server, named as typed after trimming', () => {
    const error = userErrorOf(() => planRequest(config, dev, { servers: [' web-9 '], reason: 'x' }));
    expect(error.code).toBe('unknown_server');
    expect(error.message).toBe('There is no server called "web-9". `/ssh-access servers` lists the ones you may request.');
  });

  it('a server no flow lets this person request', () => {
    const error = userErrorOf(() => planRequest(config, { email: 'stranger@example.com' }, { servers: ['web-1', 'web-2'], reason: 'x' }));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe('No access flow lets stranger@example.com request web-1, web-2. Ask an admin to add you to a flow, or see `/ssh-access servers`.');
  });

  it('a guest, for a server a flow would give a full member', () => {
    const error = userErrorOf(() => planRequest(config, { ...dev, guest: true }, { servers: ['web-1'], reason: 'x' }));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe(
      'dev@example.com is a guest (or a bot) in the chat workspace, and no access flow that allows guests covers web-1: ask an admin to set allow_guests on a flow for it, or ask from a full member account.',
    );
    const guestFlow = accessConfig({ flows: [flow('guests', 'prod-linux', { allowGuests: true })] });
    expect(planRequest(guestFlow, { ...dev, guest: true }, { servers: ['web-1'], reason: 'x' }).flow.name).toBe('guests');
  });

  it('a guest for a server no flow gives anyone gets the plain refusal', () => {
    const only = accessConfig({ flows: [flow('web-1', 'prod-linux', { resources: { integration: 'prod-linux', servers: ['web-1'], tags: {} } })] });
    expect(userErrorOf(() => planRequest(only, { ...dev, guest: true }, { servers: ['web-2'], reason: 'x' })).message).toMatch(/^No access flow lets dev@example.com request web-2\./);
  });

  it('servers that two flows allow only separately', () => {
    const split = accessConfig({
      flows: [
        flow('web', 'prod-linux', { resources: { integration: 'prod-linux', servers: ['web-1'], tags: {} } }),
        flow('db', 'prod-linux', { resources: { integration: 'prod-linux', servers: ['db-1'], tags: {} } }),
      ],
    });
    const error = userErrorOf(() => planRequest(split, dev, { servers: ['web-1', 'db-1'], reason: 'x' }));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toBe('No single access flow covers web-1, db-1 together: request them separately.');
  });

  it('no reason where the flow needs one; a reason is stored trimmed', () => {
    const error = userErrorOf(() => planRequest(config, dev, { servers: ['web-1'], reason: '   ' }));
    expect(error.code).toBe('reason_required');
    expect(error.message).toBe('The flow prod-debug needs a reason: say why you need access (e.g. the incident or ticket).');
    expect(planRequest(config, dev, { servers: ['web-1'], reason: '  INC-7  ' }).reason).toBe('INC-7');
    const optional = accessConfig({ flows: [flow('free', 'prod-linux', { requireReason: false })] });
    expect(planRequest(optional, dev, { servers: ['web-1'], reason: '' }).reason).toBe('');
  });

  it('a duration past the flow maximum, naming the flow', () => {
    const error = userErrorOf(() => planRequest(config, dev, { servers: ['web-1'], duration: 9 * HOUR, reason: 'x' }));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toContain('the flow prod-debug allows');
  });

  it('the same server twice counts once', () => {
    expect(planRequest(config, dev, { servers: ['web-1', 'web-1 '], reason: 'x' }).servers.map((s) => s.name)).toEqual(['web-1']);
  });
});

describe('an approver\'s duration', () => {
  it('may equal or shorten what was asked, never lengthen it', () => {
    expect(approvedDuration(HOUR, 8 * HOUR)).toBe(HOUR);
    expect(approvedDuration(HOUR, 8 * HOUR, HOUR)).toBe(HOUR);
    expect(approvedDuration(HOUR, 8 * HOUR, 60)).toBe(60);
    const error = userErrorOf(() => approvedDuration(HOUR, 8 * HOUR, HOUR + 1));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toBe('An approver may shorten access, not lengthen it: 1h1s is more than the 1h requested.');
  });
});

describe('reasons', () => {
  it('take 500 characters, counted as code points after trimming', () => {
    expect(() => assertReasonLength(undefined, 'reason')).not.toThrow();
    expect(() => assertReasonLength('x'.repeat(500), 'reason')).not.toThrow();
    expect(() => assertReasonLength(` ${'x'.repeat(500)} `, 'reason')).not.toThrow();
    expect(() => assertReasonLength('😀'.repeat(500), 'reason')).not.toThrow();
    const error = userErrorOf(() => assertReasonLength('x'.repeat(501), 'decision note'));
    expect(error.code).toBe('reason_too_long');
    expect(error.message).toBe(
      'The decision note is 501 characters long; Keyway takes at most 500. Shorten it (link to the ticket instead of pasting it) and send it again.',
    );
    expect(userErrorOf(() => assertReasonLength('😀'.repeat(501), 'reason')).message).toMatch(/^The reason is 501 characters long/);
  });
});

describe('extensions', () => {
  const request = { id: 9, decidedAt: NOW, createdAt: NOW - HOUR * 1000, accessExpiresAt: NOW + 2 * HOUR * 1000 };
  const eightHours = { name: 'prod-debug', maxDuration: 8 * HOUR };

  it('may use what the flow maximum leaves, counted from the decision (or the request, if undecided)', () => {
    expect(extensionAllowance(request, 8 * HOUR)).toBe(6 * HOUR);
    expect(extensionAllowance({ ...request, decidedAt: null }, 8 * HOUR)).toBe(5 * HOUR);
    expect(extensionAllowance({ ...request, accessExpiresAt: null }, 8 * HOUR)).toBe(0);
    expect(extensionAllowance({ ...request, accessExpiresAt: NOW + 9 * HOUR * 1000 }, 8 * HOUR)).toBe(0);
    expect(extensionAllowance({ ...request, accessExpiresAt: NOW + 2 * HOUR * 1000 + 1500 }, 8 * HOUR)).toBe(6 * HOUR - 2);
  });

  it('are refused past the allowance, saying how much is left or that nothing is', () => {
    expect(() => assertExtensionFits(request, eightHours, 6 * HOUR)).not.toThrow();
    const error = userErrorOf(() => assertExtensionFits(request, eightHours, 6 * HOUR + 1));
    expect(error.code).toBe('duration_too_long');
    expect(error.message).toBe('The flow prod-debug allows 8h in all: you can extend request 9 by 6h at most.');
    const used = { ...request, accessExpiresAt: NOW + 8 * HOUR * 1000 };
    expect(userErrorOf(() => assertExtensionFits(used, eightHours, 60)).message).toBe('Request 9 already has the 8h its flow allows: make a new request.');
  });
});

describe('who may decide', () => {
  const approvers = (extra: Partial<ApproverSet> = {}): ApproverSet => ({ source: 'flow', emails: [], slackUsergroups: [], ...extra });

  it('is said in words, joined with commas and a final "or"', () => {
    expect(whoDecides(approvers())).toBe('nobody is configured to decide it; ask an admin to check the flow');
    expect(whoDecides(approvers({ emails: ['lead@example.com'] }))).toBe('lead@example.com can decide it');
    expect(whoDecides(approvers({ emails: ['a@example.com', 'b@example.com'], slackUsergroups: ['S0LEADS'], oncall: ['opsgenie:ops'] }))).toBe(
      'a@example.com, b@example.com, a member of the Slack user group S0LEADS or whoever is on call in Opsgenie schedule ops can decide it',
    );
  });

  it('names schedules by their provider', () => {
    expect(describeSchedule('pagerduty:PSCHED1')).toBe('PagerDuty schedule PSCHED1');
    expect(describeSchedule('opsgenie:a:b')).toBe('Opsgenie schedule a:b');
    expect(describeSchedule('victorops:x')).toBe('victorops schedule x');
  });

  it('refuses the requester, a guest and an outsider, each with their reason', () => {
    const check = { requesterEmail: 'Dev@Example.com', approvers: approvers({ emails: ['lead@example.com'] }), allowSelfApproval: false };
    expect(userErrorOf(() => assertMayDecide(check, dev, 4)).message).toBe('You asked for request 4 yourself, so you cannot decide it: another approver must.');
    expect(userErrorOf(() => assertMayDecide(check, dev, 4)).code).toBe('not_approver');
    expect(userErrorOf(() => assertMayDecide(check, { email: 'lead@example.com', guest: true }, 4)).code).toBe('not_approver');
    expect(userErrorOf(() => assertMayDecide(check, { email: 'lead@example.com', guest: true }, 4)).message).toBe(
      'lead@example.com is a guest (or a bot) in the chat workspace, and guests never decide requests: a full member who approves request 4 must.',
    );
    const outsider = userErrorOf(() => assertMayDecide(check, { email: 'x@example.com' }, 4));
    expect(outsider.code).toBe('not_approver');
    expect(outsider.message).toBe('x@example.com is not an approver of request 4: lead@example.com can decide it.');
    expect(() => assertMayDecide({ ...check, allowSelfApproval: true, approvers: approvers({ emails: ['dev@example.com'] }) }, dev, 4)).not.toThrow();
  });

  it('after a config change: "no longer", with who still may, or that nobody does', () => {
    const snapshot = approvers({ emails: ['lead@example.com', 'ana@example.com'] });
    const current = approvers({ emails: ['ANA@example.com'] });
    expect(userErrorOf(() => assertStillMayDecide(snapshot, current, { email: 'lead@example.com' }, 4)).message).toBe(
      'lead@example.com is no longer an approver of request 4 under the current configuration: ana@example.com can decide it.',
    );
    expect(userErrorOf(() => assertStillMayDecide(snapshot, approvers(), { email: 'lead@example.com' }, 4)).message).toBe(
      'lead@example.com is no longer an approver of request 4 under the current configuration, and none of the approvers it was sent to still is: the requester can cancel it and ask again.',
    );
    expect(() => assertStillMayDecide(snapshot, current, { email: 'ana@example.com' }, 4)).not.toThrow();
    const onCall = approvers({ oncall: ['pagerduty:P1'] });
    expect(() => assertStillMayDecide(onCall, onCall, { email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P1' }] }, 4)).not.toThrow();
    expect(userErrorOf(() => assertStillMayDecide(onCall, onCall, { email: 'x@example.com' }, 4)).message).toBe(
      'x@example.com is no longer an approver of request 4 under the current configuration: whoever is on call in PagerDuty schedule P1 can decide it.',
    );
  });

  it('keeps of a snapshot only schedules, groups and e-mails that still approve', () => {
    const snapshot = approvers({ emails: ['a@example.com'], slackUsergroups: ['S1', 'S2'], oncall: ['pagerduty:P1', 'pagerduty:P2'] });
    expect(stillApprovers(snapshot, { source: 'integration_owners', emails: [], slackUsergroups: ['S2'], oncall: ['pagerduty:P2'] })).toEqual({
      source: 'integration_owners', emails: [], slackUsergroups: ['S2'], oncall: ['pagerduty:P2'],
    });
    expect(stillApprovers(snapshot, approvers())).toEqual({ source: 'flow', emails: [], slackUsergroups: [] });
  });
});

describe('approver resolution', () => {
  const prod = integration('prod', [server('web-1', { tags: { owner: 'Ana@Example.com', env: 'prod' } }), server('web-2', { tags: { owner: 'not-an-email' } })], {
    owners: ['Platform@example.com', 'dev@example.com'], resourceOwnerTag: 'owner',
  });
  const base = flow('f', 'prod', { approvers: { everyone: false, emails: [], slackUsergroups: [] } });

  it('takes server owners that are e-mails, lower-cased; else the integration owners without the requester', () => {
    expect(resolveApprovers(base, prod, [prod.servers[0]!], 'x@example.com', false)).toEqual({ source: 'resource_owners', emails: ['ana@example.com'], slackUsergroups: [] });
    expect(resolveApprovers(base, prod, [prod.servers[1]!], 'dev@example.com', false)).toEqual({ source: 'integration_owners', emails: ['platform@example.com'], slackUsergroups: [] });
    expect(resolveApprovers(base, prod, [prod.servers[1]!], 'dev@example.com', true).emails).toEqual(['platform@example.com', 'dev@example.com']);
  });

  it('takes a flow with only user groups or only schedules as the flow\'s approvers', () => {
    const noTag = { ...prod, resourceOwnerTag: undefined };
    expect(resolveApprovers({ ...base, approvers: { ...base.approvers, slackUsergroups: ['S0LEADS'] } }, noTag, [], 'x@example.com', false)).toEqual({
      source: 'flow', emails: [], slackUsergroups: ['S0LEADS'],
    });
    expect(resolveApprovers({ ...base, approvers: { ...base.approvers, oncall: ['pagerduty:P1'] } }, noTag, [], 'x@example.com', false, ['oncall@example.com'])).toEqual({
      source: 'flow', emails: ['oncall@example.com'], slackUsergroups: [], oncall: ['pagerduty:P1'],
    });
  });

  it('says none when nobody but the requester is named', () => {
    const lonely = integration('solo', [server('s-1')], { owners: ['dev@example.com'] });
    expect(resolveApprovers(base, lonely, [], 'DEV@example.com', false)).toEqual({ source: 'none', emails: [], slackUsergroups: [] });
  });
});

describe('audiences and flows', () => {
  it('matches e-mails whatever their case, schedules by name', () => {
    const audience = { everyone: false, emails: ['dev@example.com'], slackUsergroups: [], oncall: ['pagerduty:P1'] };
    expect(isInAudience(audience, { email: 'DEV@example.com' })).toBe(true);
    expect(isInAudience(audience, { email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P1' }] })).toBe(true);
    expect(isInAudience(audience, { email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P2' }] })).toBe(false);
    expect(isOnCallIn(undefined, { email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P1' }] })).toBe(false);
  });

  it('gives a guest only flows that allow guests', () => {
    const config = accessConfig({ flows: [flow('members', 'prod-linux'), flow('guests', 'prod-linux', { allowGuests: true })] });
    expect(flowsForRequester(config, { ...dev, guest: true }).map((f) => f.name)).toEqual(['guests']);
    expect(flowsForRequester(config, dev).map((f) => f.name)).toEqual(['members', 'guests']);
  });

  it('collects every schedule of every flow once', () => {
    const onCallFlow = (name: string, requesters: string[], approvers: string[]): Flow => flow(name, 'prod-linux', {
      requesters: { everyone: false, emails: [], slackUsergroups: [], oncall: requesters },
      approvers: { everyone: false, emails: [], slackUsergroups: [], oncall: approvers },
    });
    const config = accessConfig({ flows: [onCallFlow('a', ['pagerduty:P1'], ['pagerduty:P2', 'pagerduty:P1']), onCallFlow('b', [], ['opsgenie:o', 'pagerduty:P2'])] });
    expect(schedulesOfConfig(config)).toEqual(['pagerduty:P1', 'pagerduty:P2', 'opsgenie:o']);
  });

  it('names a flow whose integration is gone', () => {
    expect(() => integrationOf(accessConfig(), flow('lost', 'nowhere'))).toThrow(new Error('flow lost names unknown integration nowhere'));
  });
});

describe('certificate options', () => {
  it('permit-pty only, without a flow or with nothing allowed', () => {
    expect(certificateOptionsOf(undefined)).toEqual({ extensions: ['permit-pty'], sourceAddress: [] });
    expect(certificateOptionsOf(flow('f', 'prod-linux', { forceCommand: '' }))).toEqual({ extensions: ['permit-pty'], sourceAddress: [] });
    expect(certificateOptionsOf(flow('f', 'prod-linux', { allowPortForwarding: true, sourceAddress: ['10.0.0.0/8'], forceCommand: 'uptime' }))).toEqual({
      extensions: ['permit-pty', 'permit-port-forwarding'], sourceAddress: ['10.0.0.0/8'], forceCommand: 'uptime',
    });
  });
});

describe('on-call auto-approval at the end of a shift', () => {
  const onCallFlow = (extra: Partial<Flow> = {}) => flow('oncall', 'prod-linux', {
    autoApproveOnCall: true, capToShift: true,
    requesters: { everyone: false, emails: [], slackUsergroups: [], oncall: ['pagerduty:P1'] }, ...extra,
  });
  const on = (endsAt?: number) => ({ email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P1', ...(endsAt !== undefined && { endsAt }) }] });

  it('gives nothing for a shift ending now or already over, even without the cap', () => {
    expect(onCallAutoApproval(onCallFlow(), on(NOW), HOUR, NOW)).toBeUndefined();
    expect(onCallAutoApproval(onCallFlow(), on(NOW + 999), HOUR, NOW)).toBeUndefined();
    expect(onCallAutoApproval(onCallFlow({ capToShift: false }), on(NOW - 1000), HOUR, NOW)).toBeUndefined();
  });

  it('caps to the rest of the shift, in whole seconds, and says when it ends', () => {
    expect(onCallAutoApproval(onCallFlow(), on(NOW + 1500), HOUR, NOW)).toEqual({
      schedule: 'pagerduty:P1', endsAt: NOW + 1500, duration: 1, note: 'auto-approved: on call in PagerDuty schedule P1 (shift ends 12:00 UTC)',
    });
    expect(onCallAutoApproval(onCallFlow({ capToShift: false }), on(NOW + 1500), HOUR, NOW)?.duration).toBe(HOUR);
    expect(onCallAutoApproval(onCallFlow(), on(), HOUR, NOW)).toEqual({ schedule: 'pagerduty:P1', duration: HOUR, note: 'auto-approved: on call in PagerDuty schedule P1' });
  });

  it('uses the shift that runs longest, an open-ended one above all', () => {
    const person = { email: 'x@example.com', onCall: [{ schedule: 'pagerduty:P1', endsAt: NOW + 60_000 }, { schedule: 'pagerduty:P1', endsAt: NOW + 600_000 }] };
    expect(onCallAutoApproval(onCallFlow(), person, HOUR, NOW)?.duration).toBe(600);
    expect(onCallAutoApproval(onCallFlow(), { ...person, onCall: [...person.onCall, { schedule: 'pagerduty:P1' }] }, HOUR, NOW)?.duration).toBe(HOUR);
  });

  it('writes the end of a shift as a time within a day, else with its date', () => {
    expect(formatShiftEnd(NOW + 6 * HOUR * 1000, NOW)).toBe('18:00 UTC');
    expect(formatShiftEnd(NOW + 24 * HOUR * 1000 - 1, NOW)).toBe('11:59 UTC');
    expect(formatShiftEnd(NOW + 24 * HOUR * 1000, NOW)).toBe('2026-12-02 12:00 UTC');
  });
});
