// An AccessContext over a real SQLite file in a temp dir, with a clock the test moves.
import { pino } from 'pino';
import type { AccessConfig } from '../../src/core/model.js';
import type { AccessContext } from '../../src/access/context.js';
import { openDatabase } from '../../src/store/open-database.js';
import { setCurrentKey, upsertPerson } from '../../src/store/people.js';
import { makeTempDir } from './temp-dir.js';

export interface TestContext extends AccessContext {
  dir: string;
  clock: { now: number };
  close(): void;
}

export function testContext(config: AccessConfig, start = Date.UTC(2026, 10, 23, 12)): TestContext {
  const temp = makeTempDir();
  const db = openDatabase(temp.dir);
  const clock = { now: start };
  return {
    dir: temp.dir,
    db,
    clock,
    config: () => config,
    now: () => clock.now,
    logger: pino({ level: 'silent' }),
    close: () => {
      db.close();
      temp.remove();
    },
  };
}

export const SAMPLE_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test';

/** Registers a (public, made-up) key for a person so they may request access. */
export function registerKey(ctx: AccessContext, email: string, linuxUser: string, keyLine = SAMPLE_KEY): void {
  upsertPerson(ctx.db, email, linuxUser, ctx.now());
  setCurrentKey(ctx.db, { email, keyType: 'ssh-ed25519', keyLine, fingerprint: 'SHA256:test', createdAt: ctx.now() });
}
