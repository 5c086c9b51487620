// Two small clocks the sweeper relies on: how long to wait before retrying a failed provision or revoke, and when
// to warn a requester that access is about to end.
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/core/backoff.js';
import { expiryWarningAt } from '../../src/core/expiry-warning.js';

describe('retryDelayMs', () => {
  it('waits 15 s after the first failure and doubles after each one', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n))).toEqual([15_000, 30_000, 60_000, 120_000, 240_000]);
  });

  it('never waits more than 15 minutes, however many failures', () => {
    expect(retryDelayMs(7)).toBe(15 * 60_000); // 16 min uncapped
    expect(retryDelayMs(6)).toBe(8 * 60_000);
    expect(retryDelayMs(1_000)).toBe(15 * 60_000);
  });

  it('treats "no failure yet" like the first', () => {
    expect(retryDelayMs(0)).toBe(15_000);
    expect(retryDelayMs(-3)).toBe(15_000);
  });

  it('takes another base and cap', () => {
    expect(retryDelayMs(3, 1_000, 3_000)).toBe(3_000);
    expect(retryDelayMs(2, 1_000, 3_000)).toBe(2_000);
  });
});

describe('expiryWarningAt', () => {
  const approvedAt = Date.UTC(2026, 11, 1, 9);

  it('warns ten minutes before the end of a long grant', () => {
    expect(expiryWarningAt(approvedAt, approvedAt + 3600_000)).toBe(approvedAt + 50 * 60_000);
    expect(expiryWarningAt(approvedAt, approvedAt + 40 * 60_000)).toBe(approvedAt + 30 * 60_000); // exactly a quarter
  });

  it('warns a quarter of the length before the end of a grant shorter than 40 minutes', () => {
    expect(expiryWarningAt(approvedAt, approvedAt + 20 * 60_000)).toBe(approvedAt + 15 * 60_000);
    expect(expiryWarningAt(approvedAt, approvedAt + 10_003)).toBe(approvedAt + 10_003 - 2_500); // rounded down
  });
});
