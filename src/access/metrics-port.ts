// What access reports to metrics that the audit log does not say: the result of each account cleanup (a failed one
// is retried every sweep, so it is logged, not audited). Kept free of any metrics library: src/metrics.ts
// implements the port and connects it to a database handle; without one connected, reporting does nothing.
import type { Database } from 'better-sqlite3';
import type { AccessContext } from './context.js';

export type TargetOperation = 'provision' | 'revoke' | 'cleanup';

export interface MetricsPort {
  targetOperation(operation: TargetOperation, result: 'success' | 'failure'): void;
}

// By database handle, so every context over the same handle (the engine's, the sweeper's) reaches the same port.
const ports = new WeakMap<Database, MetricsPort>();

export function connectMetricsPort(db: Database, port: MetricsPort): void {
  ports.set(db, port);
}

/** Awaits `work`, reports its result as `operation`, and passes the result (or the error) on unchanged. */
export async function reportTargetOperation<T>(ctx: AccessContext, operation: TargetOperation, work: Promise<T>): Promise<T> {
  try {
    const value = await work;
    ports.get(ctx.db)?.targetOperation(operation, 'success');
    return value;
  } catch (error) {
    ports.get(ctx.db)?.targetOperation(operation, 'failure');
    throw error;
  }
}
