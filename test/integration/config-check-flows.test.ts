// `keyway config check` on a flow that names a server its integration does not have: exit 1 with the file, line
// and column of that very name (a second check beside test/unit/config.test.ts, through the command admins run).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKeyway } from '../helpers/keyway-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let temp: { dir: string; remove(): void };
beforeEach(() => (temp = makeTempDir()));
afterEach(() => temp.remove());

const INTEGRATIONS = `integrations:
  - name: prod
    servers: [{"name":"web-1","host":"10.0.0.1"},{"name":"web-2","host":"10.0.0.2"}]
    owners: [platform@example.com]
  - name: staging
    servers: [{"name":"stage-1","host":"10.1.0.1"}]
    owners: [platform@example.com]
`;

async function check(flows: string): Promise<{ code: number; out: string; err: string; path: string }> {
  const path = join(temp.dir, 'access.yaml');
  writeFileSync(path, `${INTEGRATIONS}flows:\n${flows}`);
  return { ...(await runKeyway({ KEYWAY_DATA_DIR: join(temp.dir, 'data') }, 'config', 'check', path)), path };
}

describe('keyway config check and the servers a flow names', () => {
  it('accepts a flow whose servers all belong to its integration', async () => {
    const result = await check(`  - name: web
    requesters: { everyone: true }
    resources: { integration: prod, servers: [web-1, web-2] }
    approvers: { emails: [lead@example.com] }
`);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
  });

  it('exits 1 pointing at the one unknown name among known ones, and says where a server of another integration lives', async () => {
    const result = await check(`  - name: web
    requesters: { everyone: true }
    resources: { integration: prod, servers: [web-1, stage-1, web-7] }
    approvers: { emails: [lead@example.com] }
`);
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    // Line 11 of the file; `stage-1` starts at column 54 and `web-7` at column 63.
    expect(result.err).toContain(`${result.path}:11:54: integration "prod" has no server "stage-1" (it belongs to integration "staging")`);
    expect(result.err).toContain(`${result.path}:11:63: integration "prod" has no server "web-7"`);
    expect(result.err).not.toContain('"web-1"');
  });
});
