// `keyway config check` on a file that grants root: exit 1, and each problem as file:line:col.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runKeyway } from '../helpers/keyway-process.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const temp = makeTempDir();
afterAll(() => temp.remove());

describe('keyway config check', () => {
  it('refuses grant_groups: [root] and a login_shell with "..", at their lines and columns', async () => {
    const file = join(temp.dir, 'access.yaml');
    writeFileSync(file, [
      'integrations:',
      '  - name: prod',
      '    servers: [{ name: web-1, host: 10.0.0.1 }]',
      '    owners: [ops@example.com]',
      '    login_shell: /usr/bin/../bin/bash',
      'flows:',
      '  - name: debug',
      '    requesters: { everyone: true }',
      '    resources: { integration: prod, servers: [web-1] }',
      '    grant_groups: [root]',
      '',
    ].join('\n'));
    const result = await runKeyway({}, 'config', 'check', file);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${file}:5:18: login_shell "/usr/bin/../bin/bash" must be a normalised absolute path`);
    expect(result.err).toContain(`${file}:10:20: grant_groups: the group "root" is never granted`);
  });
});
