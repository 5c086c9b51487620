// /metrics on prom-client, with a registry of Keyway's own (never the global one). A scrape never walks the
// history: the state gauges are indexed counts of live rows plus the per-state tallies of migration 0007; the
// counters and histograms are fed by events as they happen, read from the audit log after a cursor (so what the CLI
// does on the same database, `keyway grant`, `keyway revoke`, counts too) and, for account cleanups, which the audit
// log does not record when they fail, through access/metrics-port.ts. Counters start at 0 when Keyway starts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { connectMetricsPort, type MetricsPort } from './access/metrics-port.js';
import type { SweepStatus } from './access/scheduler.js';
import type { InventoryHealth } from './targets/cloud/inventory-refresher.js';
import { packageRoot } from './package-root.js';
import { undeliveredCount } from './store/outbox.js';
import { auditHeadSeq, grantCountsByState, grantsIn, metricEventsBetween, requestCountsByState, requestsIn } from './store/stats.js';

/** Config reloads since start, counted where the watcher reports them (main.ts). */
export interface ConfigReloads {
  success: number;
  failure: number;
}

export interface MetricsSources {
  db: Database;
  sweep: SweepStatus;
  /** Set while the last config reload failed. */
  configError: () => string | undefined;
  configReloads?: ConfigReloads;
  /** Cloud inventories: their refreshes since start and their snapshots. */
  inventory?: () => InventoryHealth[];
}

export interface KeywayMetrics {
  registry: Registry;
  contentType: string;
  /** Reads the audit log since the last scrape, then renders every metric. */
  render(): Promise<string>;
}

const OUTCOMES = { 'request.approved': 'approved', 'request.denied': 'denied', 'request.expired': 'expired', 'request.cancelled': 'cancelled' } as const;
const TARGET_EVENTS = {
  'grant.active': ['provision', 'success'], 'grant.provision_failed': ['provision', 'failure'],
  'grant.revoked': ['revoke', 'success'], 'grant.revoke_failed': ['revoke', 'failure'],
} as const;
const EVENT_ACTIONS = [...Object.keys(OUTCOMES), ...Object.keys(TARGET_EVENTS), 'certificate.issued'];
const SYSTEM_ACTOR = 'system';

