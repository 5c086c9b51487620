// The Resource Manager clients of one azure-vm integration: its endpoint (public cloud by default; a sovereign cloud
// or a test server), the token scope that goes with it, its credential, and the options every call gets.
import { ComputeManagementClient } from '@azure/arm-compute';
import { NetworkManagementClient } from '@azure/arm-network';
import type { AzureVmIntegration } from '../../core/model.js';
import { azureCredentialFor } from './azure-credential.js';
import type { AzureCall } from './azure-vm-listing.js';

const PUBLIC_CLOUD_ENDPOINT = 'https://management.azure.com';
/** One Resource Manager request; the caller's signal bounds the whole refresh. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface AzureOptions {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export function azureEndpoint(settings: AzureVmIntegration): string {
  return (settings.endpoint ?? PUBLIC_CLOUD_ENDPOINT).replace(/\/+$/, '');
}

export function azureClients(settings: AzureVmIntegration, options: AzureOptions): { compute: ComputeManagementClient; network: NetworkManagementClient; call: AzureCall } {
  const endpoint = azureEndpoint(settings);
  const credential = azureCredentialFor(settings.authorityHost, options.env);
  const clientOptions = { endpoint, $host: endpoint, credentialScopes: [`${endpoint}/.default`] };
  return {
    compute: new ComputeManagementClient(credential, settings.subscriptionId, clientOptions),
    network: new NetworkManagementClient(credential, settings.subscriptionId, clientOptions),
    call: { requestOptions: { timeout: REQUEST_TIMEOUT_MS }, ...(options.signal ? { abortSignal: options.signal } : {}) },
  };
}
