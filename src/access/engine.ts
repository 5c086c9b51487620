// After a state change, the work it causes: provision newly approved grants, then deliver what is owed on chat.
// kick() coalesces: one run at a time, and a kick during a run causes exactly one more run.
// Chat acknowledgements come before all of it (Slack gives up after 3 s): the chat transports say when a request
// arrives and when it has been answered, and work that can wait (a handler's work after its ack, provisioning,
// deliveries) starts only once no request is waiting for its answer — SQLite's fsyncs block the event loop.
import { listGrants } from '../store/grants.js';
import type { ChatPlatform } from './chat-port.js';
import type { AccessContext } from './context.js';
import { provisionGrant, type GrantRunner } from './grant-runner.js';
import { createNotifier, type Notifier } from './notifier.js';
import { dispatchOutbox, type PlatformStatus } from './outbox-dispatcher.js';

/** Lets chat acknowledgements go before the work that can wait. */
export interface AcknowledgementsFirst {
  /** An inbound chat request arrived; call the returned function once it has been answered (idempotent). */
  arrived(): () => void;
  /**
   * Resolves once no inbound request is waiting for its answer and none has arrived for `settleMs` (a burst is
   * answered whole before its work begins), one waiter per turn of the event loop (so the requests that arrive
   * meanwhile are answered between two pieces of work); after `maxWaitMs` regardless, so a steady stream of
   * requests never starves the work.
   */
  quiet(): Promise<void>;
}

export interface AcknowledgementsOptions {
  maxWaitMs?: number;
  settleMs?: number;
}

export function acknowledgementsFirst({ maxWaitMs = 500, settleMs = 20 }: AcknowledgementsOptions = {}): AcknowledgementsFirst {
  let waiting = 0;
  let lastArrival = Number.NEGATIVE_INFINITY;
  const queue: Array<{ resolve: () => void; since: number }> = [];
  let turn: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;

  /** Milliseconds until the oldest piece of work may go; 0 when it may go now. */
  function holdFor(now: number): number {
    const overdueIn = queue[0]!.since + maxWaitMs - now;
    const settlesIn = waiting > 0 ? Number.POSITIVE_INFINITY : lastArrival + settleMs - now;
    return Math.max(0, Math.min(overdueIn, settlesIn));
  }

  // One waiter per turn of the event loop, from setImmediate (after the poll phase): requests that arrive
  // meanwhile are read and answered between two pieces of work. While requests wait or keep arriving, work
  // waits too, until the oldest piece has waited maxWaitMs: then it goes on one piece per turn, interleaved
  // with the answers.
  function schedule(): void {
    if (turn || queue.length === 0) return;
    const hold = holdFor(performance.now());
    clearTimeout(timer);
    timer = undefined;
    if (hold > 0) {
      timer = setTimeout(() => {
        timer = undefined;
        schedule();
      }, hold);
      return;
    }
    turn = setImmediate(() => {
      turn = undefined;
      if (holdFor(performance.now()) === 0) queue.shift()!.resolve();
      schedule();
    });
  }

  return {
    arrived() {
      waiting++;
      lastArrival = performance.now();
      let answered = false;
      return () => {
        if (answered) return;
        answered = true;
        waiting--;
        if (waiting === 0) schedule();
      };
    },
    quiet() {
      return new Promise<void>((resolve) => {
        queue.push({ resolve, since: performance.now() });
        schedule();
      });
    },
  };
}

export interface Engine {
  ctx: AccessContext;
  /** Chat transports report their requests here; follow-up work and handlers' work wait for quiet(). */
  acknowledgements: AcknowledgementsFirst;
  runner: GrantRunner;
  platforms: ChatPlatform[];
  /** Decides who hears what on each platform and sends it once (also used to refresh approval messages at once). */
  notifier: Notifier;
  /** Whether each chat platform took its last delivery. */
  platformStatus: PlatformStatus;
  /** Schedules the follow-up work of a state change; returns at once (Slack wants its answer in 3 s). */
  kick(): void;
  /** Resolves when no kicked work is left. */
  idle(): Promise<void>;
  /** Called after each run (the scheduler re-arms its expiry timer for grants that just became active). */
  afterRun: Array<() => void>;
}

export interface EngineOptions {
  /** Replaces the notifier (tests that watch the dispatching alone). */
  notifier?: Notifier;
}

export function createEngine(runner: GrantRunner, platforms: ChatPlatform[], options: EngineOptions = {}): Engine {
  const { ctx } = runner;
  const notifier = options.notifier ?? createNotifier(runner, platforms);
  const acknowledgements = acknowledgementsFirst();
  let running: Promise<void> | undefined;
  let again = false;

  async function runOnce(): Promise<void> {
    await acknowledgements.quiet();
    const fresh = listGrants(ctx.db, { states: ['provisioning'] }).filter((g) => g.expiresAt > ctx.now());
    await Promise.all(fresh.map(async (g) => {
      await acknowledgements.quiet();
      await provisionGrant(runner, g.id);
    }));
    const dispatched = await dispatchOutbox(ctx.db, platforms, notifier, ctx.now, ctx.logger, engine.platformStatus, acknowledgements.quiet);
    if (dispatched.more) again = true;
    for (const listener of engine.afterRun) listener();
  }

  function loop(): Promise<void> {
    again = false;
    return runOnce()
      .catch((error: unknown) => ctx.logger.error({ err: (error as Error).message }, 'follow-up work failed; the sweeper retries it'))
      .then(() => (again ? loop() : undefined));
  }

  const engine: Engine = {
    ctx,
    acknowledgements,
    runner,
    platforms,
    notifier,
    platformStatus: {},
    afterRun: [],
    kick() {
      if (running) {
        again = true;
        return;
      }
      running = loop().finally(() => (running = undefined));
    },
    async idle() {
      while (running) await running;
    },
  };
  // Services schedule their own follow-up work (context.ts): every state change they commit kicks this engine.
  ctx.schedule = () => engine.kick();
  return engine;
}
