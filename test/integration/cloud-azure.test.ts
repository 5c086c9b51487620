// azure-vm end to end with keyway as real processes: the Azure stand-in (HTTPS, reached through the real Azure SDK in
// the child, which trusts the stand-in's CA through NODE_EXTRA_CA_CERTS) lists VMs whose NICs' private IPs are real
// sshd test hosts, on the ports their `keyway:ssh-port` tags name. `keyway inventory refresh` stores them, `keyway
// inventory list --json` shows them, `keyway hosts bootstrap` prepares them; a break-glass `keyway grant` for a
// discovered server prints a certificate the real ssh client logs in with, and `keyway revoke` makes ssh refuse it.
// Through Slack, `keyway start` routes a request to the owner a VM tag names; the approval's certificate logs in and
// the revoke refuses it; a VM without an address is logged once per refresh. The API down keeps the snapshot.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAzure, type FakeAzure } from '../helpers/fake-azure.js';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../helpers/fake-slack.js';
import { buildKeywayCli, killKeywayChildren, spawnKeyway, waitFor, type KeywayCli, type KeywayChild } from '../helpers/keyway-process.js';
import { rootTestSkipReason } from '../helpers/root.js';
import { SlackSender } from '../helpers/slack-requests.js';
import { generateUserKey, sshRun } from '../helpers/ssh-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { startTestHosts, stopAllTestHosts, type TestHost } from '../helpers/test-host.js';
import { PEOPLE, SIGNING_SECRET, callText, dmChannel } from './slack-harness.js';

const reason = rootTestSkipReason();
const { dev, lead, ana } = PEOPLE;

interface ListedServer { name: string; host: string; port: number; user: string; cloudId: string; region: string; tags: Record<string, string> }
interface ListedIntegration { integration: string; type: string; servers: ListedServer[]; snapshotAt: string | null; lastRefresh: { ok: boolean; error: string | null } | null }

