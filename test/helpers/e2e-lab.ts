// One real sshd test host as the integration `lab` with the server `e2e-1`, reached over real SSH: what the
// chat end-to-end tests put behind a rig. `hosts` plugs into a rig; `bootstrap` installs the rig's CA on it.
import { bootstrapServer } from '../../src/targets/ssh/bootstrap.js';
import { ConnectionPool } from '../../src/targets/ssh/connection-pool.js';
import { sshHostEffects } from '../../src/targets/ssh/host-effects.js';
import { databaseHostKeyPins } from '../../src/targets/ssh/open-pool.js';
import type { HostEffects } from '../../src/targets/ssh/host-effects.js';
import type { AccessConfig, Integration } from '../../src/core/model.js';
import type { TestContext } from './access-context.js';
import { flow, integration, server } from './access-config.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from './test-host.js';

export interface E2eLab {
  host: TestHost;
  lab: Integration;
  /** One flow over e2e-1 that only `requester` may use. */
  config: AccessConfig;
  hosts(ctx: TestContext): HostEffects;
  bootstrap(caPublicKeyLine: string): Promise<void>;
  close(): Promise<void>;
}

export async function startE2eLab(name: string, requester: string): Promise<E2eLab> {
  const [host] = (await startTestHosts(1, { name })) as [TestHost];
  const lab = integration('lab', [server('e2e-1', { host: '127.0.0.1', port: host.port, user: host.connectorUser })], { userKeyName: 'id_e2e', customAccessDetails: 'This is the e2e lab.' });
  let pool: ConnectionPool | undefined;
  return {
    host, lab,
    config: { integrations: [lab], people: [], maxPendingRequests: 5, flows: [flow('lab', 'lab', { resources: { integration: 'lab', servers: ['e2e-1'], tags: {} }, requesters: { everyone: false, emails: [requester], slackUsergroups: [] } })] },
    hosts(ctx) {
      pool = new ConnectionPool({ connectorKey: () => host.connectorPrivateKey, hostKeys: databaseHostKeyPins(ctx.db, Date.now) });
      return sshHostEffects({ pool, db: ctx.db, now: Date.now });
    },
    bootstrap: async (caPublicKeyLine) => void (await bootstrapServer(pool!, { integration: lab, server: lab.servers[0]! }, caPublicKeyLine)),
    async close() {
      await pool?.close();
      await stopAllTestHosts();
    },
  };
}
