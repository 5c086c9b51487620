// Keeps each schedule's answer for a short time, so a burst of requests makes one provider call; calls already on
// their way are shared. Failures are not kept: the next request asks again (and is again refused on-call status).
import type { OncallProvider, Shift } from './port.js';

interface Entry {
  at: number;
  shifts: Promise<Shift[]>;
}

export function cachedProvider(provider: OncallProvider, ttlMs: number, now: () => number): OncallProvider {
  const entries = new Map<string, Entry>();
  return {
    whoIsOnCall(scheduleId, at) {
      const kept = entries.get(scheduleId);
      // A kept answer serves moments within its lifetime; shifts that ended since are left out.
      if (kept && now() - kept.at < ttlMs && at >= kept.at) {
        return kept.shifts.then((shifts) => shifts.filter((s) => s.endsAt === undefined || s.endsAt > at));
      }
      const shifts = provider.whoIsOnCall(scheduleId, at);
      const entry = { at: now(), shifts };
      entries.set(scheduleId, entry);
      shifts.catch(() => {
        if (entries.get(scheduleId) === entry) entries.delete(scheduleId);
      });
      return shifts;
    },
  };
}
