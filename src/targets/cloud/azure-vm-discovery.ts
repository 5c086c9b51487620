// The azure-vm inventory: the running virtual machines of a subscription (or of some of its resource groups) whose
// tags match, each with the private IP of its primary NIC or the public IP address attached to it, read from Azure
// Resource Manager with the Azure SDK (@azure/arm-compute, @azure/arm-network, tokens from @azure/identity).
// A VM that matches but has no such address is reported as skipped, with the reason, for the caller to log. The tag
// keyway:ssh-port moves Keyway's SSH connections off port 22, as for EC2.
// Every failure rejects with one OutageError that says what failed and never carries the client secret; the
// caller then keeps its last snapshot.
import type { VirtualMachine } from '@azure/arm-compute';
import type { AzureVmIntegration } from '../../core/model.js';
import { azureClients, azureEndpoint, type AzureOptions } from './azure-clients.js';
import { azureInventoryError } from './azure-errors.js';
import { listAzureVms, networkLookup, type NetworkLookup } from './azure-vm-listing.js';
import { SSH_PORT_TAG, sshPortOf, type DiscoveredServer } from './discovered.js';

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

/** The matching running VMs as servers, and those left out for want of an address, with why. */
export async function discoverAzureInventory(settings: AzureVmIntegration, options: AzureOptions): Promise<AzureInventory> {
  try {
    const { compute, network, call } = azureClients(settings, options);
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
      else {
        const tags = vm.tags ?? {};
        const port = sshPortOf(tagValue(tags, SSH_PORT_TAG));
        inventory.servers.push({ name, host: address.host, user: settings.user, port, tags, id, region: vm.location ?? '' });
      }
    }
    return inventory;
  } catch (error) {
    throw azureInventoryError(settings, azureEndpoint(settings), error, options.env);
  }
}

/** Every wanted tag is on the VM with that value; tag names compare case-insensitively, as Azure treats them. */
export function tagsMatch(vmTags: Record<string, string> | undefined, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => tagValue(vmTags ?? {}, key) === value);
}

/** A tag's value by name, compared case-insensitively as Azure compares tag names. */
function tagValue(tags: Record<string, string>, name: string): string | undefined {
  return Object.entries(tags).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
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
