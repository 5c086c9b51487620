// A local stand-in for Azure, written from the public references, that the real @azure/identity and @azure/arm-*
// SDKs talk to over HTTPS (test CA: trust it with NODE_EXTRA_CA_CERTS=caFile in a child process).
// Entra ID: the OpenID configuration of `/{tenant}/v2.0` and the client-credentials token endpoint
// `/{tenant}/oauth2/v2.0/token` (checks client id and secret, and that the scope is `${endpoint}/.default`).
// Resource Manager: Virtual Machines List All (with statusOnly=true) and List (resource group), Instance View,
// Network Interfaces and Public IP Addresses list/get; every call needs `api-version` from a known set and a
// bearer token the token endpoint issued; lists page with `nextLink` ($skiptoken). It records every request, and
// can answer an error status or never answer instead.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { makeTempDir } from './temp-dir.js';
import { makeTestTls } from './fake-azure-tls.js';
import {
  COMPUTE_API_VERSIONS, NETWORK_API_VERSIONS, instanceViewJson, nicJson, nicId, publicIpId, publicIpJson, vmJson,
  vmStatusJson, type FakeAzureVm,
} from './fake-azure-resources.js';
import { listenLocally } from './local-server.js';

export type { FakeAzureVm } from './fake-azure-resources.js';

export interface FakeAzureRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  authorization: string | undefined;
}

export interface FakeAzureFailure {
  /** An HTTP status to answer with, or 'hang' to never answer. */
  status: number | 'hang';
  /** Only Resource Manager requests whose URL this matches (default: all of them). */
  when?: (url: URL) => boolean;
}

export interface FakeAzure {
  /** The Resource Manager base URL (the integration's `endpoint`). */
  endpoint: string;
  /** The Entra ID authority host (the integration's `authority_host`); the same server. */
  authorityHost: string;
  /** PEM of the CA that signed the server's certificate: set NODE_EXTRA_CA_CERTS to it. */
  caFile: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  subscriptionId: string;
  vms: FakeAzureVm[];
  /** Items per list page (Resource Manager's real page size is larger; small pages exercise nextLink). */
  pageSize: number;
  requests: FakeAzureRequest[];
  armFailure: FakeAzureFailure | undefined;
  /** AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET for this stand-in, plus NODE_EXTRA_CA_CERTS. */
  env(): NodeJS.ProcessEnv;
  /** Resource Manager requests made so far (not the token endpoint). */
  armRequests(): FakeAzureRequest[];
  close(): Promise<void>;
}

export async function startFakeAzure(): Promise<FakeAzure> {
  const temp = makeTempDir('keyway-fake-azure-');
  const tls = makeTestTls(temp.dir);
  const issuedTokens = new Set<string>();
  const fake: FakeAzure = {
    endpoint: '', authorityHost: '', caFile: tls.caFile,
    tenantId: randomUUID(), clientId: randomUUID(), clientSecret: `secret-${randomBytes(12).toString('hex')}`,
    subscriptionId: randomUUID(), vms: [], pageSize: 50, requests: [], armFailure: undefined,
    env: () => ({
      AZURE_TENANT_ID: fake.tenantId, AZURE_CLIENT_ID: fake.clientId, AZURE_CLIENT_SECRET: fake.clientSecret,
      NODE_EXTRA_CA_CERTS: fake.caFile,
    }),
    armRequests: () => fake.requests.filter((r) => r.url.toLowerCase().startsWith('/subscriptions/')),
    close: async () => undefined,
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => {
      fake.requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
      const url = new URL(req.url ?? '/', fake.endpoint);
      if (url.pathname.toLowerCase().startsWith('/subscriptions/')) answerArm(fake, issuedTokens, req, url, res);
      else answerEntra(fake, issuedTokens, req, url, body, res);
    });
  });
  const listening = await listenLocally(server);
  fake.endpoint = `https://127.0.0.1:${listening.port}`;
  fake.authorityHost = fake.endpoint;
  fake.close = async () => {
    await listening.close();
    temp.remove();
  };
  return fake;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-ms-request-id': randomUUID() }).end(JSON.stringify(body));
}

// Entra ID's answers, as MSAL Node reads them (OpenID discovery, then the token request).
function answerEntra(fake: FakeAzure, issued: Set<string>, req: IncomingMessage, url: URL, body: string, res: ServerResponse): void {
  const tenantPath = `/${fake.tenantId}`;
  const aadError = (status: number, error: string, code: number, description: string) => json(res, status, {
    error, error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code], timestamp: new Date().toISOString(), trace_id: randomUUID(), correlation_id: randomUUID(),
  });
  if (req.method === 'GET' && url.pathname === `${tenantPath}/v2.0/.well-known/openid-configuration`) {
    const base = `${fake.authorityHost}${tenantPath}`;
    return json(res, 200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${fake.authorityHost}/${fake.tenantId}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    });
  }
  if (req.method === 'POST' && url.pathname === `${tenantPath}/oauth2/v2.0/token`) {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return aadError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    if (form.get('client_id') !== fake.clientId) {
      return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${form.get('client_id')}' was not found in the directory.`);
    }
    if (form.get('client_secret') !== fake.clientSecret) {
      return aadError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    if (form.get('scope') !== `${fake.endpoint}/.default`) {
      return aadError(400, 'invalid_resource', 500011, `The resource principal named ${form.get('scope')} was not found in the tenant.`);
    }
    const token = randomBytes(24).toString('base64url');
    issued.add(token);
    return json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }
  aadError(404, 'invalid_tenant', 90002, `Tenant '${url.pathname.split('/')[1]}' not found.`);
}

