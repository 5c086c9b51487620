// When sweeps run: a timer set for the next expiry or expiry warning (so revocation lag is seconds), and node-cron every minute
// as the backstop. Sweeps never overlap; a sweep asked for during one runs right after it.
import cron from 'node-cron';
import { nextGrantExpiry } from '../store/grants.js';
import { liveRequestsNotWarned } from '../store/requests.js';
import type { Engine } from './engine.js';
import { sweepOnce, warningTimeOf, type SweepReport } from './sweeper.js';

export interface SweepStatus {
  lastSweepAt?: number;
  /** When the last pass that completed (threw nothing) finished: /metrics' sweep age. */
  lastSuccessAt?: number;
  lastReport?: SweepReport;
  sweeps: number;
  sweepFailures: number;
  lastError?: string;
}

export interface Scheduler {
  status: SweepStatus;
  /** Runs a sweep now (or right after the running one). */
  sweepSoon(): Promise<void>;
  stop(): void;
}

// setTimeout takes at most 2^31-1 ms; a far expiry is reached through the minute backstop.
const MAX_TIMER_MS = 2_147_483_647;

export function startScheduler(engine: Engine): Scheduler {
  const { ctx, runner } = engine;
  const status: SweepStatus = { sweeps: 0, sweepFailures: 0 };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  function armTimer(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    const wakeUps = [nextGrantExpiry(ctx.db), ...liveRequestsNotWarned(ctx.db, ctx.now()).map(warningTimeOf)].filter((t) => t !== undefined);
    if (wakeUps.length === 0) return;
    const next = Math.min(...wakeUps);
    timer = setTimeout(() => void sweepSoon(), Math.min(MAX_TIMER_MS, Math.max(0, next - ctx.now())));
    timer.unref();
  }

  async function sweep(): Promise<void> {
    try {
      const report = await sweepOnce(runner);
      status.lastReport = report;
      status.sweepFailures += report.failures;
      status.lastError = undefined;
      status.lastSuccessAt = ctx.now();
    } catch (error) {
      status.sweepFailures++;
      status.lastError = (error as Error).message;
      ctx.logger.error({ err: (error as Error).message }, 'sweep failed');
    }
    status.sweeps++;
    status.lastSweepAt = ctx.now();
    engine.kick();
    armTimer();
  }

  function sweepSoon(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await sweep();
      } while (again && !stopped);
    })().finally(() => (running = undefined));
    return running;
  }

  const task = cron.schedule('* * * * *', () => void sweepSoon(), { noOverlap: true });
  engine.afterRun.push(armTimer);
  // Grants made by another process on the same database (keyway grant, keyway approve) arm the timer too.
  const recheck = setInterval(armTimer, 1_000);
  recheck.unref();
  void sweepSoon();
  return {
    status,
    sweepSoon,
    stop() {
      stopped = true;
      clearInterval(recheck);
      void task.stop();
      engine.afterRun.splice(engine.afterRun.indexOf(armTimer), 1);
      if (timer) clearTimeout(timer);
    },
  };
}
