// Registering a key: only a requester in some flow may (from chat), and a Linux user name stays with the person
// it was given to — in the people table and on the servers where Keyway created accounts under it.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { assertLinuxNameAvailable, registerPublicKey } from '../../src/access/people.js';
import { submitRequest } from '../../src/access/requests.js';
import { listRequests } from '../../src/store/requests.js';
import type { AccessConfig } from '../../src/core/model.js';
import { listAudit } from '../../src/store/audit-log.js';
import { allocateUid, markDeleted } from '../../src/store/managed-users.js';
import { migrate, readMigrations } from '../../src/store/migrate.js';
import { currentKey, upsertPerson } from '../../src/store/people.js';
import { accessConfig } from '../helpers/access-config.js';
import { SAMPLE_KEY, registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { userErrorOf } from '../helpers/user-error.js';

let ctx: TestContext;
afterEach(() => ctx?.close());

const RANGE = { min: 60000, max: 64999 };
const HENK = 'henk@example.com';

/** dev@ and henk@ may both request; henk's people entry gives him the Linux name `dev`. */
function config(extra: Partial<AccessConfig> = {}): AccessConfig {
  const base = accessConfig();
  return accessConfig({
    flows: [{ ...base.flows[0]!, requesters: { everyone: false, emails: ['dev@example.com', HENK], slackUsergroups: [] } }],
    people: [{ email: HENK, linuxUser: 'dev' }],
    ...extra,
  });
}

const ownerOf = (linuxUser: string) => ctx.db.prepare('SELECT owner_email FROM managed_users WHERE linux_user = ?').pluck().get(linuxUser);

describe('who may register a key', () => {
  it('refuses a key from someone no access flow lets request, storing and auditing nothing', () => {
    ctx = testContext(config());
    const error = userErrorOf(() => registerPublicKey(ctx, { email: 'outsider@example.com' }, SAMPLE_KEY, 'outsider@example.com'));
    expect(error.code).toBe('not_allowed');
    expect(error.message).toMatch(/No access flow lets outsider@example.com request any server.*admin/);
    expect(currentKey(ctx.db, 'outsider@example.com')).toBeUndefined();
    expect(listAudit(ctx.db)).toEqual([]);
  });

  it('refuses a guest when no flow that takes guests names them', () => {
    ctx = testContext(config());
    const error = userErrorOf(() => registerPublicKey(ctx, { email: 'dev@example.com', guest: true }, SAMPLE_KEY, 'dev@example.com'));
    expect(error.code).toBe('not_allowed');
    expect(currentKey(ctx.db, 'dev@example.com')).toBeUndefined();
  });

  it('lets a requester register, and an admin register for anyone (the CLI)', () => {
    ctx = testContext(config({ people: [] }));
    expect(registerPublicKey(ctx, { email: 'dev@example.com' }, SAMPLE_KEY, 'dev@example.com')).toMatchObject({ linuxUser: 'dev' });
    expect(registerPublicKey(ctx, 'outsider@example.com', SAMPLE_KEY, 'cli:root', { byAdmin: true })).toMatchObject({ linuxUser: 'outsider' });
    expect(listAudit(ctx.db).map((e) => [e.action, e.actor, e.subject])).toEqual([
      ['key.registered', 'dev@example.com', 'person:dev@example.com'], ['key.registered', 'cli:root', 'person:outsider@example.com'],
    ]);
  });
});

describe('a Linux user name belongs to one person', () => {
  it('refuses a name another person already has with what to do (a people: entry), never a SQLite error', () => {
    ctx = testContext(config());
    registerKey(ctx, 'dev@example.com', 'dev');
    for (const byAdmin of [false, true]) {
      const error = userErrorOf(() => registerPublicKey(ctx, { email: HENK }, SAMPLE_KEY, HENK, { byAdmin }));
      expect(error.code).toBe('linux_user_taken');
      expect(error.message).toMatch(/"dev" already belongs to another person/);
      expect(error.message).toContain(`people: entry such as { email: ${HENK}, linux_user: <another name> }`);
      expect(error.message).not.toMatch(/UNIQUE|SQLITE|constraint/i);
    }
    expect(currentKey(ctx.db, HENK)).toBeUndefined();
    // The store says the same to any other caller (a request records the person too).
    expect(userErrorOf(() => upsertPerson(ctx.db, HENK, 'dev', ctx.now())).message).toMatch(/already belongs to another person/);
  });

  it('refuses a name whose live accounts Keyway created for another person, and frees it once they are deleted', () => {
    ctx = testContext(config());
    upsertPerson(ctx.db, 'dev@example.com', 'dev', ctx.now());
    allocateUid(ctx.db, 'prod-linux', 'web-1', 'dev', RANGE, ctx.now());
    expect(ownerOf('dev')).toBe('dev@example.com');
    // dev@ moves to another name (an admin's people: entry); the accounts called `dev` are still dev@'s.
    upsertPerson(ctx.db, 'dev@example.com', 'dev2', ctx.now());

    const error = userErrorOf(() => assertLinuxNameAvailable(ctx, HENK, 'dev'));
    expect(error.code).toBe('linux_user_taken');
    expect(error.message).toMatch(/"dev" still has accounts on web-1 that Keyway created for another person/);
    expect(error.message).toContain(`{ email: ${HENK}, linux_user: <another name> }`);
    expect(() => registerPublicKey(ctx, { email: HENK }, SAMPLE_KEY, HENK)).toThrow(/still has accounts on web-1/);
    expect(currentKey(ctx.db, HENK)).toBeUndefined();

    expect(() => assertLinuxNameAvailable(ctx, 'dev@example.com', 'dev')).not.toThrow();
    markDeleted(ctx.db, 'prod-linux', 'web-1', 'dev', ctx.now());
    expect(() => assertLinuxNameAvailable(ctx, HENK, 'dev')).not.toThrow();
    expect(registerPublicKey(ctx, { email: HENK }, SAMPLE_KEY, HENK)).toMatchObject({ linuxUser: 'dev' });
  });
});

describe('a request never hands out a name another person still has accounts under', () => {
  it('refuses the request with what to do, and records nothing', () => {
    ctx = testContext(config());
    // henk@ registered under another name; dev@'s accounts called `dev` were created; then the people: entries
    // moved dev@ to dev2 and gave `dev` to henk@ while those accounts still exist.
    registerKey(ctx, HENK, 'henk');
    upsertPerson(ctx.db, 'dev@example.com', 'dev', ctx.now());
    allocateUid(ctx.db, 'prod-linux', 'web-1', 'dev', RANGE, ctx.now());
    upsertPerson(ctx.db, 'dev@example.com', 'dev2', ctx.now());
    const auditBefore = listAudit(ctx.db).length;

    const error = userErrorOf(() => submitRequest(ctx, { email: HENK }, { servers: ['web-1'], reason: 'INC-1' }, 'cli'));
    expect(error.code).toBe('linux_user_taken');
    expect(error.message).toMatch(/"dev" still has accounts on web-1 that Keyway created for another person/);
    expect(listRequests(ctx.db)).toEqual([]);
    expect(listAudit(ctx.db)).toHaveLength(auditBefore);
  });
});

describe('migration 0005: managed users record whom they belong to', () => {
  it('fills in the owner of existing accounts from the people table', () => {
    const db = new Database(':memory:');
    const migrations = readMigrations();
    migrate(db, migrations.filter((m) => m.version < 5));
    db.prepare('INSERT INTO people (email, linux_user, created_at) VALUES (?, ?, 0)').run('dev@example.com', 'dev');
    db.prepare('INSERT INTO managed_users (integration, server, linux_user, uid, created_at) VALUES (?, ?, ?, ?, 0)').run('prod-linux', 'web-1', 'dev', 60000);
    db.prepare('INSERT INTO managed_users (integration, server, linux_user, uid, created_at) VALUES (?, ?, ?, ?, 0)').run('prod-linux', 'web-1', 'gone', 60001);
    expect(migrate(db, migrations)).toContain('0005_managed_user_owner.sql');
    expect(db.prepare('SELECT linux_user, owner_email FROM managed_users ORDER BY uid').all()).toEqual([
      { linux_user: 'dev', owner_email: 'dev@example.com' }, { linux_user: 'gone', owner_email: null },
    ]);
    db.close();
  });
});
