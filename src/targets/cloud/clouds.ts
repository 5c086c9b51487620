// kind → how its inventory is listed: one line per cloud kind, as compose.ts has one line per target kind. The cloud
// SDKs are loaded on first use: every `keyway` command would otherwise pay for loading them.
import type { AwsEc2Integration, AzureVmIntegration, CloudIntegration } from '../../core/model.js';
import type { CloudInventory, Discover } from './inventory-refresh.js';

const ec2 = () => import('./ec2-discovery.js');
const azure = () => import('./azure-vm-discovery.js');
const azureGone = () => import('./azure-vm-gone.js');

export function cloudInventories(): ReadonlyMap<CloudIntegration['type'], CloudInventory> {
  return new Map<CloudIntegration['type'], CloudInventory>([
    ['aws-ec2', {
      discover: async (settings, options) => (await ec2()).discoverEc2Instances(settings as AwsEc2Integration, options),
      terminated: async (settings, ids, options) => (await ec2()).ec2TerminatedInstances(settings as AwsEc2Integration, ids, options),
    }],
    ['azure-vm', {
      discover: (settings, options) => azureServers(settings as AzureVmIntegration, options),
      terminated: async (settings, ids, options) => (await azureGone()).azureDeletedVms(settings as AzureVmIntegration, ids, options),
    }],
  ]);
}

/** Azure's servers; each VM left out for want of an address is logged with the reason, once a refresh. */
const azureServers: Discover<AzureVmIntegration> = async (settings, options) => {
  const { servers, skipped } = await (await azure()).discoverAzureInventory(settings, options);
  for (const vm of skipped) {
    options.logger.warn({ integration: settings.name, instance: vm.id, name: vm.name, reason: vm.reason }, 'a discovered Azure VM has no usable address of the configured kind: left out');
  }
  return servers;
};
