// After a state change, the work it causes: provision newly approved grants, then deliver what is owed on chat.
// kick() coalesces: one run at a time, and a kick during a run causes exactly one more run.
import { listGrants } from '../store/grants.js';
import type { ChatPlatform } from './chat-port.js';
import type { AccessContext } from './context.js';
import { provisionGrant, type GrantRunner } from './grant-runner.js';
import { createNotifier, type Notifier } from './notifier.js';
import { dispatchOutbox, type PlatformStatus } from './outbox-dispatcher.js';

export interface Engine {
  ctx: AccessContext;
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
  let running: Promise<void> | undefined;
  let again = false;

  async function runOnce(): Promise<void> {
    const fresh = listGrants(ctx.db, { states: ['provisioning'] }).filter((g) => g.expiresAt > ctx.now());
    await Promise.all(fresh.map((g) => provisionGrant(runner, g.id)));
    const dispatched = await dispatchOutbox(ctx.db, platforms, notifier, ctx.now, ctx.logger, engine.platformStatus);
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
