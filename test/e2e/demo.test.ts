// keyway demo end to end: real sshd test hosts, real ssh client, real SQLite, the timer-driven sweeper.
import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { main } from '../../src/cli/main.js';
import { rootTestSkipReason } from '../helpers/root.js';

const reason = rootTestSkipReason();
const demoDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('keyway-demo-'));

describe.skipIf(!!reason)(`keyway demo${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('walks request → approval → certificate → ssh → expiry → refused → cleanup, and leaves nothing behind', async () => {
    const before = demoDirs();
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await main(['demo', '--seconds', '5'], { out: (t) => lines.push(t), err: (t) => errors.push(t), env: {} });
    const out = lines.join('\n');
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(out).toMatch(/demo-1: configured \(.*sshd-reloaded\)/);
    expect(out).toMatch(/grant on demo-1: active/);
    expect(out).toMatch(/→ {2}devhba on demo-1/);
    expect(out).toMatch(/the same certificate on demo-2 \(not in the request\): refused/);
    expect(out).toMatch(/revoked \d+\.\d s after expiry/);
    expect(out).toMatch(/10\. The same ssh login now: refused/);
    expect(out).toMatch(/user devhba deleted from demo-1/);
    expect(out).toMatch(/keyway audit verify: OK, \d+ entries/);
    expect(out).toMatch(/Done: test hosts stopped, temporary files removed\.$/);
    expect(demoDirs()).toEqual(before);
  }, 90_000);
});