function armError(res: ServerResponse, status: number, code: string, message: string): void {
  json(res, status, { error: { code, message } });
}

const ARM_ROUTE = new RegExp(
  '^/subscriptions/(?<sub>[^/]+)(?:/resourceGroups/(?<rg>[^/]+))?/providers/' +
  '(?<provider>Microsoft\\.Compute/virtualMachines|Microsoft\\.Network/networkInterfaces|Microsoft\\.Network/publicIPAddresses)' +
  '(?:/(?<name>[^/]+))?(?<instanceView>/instanceView)?$', 'i');

function answerArm(fake: FakeAzure, issued: Set<string>, req: IncomingMessage, url: URL, res: ServerResponse): void {
  const authorization = req.headers.authorization;
  if (!authorization) return armError(res, 401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.");
  if (!authorization.startsWith('Bearer ') || !issued.has(authorization.slice('Bearer '.length))) {
    return armError(res, 401, 'InvalidAuthenticationToken', 'The access token is invalid.');
  }
  const failure = fake.armFailure;
  if (failure && (failure.when?.(url) ?? true)) {
    if (failure.status === 'hang') return; // never answers; close() drops the connection
    return armError(res, failure.status, failure.status >= 500 ? 'InternalServerError' : 'BadRequest', 'The stand-in was told to fail this request.');
  }
  const route = ARM_ROUTE.exec(url.pathname)?.groups;
  if (req.method !== 'GET' || !route) return armError(res, 404, 'InvalidResourceType', `No route for ${req.method} ${url.pathname}.`);
  if (route.sub !== fake.subscriptionId) return armError(res, 404, 'SubscriptionNotFound', `The subscription '${route.sub}' could not be found.`);
  const provider = route.provider!.toLowerCase();
  const versions = provider.startsWith('microsoft.compute') ? COMPUTE_API_VERSIONS : NETWORK_API_VERSIONS;
  const apiVersion = url.searchParams.get('api-version');
  if (!apiVersion) return armError(res, 400, 'MissingApiVersionParameter', "The api-version query parameter (?api-version=) is required for all requests.");
  if (!versions.includes(apiVersion)) {
    return armError(res, 400, 'NoRegisteredProviderFound', `No registered resource provider found for API version '${apiVersion}'. The supported api-versions are '${versions.join(', ')}'.`);
  }
  const rg = route.rg?.toLowerCase();
  const knownGroups = new Set(fake.vms.flatMap((vm) => [vm.resourceGroup, vm.networkResourceGroup ?? vm.resourceGroup]).map((g) => g.toLowerCase()));
  if (rg !== undefined && !knownGroups.has(rg)) return armError(res, 404, 'ResourceGroupNotFound', `Resource group '${route.rg}' could not be found.`);
  const sub = fake.subscriptionId;
  const indexed = fake.vms.map((vm, index) => ({ vm, index }));
  const inGroup = (group: string) => rg === undefined || group.toLowerCase() === rg;
  let items: { id: string; body: () => unknown }[];
  if (provider === 'microsoft.compute/virtualmachines') {
    const statusOnly = url.searchParams.get('statusOnly') === 'true';
    if (statusOnly && rg !== undefined) return armError(res, 400, 'InvalidParameter', "Parameter 'statusOnly' is not allowed for this operation.");
    items = indexed.filter(({ vm }) => inGroup(vm.resourceGroup)).map(({ vm, index }) => ({
      id: `/subscriptions/${sub}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`,
      body: () => (route.instanceView ? instanceViewJson(vm) : statusOnly ? vmStatusJson(sub, vm) : vmJson(sub, vm, index)),
    }));
  } else if (provider === 'microsoft.network/networkinterfaces') {
    items = indexed.flatMap(({ vm, index }) => (['primary', 'secondary'] as const)
      .filter((which) => which === 'primary' || vm.secondaryNic)
      .filter(() => inGroup(vm.networkResourceGroup ?? vm.resourceGroup))
      .map((which) => ({ id: nicId(sub, vm, which), body: () => nicJson(sub, vm, index, which) })));
  } else {
    items = indexed.filter(({ vm }) => vm.publicIp !== undefined && inGroup(vm.networkResourceGroup ?? vm.resourceGroup))
      .map(({ vm }) => ({ id: publicIpId(sub, vm), body: () => publicIpJson(sub, vm) }));
  }
  if (route.name !== undefined) {
    if (rg === undefined) return armError(res, 404, 'InvalidResourceType', 'A single resource is addressed within its resource group.');
    const found = items.find((item) => item.id.toLowerCase().endsWith(`/${route.name!.toLowerCase()}`));
    if (!found) return armError(res, 404, 'ResourceNotFound', `The Resource '${route.provider}/${route.name}' under resource group '${route.rg}' was not found.`);
    return json(res, 200, found.body());
  }
  const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
  const page = items.slice(skip, skip + fake.pageSize).map((item) => item.body());
  const next = new URL(url.pathname, fake.endpoint);
  for (const [key, value] of url.searchParams) if (key !== '$skiptoken') next.searchParams.set(key, value);
  next.searchParams.set('$skiptoken', String(skip + fake.pageSize));
  json(res, 200, skip + fake.pageSize < items.length ? { value: page, nextLink: next.toString() } : { value: page });
}
