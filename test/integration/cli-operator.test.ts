// What a new admin meets on the command line (issue 14): empty lists, --data-dir and --config, keys from a file,
// config check --json, --version, usage errors, group help, keys list/remove, revoke --reason, the audit header.
// Run in-process like the real bin: io.out returns what process.stdout.write returns (true), so a command that
// returned it as its exit code would show here.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { runKeyway } from '../helpers/run-keyway.js';
import { openDatabase } from '../../src/store/open-database.js';
import { submitRequest } from '../../src/access/requests.js';
import { decideRequest } from '../../src/store/requests.js';
import { loadAccessConfig } from '../../src/config/load.js';
import { SAMPLE_KEY } from '../helpers/access-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const EXAMPLE = 'config/access.example.yaml';
let temp: { dir: string; remove(): void };
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  temp = makeTempDir();
  env = { KEYWAY_DATA_DIR: join(temp.dir, 'data'), KEYWAY_CONFIG: EXAMPLE };
});
afterEach(() => temp.remove());

async function keyway(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, out, err } = await runKeyway(env, ...argv);
  return { code, out, err };
}

describe('empty lists', () => {
  it('say plainly that there is nothing, exit 0, and create no database', async () => {
    const empty = join(temp.dir, 'empty');
    env.KEYWAY_DATA_DIR = empty;
    expect(await keyway('requests', 'list')).toMatchObject({ code: 0, out: 'No requests.' });
    expect(await keyway('grants', 'list')).toMatchObject({ code: 0, out: expect.stringMatching(/^No grants/) });
    expect(await keyway('keys', 'list')).toMatchObject({ code: 0, out: 'No keys registered.' });
    expect(await keyway('audit')).toMatchObject({ code: 0, out: 'The audit log is empty.' });
    const note = await keyway('requests', 'list');
    expect(note.err).toMatch(new RegExp(`^note: there is no Keyway database in ${empty} .*--data-dir`));
    expect(existsSync(empty)).toBe(false);
  });

  it('revoke of a request without grants says so and exits 0', async () => {
    expect((await keyway('ca', 'init')).code).toBe(0);
    expect((await keyway('keys', 'add', 'dev@example.com', SAMPLE_KEY)).code).toBe(0);
    const db = openDatabase(env.KEYWAY_DATA_DIR!);
    const config = loadAccessConfig(EXAMPLE);
    const ctx = { db, config: () => config, now: () => Date.now(), logger: pino({ level: 'silent' }) };
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-1'], duration: 1800, reason: 'INC-7' }, 'test');
    db.close();
    expect(await keyway('revoke', String(request.id), '--reason', 'left the team')).toMatchObject({ code: 0, out: `Request ${request.id} has no grants.` });
    const audit = JSON.parse((await keyway('audit', '--json', '--subject', `request:${request.id}`)).out) as Array<{ action: string; details: unknown }>;
    expect(audit).toContainEqual(expect.objectContaining({ action: 'request.revoke_requested', details: { reason: 'left the team' } }));
  });

  it('requests list shows who decided and the decision record (e.g. an on-call auto-approval)', async () => {
    expect((await keyway('keys', 'add', 'dev@example.com', SAMPLE_KEY)).code).toBe(0);
    const db = openDatabase(env.KEYWAY_DATA_DIR!);
    const config = loadAccessConfig(EXAMPLE);
    const ctx = { db, config: () => config, now: () => Date.now(), logger: pino({ level: 'silent' }) };
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-1'], duration: 1800, reason: 'INC-8' }, 'test');
    const note = 'auto-approved: on call in PagerDuty schedule PSCHED1 (shift ends 18:00 UTC)';
    expect(decideRequest(db, request.id, { state: 'approved', at: Date.now(), by: 'system', reason: note, accessExpiresAt: Date.now() + 1_800_000 })).toBe(true);
    db.close();
    const listed = await keyway('requests', 'list');
    expect(listed.out.split('\n')[0]).toMatch(/ REASON +DECISION *$/);
    expect(listed.out.split('\n')[1]).toMatch(/ INC-8 +system: auto-approved: on call in PagerDuty schedule PSCHED1 \(shift ends 18:00 UTC\) *$/);
  });

  it('audit prints a header above its entries', async () => {
    expect((await keyway('keys', 'add', 'dev@example.com', SAMPLE_KEY)).code).toBe(0);
    const audit = await keyway('audit');
    expect(audit.out.split('\n')[0]).toBe('SEQ\tAT\tACTOR\tACTION\tSUBJECT\tDETAILS');
    expect(audit.out.split('\n')[1]).toMatch(/^1\t.*\tkey\.registered\tperson:dev@example\.com\t/);
  });
});

