// keyway hosts check says plainly what it could not check and why: no usable connector key means Keyway never
// connected (not "reachable"), and a server nobody answers for is UNREACHABLE with nothing else claimed.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeyway } from '../helpers/run-keyway.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let temp: { dir: string; remove(): void };
let env: NodeJS.ProcessEnv;
let closedPort: number;

const keyway = (...argv: string[]) => runKeyway(env, ...argv);

/** A loopback port nothing listens on: opened, then closed again. */
async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  temp = makeTempDir();
  closedPort = await freePort();
  const keyFile = join(temp.dir, 'keyway-connector');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  writeFileSync(keyFile, privateKey, { mode: 0o600 });
  const config = join(temp.dir, 'access.yaml');
  writeFileSync(config, [
    'integrations:',
    '  - name: prod-linux',
    '    servers: [{ name: web-1, host: 10.0.100.1 }]',
    '    secret: { env: PROD_LINUX_SSH_KEY_BASE64 }',
    '  - name: lab',
    `    servers: [{ name: lab-1, host: 127.0.0.1, port: ${closedPort} }]`,
    `    secret: { file: ${keyFile} }`,
    '',
  ].join('\n'));
  env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: join(temp.dir, 'data') };
});
afterAll(() => temp?.remove());

describe('keyway hosts check, when it cannot check', () => {
  it('says a server was not checked, and why, when its connector key is not set', async () => {
    const result = await keyway('hosts', 'check', 'web-1');
    expect(result.code).toBe(1);
    expect(result.outs).toEqual([
      'web-1: FAIL: not checked (Keyway did not connect: no usable connector key) — environment variable PROD_LINUX_SSH_KEY_BASE64 is not set: put the connector\'s private key there, as is or base64 (cat key.pem | base64)',
    ]);
    expect(result.outs.join('\n')).not.toMatch(/reachable|sudo/);
  });

  it('reports an unreachable server as UNREACHABLE and claims nothing about sudo or bootstrap', async () => {
    const result = await keyway('hosts', 'check', 'lab-1');
    expect(result.code).toBe(1);
    expect(result.outs).toHaveLength(1);
    expect(result.outs[0]).toMatch(new RegExp(
      `^lab-1: FAIL: UNREACHABLE \\(could not connect and log in; sudo and bootstrap not checked\\), host key not pinned — Cannot reach server lab-1 \\(keyway@127\\.0\\.0\\.1:${closedPort}\\): connect ECONNREFUSED`,
    ));
  });

  it('says the same in --json: not_tried, with no reachable or sudo claimed', async () => {
    const result = await keyway('hosts', 'check', '--all', '--json');
    expect(result.code).toBe(1);
    const checks = JSON.parse(result.outs.join('\n')) as Array<Record<string, unknown>>;
    expect(checks).toEqual([
      { server: 'web-1', stage: 'not_tried', problem: expect.stringMatching(/PROD_LINUX_SSH_KEY_BASE64 is not set/), ok: false },
      { server: 'lab-1', stage: 'unreachable', reachable: false, problem: expect.stringMatching(/^Cannot reach server lab-1/), ok: false },
    ]);
  });
});
