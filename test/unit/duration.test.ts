import { describe, expect, it } from 'vitest';
import { checkDuration, formatDuration, parseDuration } from '../../src/core/duration.js';

describe('durations', () => {
  it.each([['45s', 45], ['30m', 1800], ['2h', 7200], ['1d', 86400], ['1h30m', 5400], [' 2H ', 7200], ['1d2h3m4s', 93784]])('parses %s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['2x', '', 'h', '1.5h', '-1h', '30m1h', '1h1h', '0s', '1 h', '$(reboot)', '١h'])('refuses %j with a specific error', (text) => {
    expect(() => parseDuration(text)).toThrowError(expect.objectContaining({ code: 'duration_invalid' }));
  });

  it('formats durations the way people type them', () => {
    expect(formatDuration(5400)).toBe('1h30m');
    expect(formatDuration(86400 + 45)).toBe('1d45s');
  });

  it('refuses a duration over the maximum instead of shortening it silently', () => {
    expect(checkDuration(3600, 7200)).toBe(3600);
    expect(() => checkDuration(9 * 3600, 8 * 3600)).toThrowError(/9h is longer than this flow allows \(8h at most\)/);
  });
});
