// Cloud inventories at scale (issue 16): 10,000 EC2 instances across 20 pages, listed through the real AWS SDK from
// the local EC2 stand-in (in a worker thread, as EC2 is not in Keyway's process) and stored as a snapshot in a real
// SQLite file: under 2 s, the first refresh after start (SDK loaded cold) and a later one. Then, against those 10,000 servers: a request evaluated
// (submitRequest: flow selection by tag, approvers by owner tag) under 50 ms, and the pickers within platform limits
// (Slack's external select answers at most 100 options; Teams' request card size is reported).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { submitRequest } from '../src/access/requests.js';
import { requestForm } from '../src/chat/teams/cards.js';
import type { AccessConfig } from '../src/core/model.js';
import { requestableServers } from '../src/core/policy.js';
import { openDatabase } from '../src/store/open-database.js';
import { cloudInventories } from '../src/targets/cloud/clouds.js';
import { withInventories } from '../src/targets/cloud/inventory-config.js';
import { refreshInventory } from '../src/targets/cloud/inventory-refresh.js';
import { flow } from '../test/helpers/access-config.js';
import { registerKey } from '../test/helpers/access-context.js';
import { ec2Integration } from '../test/helpers/ec2-integration.js';
import { FAKE_AWS_ENV, startFakeEc2 } from '../test/helpers/fake-ec2.js';
import { makeTempDir } from '../test/helpers/temp-dir.js';

const INSTANCES = 10_000;
const PAGE = 500;
const REFRESH_LIMIT_MS = 2_000;
const REQUEST_LIMIT_MS = 50;
const REQUESTS = 20;
const SLACK_OPTIONS_LIMIT = 100;
/** Slack needs the options in the acknowledgement, within 3 s. */
const SLACK_ACK_MS = 3_000;
/** Teams' documented limit on a message (an Adaptive Card included) is about 28 KB. */
const TEAMS_CARD_LIMIT_BYTES = 28 * 1024;

const ROLE = 'keyway-bench-ec2-side';

/** EC2's side, in the worker: the stand-in with 10,000 instances, answering 500 a page. */
if (!isMainThread && workerData?.role === ROLE) {
  const fake = await startFakeEc2(Array.from({ length: INSTANCES }, (_, n) => ({
    id: `i-${n.toString(16).padStart(17, '0')}`, region: 'eu-west-1', privateIp: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
    tags: { Name: `node-${n}`, env: 'prod', team: `team-${n % 50}`, owner: `owner${n % 100}@example.com` },
  })));
  fake.pageLimit = PAGE;
  parentPort!.on('message', (message: string) => {
    if (message === 'calls') parentPort!.postMessage({ calls: fake.calls.length });
    else void fake.close().then(() => parentPort!.postMessage({ closed: true }));
  });
  parentPort!.postMessage({ endpoint: fake.endpoint });
}

function ask<T>(worker: Worker, message?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    if (message) worker.postMessage(message);
  });
}

export async function benchInventory(): Promise<string[]> {
  const lines: string[] = [];
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: ROLE } });
  const fake = await ask<{ endpoint: string }>(worker);
  const temp = makeTempDir();
  const db = openDatabase(temp.dir);
  try {
    const ec2 = ec2Integration('fleet', fake.endpoint, { regions: ['eu-west-1'], resourceOwnerTag: 'owner' });
    const file: AccessConfig = {
      integrations: [ec2], people: [], maxPendingRequests: 5,
      flows: [flow('fleet-debug', 'fleet', { requesters: { everyone: true, emails: [], slackUsergroups: [] }, resources: { integration: 'fleet', servers: [], tags: { env: 'prod' } } })],
    };
    const logger = pino({ level: 'silent' });
    const deps = { db, config: () => file, env: FAKE_AWS_ENV, now: Date.now, logger, clouds: cloudInventories() };

    for (const which of ['first (cold)', 'second']) {
      const started = performance.now();
      const result = await refreshInventory(deps, ec2);
      const refreshMs = performance.now() - started;
      if (!result.ok) throw new Error(`refresh failed: ${result.error}`);
      const { calls } = await ask<{ calls: number }>(worker, 'calls');
      lines.push(verdict(`${which} refresh of ${result.servers} instances, ${calls} pages so far, stored`, refreshMs, REFRESH_LIMIT_MS));
    }

    const config = withInventories(db, () => file);
    let t = performance.now();
    const live = config();
    lines.push(`  first read of the live config after the refresh (snapshot loaded): ${(performance.now() - t).toFixed(1)} ms, ${live.integrations[0]!.servers.length} servers`);

    const ctx = { db, config, now: Date.now, logger };
    const times: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const email = `dev${i}@example.com`;
      registerKey(ctx, email, `dev${i}`);
      t = performance.now();
      submitRequest(ctx, { email }, { servers: [`node-${(i * 499) % INSTANCES}`], duration: 3600, reason: 'bench' }, 'bench');
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    lines.push(verdict(`a request evaluated against ${INSTANCES} servers (median of ${REQUESTS}; max ${times.at(-1)!.toFixed(1)} ms)`, times[Math.floor(REQUESTS / 2)]!, REQUEST_LIMIT_MS));

    t = performance.now();
    const person = { email: 'dev0@example.com' };
    const matches = requestableServers(config(), person).filter((s) => s.server.name.includes('node-99'));
    const options = matches.slice(0, SLACK_OPTIONS_LIMIT);
    lines.push(verdict(`Slack server search "node-99": ${matches.length} matches, ${options.length} options answered (Slack's limit ${SLACK_OPTIONS_LIMIT})`, performance.now() - t, SLACK_ACK_MS));

    const servers = requestableServers(config(), person).map((s) => ({ name: s.server.name, integration: s.integration.name }));
    const bytes = Buffer.byteLength(JSON.stringify(requestForm(servers, false)));
    lines.push(`  Teams request card with ${servers.length} requestable servers: ${(bytes / 1024).toFixed(1)} KB (limit about ${TEAMS_CARD_LIMIT_BYTES / 1024} KB) ${bytes <= TEAMS_CARD_LIMIT_BYTES ? 'ok' : 'OVER'}`);
  } finally {
    db.close();
    temp.remove();
    await ask(worker, 'close');
    await worker.terminate();
  }
  return lines;
}

function verdict(what: string, ms: number, limit: number): string {
  return `  ${what}: ${ms.toFixed(1)} ms (limit ${limit} ms) ${ms < limit ? 'ok' : 'TOO SLOW'}`;
}
