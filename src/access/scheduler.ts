// When sweeps run: a timer set for the next expiry or expiry warning, and node-cron every minute as the backstop.
// Sweeps never overlap; a sweep asked for during one runs right after it. An expiry does not wait for a sweep: the
// timer fires at the earliest expires_at (re-armed whenever grants change) and ends the access that is due right
// then, alongside a sweep that may be running (each grant's operations still run one after another, see
// grant-runner's exclusively), so the revocation lag is the timer's and the revoke's own, not a sweep's.
import cron from 'node-cron';
import { grantsDueForRevoke, nextGrantExpiry } from '../store/grants.js';
import { liveRequestsNotWarned } from '../store/requests.js';
import type { Engine } from './engine.js';
import { beginEndingAccess, revokeGrants } from './grant-runner.js';
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
/** A wake-up still due after the timer handled it (it could not be ended) is looked at again this long after. */
const RETRY_DUE_MS = 250;

export function startScheduler(engine: Engine): Scheduler {
  const { ctx, runner } = engine;
  const status: SweepStatus = { sweeps: 0, sweepFailures: 0 };
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  let firedAt = Number.NEGATIVE_INFINITY;

  function armTimer(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    const expiry = nextGrantExpiry(ctx.db);
    const warnings = liveRequestsNotWarned(ctx.db, ctx.now()).map(warningTimeOf);
    // A wake-up the timer has handled already and that is still due (it could not be ended, or its warning is being
    // sent by a sweep): looked at again after a short pause, not in a busy loop, and never holding up a later one.
    const wakeUps = [expiry, ...warnings].filter((t) => t !== undefined).map((t) => (t <= firedAt ? firedAt + RETRY_DUE_MS : t));
    if (wakeUps.length === 0) return;
    const delay = Math.max(0, Math.min(...wakeUps) - ctx.now());
    timer = setTimeout(onTimer, Math.min(MAX_TIMER_MS, delay));
    timer.unref();
  }

  /** Ends the access whose time is up now, without waiting for a running sweep; a due warning is the sweep's. */
  function onTimer(): void {
    timer = undefined;
    if (stopped) return;
    const now = ctx.now();
    firedAt = now;
    try {
      const requests = [...new Set(grantsDueForRevoke(ctx.db, now).map((g) => g.requestId))];
      const ids = requests.flatMap((requestId) => beginEndingAccess(runner, requestId, 'expired', 'system'));
      if (ids.length > 0) {
        void revokeGrants(runner, ids, 'system').then((states) => {
          const failed = [...states.values()].filter((state) => state === 'revoke_failed').length;
          if (failed > 0) status.sweepFailures += failed;
        }, (error: unknown) => {
          status.sweepFailures++;
          ctx.logger.error({ err: (error as Error).message }, 'revoke at expiry failed; the sweep retries it');
        }).finally(() => engine.kick());
        engine.kick(); // the access_ended messages
      }
    } catch (error) {
      ctx.logger.error({ err: (error as Error).message }, 'ending access at expiry failed; the sweep retries it');
    }
    if (liveRequestsNotWarned(ctx.db, now).some((r) => warningTimeOf(r) <= now)) void sweepSoon();
    armTimer();
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
