// The JSON bodies the Azure stand-in answers with, shaped as in the Azure REST reference (Virtual Machines - List /
// List All / Instance View, Network Interfaces - Get, Public IP Addresses - Get) and the SDK's serializedName mappers.
// As the real Compute provider often does, compute answers spell resource group names in ids in upper case while
// the network provider keeps their original case: resource ids are case-insensitive and clients must join them so.

export interface FakeAzureVm {
  name: string;
  resourceGroup: string;
  /** Default westeurope. */
  location?: string;
  tags?: Record<string, string>;
  /** The instance view's PowerState/… code; default running. */
  powerState?: 'running' | 'stopped' | 'deallocated' | 'starting' | 'stopping' | 'deallocating';
  /** The primary NIC's private IP; default 10.0.<n>.4. */
  privateIp?: string;
  /** A public IP address resource on the primary IP configuration; null: one that has no address (not allocated). */
  publicIp?: string | null;
  /** The resource group the VM's NICs and public IP live in (default the VM's own). */
  networkResourceGroup?: string;
  /** Give the VM a second, non-primary NIC, listed before the primary one. */
  secondaryNic?: boolean;
}

export const COMPUTE_API_VERSIONS = ['2024-07-01', '2024-11-01', '2025-04-01'];
export const NETWORK_API_VERSIONS = ['2024-05-01', '2025-01-01', '2025-05-01'];

export function vmId(sub: string, vm: FakeAzureVm): string {
  return `/subscriptions/${sub}/resourceGroups/${vm.resourceGroup.toUpperCase()}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
}

function networkGroup(vm: FakeAzureVm): string {
  return vm.networkResourceGroup ?? vm.resourceGroup;
}

export function nicId(sub: string, vm: FakeAzureVm, which: 'primary' | 'secondary'): string {
  return `/subscriptions/${sub}/resourceGroups/${networkGroup(vm)}/providers/Microsoft.Network/networkInterfaces/${vm.name}-${which === 'primary' ? 'nic' : 'nic2'}`;
}

export function publicIpId(sub: string, vm: FakeAzureVm): string {
  return `/subscriptions/${sub}/resourceGroups/${networkGroup(vm)}/providers/Microsoft.Network/publicIPAddresses/${vm.name}-ip`;
}

function nicReferences(sub: string, vm: FakeAzureVm): unknown[] {
  const primary = { id: nicId(sub, vm, 'primary').replace(`/resourceGroups/${networkGroup(vm)}/`, `/resourceGroups/${networkGroup(vm).toUpperCase()}/`), properties: { primary: true } };
  if (!vm.secondaryNic) return [{ id: primary.id }]; // a single NIC carries no primary flag
  return [{ id: nicId(sub, vm, 'secondary'), properties: { primary: false } }, primary];
}

/** One element of `value` in Virtual Machines - List / List All. */
export function vmJson(sub: string, vm: FakeAzureVm, index: number): unknown {
  return {
    name: vm.name,
    id: vmId(sub, vm),
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location ?? 'westeurope',
    tags: vm.tags ?? {},
    properties: {
      vmId: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      hardwareProfile: { vmSize: 'Standard_B2s' },
      storageProfile: {
        imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' },
        osDisk: { osType: 'Linux', name: `${vm.name}_OsDisk`, createOption: 'FromImage', caching: 'ReadWrite', diskSizeGB: 30 },
        dataDisks: [],
      },
      osProfile: {
        computerName: vm.name,
        adminUsername: 'azureuser',
        linuxConfiguration: { disablePasswordAuthentication: true, provisionVMAgent: true },
        secrets: [],
      },
      networkProfile: { networkInterfaces: nicReferences(sub, vm) },
      provisioningState: 'Succeeded',
      timeCreated: '2026-01-05T10:00:00.0000000+00:00',
    },
  };
}

/** The instance view: what Virtual Machines - Instance View returns, and what statusOnly=true puts in properties. */
export function instanceViewJson(vm: FakeAzureVm): unknown {
  const power = vm.powerState ?? 'running';
  const display = { running: 'VM running', stopped: 'VM stopped', deallocated: 'VM deallocated', starting: 'VM starting', stopping: 'VM stopping', deallocating: 'VM deallocating' }[power];
  return {
    computerName: vm.name,
    osName: 'ubuntu',
    osVersion: '24.04',
    statuses: [
      { code: 'ProvisioningState/succeeded', level: 'Info', displayStatus: 'Provisioning succeeded', time: '2026-01-05T10:01:00.0000000+00:00' },
      { code: `PowerState/${power}`, level: 'Info', displayStatus: display },
    ],
  };
}

/** An element of List All with statusOnly=true: the run-time status only, without tags or the network profile. */
export function vmStatusJson(sub: string, vm: FakeAzureVm): unknown {
  return {
    name: vm.name,
    id: vmId(sub, vm),
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location ?? 'westeurope',
    properties: { instanceView: instanceViewJson(vm) },
  };
}

export function nicJson(sub: string, vm: FakeAzureVm, index: number, which: 'primary' | 'secondary'): unknown {
  const id = nicId(sub, vm, which);
  const privateIp = which === 'primary' ? (vm.privateIp ?? `10.0.${index % 250}.4`) : `10.1.${index % 250}.4`;
  const hasPublicIp = which === 'primary' && vm.publicIp !== undefined;
  return {
    name: id.split('/').pop(),
    id,
    etag: `W/"${index}-${which}"`,
    type: 'Microsoft.Network/networkInterfaces',
    location: vm.location ?? 'westeurope',
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: `11111111-0000-4000-8000-${String(index).padStart(12, '0')}`,
      ipConfigurations: [{
        name: 'ipconfig1',
        id: `${id}/ipConfigurations/ipconfig1`,
        etag: `W/"${index}-${which}"`,
        type: 'Microsoft.Network/networkInterfaces/ipConfigurations',
        properties: {
          provisioningState: 'Succeeded',
          privateIPAddress: privateIp,
          privateIPAllocationMethod: 'Dynamic',
          subnet: { id: `/subscriptions/${sub}/resourceGroups/${networkGroup(vm)}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default` },
          primary: true,
          privateIPAddressVersion: 'IPv4',
          ...(hasPublicIp ? { publicIPAddress: { id: publicIpId(sub, vm) } } : {}),
        },
      }],
      dnsSettings: { dnsServers: [], appliedDnsServers: [], internalDomainNameSuffix: 'example.internal.cloudapp.net' },
      macAddress: '00-0D-3A-00-00-01',
      enableAcceleratedNetworking: false,
      enableIPForwarding: false,
      primary: which === 'primary',
      virtualMachine: { id: vmId(sub, vm) },
      nicType: 'Standard',
    },
  };
}

export function publicIpJson(sub: string, vm: FakeAzureVm): unknown {
  return {
    name: `${vm.name}-ip`,
    id: publicIpId(sub, vm),
    type: 'Microsoft.Network/publicIPAddresses',
    location: vm.location ?? 'westeurope',
    sku: { name: 'Standard', tier: 'Regional' },
    properties: {
      provisioningState: 'Succeeded',
      resourceGuid: '22222222-0000-4000-8000-000000000000',
      ...(vm.publicIp ? { ipAddress: vm.publicIp } : {}),
      publicIPAddressVersion: 'IPv4',
      publicIPAllocationMethod: vm.publicIp ? 'Static' : 'Dynamic',
      idleTimeoutInMinutes: 4,
      ipConfiguration: { id: `${nicId(sub, vm, 'primary')}/ipConfigurations/ipconfig1` },
    },
  };
}
