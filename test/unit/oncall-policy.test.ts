// The pure on-call rules: who counts as a requester or approver by shift, the auto-approval and its cap, and the
// decision record's words. No provider here: the shifts are passed in, as access/oncall.ts does.
import { describe, expect, it } from 'vitest';
import {
  assertMayDecide, groupsWithShifts, isInAudience, onCallAutoApproval, planRequest, resolveApprovers, splitShiftGroups, stillApprovers, whoDecides,
} from '../../src/core/policy.js';
import { accessConfig, flow } from '../helpers/access-config.js';

const NOW = Date.UTC(2026, 10, 23, 12);
const HOUR = 3600 * 1000;
const onCallFlow = flow('oncall', 'prod-linux', {
  resources: { integration: 'prod-linux', servers: ['web-2'], tags: {} },
  requesters: { everyone: false, emails: [], slackUsergroups: [], oncall: ['pagerduty:PSCHED1'] },
  approvers: { everyone: false, emails: ['lead@example.com'], slackUsergroups: [], oncall: ['pagerduty:PAPPR'] },
  autoApproveOnCall: true,
});

describe('on-call policy', () => {
  it('lets in a requester on call in a schedule the flow names, and nobody off call', () => {
    const audience = onCallFlow.requesters;
    expect(isInAudience(audience, { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:PSCHED1' }] })).toBe(true);
    expect(isInAudience(audience, { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:OTHER' }] })).toBe(false);
    expect(isInAudience(audience, { email: 'dev@example.com' })).toBe(false);
  });

  it('auto-approves in the requesters\' or the approvers\' schedules, capped to the rest of the shift', () => {
    const person = { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:PAPPR', endsAt: NOW + 2 * HOUR }] };
    expect(onCallAutoApproval(onCallFlow, person, 4 * 3600, NOW)).toEqual({
      schedule: 'pagerduty:PAPPR', endsAt: NOW + 2 * HOUR, duration: 2 * 3600,
      note: 'auto-approved: on call in PagerDuty schedule PAPPR (shift ends 14:00 UTC)',
    });
    expect(onCallAutoApproval({ ...onCallFlow, capToShift: false }, person, 4 * 3600, NOW)?.duration).toBe(4 * 3600);
    expect(onCallAutoApproval(onCallFlow, person, 30 * 60, NOW)?.duration).toBe(30 * 60);
  });

  it('gives no auto-approval off call, on a flow without on_call, or when the shift has ended', () => {
    const onCall = { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:PSCHED1', endsAt: NOW + HOUR }] };
    expect(onCallAutoApproval(onCallFlow, { email: 'dev@example.com' }, 3600, NOW)).toBeUndefined();
    expect(onCallAutoApproval({ ...onCallFlow, autoApproveOnCall: false }, onCall, 3600, NOW)).toBeUndefined();
    expect(onCallAutoApproval(onCallFlow, onCall, 3600, NOW + HOUR)).toBeUndefined();
  });

  it('uses the shift that runs longest and names a day for a shift ending after tomorrow', () => {
    const person = { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:PSCHED1', endsAt: NOW + HOUR }, { schedule: 'opsgenie:sre', endsAt: NOW + 30 * HOUR }] };
    const flowBoth = { ...onCallFlow, requesters: { ...onCallFlow.requesters, oncall: ['pagerduty:PSCHED1', 'opsgenie:sre'] } };
    expect(onCallAutoApproval(flowBoth, person, 3600, NOW)?.note).toBe('auto-approved: on call in Opsgenie schedule sre (shift ends 2026-11-24 18:00 UTC)');
  });

  it('asks whoever is on call among the approvers now, and lets the schedule decide at the click', () => {
    const config = accessConfig({ flows: [onCallFlow] });
    const plan = planRequest(config, { email: 'dev@example.com', onCall: [{ schedule: 'pagerduty:PSCHED1' }] }, { servers: ['web-2'], reason: 'INC-1' },
      new Map([['pagerduty:PAPPR', ['oncall@example.com', 'dev@example.com']]]));
    expect(plan.approvers).toEqual({ source: 'flow', emails: ['lead@example.com', 'oncall@example.com'], slackUsergroups: [], oncall: ['pagerduty:PAPPR'] });
    const check = { requesterEmail: 'dev@example.com', approvers: plan.approvers, allowSelfApproval: false };
    expect(() => assertMayDecide(check, { email: 'later@example.com', onCall: [{ schedule: 'pagerduty:PAPPR' }] }, 1)).not.toThrow();
    expect(() => assertMayDecide(check, { email: 'later@example.com' }, 1)).toThrow(/whoever is on call in PagerDuty schedule PAPPR/);
    // At the click, the e-mails asked because they were on call no longer count by themselves: the shift does.
    const current = resolveApprovers(onCallFlow, config.integrations[0]!, [], 'dev@example.com', false);
    expect(stillApprovers(plan.approvers, current)).toEqual({ source: 'flow', emails: ['lead@example.com'], slackUsergroups: [], oncall: ['pagerduty:PAPPR'] });
    expect(whoDecides(current)).toBe('lead@example.com or whoever is on call in PagerDuty schedule PAPPR can decide it');
  });

  it('records shifts with a person\'s groups and reads them back', () => {
    const recorded = groupsWithShifts(['S0DEVS'], [{ schedule: 'pagerduty:PSCHED1', endsAt: NOW }]);
    expect(recorded).toEqual(['S0DEVS', 'oncall:pagerduty:PSCHED1']);
    expect(splitShiftGroups(recorded)).toEqual({ usergroups: ['S0DEVS'], onCall: [{ schedule: 'pagerduty:PSCHED1' }] });
  });
});
