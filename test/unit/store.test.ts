import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import DatabaseConstructor from 'better-sqlite3';
import { openDatabase } from '../../src/store/open-database.js';
import { DatabaseTooNewError, migrate, readMigrations } from '../../src/store/migrate.js';
import { appendAudit, verifyAuditChain } from '../../src/store/audit-log.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temps: Array<{ remove(): void }> = [];
function tempDir(): string {
  const t = makeTempDir();
  temps.push(t);
  return t.dir;
}
afterEach(() => temps.splice(0).forEach((t) => t.remove()));

describe('opening the database', () => {
  it('creates a WAL database with foreign keys on and every migration applied', () => {
    const db = openDatabase(tempDir());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const applied = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    expect(applied).toEqual(readMigrations().map((m) => ({ version: m.version, name: m.name })));
    db.close();
  });

  it('applies only new migrations to an existing database and keeps its data', () => {
    const dir = tempDir();
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '0001_first.sql'), 'CREATE TABLE t (x INTEGER);');
    const db = new DatabaseConstructor(join(dir, 'test.db'));
    expect(migrate(db, readMigrations(migrations))).toEqual(['0001_first.sql']);
    db.prepare('INSERT INTO t VALUES (1)').run();
    writeFileSync(join(migrations, '0002_second.sql'), 'ALTER TABLE t ADD COLUMN y TEXT;');
    expect(migrate(db, readMigrations(migrations))).toEqual(['0002_second.sql']);
    expect(migrate(db, readMigrations(migrations))).toEqual([]);
    expect(db.prepare('SELECT x, y FROM t').all()).toEqual([{ x: 1, y: null }]);
    db.close();
  });

  it('rolls back a failing migration entirely', () => {
    const dir = tempDir();
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '0001_bad.sql'), 'CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER);');
    const db = new DatabaseConstructor(join(dir, 'test.db'));
    expect(() => migrate(db, readMigrations(migrations))).toThrow(/already exists/);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'a'").all()).toEqual([]);
    expect(db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: 0 });
    db.close();
  });

  it('refuses to start on a database newer than the code', () => {
    const dir = tempDir();
    const db = openDatabase(dir);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, '0099_future.sql', 0)").run();
    db.close();
    expect(() => openDatabase(dir)).toThrowError(DatabaseTooNewError);
    expect(() => openDatabase(dir)).toThrowError(/schema version 99, newer than this Keyway/);
  });

  it('refuses migrations numbered with a gap', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '0001_a.sql'), '');
    writeFileSync(join(dir, '0003_c.sql'), '');
    expect(() => readMigrations(dir)).toThrowError(/without gaps; found 0003_c.sql/);
  });
});

describe('audit log', () => {
  it('chains entries and verifies them', () => {
    const db = openDatabase(tempDir());
    for (let i = 1; i <= 5; i++) appendAudit(db, { actor: 'a@example.com', action: 'test', subject: `request:${i}`, details: { i } }, 1000 + i);
    expect(verifyAuditChain(db)).toEqual({ ok: true, entries: 5 });
    db.close();
  });

  it('is append-only at the database level', () => {
    const db = openDatabase(tempDir());
    appendAudit(db, { actor: 'a', action: 'test', subject: 's' }, 1);
    expect(() => db.prepare("UPDATE audit_log SET actor = 'b'").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    db.close();
  });

  it('catches an edited row even when the triggers are dropped', () => {
    const db = openDatabase(tempDir());
    for (let i = 1; i <= 4; i++) appendAudit(db, { actor: 'lead@example.com', action: 'request.approved', subject: `request:${i}` }, 1000 + i);
    db.exec('DROP TRIGGER audit_log_no_update');
    db.prepare("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 2").run();
    expect(verifyAuditChain(db)).toEqual({ ok: false, entries: 2, brokenAt: 2, problem: 'entry 2 was changed after it was written' });
    db.close();
  });

  it('catches a removed row', () => {
    const db = openDatabase(tempDir());
    for (let i = 1; i <= 4; i++) appendAudit(db, { actor: 'x', action: 'a', subject: `s${i}` }, i);
    db.exec('DROP TRIGGER audit_log_no_delete');
    db.prepare('DELETE FROM audit_log WHERE seq = 3').run();
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 4, problem: 'entry 3 is missing' });
    db.close();
  });
});