describe.skipIf(!!reason)(`azure-vm servers on real sshd hosts, with keyway as a process${reason ? ` (skipped: ${reason})` : ''}`, () => {
  const temp = makeTempDir('keyway-cloud-azure-');
  let cli: KeywayCli;
  let hosts: [TestHost, TestHost];
  let fake: FakeAzure;
  let env: NodeJS.ProcessEnv;
  let userKey: Awaited<ReturnType<typeof generateUserKey>>;

  /** `keyway ARGS` as a child process with the test's environment; bounded. */
  async function keyway(...args: string[]): Promise<{ code: number | null; out: string }> {
    const child = spawnKeyway(cli, args, env);
    const timeout = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 45_000).unref());
    const exit = await Promise.race([child.exited, timeout]);
    if (exit === 'hung') {
      await child.kill9();
      throw new Error(`keyway ${args.join(' ')} did not finish within 45 s:\n${child.output()}`);
    }
    return { code: exit.code, out: child.output() };
  }

  const listed = async () => JSON.parse((await keyway('inventory', 'list', '--json')).out) as ListedIntegration[];
  const login = (user: string, certificate: string, name: string) => {
    const certPath = join(temp.dir, `${name}-cert.pub`);
    writeFileSync(certPath, `${certificate}\n`);
    return { user, keyPath: userKey.privateKeyPath, certPath, command: 'id -un' };
  };

  beforeAll(async () => {
    [cli, hosts, fake] = await Promise.all([
      buildKeywayCli(),
      startTestHosts(2, { name: 'azure' }) as Promise<[TestHost, TestHost]>,
      startFakeAzure(),
    ]);
    const [a, b] = hosts;
    fake.vms = [
      { name: 'web-a', resourceGroup: 'rg-web', privateIp: a.host, tags: { env: 'prod', owner: ana.email, 'keyway:ssh-port': String(a.port) } },
      // Azure compares tag names case-insensitively: so does Keyway, for the port tag too.
      { name: 'web-b', resourceGroup: 'rg-web', privateIp: b.host, tags: { Env: 'prod', 'Keyway:SSH-Port': String(b.port) } },
      { name: 'dev-c', resourceGroup: 'rg-dev', privateIp: b.host, tags: { env: 'dev', 'keyway:ssh-port': String(b.port) } },
      { name: 'web-d', resourceGroup: 'rg-web', privateIp: b.host, powerState: 'deallocated', tags: { env: 'prod' } },
      { name: 'web-e', resourceGroup: 'rg-web', privateIp: '', tags: { env: 'prod' } }, // no address: left out, logged
    ];
    // Servers of one integration share one connector key: host b trusts host a's too.
    const connectorPub = (await a.exec(`ssh-keygen -y -f ${a.connectorKeyPath}`)).stdout.trim();
    expect((await b.exec(`echo '${connectorPub}' >> /home/${b.connectorUser}/.ssh/authorized_keys`)).code).toBe(0);

    const config = join(temp.dir, 'access.yaml');
    writeFileSync(config, `integrations:
  - name: azure-prod
    type: azure-vm
    subscription_id: ${fake.subscriptionId}
    tags: { env: prod }
    user: ${a.connectorUser}
    endpoint: ${fake.endpoint}
    authority_host: ${fake.authorityHost}
    owners: [platform@example.com]
    resource_owner_tag: owner
flows:
  - name: azure-debug
    requesters: { everyone: true }
    resources: { integration: azure-prod, tags: { env: prod } }
    approvers: { emails: [${lead.email}] }
    max_duration: 1h
`);
    env = { KEYWAY_CONFIG: config, KEYWAY_DATA_DIR: join(temp.dir, 'data'), CONNECTOR_SSH_KEY_FILE: a.connectorKeyPath, LOG_LEVEL: 'silent', ...fake.env() };
    expect((await keyway('ca', 'init')).code).toBe(0);
    userKey = await generateUserKey(temp.dir);
  }, 180_000);

  afterAll(async () => {
    await killKeywayChildren();
    await fake?.close();
    await stopAllTestHosts();
    cli?.remove();
    temp.remove();
  });

  it('inventory refresh stores the running VMs with the tags, each at its NIC\'s private IP and tagged port; list --json shows them', async () => {
    const refreshed = await keyway('inventory', 'refresh');
    expect(refreshed, refreshed.out).toMatchObject({ code: 0, out: expect.stringMatching(/^azure-prod: 2 servers in \d+ ms\n$/) });
    expect(fake.armRequests().every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);

    const [azure] = await listed();
    expect(azure).toMatchObject({ integration: 'azure-prod', type: 'azure-vm', snapshotAt: expect.any(String), lastRefresh: { ok: true, error: null } });
    expect(azure!.servers.map((s) => [s.name, s.host, s.port, s.user, s.region])).toEqual([
      ['web-a', hosts[0].host, hosts[0].port, hosts[0].connectorUser, 'westeurope'],
      ['web-b', hosts[1].host, hosts[1].port, hosts[0].connectorUser, 'westeurope'],
    ]);
    expect(azure!.servers[0]!.cloudId).toMatch(new RegExp(`^/subscriptions/${fake.subscriptionId}/resourceGroups/RG-WEB/providers/Microsoft\\.Compute/virtualMachines/web-a$`));
    expect(azure!.servers[0]!.tags).toMatchObject({ owner: ana.email });
  }, 60_000);

  it('bootstraps the discovered servers; a break-glass grant\'s certificate logs in with ssh, and revoke refuses it', async () => {
    const bootstrapped = await keyway('hosts', 'bootstrap', '--all');
    expect(bootstrapped.code, bootstrapped.out).toBe(0);
    expect(bootstrapped.out).toMatch(/^web-a: .*configured/m);
    expect(bootstrapped.out).toMatch(/^web-b: .*configured/m);
    expect((await keyway('keys', 'add', 'ops@example.com', userKey.publicKeyLine)).code).toBe(0);

    const granted = await keyway('grant', 'ops@example.com', 'web-b', '--for', '10m', '--reason', 'INC-16: Azure VM', '--json');
    expect(granted.code, granted.out).toBe(0);
    const result = JSON.parse(granted.out) as { request: { id: number }; grants: Array<{ server: string; state: string }>; certificate: string };
    expect(result.grants.map((g) => [g.server, g.state])).toEqual([['web-b', 'active']]);
    const ops = login('ops', result.certificate, 'ops');
    const before = await sshRun(hosts[1], ops);
    expect(before, before.stderr).toMatchObject({ code: 0, stdout: 'ops\n' });
    expect((await sshRun(hosts[0], ops)).code, 'granted on web-b only').toBe(255);

    const revoked = await keyway('revoke', String(result.request.id));
    expect(revoked).toMatchObject({ code: 0, out: 'web-b: revoked\n' });
    expect((await sshRun(hosts[1], ops)).code).toBe(255);
  }, 120_000);

  describe('through Slack, keyway start as a process', () => {
    let slack: FakeSlack;
    let server: KeywayChild;
    let sender: SlackSender;

    beforeAll(async () => {
      slack = await startFakeSlack({ users: Object.values(PEOPLE) });
      server = spawnKeyway(cli, ['start'], {
        ...env, LOG_LEVEL: 'info', HOST: '127.0.0.1', PORT: '0',
        SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl,
      });
      const started = await waitFor('keyway start to log "keyway started"', () => {
        server.assertRunning();
        return logLines(server).find((l) => l.msg === 'keyway started');
      }, 30_000, 50);
      sender = new SlackSender(`http://${String(started.listen)}/slack/events`, SIGNING_SECRET, { teamId: slack.teamId, appId: slack.appId }, slack.responseUrl);
      expect((await sender.command(dev.id, `key ${userKey.publicKeyLine}`)).status).toBe(200);
      await slack.waitFor('response_url', (c) => c.tag?.includes(`-${dev.id}-`) === true && /key/i.test(String(c.body.text)), 15_000);
    }, 60_000);

    afterAll(async () => {
      if (server && server.child.exitCode === null) {
        server.child.kill('SIGTERM');
        await Promise.race([server.exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      }
      await slack?.close();
    });

    it('logs the VM left out for want of an address, with the reason, once at the refresh on start', async () => {
      await waitFor('the refresh on start to log "inventory refreshed"', () => logLines(server).some((l) => l.msg === 'inventory refreshed' && l.integration === 'azure-prod'), 20_000, 50);
      const skipped = logLines(server).filter((l) => l.msg === 'a discovered Azure VM has no usable address of the configured kind: left out');
      expect(skipped).toEqual([expect.objectContaining({ level: 40, integration: 'azure-prod', name: 'web-e', reason: 'its network interface web-e-nic has no private IP address' })]);
      expect(server.output()).not.toContain(fake.clientSecret);
    });

    it('routes a request to the owner its VM tag names; the certificate logs in with ssh; revoke refuses it', async () => {
      expect((await sender.command(dev.id, 'request web-a 30m INC-16 on Azure')).status).toBe(200);
      const approval = await slack.waitFor('chat.postMessage', (c) => c.response.channel === dmChannel(ana.id) && buttonValue(c, 'keyway_approve') !== undefined, 15_000);
      const id = Number(buttonValue(approval, 'keyway_approve'));
      expect(slack.callsTo('chat.postMessage').some((c) => c.response.channel === dmChannel(lead.id)), 'the owner tag routes the approval to ana first').toBe(false);
      const clicked = await sender.click(ana.id, 'keyway_approve', String(id), { channel: String(approval.response.channel), ts: String(approval.response.ts) });
      expect(clicked.status).toBe(200);

      const dm = await slack.waitFor('chat.postMessage', (c) => c.response.channel === dmChannel(dev.id) && callText(c).includes(`keyway-req-${id}`) && callText(c).includes('-cert-v01@openssh.com'), 30_000);
      const text = callText(dm);
      const certificate = /(ssh-ed25519-cert-v01@openssh\.com [A-Za-z0-9+/=]+)/.exec(text)![1]!;
      const [, user, host, port] = /ssh -i ~\/\.ssh\/\S+ (\S+)@(\S+) -p (\d+)/.exec(text)!;
      expect([user, host, Number(port)]).toEqual(['dev', hosts[0].host, hosts[0].port]);
      const devLogin = login('dev', certificate, `req-${id}`);
      const before = await sshRun(hosts[0], devLogin);
      expect(before, before.stderr).toMatchObject({ code: 0, stdout: 'dev\n' });

      expect((await sender.command(dev.id, `revoke ${id}`)).status).toBe(200);
      await slack.waitFor('response_url', (c) => c.tag?.includes(`-${dev.id}-`) === true && /revoked on `web-a`/.test(String(c.body.text)), 30_000);
      expect((await sshRun(hosts[0], devLogin)).code).toBe(255);
    }, 120_000);
  });

  it('keeps the snapshot when Resource Manager is down at a refresh: refresh exits 1, list still shows the servers', async () => {
    fake.armFailure = { status: 503 };
    try {
      const refreshed = await keyway('inventory', 'refresh', 'azure-prod');
      expect(refreshed.code, refreshed.out).toBe(1);
      expect(refreshed.out).toMatch(/^azure-prod: refresh failed, the last snapshot stays in force: .*503/);
      expect(refreshed.out).not.toContain(fake.clientSecret);
      const [azure] = await listed();
      expect(azure!.lastRefresh).toMatchObject({ ok: false, error: expect.stringMatching(/503/) });
      expect(azure!.servers.map((s) => s.name)).toEqual(['web-a', 'web-b']);
    } finally {
      fake.armFailure = undefined;
    }
  }, 60_000);
});

/** The JSON log lines a keyway child printed so far. */
function logLines(child: KeywayChild): Array<Record<string, unknown>> {
  return child.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The value of the button with this action id in a posted message, if it has one. */
function buttonValue(call: SlackCall, actionId: string): string | undefined {
  const blocks = (call.body.blocks ?? []) as Array<{ elements?: Array<{ action_id?: string; value?: string }>; accessory?: { action_id?: string; value?: string } }>;
  return blocks.flatMap((b) => [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])]).find((e) => e.action_id === actionId)?.value;
}
