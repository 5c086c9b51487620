// Which credential the azure-vm inventory signs in with, from the environment given (not process.env).
import { ClientSecretCredential, ManagedIdentityCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { azureCredentialFor } from '../../src/targets/cloud/azure-credential.js';

const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const client = '00000000-0000-4000-8000-000000000001';
const secret = 'a-client-secret-value';

describe('azureCredentialFor', () => {
  it('uses the service principal when tenant, client id and secret are all set', () => {
    const env = { AZURE_TENANT_ID: tenant, AZURE_CLIENT_ID: client, AZURE_CLIENT_SECRET: secret };
    expect(azureCredentialFor(undefined, env)).toBeInstanceOf(ClientSecretCredential);
    expect(azureCredentialFor('https://login.microsoftonline.us', env)).toBeInstanceOf(ClientSecretCredential);
  });

  it('uses the managed identity when there is no client secret, a user-assigned one when AZURE_CLIENT_ID is set', () => {
    expect(azureCredentialFor(undefined, {})).toBeInstanceOf(ManagedIdentityCredential);
    expect(azureCredentialFor(undefined, { AZURE_CLIENT_ID: client, AZURE_TENANT_ID: tenant })).toBeInstanceOf(ManagedIdentityCredential);
  });

  it('names what is missing when a secret comes without tenant or client id, and never repeats the secret', () => {
    const fails = (env: NodeJS.ProcessEnv) => {
      try {
        azureCredentialFor(undefined, env);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(fails({ AZURE_CLIENT_SECRET: secret, AZURE_CLIENT_ID: client })).toMatch(/^AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID is not/);
    expect(fails({ AZURE_CLIENT_SECRET: secret, AZURE_TENANT_ID: tenant })).toMatch(/^AZURE_CLIENT_SECRET is set but AZURE_CLIENT_ID is not/);
    expect(fails({ AZURE_CLIENT_SECRET: secret })).toMatch(/^AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not/);
    expect(fails({ AZURE_CLIENT_SECRET: secret })).not.toContain(secret);
  });
});
