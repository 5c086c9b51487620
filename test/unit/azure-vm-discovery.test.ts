// The pure parts of the azure-vm inventory: tag matching and the one-line errors (the SDK-driven parts are in
// test/integration/azure-vm-discovery.test.ts, against the Azure stand-in).
import { describe, expect, it } from 'vitest';
import { azureInventoryError } from '../../src/targets/cloud/azure-errors.js';
import { tagsMatch } from '../../src/targets/cloud/azure-vm-discovery.js';
import { idKey, resourceGroupOf } from '../../src/targets/cloud/azure-vm-listing.js';
import type { AzureVmIntegration } from '../../src/core/model.js';

describe('tagsMatch', () => {
  it('needs every wanted tag with its exact value; names compare case-insensitively as in Azure', () => {
    expect(tagsMatch({ env: 'prod', team: 'web' }, { env: 'prod' })).toBe(true);
    expect(tagsMatch({ Env: 'prod' }, { env: 'prod' })).toBe(true);
    expect(tagsMatch({ env: 'Prod' }, { env: 'prod' })).toBe(false);
    expect(tagsMatch({ env: 'prod' }, { env: 'prod', team: 'web' })).toBe(false);
    expect(tagsMatch(undefined, { env: 'prod' })).toBe(false);
    expect(tagsMatch(undefined, {})).toBe(true);
  });
});

describe('resource ids', () => {
  it('join case-insensitively and yield their resource group', () => {
    const id = '/subscriptions/s/resourceGroups/RG-WEB/providers/Microsoft.Compute/virtualMachines/web-1';
    expect(idKey(id)).toBe(idKey(id.replace('RG-WEB', 'rg-web')));
    expect(resourceGroupOf(id)).toBe('RG-WEB');
    expect(resourceGroupOf('/subscriptions/s/resourcegroups/rg-x/providers/x/y/z')).toBe('rg-x');
  });
});

describe('azureInventoryError', () => {
  const settings = { name: 'azure-prod', subscriptionId: 'sub-1', resourceGroups: ['rg-a', 'rg-b'] } as AzureVmIntegration;

  it('is an outage naming the integration, the scope, the call and Resource Manager\'s answer', () => {
    const rest = Object.assign(new Error('The client does not have authorization to perform action.'), {
      name: 'RestError', statusCode: 403, code: 'AuthorizationFailed',
      request: { method: 'GET', url: 'https://management.azure.com/subscriptions/sub-1/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines?api-version=2025-04-01' },
    });
    const error = azureInventoryError(settings, 'https://management.azure.com', rest, {});
    expect(error).toMatchObject({ kind: 'outage', code: 'platform_unavailable' });
    expect(error.message).toBe('the Azure inventory of azure-prod (resource groups rg-a, rg-b of subscription sub-1 at https://management.azure.com) could not be read: ' +
      'Resource Manager answered 403 AuthorizationFailed to GET /subscriptions/sub-1/resourceGroups/rg-a/providers/Microsoft.Compute/virtualMachines: The client does not have authorization to perform action.');
  });

  it('cuts the client secret out of whatever a lower layer said', () => {
    const error = azureInventoryError(settings, 'https://x', new Error('bad secret s3cr3t-value given'), { AZURE_CLIENT_SECRET: 's3cr3t-value' });
    expect(error.message).toContain('bad secret [redacted] given');
    expect(error.message).not.toContain('s3cr3t-value');
  });
});
