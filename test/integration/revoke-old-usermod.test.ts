// A server whose usermod predates `usermod --remove` (shadow-utils before 4.13, as on many distributions still in
// use): the revoke's one usermod per user fails there, and each change is then made on its own (gpasswd -d per group,
// usermod --lock --expiredate 1), with the same result. A real sshd test host whose usermod is wrapped (inside the
// host's own mount namespace only) to refuse --remove as an old one does; the real ssh client as the proof.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCaKey } from '../../src/ca/ca-key.js';
import type { ServerRef } from '../../src/core/model.js';
import { openDatabase } from '../../src/store/open-database.js';
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import { provisionGrant, revokeGrant, type HostsContext } from '../../src/targets/ssh/provision.js';
import { integration, server } from '../helpers/access-config.js';
import { writeRequestCertificate } from '../helpers/request-certificate.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

const reason = rootTestSkipReason();

// Refuses --remove / -r as shadow-utils' usermod before 4.13 does ("invalid option"), logs every call, else runs the real one.
const OLD_USERMOD = String.raw`#!/bin/sh
printf '%s\n' "$*" >> /run/old-usermod/calls
for arg in "$@"; do
  case $arg in --remove|-r) echo "usermod: unrecognized option '$arg'" >&2; exit 2 ;; esac
done
exec /run/old-usermod/usermod.real "$@"
`;

describe.skipIf(!!reason)(`revoke on a server whose usermod has no --remove${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const { caKey } = generateCaKey();
  const dir = mkdtempSync(join(tmpdir(), 'keyway-old-usermod-'));
  let host: TestHost;
  let pool: ConnectionPool;
  let ctx: HostsContext;
  let ref: ServerRef;

  beforeAll(async () => {
    host = await startTestHost({ name: 'oldusermod' });
    const lab = integration('lab', [server('old-1', { port: host.port, user: host.connectorUser })], { userGroups: ['developers'] });
    ref = { integration: lab, server: lab.servers[0]! };
    const db = openDatabase(join(dir, 'data'));
    pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(db, Date.now) });
    ctx = { pool, db, now: Date.now };
    await bootstrapServer(pool, ref, caKey.publicKeyLine);
    const setUp = await host.exec(String.raw`set -eu
groupadd developers
groupadd ops
mkdir -p /run/old-usermod
cp /usr/sbin/usermod /run/old-usermod/usermod.real
cat > /run/old-usermod/usermod <<'KEYWAY_OLD'
${OLD_USERMOD}KEYWAY_OLD
chmod 0755 /run/old-usermod/usermod
mount --bind /run/old-usermod/usermod /usr/sbin/usermod
usermod --remove --groups ops nobody 2>&1 | grep -q unrecognized`);
    expect(setUp.code, setUp.stderr).toBe(0);
  });

  afterAll(async () => {
    await pool?.close();
    await host?.stop();
    ctx?.db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('removes the groups, locks and expires the account, and the still-valid certificate is refused', async () => {
    const key = await generateUserKey(dir);
    const provisioned = await provisionGrant(ctx, ref, { linuxUser: 'olga', groups: ['developers', 'ops'], principal: 'keyway-req-1' });
    expect(provisioned.created).toBe(true);
    const certPath = writeRequestCertificate({ ca: caKey, publicKeyLine: key.publicKeyLine, person: 'olga', requestId: 1, serial: 1n, dir });
    const login = () => sshRun(host, { user: 'olga', keyPath: key.privateKeyPath, certPath, command: 'id -nG', timeoutMs: 10_000 });
    const before = await login();
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout.trim().split(/\s+/)).toEqual(expect.arrayContaining(['developers', 'ops']));

    await host.exec(': > /run/old-usermod/calls');
    const result = await revokeGrant(ctx, ref, {
      linuxUser: 'olga', groups: ['developers', 'ops'], principal: 'keyway-req-1', groupsStillGranted: [], otherActiveGrants: false,
    });
    expect(result).toMatchObject({ accountFound: true, principalRemoved: true, accessEnded: true });
    expect([...result.groupsRemoved].sort()).toEqual(['developers', 'ops']);

    // The one usermod was tried and refused; then each change on its own.
    const calls = (await host.exec('cat /run/old-usermod/calls')).stdout.trim().split('\n');
    expect(calls).toEqual(['--lock --expiredate 1 --remove --groups developers,ops olga', '--lock --expiredate 1 olga']);
    expect((await host.exec('id -nG olga')).stdout.trim().split(' ').sort()).toEqual(['keyway-users', 'olga']);
    expect((await host.exec('getent shadow olga')).stdout).toMatch(/^olga:!\*:\d*:\d*:\d*:\d*:[^:]*:1:/);
    const after = await login();
    expect(after.code).not.toBe(0);
    expect(after.stderr).toMatch(/Permission denied/);
  });
});
