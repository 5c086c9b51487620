// /metrics (issue 14): every request and grant state is exported, 0 included; counters and histograms follow the
// events as they happen (request, approval, grant, certificate, expiry, revoke, cleanup); and a scrape reads no
// history, so 100,000 ended requests in the database do not slow it down.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import { provisionRequest } from '../../src/access/grant-runner.js';
import { cancelRequest, submitRequest, voteOnRequest } from '../../src/access/requests.js';
import type { SweepStatus } from '../../src/access/scheduler.js';
import { sweepOnce } from '../../src/access/sweeper.js';
import { GRANT_STATES, REQUEST_STATES } from '../../src/core/lifecycle.js';
import { startMetricsServer } from '../../src/http-server.js';
import type { ConfigReloads } from '../../src/metrics.js';
import { appendAudit } from '../../src/store/audit-log.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { accessConfig, integration, server } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { createGrantRunner } from '../helpers/grant-runner.js';

class RecordingHosts implements HostEffects {
  calls: string[] = [];
  failCleanup = false;
  async provision(ref: Parameters<HostEffects['provision']>[0]) { this.calls.push(`provision ${ref.server.name}`); }
  async revoke(ref: Parameters<HostEffects['revoke']>[0]) { this.calls.push(`revoke ${ref.server.name}`); return undefined; }
  async cleanup(ref: Parameters<HostEffects['cleanup']>[0], user: string) {
    if (this.failCleanup) throw new Error(`${ref.server.name}: connect ECONNREFUSED`);
    this.calls.push(`cleanup ${user} ${ref.server.name}`);
  }
}

let ctx: TestContext | undefined;
let listener: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => (listener ? listener.close(resolve) : resolve(undefined)));
  listener = undefined;
  ctx?.close();
  ctx = undefined;
});

const config = accessConfig({
  integrations: [integration('prod-linux', [server('web-2', { tags: { env: 'prod' } })], { cleanupAfterDays: 1 })],
});

