// /metrics in Prometheus text format, computed from the database at scrape time (so restarts lose nothing),
// plus the sweeper's in-memory counters. Served on the operations listener (METRICS_ADDR) only: see http-server.ts.
import type { Database } from 'better-sqlite3';
import type { SweepStatus } from './access/scheduler.js';
import { undeliveredCount } from './store/outbox.js';
import { approvalLatenciesSeconds, grantCountsByState, requestCountsByState, revocationLagsSeconds } from './store/stats.js';

const LATENCY_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 3600];
const LAG_BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300];

function histogram(name: string, help: string, values: number[], buckets: number[]): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const le of buckets) lines.push(`${name}_bucket{le="${le}"} ${values.filter((v) => v <= le).length}`);
  lines.push(`${name}_bucket{le="+Inf"} ${values.length}`, `${name}_sum ${values.reduce((a, b) => a + b, 0)}`, `${name}_count ${values.length}`);
  return lines;
}

export function renderMetrics(db: Database, sweep: SweepStatus): string {
  const lines: string[] = [];
  lines.push('# HELP keyway_requests Access requests by state (pending, approved, denied, expired, cancelled).', '# TYPE keyway_requests gauge');
  for (const r of requestCountsByState(db)) {
    lines.push(`keyway_requests{state="${r.state}"} ${r.n}`);
  }
  lines.push('# HELP keyway_grants Grants by state; active is access in force now.', '# TYPE keyway_grants gauge');
  for (const g of grantCountsByState(db)) {
    lines.push(`keyway_grants{state="${g.state}"} ${g.n}`);
  }
  lines.push(...histogram('keyway_approval_latency_seconds', 'Time from request to approval by a person.', approvalLatenciesSeconds(db), LATENCY_BUCKETS));
  lines.push(...histogram('keyway_revocation_lag_seconds', 'Time from a grant\'s expiry to its revocation on the server.', revocationLagsSeconds(db), LAG_BUCKETS));
  lines.push(
    '# HELP keyway_sweeps_total Sweeper passes since start.', '# TYPE keyway_sweeps_total counter', `keyway_sweeps_total ${sweep.sweeps}`,
    '# HELP keyway_sweeper_failures_total Failed sweeper steps (a provision or revoke that failed, or a whole pass) since start.',
    '# TYPE keyway_sweeper_failures_total counter', `keyway_sweeper_failures_total ${sweep.sweepFailures}`,
    '# HELP keyway_last_sweep_timestamp_seconds When the last sweep finished.', '# TYPE keyway_last_sweep_timestamp_seconds gauge',
    `keyway_last_sweep_timestamp_seconds ${sweep.lastSweepAt ? Math.floor(sweep.lastSweepAt / 1000) : 0}`,
    '# HELP keyway_chat_messages_owed Messages not yet delivered to a chat platform.', '# TYPE keyway_chat_messages_owed gauge',
    `keyway_chat_messages_owed ${undeliveredCount(db)}`,
  );
  return lines.join('\n') + '\n';
}
