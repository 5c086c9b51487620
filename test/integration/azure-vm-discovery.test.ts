// The azure-vm inventory through the real Azure SDK (@azure/identity, @azure/arm-compute, @azure/arm-network)
// against the local Azure stand-in over HTTPS, in a child process that trusts the stand-in's CA through
// NODE_EXTRA_CA_CERTS, as Keyway itself would be run.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAzure, type FakeAzure } from '../helpers/fake-azure.js';
import { azureSettings, buildAzureRunner, runAzureDeletedVms, runAzureInventory, type AzureRunner } from '../helpers/fake-azure-runner.js';

let fake: FakeAzure;
let runner: AzureRunner;

beforeAll(async () => {
  [fake, runner] = await Promise.all([startFakeAzure(), buildAzureRunner()]);
}, 120_000);

afterAll(async () => {
  await fake?.close();
  runner?.remove();
});

beforeEach(() => {
  fake.vms = [];
  fake.requests = [];
  fake.armFailure = undefined;
  fake.pageSize = 50;
});

const vmListPages = () => fake.armRequests().filter((r) => /\/Microsoft\.Compute\/virtualMachines\?/.test(r.url) && !r.url.includes('statusOnly'));

describe('the azure-vm inventory', () => {
  it('lists the running VMs whose tags all match, over every nextLink page, with their primary private IPs', async () => {
    fake.pageSize = 2;
    fake.vms = [
      { name: 'web-1', resourceGroup: 'rg-web', location: 'westeurope', tags: { env: 'prod', team: 'web', owner: 'ana@example.com' }, privateIp: '10.1.0.4' },
      { name: 'web-2', resourceGroup: 'rg-web', location: 'northeurope', tags: { Env: 'prod', team: 'web' }, privateIp: '10.1.0.5' },
      { name: 'web-stopped', resourceGroup: 'rg-web', tags: { env: 'prod', team: 'web' }, powerState: 'stopped' },
      { name: 'web-deallocated', resourceGroup: 'rg-web', tags: { env: 'prod', team: 'web' }, powerState: 'deallocated' },
      { name: 'web-staging', resourceGroup: 'rg-web', tags: { env: 'staging', team: 'web' } },
      { name: 'db-1', resourceGroup: 'rg-db', tags: { env: 'prod' } },
    ];
    const { inventory, error } = await runAzureInventory(runner, azureSettings(fake, { tags: { env: 'prod', team: 'web' } }), fake.env());
    expect(error).toBeUndefined();
    expect(inventory!.servers).toEqual([
      {
        name: 'web-1', host: '10.1.0.4', user: 'keyway', port: 22, region: 'westeurope',
        tags: { env: 'prod', team: 'web', owner: 'ana@example.com' },
        id: `/subscriptions/${fake.subscriptionId}/resourceGroups/RG-WEB/providers/Microsoft.Compute/virtualMachines/web-1`,
      },
      {
        name: 'web-2', host: '10.1.0.5', user: 'keyway', port: 22, region: 'northeurope', tags: { Env: 'prod', team: 'web' },
        id: `/subscriptions/${fake.subscriptionId}/resourceGroups/RG-WEB/providers/Microsoft.Compute/virtualMachines/web-2`,
      },
    ]);
    expect(inventory!.skipped).toEqual([]);
    // 6 VMs, 2 a page: the list and the status list each took 3 pages, the later ones from nextLink.
    expect(vmListPages().map((r) => new URL(r.url, fake.endpoint).searchParams.get('$skiptoken'))).toEqual([null, '2', '4']);
    expect(fake.armRequests().filter((r) => r.url.includes('statusOnly=true'))).toHaveLength(3);
    // Every Resource Manager call carried a token the stand-in's token endpoint issued for `${endpoint}/.default`.
    expect(fake.armRequests().every((r) => r.authorization?.startsWith('Bearer '))).toBe(true);
    expect(fake.requests.some((r) => r.method === 'POST' && r.url.startsWith(`/${fake.tenantId}/oauth2/v2.0/token`))).toBe(true);
  });

  it('gives the public IP of the primary NIC with address: public, and skips, with the reason, VMs that have none', async () => {
    fake.vms = [
      { name: 'edge-1', resourceGroup: 'rg-edge', publicIp: '20.50.1.10', secondaryNic: true },
      { name: 'edge-private-only', resourceGroup: 'rg-edge' },
      { name: 'edge-unallocated', resourceGroup: 'rg-edge', publicIp: null },
      { name: 'edge-stopped', resourceGroup: 'rg-edge', publicIp: '20.50.1.11', powerState: 'deallocated' },
    ];
    const { inventory, error } = await runAzureInventory(runner, azureSettings(fake, { address: 'public' }), fake.env());
    expect(error).toBeUndefined();
    expect(inventory!.servers.map((s) => [s.name, s.host])).toEqual([['edge-1', '20.50.1.10']]);
    expect(inventory!.skipped.map((s) => [s.name, s.reason])).toEqual([
      ['edge-private-only', 'its network interface edge-private-only-nic has no public IP address (address: public)'],
      ['edge-unallocated', 'its public IP address edge-unallocated-ip has no address allocated'],
    ]);
    expect(fake.armRequests().some((r) => r.url.includes('/Microsoft.Network/publicIPAddresses?'))).toBe(true);
  });

  it('takes the primary NIC of a VM with two, not the first one listed', async () => {
    fake.vms = [{ name: 'multi-nic', resourceGroup: 'rg-a', secondaryNic: true, privateIp: '10.9.9.9' }];
    const { inventory } = await runAzureInventory(runner, azureSettings(fake), fake.env());
    expect(inventory!.servers.map((s) => s.host)).toEqual(['10.9.9.9']);
  });

  it('reads only the listed resource groups, with Reader on them alone, fetching a NIC that lives in another group', async () => {
    fake.vms = [
      { name: 'app-1', resourceGroup: 'rg-app', privateIp: '10.2.0.4' },
      { name: 'app-2', resourceGroup: 'rg-app', privateIp: '10.2.0.5', networkResourceGroup: 'rg-network' },
      { name: 'app-off', resourceGroup: 'rg-app', powerState: 'stopped' },
      { name: 'other-1', resourceGroup: 'rg-other', privateIp: '10.3.0.4' },
    ];
    const { inventory, error } = await runAzureInventory(runner, azureSettings(fake, { resourceGroups: ['rg-app'] }), fake.env());
    expect(error).toBeUndefined();
    expect(inventory!.servers.map((s) => [s.name, s.host])).toEqual([['app-1', '10.2.0.4'], ['app-2', '10.2.0.5']]);
    const paths = fake.armRequests().map((r) => new URL(r.url, fake.endpoint).pathname);
    expect(paths.filter((p) => !/\/resourceGroups\/(rg-app|rg-network)\//i.test(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('/instanceView')).length).toBe(3); // power state per VM in the group
    expect(paths.map((p) => p.toLowerCase())).toContain(`/subscriptions/${fake.subscriptionId}/resourcegroups/rg-network/providers/microsoft.network/networkinterfaces/app-2-nic`);
  });

  it('rejects, naming the call and the status, when Resource Manager keeps answering 500 (after the SDK retried)', async () => {
    fake.vms = [{ name: 'web-1', resourceGroup: 'rg-web' }];
    fake.armFailure = { status: 500, when: (url) => url.pathname.endsWith('/Microsoft.Compute/virtualMachines') };
    const { inventory, error } = await runAzureInventory(runner, azureSettings(fake), fake.env(), { timeoutMs: 40_000 });
    expect(inventory).toBeUndefined();
    expect(error).toMatchObject({ name: 'OutageError', kind: 'outage', code: 'platform_unavailable' });
    expect(error!.message).toMatch(new RegExp(
      `^the Azure inventory of azure-prod \\(subscription ${fake.subscriptionId} at ${fake.endpoint}\\) could not be read: ` +
      `Resource Manager answered 500 InternalServerError to GET /subscriptions/${fake.subscriptionId}/providers/Microsoft.Compute/virtualMachines: `));
    expect(vmListPages().length).toBeGreaterThan(1);
  }, 45_000);

  it('rejects rather than return a partial inventory when a later page fails', async () => {
    fake.pageSize = 1;
    fake.vms = [{ name: 'a', resourceGroup: 'rg' }, { name: 'b', resourceGroup: 'rg' }, { name: 'c', resourceGroup: 'rg' }];
    fake.armFailure = { status: 400, when: (url) => url.searchParams.get('$skiptoken') === '2' };
    const { inventory, error } = await runAzureInventory(runner, azureSettings(fake), fake.env());
    expect(inventory).toBeUndefined();
    expect(error!.message).toContain('Resource Manager answered 400 BadRequest');
  });

  it('stops with a clear error when Resource Manager does not answer and the caller aborts', async () => {
    fake.vms = [{ name: 'web-1', resourceGroup: 'rg-web' }];
    fake.armFailure = { status: 'hang' };
    const started = Date.now();
    const { error } = await runAzureInventory(runner, azureSettings(fake), fake.env(), { abortAfterMs: 1500 });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(error).toMatchObject({ kind: 'outage' });
    expect(error!.message).toMatch(/could not be read: stopped before it finished/);
  });

  it('fails with Entra ID\'s reason, and without the secret, when the client secret is wrong', async () => {
    fake.vms = [{ name: 'web-1', resourceGroup: 'rg-web' }];
    const wrong = 'wrong-secret-0123456789abcdef';
    const run = await runAzureInventory(runner, azureSettings(fake), { ...fake.env(), AZURE_CLIENT_SECRET: wrong });
    expect(run.error).toMatchObject({ kind: 'outage' });
    expect(run.error!.message).toMatch(/could not be read: no Entra ID token: .*AADSTS7000215: Invalid client secret provided/);
    expect(run.output).not.toContain(wrong);
    expect(run.output).not.toContain(fake.clientSecret);
    expect(fake.armRequests()).toEqual([]);
  });

  it('names the missing variable when AZURE_CLIENT_SECRET comes without AZURE_TENANT_ID', async () => {
    const { AZURE_TENANT_ID: _, ...env } = fake.env();
    const run = await runAzureInventory(runner, azureSettings(fake), env);
    expect(run.error!.message).toContain('AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID is not');
    expect(run.output).not.toContain(fake.clientSecret);
    expect(fake.requests).toEqual([]);
  });

  it('does not trust the stand-in without its CA: the HTTPS is real', async () => {
    const { NODE_EXTRA_CA_CERTS: _, ...env } = fake.env();
    const { error } = await runAzureInventory(runner, azureSettings(fake), env, { timeoutMs: 40_000 });
    expect(error!.message).toMatch(/no Entra ID token: endpoints_resolution_error.*could not be reached.*TLS certificate is trusted/);
    expect(fake.requests).toEqual([]);
  }, 45_000);
});

describe('deleted VMs (for grants on servers that left the inventory)', () => {
  it('reports the VMs Resource Manager answers 404 for, and not a stopped one', async () => {
    fake.vms = [{ name: 'web-1', resourceGroup: 'rg-web', powerState: 'deallocated' }, { name: 'web-2', resourceGroup: 'rg-web' }];
    const id = (group: string, name: string) => `/subscriptions/${fake.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`;
    const ids = [id('RG-WEB', 'web-1'), id('rg-web', 'web-9'), id('rg-gone', 'old-1')];
    const { deleted, error } = await runAzureDeletedVms(runner, azureSettings(fake), ids, fake.env());
    expect(error).toBeUndefined();
    expect(deleted).toEqual([ids[1], ids[2]]);
  });

  it('rejects, rather than call anything deleted, when Resource Manager fails', async () => {
    fake.armFailure = { status: 403 };
    const { deleted, error } = await runAzureDeletedVms(runner, azureSettings(fake), [`/subscriptions/${fake.subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/x`], fake.env());
    expect(deleted).toBeUndefined();
    expect(error!.message).toContain('Resource Manager answered 403');
  });
});

describe('the Azure stand-in', () => {
  async function call(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: { access_token?: string } }> {
    return new Promise((resolve, reject) => {
      const req = request(`${fake.endpoint}${path}`, { method, headers, ca: readFileSync(fake.caFile) }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => (text += s)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      });
      req.on('error', reject).end(body);
    });
  }

  it('refuses Resource Manager calls without an issued bearer token or with an unknown api-version, as Azure does', async () => {
    fake.vms = [{ name: 'web-1', resourceGroup: 'rg-web' }];
    const list = `/subscriptions/${fake.subscriptionId}/providers/Microsoft.Compute/virtualMachines`;
    expect(await call('GET', `${list}?api-version=2025-04-01`)).toMatchObject({ status: 401, body: { error: { code: 'AuthenticationFailed' } } });
    expect(await call('GET', `${list}?api-version=2025-04-01`, { authorization: 'Bearer made-up' })).toMatchObject({ status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: fake.clientId, client_secret: fake.clientSecret, scope: `${fake.endpoint}/.default` });
    const token = await call('POST', `/${fake.tenantId}/oauth2/v2.0/token`, { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    expect(token).toMatchObject({ status: 200, body: { token_type: 'Bearer' } });
    const auth = { authorization: `Bearer ${token.body.access_token}` };
    expect(await call('GET', list, auth)).toMatchObject({ status: 400, body: { error: { code: 'MissingApiVersionParameter' } } });
    expect(await call('GET', `${list}?api-version=2019-01-01`, auth)).toMatchObject({ status: 400, body: { error: { code: 'NoRegisteredProviderFound' } } });
    expect(await call('GET', `${list}?api-version=2025-04-01`, auth)).toMatchObject({ status: 200, body: { value: [{ name: 'web-1' }] } });
    const wrongScope = new URLSearchParams({ ...Object.fromEntries(form), scope: 'https://management.azure.com/.default' });
    expect(await call('POST', `/${fake.tenantId}/oauth2/v2.0/token`, { 'content-type': 'application/x-www-form-urlencoded' }, wrongScope.toString()))
      .toMatchObject({ status: 400, body: { error: 'invalid_resource' } });
  });
});
