// better-sqlite3 compiles the SQL text again on every db.prepare: for Keyway's small queries that is most of their
// cost. A statement is kept per database and SQL text instead. Sharing one is safe because every use runs to its end
// synchronously (.run, .get, .all); a statement that changes its own mode (.pluck, .raw) or stays open while others
// run (.iterate) is prepared afresh with db.prepare, and SQL built with a variable number of placeholders is cached
// once per count.
import type { Database, Statement } from 'better-sqlite3';

const cached = new WeakMap<Database, Map<string, Statement>>();

export function statement(db: Database, sql: string): Statement {
  let statements = cached.get(db);
  if (!statements) {
    statements = new Map();
    cached.set(db, statements);
  }
  let prepared = statements.get(sql);
  if (!prepared) {
    prepared = db.prepare(sql);
    statements.set(sql, prepared);
  }
  return prepared;
}
