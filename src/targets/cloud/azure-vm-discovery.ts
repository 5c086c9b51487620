// The azure-vm inventory: the running virtual machines of a subscription (or of some of its resource groups) whose
// tags match, each with the private IP of its primary NIC or the public IP address attached to it, read from Azure
// Resource Manager with the Azure SDK (@azure/arm-compute, @azure/arm-network, tokens from @azure/identity).
// A VM that matches but has no such address is reported as skipped, with the reason, for the caller to log.
// Every failure rejects with one OutageError that says what failed and never carries the client secret; the
// caller then keeps its last snapshot.
import { ComputeManagementClient, type VirtualMachine } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import { OutageError } from '../../core/errors.js';
import type { AzureVmIntegration } from '../../core/model.js';
import { azureCredentialFor } from './azure-credential.js';
import { listAzureVms, networkLookup, type AzureCall, type NetworkLookup } from './azure-vm-listing.js';
import type { DiscoveredServer } from './discovered.js';

const PUBLIC_CLOUD_ENDPOINT = 'https://management.azure.com';
/** One Resource Manager request; the caller's signal bounds the whole refresh. */
const REQUEST_TIMEOUT_MS = 30_000;
const SSH_PORT = 22;

export interface SkippedAzureVm {
  /** The VM's resource id. */
  id: string;
  name: string;
  reason: string;
}

export interface AzureInventory {
  servers: DiscoveredServer[];
  skipped: SkippedAzureVm[];
}

export interface AzureDiscoveryOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function discoverAzureVms(settings: AzureVmIntegration, options: AzureDiscoveryOptions): Promise<DiscoveredServer[]> {
  return (await discoverAzureInventory(settings, options)).servers;
}

/** As discoverAzureVms, plus the matching running VMs that were left out for want of an address, and why. */
export async function discoverAzureInventory(settings: AzureVmIntegration, options: AzureDiscoveryOptions): Promise<AzureInventory> {
  const endpoint = (settings.endpoint ?? PUBLIC_CLOUD_ENDPOINT).replace(/\/+$/, '');
  const scope = settings.resourceGroups.length === 0
    ? `subscription ${settings.subscriptionId}`
    : `resource group${settings.resourceGroups.length > 1 ? 's' : ''} ${settings.resourceGroups.join(', ')} of subscription ${settings.subscriptionId}`;
  try {
    const credential = azureCredentialFor(settings.authorityHost, options.env);
    const clientOptions = { endpoint, $host: endpoint, credentialScopes: [`${endpoint}/.default`] };
    const compute = new ComputeManagementClient(credential, settings.subscriptionId, clientOptions);
    const network = new NetworkManagementClient(credential, settings.subscriptionId, clientOptions);
    const call: AzureCall = { requestOptions: { timeout: REQUEST_TIMEOUT_MS }, ...(options.signal ? { abortSignal: options.signal } : {}) };
    const [vms, lookup] = await Promise.all([
      listAzureVms(compute, settings.resourceGroups, (vm) => tagsMatch(vm.tags, settings.tags), call),
      networkLookup(network, settings.resourceGroups, settings.address === 'public', call),
    ]);
    const inventory: AzureInventory = { servers: [], skipped: [] };
    for (const { vm } of vms.filter((v) => v.powerState === 'PowerState/running')) {
      const address = await addressOf(vm, settings.address, lookup);
      const id = vm.id ?? '';
      const name = vm.name ?? '';
      if ('reason' in address) inventory.skipped.push({ id, name, reason: address.reason });
      else inventory.servers.push({ name, host: address.host, user: settings.user, port: SSH_PORT, tags: vm.tags ?? {}, id, region: vm.location ?? '' });
    }
    return inventory;
  } catch (error) {
    throw new OutageError('platform_unavailable', redact(
      `the Azure inventory of ${settings.name} (${scope} at ${endpoint}) could not be read: ${describe(error)}`,
      options.env.AZURE_CLIENT_SECRET,
    ));
  }
}

/** Every wanted tag is on the VM with that value; tag names compare case-insensitively, as Azure treats them. */
export function tagsMatch(vmTags: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  const tags = Object.entries(vmTags ?? {});
  return Object.entries(wanted).every(([key, value]) => tags.some(([k, v]) => k.toLowerCase() === key.toLowerCase() && v === value));
}

async function addressOf(vm: VirtualMachine, kind: 'private' | 'public', lookup: NetworkLookup): Promise<{ host: string } | { reason: string }> {
  const refs = vm.networkProfile?.networkInterfaces ?? [];
  const ref = refs.find((r) => r.primary) ?? refs[0]; // Azure flags the primary NIC only when there are several
  if (!ref?.id) return { reason: 'it has no network interface' };
  const nic = await lookup.nic(ref.id);
  if (!nic) return { reason: `its network interface ${ref.id} could not be read (deleted, or outside what the role may read)` };
  const configs = nic.ipConfigurations ?? [];
  const config = configs.find((c) => c.primary) ?? configs[0];
  if (kind === 'private') {
    return config?.privateIPAddress ? { host: config.privateIPAddress } : { reason: `its network interface ${nic.name} has no private IP address` };
  }
  const publicRef = config?.publicIPAddress;
  if (!publicRef?.id) return { reason: `its network interface ${nic.name} has no public IP address (address: public)` };
  const publicIp = publicRef.ipAddress ? publicRef : await lookup.publicIp(publicRef.id);
  if (!publicIp) return { reason: `its public IP address ${publicRef.id} could not be read (deleted, or outside what the role may read)` };
  return publicIp.ipAddress ? { host: publicIp.ipAddress } : { reason: `its public IP address ${publicIp.name ?? publicRef.id} has no address allocated` };
}

const IDENTITY_ERRORS = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError', 'AggregateAuthenticationError']);

// What went wrong, in one line: Resource Manager's status, code and message (and which call), Entra ID's answer,
// or the abort. The SDK's error objects carry the request with its bearer token, so only their text is kept.
function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; statusCode?: number; code?: string; request?: { method?: string; url?: string } };
  const message = (e.message ?? String(error)).split('\n')[0]!.trim();
  if (e.name === 'AbortError') return `stopped before it finished (${message})`;
  if (e.name !== undefined && IDENTITY_ERRORS.has(e.name)) {
    // MSAL reports an authority it cannot reach (DNS, TLS, a wrong URL) only by this code, without the cause.
    const hint = message.includes('endpoints_resolution_error')
      ? ' (the authority host could not be reached or did not serve its OpenID configuration: check authority_host, the network path, and that its TLS certificate is trusted)'
      : '';
    return `no Entra ID token: ${message}${hint}`;
  }
  if (e.statusCode !== undefined && e.request?.url) {
    const path = new URL(e.request.url).pathname;
    return `Resource Manager answered ${e.statusCode}${e.code ? ` ${e.code}` : ''} to ${e.request.method ?? 'GET'} ${path}: ${message}`;
  }
  return message;
}

function redact(text: string, secret: string | undefined): string {
  return secret ? text.replaceAll(secret, '[redacted]') : text;
}
