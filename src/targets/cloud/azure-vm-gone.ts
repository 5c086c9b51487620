// Which of some VMs Azure says are deleted: for a server that left the inventory while someone had access there,
// so its failing revoke can be marked gone instead of retried forever. Deleted means Resource Manager answers 404
// for the VM (or its resource group); a stopped or deallocated VM still exists and is not gone.
import type { AzureVmIntegration } from '../../core/model.js';
import { azureClients, azureEndpoint, type AzureOptions } from './azure-clients.js';
import { azureInventoryError } from './azure-errors.js';
import { resourceGroupOf } from './azure-vm-listing.js';

export async function azureDeletedVms(settings: AzureVmIntegration, ids: string[], options: AzureOptions): Promise<Set<string>> {
  const deleted = new Set<string>();
  try {
    const { compute, call } = azureClients(settings, options);
    for (const id of ids) {
      try {
        await compute.virtualMachines.get(resourceGroupOf(id), id.slice(id.lastIndexOf('/') + 1), call);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
        deleted.add(id);
      }
    }
  } catch (error) {
    throw azureInventoryError(settings, azureEndpoint(settings), error, options.env);
  }
  return deleted;
}
