// Host keys pinned on first contact, one per integration and server (the connection pool's trust anchor).
import type { Database } from 'better-sqlite3';
import { statement } from './statements.js';

export interface PinnedHostKey {
  integration: string;
  server: string;
  host: string;
  port: number;
  /** 'SHA256:…' as ssh-keygen -l prints it */
  fingerprint: string;
  pinnedAt: number;
}

export interface HostKeyAddress {
  integration: string;
  server: string;
  host: string;
  port: number;
}

export function getPinnedHostKey(db: Database, integration: string, server: string): PinnedHostKey | undefined {
  return statement(db, `SELECT integration, server, host, port, fingerprint, pinned_at AS pinnedAt
    FROM host_keys WHERE integration = ? AND server = ?`).get(integration, server) as PinnedHostKey | undefined;
}

/** Pins (or, for `keyway hosts trust`, re-pins) the fingerprint of a server's host key. */
export function pinHostKey(db: Database, address: HostKeyAddress, fingerprint: string, now: number): void {
  statement(db, `INSERT INTO host_keys (integration, server, host, port, fingerprint, pinned_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(integration, server) DO UPDATE SET host = excluded.host, port = excluded.port,
      fingerprint = excluded.fingerprint, pinned_at = excluded.pinned_at`)
    .run(address.integration, address.server, address.host, address.port, fingerprint, now);
}

/** Pins on first contact unless another process pinned first; returns the fingerprint pinned now. */
export function pinHostKeyIfAbsent(db: Database, address: HostKeyAddress, fingerprint: string, now: number): string {
  statement(db, `INSERT INTO host_keys (integration, server, host, port, fingerprint, pinned_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT(integration, server) DO NOTHING`).run(address.integration, address.server, address.host, address.port, fingerprint, now);
  return getPinnedHostKey(db, address.integration, address.server)!.fingerprint;
}

/** Returns whether a pin was removed. */
export function forgetHostKey(db: Database, integration: string, server: string): boolean {
  return statement(db, 'DELETE FROM host_keys WHERE integration = ? AND server = ?').run(integration, server).changes === 1;
}
