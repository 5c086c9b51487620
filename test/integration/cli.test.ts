// The keyway command, run in-process with a real data directory and the shipped example config.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { runKeyway } from '../helpers/run-keyway.js';
import { openDatabase } from '../../src/store/open-database.js';
import { submitRequest } from '../../src/access/requests.js';
import { loadAccessConfig } from '../../src/config/load.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { generateUserKey } from '../helpers/ssh-client.js';

const EXAMPLE = 'config/access.example.yaml';
let temp: { dir: string; remove(): void };
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  temp = makeTempDir();
  env = { KEYWAY_DATA_DIR: join(temp.dir, 'data'), KEYWAY_CONFIG: EXAMPLE };
});
afterEach(() => temp.remove());

const keyway = (...argv: string[]) => runKeyway(env, ...argv);

describe('keyway config check', () => {
  it('accepts the shipped example', async () => {
    const result = await keyway('config', 'check', EXAMPLE);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/^config\/access.example.yaml: OK: 2 integrations, 4 servers, \d+ flows, 2 people$/);
  });

  it('exits 1 with file:line:col and the reason for a broken copy', async () => {
    const broken = join(temp.dir, 'broken.yaml');
    const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('default_duration: 1h'));
    lines[at] = lines[at]!.replace('1h', '2x');
    writeFileSync(broken, lines.join('\n'));
    const result = await keyway('config', 'check', broken);
    expect(result.code).toBe(1);
    expect(result.err).toContain(`${broken}:${at + 1}:`);
    expect(result.err).toMatch(/"2x" is not a duration/);
  });

  it('exits 2 on bad usage', async () => {
    expect((await keyway('config', 'check', '--bogus')).code).toBe(2);
    expect((await keyway('nonsense')).code).toBe(2);
  });
});

describe('keyway help', () => {
  it('lists the commands', async () => {
    const result = await keyway('--help');
    expect(result.code).toBe(0);
    for (const name of ['config check', 'keys add', 'requests list', 'approve', 'deny', 'grants list', 'audit verify', 'ca init']) expect(result.out).toContain(name);
    expect((await keyway('approve', '--help')).out).toMatch(/Usage: keyway approve ID --as APPROVER-EMAIL/);
  });
});

