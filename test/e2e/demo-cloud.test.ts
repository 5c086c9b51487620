// keyway demo --cloud end to end: an sshd test host listed by the EC2 stand-in through the real AWS SDK, refreshed
// into the snapshot, requested, approved by its tagged owner, logged in with the real ssh client, revoked, refused.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { rootTestSkipReason } from '../helpers/root.js';

const reason = rootTestSkipReason();
const demoDirs = () => readdirSync(tmpdir()).filter((d) => d.startsWith('keyway-demo-'));

describe.skipIf(!!reason)(`keyway demo --cloud${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('shows an EC2-discovered server from refresh through ssh and revoke, and leaves nothing behind', async () => {
    const before = demoDirs();
    const lines: string[] = [];
    const errors: string[] = [];
    const code = await main(['demo', '--cloud'], { out: (t) => lines.push(t), err: (t) => errors.push(t), env: {} });
    const out = lines.join('\n');
    expect(errors).toEqual([]);
    expect(code).toBe(0);
    expect(out).toMatch(/ {3}web-1: i-0de0000000000c10d in eu-west-1, \S+@127\.0\.0\.1:\d+, tags \{"Name":"web-1","env":"demo"/);
    expect(out).not.toMatch(/ {3}(build-1|web-2):/);
    expect(out).toMatch(/request 1, for ana@example\.com \(the owner tag\)/);
    expect(out).toMatch(/grant on web-1: active \(aws-ec2, 127\.0\.0\.1:\d+\)/);
    expect(out).toMatch(/→ logged in as devhba\./);
    expect(out).toMatch(/→ revoked; the same ssh login: refused\./);
    expect(out).toMatch(/Done: test host and EC2 stand-in stopped, temporary files removed\.$/);
    expect(demoDirs()).toEqual(before);
  }, 60_000);
});
