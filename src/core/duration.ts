// Durations as people type them ("45s", "30m", "2h", "1d", "1h30m"), in whole seconds.
import { UserError } from './errors.js';

const UNIT_SECONDS: Record<string, number> = { d: 86_400, h: 3_600, m: 60, s: 1 };
const ORDER = 'dhms';
const DURATION = /^(?:\d+[dhms])+$/;

export function parseDuration(text: string): number {
  const input = text.trim().toLowerCase();
  if (!DURATION.test(input)) {
    throw new UserError('duration_invalid', `"${text}" is not a duration: use a number and a unit, like 45s, 30m, 2h, 1d or 1h30m.`);
  }
  let total = 0;
  let lastUnit = -1;
  for (const [, amount, unit] of input.matchAll(/(\d+)([dhms])/g)) {
    const position = ORDER.indexOf(unit!);
    if (position <= lastUnit) {
      throw new UserError('duration_invalid', `"${text}" is not a duration: give each unit once, largest first, like 1h30m.`);
    }
    lastUnit = position;
    total += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  if (total <= 0 || !Number.isSafeInteger(total)) {
    throw new UserError('duration_invalid', `"${text}" is not a usable duration: it must be more than zero.`);
  }
  return total;
}

export function formatDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  let rest = Math.floor(seconds);
  let out = '';
  for (const unit of ORDER) {
    const size = UNIT_SECONDS[unit]!;
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}

/** Checks a requested duration against a maximum; never silently shortens what a person asked for. */
export function checkDuration(seconds: number, maxSeconds: number, what = 'This flow'): number {
  if (seconds > maxSeconds) {
    throw new UserError(
      'duration_too_long',
      `${formatDuration(seconds)} is longer than ${what.toLowerCase() === 'this flow' ? 'this flow allows' : what} (${formatDuration(maxSeconds)} at most): ask for ${formatDuration(maxSeconds)} or less.`,
    );
  }
  return seconds;
}
