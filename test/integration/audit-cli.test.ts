// `keyway audit verify` against a tampered log: the command an auditor runs must say BROKEN and exit 1 whichever
// column of an entry was changed, and whether an entry was removed. Run in-process on a real data directory; the
// tampering is what someone with the database file could do (drop the append-only triggers, edit a row).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendAudit } from '../../src/store/audit-log.js';
import { openDatabase } from '../../src/store/open-database.js';
import { runKeyway } from '../helpers/keyway-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let temp: { dir: string; remove(): void };
let env: NodeJS.ProcessEnv;
const keyway = (...argv: string[]) => runKeyway(env, ...argv);

beforeEach(async () => {
  temp = makeTempDir();
  // A config of its own, so that changes to the shipped example never break this test.
  const config = join(temp.dir, 'access.yaml');
  writeFileSync(config, `integrations:
  - name: lab
    servers: [{"name":"web-1","host":"127.0.0.1"}]
    owners: [platform@example.com]
`);
  env = { KEYWAY_DATA_DIR: join(temp.dir, 'data'), KEYWAY_CONFIG: config };
  // Entry 1 written by the CLI itself, entries 2-4 as the service writes them.
  const added = await keyway('keys', 'add', 'dev@example.com', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dev');
  expect(added.code, added.err).toBe(0);
  const db = openDatabase(env.KEYWAY_DATA_DIR!);
  try {
    appendAudit(db, { actor: 'lead@example.com', action: 'request.approved', subject: 'request:1', details: { duration: 3600, grants: [1] } }, Date.UTC(2026, 10, 30, 9));
    appendAudit(db, { actor: 'system', action: 'grant.active', subject: 'grant:1', details: { server: 'web-1', user: 'dev' } }, Date.UTC(2026, 10, 30, 9, 1));
    appendAudit(db, { actor: 'system', action: 'grant.revoked', subject: 'grant:1', details: { server: 'web-1', user: 'dev' } }, Date.UTC(2026, 10, 30, 10, 1));
  } finally {
    db.close();
  }
});
afterEach(() => temp.remove());

/** Changes the stored log as an attacker with the file would. */
function tamper(sql: string): void {
  const db = openDatabase(env.KEYWAY_DATA_DIR!);
  try {
    db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
    expect(db.prepare(sql).run().changes, sql).toBe(1);
  } finally {
    db.close();
  }
}

describe('keyway audit verify', () => {
  it('says OK and exits 0 for the intact log', async () => {
    const result = await keyway('audit', 'verify');
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^Audit log OK: 4 entries, head [0-9a-f]{64}\.$/);
  });

  it.each([
    ['details', `UPDATE audit_log SET details = '{"duration":28800,"grants":[1]}' WHERE seq = 2`],
    ['actor', `UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 2`],
    ['action', `UPDATE audit_log SET action = 'request.denied' WHERE seq = 2`],
    ['subject', `UPDATE audit_log SET subject = 'request:2' WHERE seq = 2`],
    ['time', 'UPDATE audit_log SET at = at + 3600000 WHERE seq = 2'],
  ])('says BROKEN at the entry and exits 1 when its %s was changed', async (_column, sql) => {
    tamper(sql);
    const result = await keyway('audit', 'verify');
    expect(result.code, result.out).toBe(1);
    expect(result.out, 'nothing says OK').toBe('');
    expect(result.err).toBe('Audit log BROKEN at entry 2: entry 2 was changed after it was written.');
  });

  it('reports a change to the details of the newest entry too (nothing after it to break)', async () => {
    tamper(`UPDATE audit_log SET details = '{"server":"web-9","user":"dev"}' WHERE seq = 4`);
    const result = await keyway('audit', 'verify', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ ok: false, entries: 4, brokenAt: 4, problem: 'entry 4 was changed after it was written' });
  });

  it('says BROKEN and exits 1 when an entry was removed', async () => {
    tamper('DELETE FROM audit_log WHERE seq = 3');
    const result = await keyway('audit', 'verify');
    expect(result.code).toBe(1);
    expect(result.err).toBe('Audit log BROKEN at entry 4: entry 3 is missing.');
  });

  it('says BROKEN and exits 1 when an entry no longer points at the one before it', async () => {
    // Entry 3 re-chained to the start of the log, as if the entries before it had never been: the link to entry 2 breaks.
    tamper(`UPDATE audit_log SET prev_hash = '${'0'.repeat(64)}' WHERE seq = 3`);
    const result = await keyway('audit', 'verify', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.out)).toMatchObject({ ok: false, brokenAt: 3, problem: 'entry 3 does not follow entry 2' });
  });
});
