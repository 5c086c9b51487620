// One sweeper per database: `keyway start` holds a lease row while it runs. A holder on this machine whose
// process is gone does not block a restart; one on another machine blocks until its lease runs out.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export const LEASE_MS = 30_000;

export interface LeaseHolder {
  host: string;
  pid: number;
  /** Tells two Keyways in one process apart (tests), and a restarted process from its predecessor. */
  instance: string;
}

export function newLeaseHolder(): LeaseHolder {
  return { host: hostname(), pid: process.pid, instance: randomUUID() };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function currentHolder(db: Database, name: string): (LeaseHolder & { expiresAt: number }) | undefined {
  const row = statement(db, 'SELECT holder, expires_at FROM leases WHERE name = ?').get(name) as { holder: string; expires_at: number } | undefined;
  if (!row) return undefined;
  const [host, pid, instance] = row.holder.split(':');
  return { host: host ?? '', pid: Number(pid), instance: instance ?? '', expiresAt: row.expires_at };
}

/** Takes or renews the lease; returns the other holder when someone else has it. */
export function acquireLease(db: Database, name: string, now: number, me: LeaseHolder): LeaseHolder | undefined {
  return db.transaction(() => {
    const holder = currentHolder(db, name);
    const mine = holder && holder.host === me.host && holder.pid === me.pid && holder.instance === me.instance;
    const stale = holder && (holder.expiresAt <= now || (holder.host === me.host && !processAlive(holder.pid)));
    if (holder && !mine && !stale) return { host: holder.host, pid: holder.pid, instance: holder.instance };
    statement(db, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`).run(name, holderText(me), now + LEASE_MS);
    return undefined;
  }).immediate();
}

export function releaseLease(db: Database, name: string, me: LeaseHolder): void {
  statement(db, 'DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holderText(me));
}

function holderText(me: LeaseHolder): string {
  return `${me.host}:${me.pid}:${me.instance}`;
}
