// Retry delays: exponential from 15 s, capped at 15 minutes, so a server that is down for an hour is retried
// a few times an hour and one that comes back is noticed soon.
export function retryDelayMs(attempts: number, baseMs = 15_000, capMs = 15 * 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}