async function serveMetrics(c: TestContext, sweep: SweepStatus = { sweeps: 0, sweepFailures: 0 }, configReloads?: ConfigReloads, configError?: string) {
  listener = await startMetricsServer({ host: '127.0.0.1', port: 0 }, {
    db: c.db, sweep, configError: () => configError, configReloads, chat: () => ({}), now: c.now, logger: c.logger,
  });
  const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/metrics`;
  return async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text();
  };
}

/** name{labels} → value, from the Prometheus text format. */
function samples(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    map.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return map;
}

describe('/metrics', () => {
  it('exports every request and grant state with 0 on an empty database, and every metric of the reference', async () => {
    ctx = testContext(config);
    const scrape = await serveMetrics(ctx, { sweeps: 2, sweepFailures: 1, lastSweepAt: ctx.now(), lastSuccessAt: ctx.now() - 60_000 }, { success: 3, failure: 1 }, 'access.yaml:3:1: bad');
    const text = await scrape();
    const m = samples(text);
    for (const state of REQUEST_STATES) expect(m.get(`keyway_requests{state="${state}"}`), state).toBe(0);
    for (const state of GRANT_STATES) expect(m.get(`keyway_grants{state="${state}"}`), state).toBe(0);
    for (const outcome of ['approved', 'denied', 'expired', 'cancelled']) expect(m.get(`keyway_requests_total{outcome="${outcome}"}`)).toBe(0);
    for (const operation of ['provision', 'revoke', 'cleanup']) {
      for (const result of ['success', 'failure']) expect(m.get(`keyway_target_operations_total{operation="${operation}",result="${result}"}`)).toBe(0);
    }
    expect(Object.fromEntries([...m].filter(([k]) => /^keyway_(requests_pending|grants_active|outbox_pending|certificates_issued_total|sweeps_total|sweeper_failures_total|config_|sweep_last)/.test(k)))).toEqual({
      keyway_requests_pending: 0,
      keyway_grants_active: 0,
      keyway_outbox_pending: 0,
      keyway_certificates_issued_total: 0,
      keyway_sweeps_total: 2,
      keyway_sweeper_failures_total: 1,
      keyway_sweep_last_success_timestamp_seconds: Math.floor((ctx.now() - 60_000) / 1000),
      'keyway_config_reload_total{result="success"}': 3,
      'keyway_config_reload_total{result="failure"}': 1,
      keyway_config_last_reload_success: 0,
    });
    expect(m.get(`keyway_build_info{version="0.1.0",node="${process.version}"}`)).toBe(1);
    expect(m.get('keyway_approval_latency_seconds_count')).toBe(0);
    expect(m.get('keyway_revocation_lag_seconds_count')).toBe(0);
    // Default process metrics, on Keyway's own registry.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    for (const [name, type] of [['keyway_requests', 'gauge'], ['keyway_requests_total', 'counter'], ['keyway_approval_latency_seconds', 'histogram']]) {
      expect(text).toContain(`# TYPE ${name} ${type}\n`);
    }
  });

  it('counts a request, its approval, the grant, the certificate, the expiry and revoke, and the cleanup as they happen', async () => {
    ctx = testContext(config);
    const c = ctx;
    registerKey(c, 'dev@example.com', 'dev');
    const hosts = new RecordingHosts();
    const runner = createGrantRunner(c, hosts, generateCaKey().caKey);
    const scrape = await serveMetrics(c);

    const { request } = submitRequest(c, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: 'INC-1' }, 'test');
    let m = samples(await scrape());
    expect(m.get('keyway_requests_pending')).toBe(1);
    expect(m.get('keyway_requests{state="pending"}')).toBe(1);
    expect(m.get('keyway_outbox_pending')).toBeGreaterThan(0);

    const approver = { email: request.approvers.emails[0]! };
    c.clock.now += 30_000;
    expect(voteOnRequest(c, request.id, approver, 'approve').kind).toBe('approved');
    const [grant] = await provisionRequest(runner, request.id);
    expect(grant!.state).toBe('active');
    const denied = submitRequest(c, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 600, reason: 'INC-2' }, 'test').request;
    voteOnRequest(c, denied.id, approver, 'deny', { reason: 'not now' });
    const cancelled = submitRequest(c, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 600, reason: 'INC-3' }, 'test').request;
    cancelRequest(c, cancelled.id, 'dev@example.com');
    m = samples(await scrape());
    expect(m.get('keyway_requests_pending')).toBe(0);
    expect(m.get('keyway_grants_active')).toBe(1);
    expect(m.get('keyway_grants{state="active"}')).toBe(1);
    expect(m.get('keyway_requests{state="approved"}')).toBe(1);
    expect(m.get('keyway_requests{state="denied"}')).toBe(1);
    expect(m.get('keyway_requests{state="cancelled"}')).toBe(1);
    expect(m.get('keyway_requests_total{outcome="approved"}')).toBe(1);
    expect(m.get('keyway_requests_total{outcome="denied"}')).toBe(1);
    expect(m.get('keyway_requests_total{outcome="cancelled"}')).toBe(1);
    expect(m.get('keyway_certificates_issued_total')).toBe(1);
    expect(m.get('keyway_target_operations_total{operation="provision",result="success"}')).toBe(1);
    expect(m.get('keyway_approval_latency_seconds_count')).toBe(1);
    expect(m.get('keyway_approval_latency_seconds_sum')).toBe(30);
    expect(m.get('keyway_approval_latency_seconds_bucket{le="15"}')).toBe(0);
    expect(m.get('keyway_approval_latency_seconds_bucket{le="30"}')).toBe(1);

    // Expiry: the sweeper revokes 2 s after the grant's end.
    c.clock.now = grant!.expiresAt + 2_000;
    await sweepOnce(runner);
    m = samples(await scrape());
    expect(m.get('keyway_grants_active')).toBe(0);
    expect(m.get('keyway_grants{state="revoked"}')).toBe(1);
    expect(m.get('keyway_target_operations_total{operation="revoke",result="success"}')).toBe(1);
    expect(m.get('keyway_revocation_lag_seconds_count')).toBe(1);
    expect(m.get('keyway_revocation_lag_seconds_sum')).toBe(2);
    expect(m.get('keyway_revocation_lag_seconds_bucket{le="1"}')).toBe(0);
    expect(m.get('keyway_revocation_lag_seconds_bucket{le="2"}')).toBe(1);

    // Cleanup after cleanup_after_days: a failure, then the retry that succeeds.
    c.clock.now += 2 * 86_400_000;
    hosts.failCleanup = true;
    await sweepOnce(runner);
    hosts.failCleanup = false;
    await sweepOnce(runner);
    m = samples(await scrape());
    expect(m.get('keyway_target_operations_total{operation="cleanup",result="failure"}')).toBe(1);
    expect(m.get('keyway_target_operations_total{operation="cleanup",result="success"}')).toBe(1);
    expect(m.get('keyway_grants{state="cleaned"}')).toBe(1);
    expect(m.get('keyway_grants{state="revoked"}')).toBe(0);

    // The per-state counts agree with counting every row (which a scrape never does).
    const counted = Object.fromEntries((c.db.prepare('SELECT state, COUNT(*) AS n FROM grants GROUP BY state').all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));
    for (const state of GRANT_STATES) expect(m.get(`keyway_grants{state="${state}"}`), state).toBe(counted[state] ?? 0);
  });

  it('scrapes in under 20 ms with 100,000 ended requests, their grants and their audit entries in the database', async () => {
    ctx = testContext(config);
    const c = ctx;
    const ended = ['approved', 'denied', 'expired', 'cancelled'] as const;
    const insertRequest = c.db.prepare(`INSERT INTO requests (requester_email, linux_user, flow, integration, servers, groups, duration_seconds, reason,
      approvers, min_approvals, source, state, created_at, pending_until, decided_at, decided_by, access_expires_at)
      VALUES ('dev@example.com', 'dev', 'prod-debug', 'prod-linux', '["web-2"]', '[]', 3600, 'history', '{}', 1, 'test', ?, ?, ?, ?, 'platform@example.com', ?)`);
    const insertGrant = c.db.prepare(`INSERT INTO grants (request_id, integration, server, linux_user, groups, principal, state, expires_at, created_at, updated_at, revoked_at)
      VALUES (?, 'prod-linux', 'web-2', 'dev', '[]', ?, ?, ?, ?, ?, ?)`);
    const t0 = c.now() - 400 * 86_400_000;
    c.db.transaction(() => {
      for (let i = 0; i < 100_000; i++) {
        const at = t0 + i * 60_000;
        const state = ended[i % 4]!;
        const id = Number(insertRequest.run(state, at, at + 3_600_000, at + 30_000, state === 'approved' ? at + 3_630_000 : null).lastInsertRowid);
        if (state === 'approved') insertGrant.run(id, `keyway-req-${id}`, i % 8 === 0 ? 'cleaned' : 'revoked', at + 3_630_000, at + 30_000, at + 3_631_000, at + 3_631_000);
      }
    })();
    const insertAudit = c.db.prepare("INSERT INTO audit_log (at, actor, action, subject, details, prev_hash, hash) VALUES (?, 'system', 'grant.revoked', ?, '{}', '', '')");
    c.db.transaction(() => {
      for (let i = 1; i <= 100_000; i++) insertAudit.run(t0 + i, `grant:${i}`);
    })();
    appendAudit(c.db, { actor: 'system', action: 'request.expired', subject: 'request:3', details: {} }, c.now());

    const scrape = await serveMetrics(c);
    const times: number[] = [];
    let text = '';
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      text = await scrape();
      times.push(performance.now() - start);
    }
    const m = samples(text);
    expect(m.get('keyway_requests{state="approved"}')).toBe(25_000);
    expect(m.get('keyway_requests{state="expired"}')).toBe(25_000);
    expect(m.get('keyway_grants{state="cleaned"}')).toBe(12_500);
    expect(m.get('keyway_grants{state="revoked"}')).toBe(12_500);
    expect(m.get('keyway_requests_pending')).toBe(0);
    const sorted = [...times].sort((a, b) => a - b);
    console.log(`/metrics scrape with 100,000 ended requests: best ${sorted[0]!.toFixed(2)} ms, median ${sorted[2]!.toFixed(2)} ms (of 5)`);
    // The best of 5: one slow scrape on a loaded machine says nothing about the work a scrape does.
    expect(sorted[0]).toBeLessThan(20);
  });
});