describe('keys, requests, approvals and the audit log', () => {
  it('registers a key, lists and approves a request, and verifies the audit chain', async () => {
    const { publicKeyLine } = await generateUserKey(temp.dir);
    expect(await keyway('keys', 'add', 'dev@example.com', publicKeyLine)).toMatchObject({ code: 0, out: expect.stringMatching(/^Registered ssh-ed25519 key SHA256:\S+ for dev@example.com \(Linux user dev\)\.$/) });

    const db = openDatabase(env.KEYWAY_DATA_DIR!);
    const config = loadAccessConfig(EXAMPLE);
    const ctx = { db, config: () => config, now: () => Date.now(), logger: pino({ level: 'silent' }) };
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-1'], duration: 1800, reason: 'INC-7' }, 'test');
    db.close();

    const listed = await keyway('requests', 'list', '--state', 'pending', '--json');
    expect(JSON.parse(listed.out)).toEqual([expect.objectContaining({ id: request.id, state: 'pending', servers: ['web-1'] })]);

    const refused = await keyway('approve', String(request.id), '--as', 'eve@example.com');
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(new RegExp(`^keyway approve: eve@example.com is not an approver of request ${request.id}: .*@example.com can decide it.$`)) });

    const approver = request.approvers.emails[0]!;
    const approved = await keyway('approve', String(request.id), '--as', approver);
    expect(approved.code).toBe(0);
    expect(approved.out).toMatch(new RegExp(`^Request ${request.id} approved: 1 grant\\(s\\) until `));
    expect(JSON.parse((await keyway('grants', 'list', '--json')).out)).toEqual([expect.objectContaining({ server: 'web-1', state: 'provisioning', linuxUser: 'dev' })]);
    expect((await keyway('approve', String(request.id), '--as', approver)).code).toBe(1);

    const audit = await keyway('audit', '--json');
    expect(JSON.parse(audit.out).map((e: { action: string }) => e.action)).toEqual(['key.registered', 'request.created', 'approval.refused', 'approval.approve', 'request.approved']);
    expect(await keyway('audit', 'verify')).toMatchObject({ code: 0, out: expect.stringMatching(/^Audit log OK: 5 entries, head [0-9a-f]{64}\.$/) });
  });

  it('keyway approve refuses a request past its request_ttl and expires it in the same step', async () => {
    env.KEYWAY_CONFIG = join(temp.dir, 'access.yaml');
    writeFileSync(env.KEYWAY_CONFIG, `integrations:
  - name: prod-linux
    servers: [{ name: web-1, host: 10.0.100.1 }]
flows:
  - name: prod-debug
    requesters: { emails: [dev@example.com] }
    resources: { integration: prod-linux, servers: [web-1] }
    approvers: { emails: [lead@example.com] }
    request_ttl: 1h
`);
    const { publicKeyLine } = await generateUserKey(temp.dir);
    expect((await keyway('keys', 'add', 'dev@example.com', publicKeyLine)).code).toBe(0);
    const db = openDatabase(env.KEYWAY_DATA_DIR!);
    const config = loadAccessConfig(env.KEYWAY_CONFIG!);
    const twoHoursAgo = Date.now() - 2 * 3600_000;
    const ctx = { db, config: () => config, now: () => twoHoursAgo, logger: pino({ level: 'silent' }) };
    const { request } = submitRequest(ctx, { email: 'dev@example.com' }, { servers: ['web-1'], duration: 1800, reason: 'INC-8' }, 'test');
    db.close();

    const refused = await keyway('approve', String(request.id), '--as', request.approvers.emails[0]!);
    expect(refused).toMatchObject({ code: 1, err: `keyway approve: Request ${request.id} was not decided within 1h (its flow's request_ttl) and has expired: it can no longer be approved. The requester can ask again.` });
    expect(JSON.parse((await keyway('requests', 'list', '--json')).out)).toEqual([expect.objectContaining({ id: request.id, state: 'expired' })]);
    expect(JSON.parse((await keyway('grants', 'list', '--json')).out)).toEqual([]);
    const audit = JSON.parse((await keyway('audit', '--json')).out).map((e: { action: string }) => e.action);
    expect(audit.slice(-2)).toEqual(['approval.refused', 'request.expired']);
  });

  it('refuses a pasted private key without echoing it', async () => {
    const { privateKeyPath } = await generateUserKey(temp.dir);
    const secret = readFileSync(privateKeyPath, 'utf8');
    const result = await keyway('keys', 'add', 'dev@example.com', '--file', privateKeyPath);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/private key/i);
    for (const line of secret.split('\n').filter((l) => l.length > 20)) expect(result.err).not.toContain(line);
  });

  it('deny needs --as and a reason', async () => {
    expect((await keyway('deny', '1')).code).toBe(2);
    expect((await keyway('deny', 'x', '--as', 'a@b.c')).code).toBe(2);
  });
});

describe('keyway ca', () => {
  it('initialises once, prints the public key, and signs a certificate by hand', async () => {
    const first = await keyway('ca', 'init');
    expect(first.out).toMatch(/Generated a new CA key in .*ca_key \(mode 0600\)/);
    const again = await keyway('ca', 'init');
    expect(again.out).toMatch(/already exists/);
    const pub = await keyway('ca', 'public-key');
    expect(pub.out).toMatch(/^ssh-ed25519 AAAA\S+ keyway-ca$/);
    const { publicKeyLine } = await generateUserKey(temp.dir);
    const keyFile = join(temp.dir, 'user.pub');
    writeFileSync(keyFile, publicKeyLine);
    const signed = await keyway('ca', 'sign', '--key', keyFile, '--principal', 'alice', '--ttl', '5m');
    expect(signed.code).toBe(0);
    expect(signed.out).toMatch(/^ssh-ed25519-cert-v01@openssh.com AAAA\S+ manual-1$/);
    expect((await keyway('ca', 'sign', '--key', keyFile, '--ttl', '5m')).code).toBe(2);
  });
});

