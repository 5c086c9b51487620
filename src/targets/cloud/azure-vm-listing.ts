// Reads from Resource Manager, through the Azure SDK, the virtual machines of an azure-vm inventory with their power
// state, and the network interfaces and public IP addresses that give their addresses. Whole subscription: two
// paged lists (the VMs, and with statusOnly=true their run-time status, which the first list does not carry).
// Some resource groups only (Reader on those groups suffices): each group's VMs, then the instance view of each
// VM that passed the tag filter. Network resources are listed per scope once, not fetched per VM, so a refresh
// of thousands of VMs costs a few dozen pages rather than thousands of calls.
import type { ComputeManagementClient, VirtualMachine } from '@azure/arm-compute';
import type { NetworkInterface, NetworkManagementClient, PublicIPAddress } from '@azure/arm-network';
import { Semaphore } from '../ssh/semaphore.js';

/** Parallel instance-view calls in resource-group mode: enough to be quick, few enough not to be throttled. */
const INSTANCE_VIEW_CONCURRENCY = 8;

/** What every Resource Manager call gets: the caller's abort signal and a per-request timeout. */
export interface AzureCall {
  abortSignal?: AbortSignal;
  requestOptions: { timeout: number };
}

export interface AzureVmWithState {
  vm: VirtualMachine;
  /** The instance view's PowerState/… code (PowerState/running), undefined when Azure reported none. */
  powerState: string | undefined;
}

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of pages) all.push(item);
  return all;
}

function powerStateOf(statuses: { code?: string }[] | undefined): string | undefined {
  return statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;
}

/** Resource ids are case-insensitive (Compute often upper-cases the resource group): join on this key. */
export function idKey(id: string | undefined): string {
  return (id ?? '').toLowerCase();
}

/** The VMs of the scope that `wanted` accepts, each with its power state. */
export async function listAzureVms(
  compute: ComputeManagementClient, resourceGroups: string[], wanted: (vm: VirtualMachine) => boolean, call: AzureCall,
): Promise<AzureVmWithState[]> {
  if (resourceGroups.length === 0) {
    const [vms, statuses] = await Promise.all([
      collect(compute.virtualMachines.listAll(call)),
      collect(compute.virtualMachines.listAll({ ...call, statusOnly: 'true' })),
    ]);
    const power = new Map(statuses.map((s) => [idKey(s.id), powerStateOf(s.instanceView?.statuses)]));
    return vms.filter(wanted).map((vm) => ({ vm, powerState: power.get(idKey(vm.id)) }));
  }
  const vms = (await Promise.all(resourceGroups.map((group) => collect(compute.virtualMachines.list(group, call))))).flat().filter(wanted);
  const slots = new Semaphore(INSTANCE_VIEW_CONCURRENCY);
  return Promise.all(vms.map(async (vm) => {
    const release = await slots.acquire();
    try {
      const view = await compute.virtualMachines.instanceView(resourceGroupOf(vm.id), vm.name ?? '', call);
      return { vm, powerState: powerStateOf(view.statuses) };
    } finally {
      release();
    }
  }));
}

export function resourceGroupOf(id: string | undefined): string {
  return /\/resourceGroups\/([^/]+)\//i.exec(id ?? '')?.[1] ?? '';
}

function nameOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/** A lookup by resource id that starts from the scope's list and fetches what it lacks (a NIC in another group). */
export interface NetworkLookup {
  nic(id: string): Promise<NetworkInterface | undefined>;
  publicIp(id: string): Promise<PublicIPAddress | undefined>;
}

export async function networkLookup(
  network: NetworkManagementClient, resourceGroups: string[], withPublicIps: boolean, call: AzureCall,
): Promise<NetworkLookup> {
  const byId = <T extends { id?: string }>(items: T[]) => new Map(items.map((item) => [idKey(item.id), item]));
  const everywhere = resourceGroups.length === 0;
  const [nics, publicIps] = await Promise.all([
    everywhere
      ? collect(network.networkInterfaces.listAll(call))
      : Promise.all(resourceGroups.map((g) => collect(network.networkInterfaces.list(g, call)))).then((lists) => lists.flat()),
    !withPublicIps ? [] : everywhere
      ? collect(network.publicIPAddresses.listAll(call))
      : Promise.all(resourceGroups.map((g) => collect(network.publicIPAddresses.list(g, call)))).then((lists) => lists.flat()),
  ]);
  const nicById = byId(nics);
  const publicIpById = byId(publicIps);
  return {
    nic: async (id) => nicById.get(idKey(id)) ?? fetchOrUndefined(() => network.networkInterfaces.get(resourceGroupOf(id), nameOf(id), call)),
    publicIp: async (id) => publicIpById.get(idKey(id)) ?? fetchOrUndefined(() => network.publicIPAddresses.get(resourceGroupOf(id), nameOf(id), call)),
  };
}

// A resource that is gone (deleted between the lists) or outside what the role may read leaves that one VM without
// an address; anything else (throttling, an outage) fails the refresh, so the caller keeps its last snapshot.
async function fetchOrUndefined<T>(get: () => Promise<T>): Promise<T | undefined> {
  try {
    return await get();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404 || status === 403) return undefined;
    throw error;
  }
}
