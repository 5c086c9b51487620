// `keyway keys add`, the admin's path: a key for someone no flow names yet is taken (with a note), while a Linux
// user name another person has is refused with a one-line reason and exit 1, never a SQLite error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runKeyway } from '../helpers/run-keyway.js';
import { SAMPLE_KEY } from '../helpers/access-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let temp: { dir: string; remove(): void } | undefined;
afterEach(() => temp?.remove());

const keyway = (env: NodeJS.ProcessEnv, ...argv: string[]) => runKeyway(env, ...argv);

describe('keyway keys add', () => {
  it('registers a key for someone in no flow (with a note), and refuses a Linux name another person has', async () => {
    temp = makeTempDir();
    const config = join(temp.dir, 'access.yaml');
    writeFileSync(config, `integrations:
  - name: lab
    servers: [{"name":"lab-1","host":"127.0.0.1"}]
    owners: [platform@example.com]
people:
  - { email: henk@example.com, linux_user: dev }
flows:
  - name: lab
    requesters: { emails: [dev@example.com, henk@example.com] }
    resources: { integration: lab, servers: [lab-1] }
    approvers: { emails: [lead@example.com] }
`);
    const env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: join(temp.dir, 'data') };

    const outsider = await keyway(env, 'keys', 'add', 'outsider@example.com', ...SAMPLE_KEY.split(' '));
    expect(outsider).toMatchObject({ code: 0, err: '' });
    expect(outsider.out).toMatch(/Registered ssh-ed25519 key SHA256:\S+ for outsider@example.com \(Linux user outsider\)/);
    expect(outsider.out).toMatch(/no access flow names outsider@example.com yet/);

    expect((await keyway(env, 'keys', 'add', 'dev@example.com', ...SAMPLE_KEY.split(' '))).code).toBe(0);
    const henk = await keyway(env, 'keys', 'add', 'henk@example.com', ...SAMPLE_KEY.split(' '));
    expect(henk.code).toBe(1);
    expect(henk.err).toMatch(/"dev" already belongs to another person.*people: entry such as \{ email: henk@example.com, linux_user: <another name> \}/);
    expect(henk.err).not.toMatch(/UNIQUE|SqliteError/);
  });
});
