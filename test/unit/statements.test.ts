import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { statement } from '../../src/store/statements.js';

describe('cached statements', () => {
  const open: Database.Database[] = [];
  const db = () => {
    const d = new Database(':memory:');
    d.exec('CREATE TABLE t (n INTEGER)');
    open.push(d);
    return d;
  };
  afterEach(() => open.splice(0).forEach((d) => d.close()));

  it('compiles a SQL text once per database and runs it with each call\'s values', () => {
    const a = db();
    const insert = statement(a, 'INSERT INTO t (n) VALUES (?)');
    expect(statement(a, 'INSERT INTO t (n) VALUES (?)')).toBe(insert);
    statement(a, 'INSERT INTO t (n) VALUES (?)').run(1);
    statement(a, 'INSERT INTO t (n) VALUES (?)').run(2);
    expect(statement(a, 'SELECT n FROM t ORDER BY n').all()).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('keeps the statements of two databases apart', () => {
    const a = db();
    const b = db();
    expect(statement(b, 'SELECT n FROM t')).not.toBe(statement(a, 'SELECT n FROM t'));
    statement(a, 'INSERT INTO t (n) VALUES (?)').run(7);
    expect(statement(b, 'SELECT n FROM t').all()).toEqual([]);
    expect(statement(a, 'SELECT n FROM t').all()).toEqual([{ n: 7 }]);
  });
});
