// kind → how its inventory is listed: one line per cloud kind, as compose.ts has one line per target kind.
import type { AwsEc2Integration, AzureVmIntegration, CloudIntegration } from '../../core/model.js';
import { discoverAzureVms } from './azure-vm-discovery.js';
import { discoverEc2Instances, ec2TerminatedInstances } from './ec2-discovery.js';
import type { CloudInventory } from './inventory-refresh.js';

export function cloudInventories(): ReadonlyMap<CloudIntegration['type'], CloudInventory> {
  return new Map<CloudIntegration['type'], CloudInventory>([
    ['aws-ec2', {
      discover: (settings, options) => discoverEc2Instances(settings as AwsEc2Integration, options),
      terminated: (settings, ids, options) => ec2TerminatedInstances(settings as AwsEc2Integration, ids, options),
    }],
    // Azure: a VM missing from the list is kept while granted and its revoke retried; no terminated check yet.
    ['azure-vm', { discover: (settings, options) => discoverAzureVms(settings as AzureVmIntegration, options) }],
  ]);
}
