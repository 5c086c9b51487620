// Migration 0006: grants remember their target. Existing rows are backfilled with what the row itself knows (kind
// 'ssh', the account from linux_user, groups and principal; no address, since SQL cannot read the YAML), and the
// SSH driver takes the address of such a row from the config, recording it the next time the grant is touched.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { endAccess, provisionRequest } from '../../src/access/grant-runner.js';
import { submitRequest, voteOnRequest } from '../../src/access/requests.js';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { ServerRef } from '../../src/core/model.js';
import { getGrant, grantsOfRequest } from '../../src/store/grants.js';
import { migrate, readMigrations } from '../../src/store/migrate.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import { accessConfig } from '../helpers/access-config.js';
import { registerKey, testContext, type TestContext } from '../helpers/access-context.js';
import { createGrantRunner } from '../helpers/grant-runner.js';

let ctx: TestContext | undefined;
afterEach(() => ctx?.close());

describe('migration 0006: grants remember what they were made on', () => {
  it('backfills existing grants with kind ssh and the account the row has, and leaves the address to the config', () => {
    const db = new Database(':memory:');
    const migrations = readMigrations();
    migrate(db, migrations.filter((m) => m.version < 6));
    db.pragma('foreign_keys = OFF'); // the grants' requests do not matter here
    const insert = db.prepare(`INSERT INTO grants (request_id, integration, server, linux_user, groups, principal, state, expires_at, created_at, updated_at)
      VALUES (?, 'prod-linux', ?, ?, ?, ?, ?, 0, 0, 0)`);
    insert.run(1, 'web-1', 'dev', '["developers","adm"]', 'keyway-req-1', 'active');
    insert.run(2, 'db-1', 'ops', '["Default"]', 'keyway-req-2', 'revoked');
    expect(migrate(db, migrations)).toContain('0006_grant_targets.sql');
    const rows = db.prepare('SELECT target_kind, target_address, target_account FROM grants ORDER BY id').all() as Array<{ target_kind: string; target_address: string | null; target_account: string }>;
    expect(rows.map((r) => ({ ...r, target_account: JSON.parse(r.target_account) as unknown }))).toEqual([
      { target_kind: 'ssh', target_address: null, target_account: { linuxUser: 'dev', groups: ['developers', 'adm'], principal: 'keyway-req-1' } },
      { target_kind: 'ssh', target_address: null, target_account: { linuxUser: 'ops', groups: ['Default'], principal: 'keyway-req-2' } },
    ]);
    db.close();
  });

  it('revokes a backfilled grant at the address the config gives, and records that address on it', async () => {
    ctx = testContext(accessConfig());
    registerKey(ctx, 'dev@example.com', 'dev');
    const revokedAt: string[] = [];
    const hosts: HostEffects = {
      provision: async () => undefined,
      revoke: async (ref: ServerRef) => void revokedAt.push(`${ref.server.user}@${ref.server.host}:${ref.server.port}`),
      cleanup: async () => undefined,
    };
    const runner = createGrantRunner(ctx, hosts, generateCaKey().caKey);
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-2'], duration: 3600, reason: 'INC-6' }, 'test');
    voteOnRequest(ctx, request.id, { email: request.approvers.emails[0]! }, 'approve');
    await provisionRequest(runner, request.id);
    const [grant] = grantsOfRequest(ctx.db, request.id);
    // As migration 0006 leaves a row stored before it.
    ctx.db.prepare(`UPDATE grants SET target_address = NULL, target_account = json_object('linuxUser', linux_user, 'groups', json(groups), 'principal', principal) WHERE id = ?`).run(grant!.id);

    const ended = await endAccess(runner, request.id, 'revoked', 'dev@example.com');
    expect(ended.map((g) => g.state)).toEqual(['revoked']);
    expect(revokedAt).toEqual(['keyway@127.0.0.1:22']);
    expect(getGrant(ctx.db, grant!.id)).toMatchObject({
      targetKind: 'ssh', targetAddress: '127.0.0.1:22',
      targetAccount: { linuxUser: 'dev', host: '127.0.0.1', port: 22, connectorUser: 'keyway', principal: `keyway-req-${request.id}` },
    });
  });
});
