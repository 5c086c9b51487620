// The Entra ID credential an azure-vm inventory signs in with, chosen from the environment Keyway runs in (a pure
// function of `env`, so tests pass an object): a service principal when AZURE_CLIENT_SECRET is set (with
// AZURE_TENANT_ID and AZURE_CLIENT_ID), else the machine's managed identity (AZURE_CLIENT_ID alone picks a
// user-assigned one). Tokens come from @azure/identity; Keyway speaks no OAuth itself.
import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

export function azureCredentialFor(authorityHost: string | undefined, env: NodeJS.ProcessEnv): TokenCredential {
  const tenantId = env.AZURE_TENANT_ID;
  const clientId = env.AZURE_CLIENT_ID;
  const secret = env.AZURE_CLIENT_SECRET;
  if (secret) {
    const missing = Object.entries({ AZURE_TENANT_ID: tenantId, AZURE_CLIENT_ID: clientId }).filter(([, v]) => !v).map(([k]) => k);
    if (tenantId && clientId) {
      // MSAL would otherwise validate an authority it does not know by asking login.microsoftonline.com, which an
      // authority of an isolated cloud (or a test server) cannot pass; the setting itself is the trust decision.
      return new ClientSecretCredential(tenantId, clientId, secret, authorityHost ? { authorityHost, disableInstanceDiscovery: true } : {});
    }
    throw new Error(`AZURE_CLIENT_SECRET is set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not: a service principal needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or unset AZURE_CLIENT_SECRET to use the managed identity)`);
  }
  return new ManagedIdentityCredential(clientId ? { clientId } : {});
}
