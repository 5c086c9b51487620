// When cloud inventories are refreshed while Keyway runs: all of them at start, then each every `refresh` of its
// integration (read from the config as it is now, so an edited interval or a new integration takes effect), never two
// refreshes of the same integration at once. What each refresh came to is kept for /healthz and /metrics.
import { isCloudIntegration } from '../../core/model.js';
import { lastRefreshes, snapshotSummaries } from '../../store/inventory-snapshots.js';
import { refreshInventory, type RefreshDeps, type RefreshResult } from './inventory-refresh.js';

export interface InventoryHealth {
  integration: string;
  /** The last refresh worked. */
  ok: boolean;
  /** When the snapshot in force was taken (epoch ms); undefined: none yet. */
  snapshotAt?: number;
  servers: number;
  /** Refreshes since start, by result. */
  successes: number;
  failures: number;
}

export interface InventoryRefresher {
  /** Refreshes now (all cloud integrations, or one), after any refresh of the same integration already running. */
  refreshNow(only?: string): Promise<RefreshResult[]>;
  health(): InventoryHealth[];
  stop(): Promise<void>;
}

const TICK_MS = 5_000;

export function startInventoryRefresher(deps: RefreshDeps): InventoryRefresher {
  const running = new Map<string, Promise<RefreshResult>>();
  const counts = new Map<string, { successes: number; failures: number }>();
  const lastAttempt = new Map<string, number>();
  let stopped = false;

  const cloudIntegrations = () => deps.config().integrations.filter(isCloudIntegration);

  function refreshOne(name: string): Promise<RefreshResult> | undefined {
    const integration = cloudIntegrations().find((i) => i.name === name);
    if (!integration) return undefined;
    const previous = running.get(name) ?? Promise.resolve(undefined);
    const next = previous.then(() => {
      lastAttempt.set(name, deps.now());
      return refreshInventory(deps, integration);
    }).then((result) => {
      const count = counts.get(name) ?? { successes: 0, failures: 0 };
      if (result.ok) count.successes++;
      else count.failures++;
      counts.set(name, count);
      return result;
    }).finally(() => {
      if (running.get(name) === next) running.delete(name);
    });
    running.set(name, next);
    return next;
  }

  function tick(): void {
    if (stopped) return;
    const now = deps.now();
    for (const integration of cloudIntegrations()) {
      if (running.has(integration.name)) continue;
      const last = lastAttempt.get(integration.name);
      if (last === undefined || now - last >= integration.refresh * 1000) void refreshOne(integration.name);
    }
  }

  const timer = setInterval(tick, TICK_MS);
  timer.unref();
  tick();

  return {
    async refreshNow(only) {
      const names = cloudIntegrations().map((i) => i.name).filter((name) => only === undefined || name === only);
      return Promise.all(names.map((name) => refreshOne(name)!));
    },
    health() {
      const records = lastRefreshes(deps.db);
      const snapshots = snapshotSummaries(deps.db);
      return cloudIntegrations().map((integration) => {
        const snapshot = snapshots.get(integration.name);
        const record = records.get(integration.name);
        const count = counts.get(integration.name) ?? { successes: 0, failures: 0 };
        return {
          integration: integration.name,
          ok: record?.ok ?? false,
          ...(snapshot && { snapshotAt: snapshot.takenAt }),
          servers: snapshot?.servers ?? 0,
          ...count,
        };
      });
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.allSettled([...running.values()]);
    },
  };
}
