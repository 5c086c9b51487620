// One error for every way reading an Azure inventory can fail: an OutageError whose one line says which integration
// and scope, and then Resource Manager's status, code and message (with the call), Entra ID's answer, or the abort.
// The SDK's error objects carry the request with its bearer token, so only their text is kept, and the client
// secret is cut out of it should any layer ever echo it.
import { OutageError } from '../../core/errors.js';
import type { AzureVmIntegration } from '../../core/model.js';

export function azureInventoryError(settings: AzureVmIntegration, endpoint: string, error: unknown, env: NodeJS.ProcessEnv): OutageError {
  const scope = settings.resourceGroups.length === 0
    ? `subscription ${settings.subscriptionId}`
    : `resource group${settings.resourceGroups.length > 1 ? 's' : ''} ${settings.resourceGroups.join(', ')} of subscription ${settings.subscriptionId}`;
  const text = `the Azure inventory of ${settings.name} (${scope} at ${endpoint}) could not be read: ${describe(error)}`;
  const secret = env.AZURE_CLIENT_SECRET;
  return new OutageError('platform_unavailable', secret ? text.replaceAll(secret, '[redacted]') : text);
}

const IDENTITY_ERRORS = new Set(['AuthenticationError', 'AuthenticationRequiredError', 'CredentialUnavailableError', 'AggregateAuthenticationError']);

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
