// A local stand-in for the Bot Framework's identity services: the OpenID metadata and signing keys Teams'
// tokens are checked against, a token endpoint that issues the bot's own tokens for calls to the Bot
// Connector, and a signer for tokens like the ones the Bot Connector sends. With `authenticationFor`, the real
// botbuilder token checks run against it, so tests exercise the authenticated path without Microsoft's cloud.
// (Test code only; the product keeps botbuilder inside src/chat/teams/.)
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import { ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import type { BotFrameworkAuthentication } from '../../src/chat/teams/teams-app.js';
import { listenLocally } from './local-server.js';

const ISSUER = 'https://api.botframework.com';

export interface FakeBotIdentity {
  base: string;
  /** Tokens the token endpoint issued to the bot. */
  issued: Set<string>;
  tokenRequests: Array<Record<string, string>>;
  /** A token as the Bot Connector signs it for an activity sent to the bot. */
  channelToken(claims: { appId: string; serviceUrl: string; expiresIn?: number; key?: KeyObject }): string;
  close(): Promise<void>;
}

export async function startFakeBotIdentity(): Promise<FakeBotIdentity> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'keyway-test-key';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256', endorsements: ['msteams'] };
  const issued = new Set<string>();
  const tokenRequests: Array<Record<string, string>> = [];
  const server = createServer((req, res) => void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/v1/.well-known/openidconfiguration') return json({ issuer: ISSUER, jwks_uri: `${base}/v1/keys`, id_token_signing_alg_values_supported: ['RS256'] });
    if (req.url === '/v1/keys') return json({ keys: [jwk] });
    if (req.method === 'POST' && req.url === '/oauth2/v2.0/token') {
      tokenRequests.push(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
      const token = `bot-token-${randomUUID()}`;
      issued.add(token);
      return json({ token_type: 'Bearer', expires_in: 3600, access_token: token });
    }
    res.writeHead(404).end();
  })());
  const listening = await listenLocally(server);
  const base = `http://127.0.0.1:${listening.port}`;
  return {
    base, issued, tokenRequests,
    channelToken({ appId, serviceUrl, expiresIn = 3600, key = privateKey }) {
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const signed = `${b64({ alg: 'RS256', typ: 'JWT', kid })}.${b64({ iss: ISSUER, aud: appId, serviceurl: serviceUrl, nbf: now - 60, iat: now - 60, exp: now + expiresIn })}`;
      return `${signed}.${sign('sha256', Buffer.from(signed), key).toString('base64url')}`;
    },
    close: listening.close,
  };
}

/**
 * botbuilder's own token checks, pointed at the fake: inbound tokens are validated against its metadata and
 * keys, and outbound calls carry a token from its token endpoint. (botbuilder's MSAL client insists on
 * Microsoft's login hosts, so the outbound side is a small credentials factory doing a client_credentials grant.)
 */
export function authenticationFor(identity: FakeBotIdentity, appId: string, password: string): BotFrameworkAuthentication {
  const metadata = `${identity.base}/v1/.well-known/openidconfiguration`;
  return new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: appId, MicrosoftAppPassword: password, MicrosoftAppType: 'MultiTenant',
    ToBotFromChannelOpenIdMetadataUrl: metadata, ToBotFromEmulatorOpenIdMetadataUrl: metadata, ToBotFromChannelTokenIssuer: ISSUER,
    ToChannelFromBotLoginUrl: `${identity.base}/botframework.com`, ToChannelFromBotOAuthScope: ISSUER,
    OAuthUrl: `${identity.base}/oauth`, CallerId: 'urn:botframework:azure', ValidateAuthority: false,
  }, {
    isValidAppId: async (id: string) => id === appId,
    isAuthenticationDisabled: async () => false,
    createCredentials: async (id: string, scope: string) => {
      if (id !== appId) throw new Error('Invalid appId.');
      return {
        async signRequest<T extends { headers: { set(name: string, value: string): void } }>(request: T): Promise<T> {
          const res = await fetch(`${identity.base}/oauth2/v2.0/token`, {
            method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'client_credentials', client_id: appId, client_secret: password, scope: `${scope}/.default` }),
          });
          request.headers.set('authorization', `Bearer ${((await res.json()) as { access_token: string }).access_token}`);
          return request;
        },
      };
    },
  } as unknown as ConstructorParameters<typeof ConfigurationBotFrameworkAuthentication>[1]);
}