describe('--data-dir and --config', () => {
  it('override KEYWAY_DATA_DIR and KEYWAY_CONFIG, before or after the command', async () => {
    const mine = join(temp.dir, 'mine');
    const config = join(temp.dir, 'access.yaml');
    writeFileSync(config, readFileSync(EXAMPLE, 'utf8'));
    env = { KEYWAY_DATA_DIR: join(temp.dir, 'elsewhere'), KEYWAY_CONFIG: join(temp.dir, 'missing.yaml') };
    expect(await keyway('keys', 'add', 'dev@example.com', SAMPLE_KEY, '--data-dir', mine, '--config', config)).toMatchObject({ code: 0 });
    expect(existsSync(join(mine, 'keyway.db'))).toBe(true);
    expect(existsSync(join(temp.dir, 'elsewhere'))).toBe(false);
    const listed = await keyway('--data-dir', mine, 'keys', 'list');
    expect(listed).toMatchObject({ code: 0, err: '' });
    expect(listed.out).toMatch(/^EMAIL +LINUX USER +TYPE +FINGERPRINT +ADDED\ndev@example.com +dev +ssh-ed25519 +SHA256:/);
    expect(await keyway('config', 'check', '--config', config)).toMatchObject({ code: 0, out: expect.stringContaining(`${config}: OK`) });
  });
});

describe('keys', () => {
  it('add reads a .pub file given in place of the key line', async () => {
    const file = join(temp.dir, 'id.pub');
    writeFileSync(file, SAMPLE_KEY + '\n');
    expect(await keyway('keys', 'add', 'dev@example.com', file)).toMatchObject({ code: 0, out: expect.stringMatching(/^Registered ssh-ed25519 key SHA256:\S+ for dev@example.com/) });
    expect(await keyway('keys', 'add', 'dev@example.com', join(temp.dir, 'nope.pub'))).toMatchObject({ code: 1, err: expect.stringMatching(/^keyway keys add: There is no file .*nope\.pub: give the public key line/) });
  });

  it('remove retires the key (audited); removing again is a one-line error', async () => {
    expect((await keyway('keys', 'add', 'dev@example.com', SAMPLE_KEY)).code).toBe(0);
    expect(await keyway('keys', 'remove', 'dev@example.com')).toMatchObject({ code: 0, out: expect.stringMatching(/^Removed the key SHA256:\S+ of dev@example.com\./) });
    expect(await keyway('keys', 'list')).toMatchObject({ code: 0, out: 'No keys registered.' });
    expect(await keyway('keys', 'remove', 'dev@example.com')).toMatchObject({ code: 1, err: 'keyway keys remove: dev@example.com has no registered key: see keyway keys list.' });
    expect(JSON.parse((await keyway('audit', '--json')).out).map((e: { action: string }) => e.action)).toEqual(['key.registered', 'key.removed']);
  });
});

describe('config check', () => {
  it('--json prints the problems as JSON and exits 1; text problems start with file:line:col', async () => {
    const broken = join(temp.dir, 'broken.yaml');
    writeFileSync(broken, readFileSync(EXAMPLE, 'utf8').replace('default_duration: 1h', 'default_duration: 2x'));
    const json = await keyway('config', 'check', broken, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out) as { ok: boolean; problems: Array<{ file: string; line: number; col: number; message: string }> };
    expect(report).toMatchObject({ ok: false, file: broken });
    expect(report.problems[0]).toMatchObject({ file: broken, line: expect.any(Number), col: expect.any(Number), message: expect.stringMatching(/"2x" is not a duration/) });
    const text = await keyway('config', 'check', broken);
    expect(text.code).toBe(1);
    for (const line of text.err.split('\n')) expect(line).toMatch(new RegExp(`^${broken}:\\d+:\\d+: `));
  });
});

describe('usage', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await keyway('--version')).toMatchObject({ code: 0, out: version });
  });

  it('an unknown option or command is one line on stderr and exit 2', async () => {
    expect(await keyway('requests', 'list', '--bogus')).toEqual({ code: 2, out: '', err: "keyway requests list: unknown option '--bogus'. See keyway requests list --help." });
    expect(await keyway('requests', 'nope')).toEqual({ code: 2, out: '', err: "keyway requests: unknown command 'nope'. See keyway requests --help." });
    expect(await keyway('revoke')).toEqual({ code: 2, out: '', err: "keyway revoke: missing required argument 'id'. See keyway revoke --help." });
  });

  it('a group alone shows its commands; every option has a line of help', async () => {
    const hosts = await keyway('hosts');
    expect(hosts.code).toBe(0);
    for (const name of ['hosts bootstrap', 'hosts check', 'hosts trust']) expect(hosts.out).toContain(name);
    expect((await keyway('requests')).out).toContain('requests list');
    const help = await keyway('grant', '--help');
    expect(help.out).toMatch(/--for <DURATION> +how long, like 1h/);
    expect(help.out).toMatch(/--data-dir <dir> +the data directory/);
    expect((await keyway('revoke', '--help')).out).toMatch(/--reason <TEXT> +why, recorded in the audit log/);
  });
});