export function createMetrics(sources: MetricsSources): KeywayMetrics {
  const { db, sweep } = sources;
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'keyway_build_info', help: 'Always 1; the labels say which Keyway and which Node.js are running.', labelNames: ['version', 'node'], registers,
  }).set({ version: keywayVersion(), node: process.version }, 1);

  new Gauge({
    name: 'keyway_requests', help: 'Requests in each state now (every state, 0 included).', labelNames: ['state'], registers,
    collect() {
      for (const [state, n] of Object.entries(requestCountsByState(db))) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'keyway_grants', help: 'Grants in each state now (every state, 0 included); revoke_failed above 0 is access that should have ended.', labelNames: ['state'], registers,
    collect() {
      for (const [state, n] of Object.entries(grantCountsByState(db))) this.set({ state }, n);
    },
  });
  new Gauge({ name: 'keyway_requests_pending', help: 'Requests waiting for an approver now.', registers, collect() { this.set(requestsIn(db, 'pending')); } });
  new Gauge({ name: 'keyway_grants_active', help: 'Grants giving access on a server now.', registers, collect() { this.set(grantsIn(db, 'active')); } });
  new Gauge({ name: 'keyway_outbox_pending', help: 'Chat messages not yet delivered (Slack or Teams unreachable, or retrying).', registers, collect() { this.set(undeliveredCount(db)); } });

  const requestsTotal = new Counter({ name: 'keyway_requests_total', help: 'Requests decided since start, by outcome.', labelNames: ['outcome'], registers });
  for (const outcome of Object.values(OUTCOMES)) requestsTotal.inc({ outcome }, 0);
  const certificates = new Counter({ name: 'keyway_certificates_issued_total', help: 'SSH certificates issued for grants since start.', registers });
  const targetOps = new Counter({
    name: 'keyway_target_operations_total', help: 'Operations on targets since start: provision, revoke, cleanup; success or failure (each retry counts).',
    labelNames: ['operation', 'result'], registers,
  });
  for (const operation of ['provision', 'revoke', 'cleanup']) for (const result of ['success', 'failure']) targetOps.inc({ operation, result }, 0);
  const approvalLatency = new Histogram({
    name: 'keyway_approval_latency_seconds', help: 'Time from request to approval, for requests a person approved.', registers,
    buckets: [1, 5, 15, 30, 60, 300, 900, 3600, 14_400],
  });
  const revocationLag = new Histogram({
    name: 'keyway_revocation_lag_seconds', help: 'Time from a grant\'s expiry to its revocation on the target.', registers,
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 300, 900],
  });

  const port: MetricsPort = { targetOperation: (operation, result) => targetOps.inc({ operation, result }) };
  connectMetricsPort(db, port);

  // Counters that mirror a plain count kept elsewhere: set to it at each scrape.
  const mirror = (name: string, help: string, read: () => Record<string, number> | number, labelNames: string[] = []) =>
    new Counter({
      name, help, labelNames, registers,
      collect() {
        this.reset();
        const value = read();
        if (typeof value === 'number') this.inc(value);
        else for (const [result, n] of Object.entries(value)) this.inc({ result }, n);
      },
    });
  mirror('keyway_sweeps_total', 'Sweeper passes since start.', () => sweep.sweeps);
  mirror('keyway_sweeper_failures_total', 'Failed sweeper steps (a provision or revoke that failed, or a whole pass) since start.', () => sweep.sweepFailures);
  new Gauge({
    name: 'keyway_sweep_last_success_timestamp_seconds', help: 'When the last sweeper pass that completed finished (Unix seconds; 0: none yet).', registers,
    collect() { this.set(sweep.lastSuccessAt ? Math.floor(sweep.lastSuccessAt / 1000) : 0); },
  });
  const reloads = sources.configReloads ?? { success: 0, failure: 0 };
  mirror('keyway_config_reload_total', 'Access config reloads since start, by result (a failed one keeps the last good config).', () => ({ ...reloads }), ['result']);
  new Gauge({
    name: 'keyway_config_last_reload_success', help: '1 if the access config in force is the file as it is now, 0 if the last reload failed.', registers,
    collect() { this.set(sources.configError() === undefined ? 1 : 0); },
  });

  const inventory = sources.inventory ?? (() => []);
  new Counter({
    name: 'keyway_inventory_refresh_total', help: 'Cloud inventory refreshes since start, by integration and result (a failed one keeps the last snapshot).',
    labelNames: ['integration', 'result'], registers,
    collect() {
      this.reset();
      for (const i of inventory()) {
        this.inc({ integration: i.integration, result: 'success' }, i.successes);
        this.inc({ integration: i.integration, result: 'failure' }, i.failures);
      }
    },
  });
  new Gauge({
    name: 'keyway_inventory_servers', help: 'Servers in each cloud integration\'s inventory snapshot in force.', labelNames: ['integration'], registers,
    collect() { this.reset(); for (const i of inventory()) this.set({ integration: i.integration }, i.servers); },
  });
  new Gauge({
    name: 'keyway_inventory_snapshot_timestamp_seconds', help: 'When the snapshot in force of each cloud integration was taken (Unix seconds; 0: none yet).', labelNames: ['integration'], registers,
    collect() { this.reset(); for (const i of inventory()) this.set({ integration: i.integration }, i.snapshotAt ? Math.floor(i.snapshotAt / 1000) : 0); },
  });
  new Gauge({
    name: 'keyway_inventory_last_refresh_success', help: '1 if the last refresh of each cloud integration worked, 0 if it failed (the older snapshot stays in force).', labelNames: ['integration'], registers,
    collect() { this.reset(); for (const i of inventory()) this.set({ integration: i.integration }, i.ok ? 1 : 0); },
  });

  let cursor = auditHeadSeq(db);
  function readNewEvents(): void {
    const head = auditHeadSeq(db);
    if (head <= cursor) return;
    for (const event of metricEventsBetween(db, cursor, head, EVENT_ACTIONS)) {
      const outcome = OUTCOMES[event.action as keyof typeof OUTCOMES];
      if (outcome) requestsTotal.inc({ outcome });
      if (outcome === 'approved' && event.actor !== SYSTEM_ACTOR && event.approvalSeconds !== null) approvalLatency.observe(event.approvalSeconds);
      const op = TARGET_EVENTS[event.action as keyof typeof TARGET_EVENTS];
      if (op) targetOps.inc({ operation: op[0], result: op[1] });
      if (event.revocationLagSeconds !== null) revocationLag.observe(event.revocationLagSeconds);
      if (event.action === 'certificate.issued') certificates.inc();
    }
    cursor = head;
  }

  return {
    registry,
    contentType: registry.contentType,
    render() {
      readNewEvents();
      return registry.metrics();
    },
  };
}

let version: string | undefined;
function keywayVersion(): string {
  version ??= (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
