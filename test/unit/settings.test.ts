import { describe, expect, it } from 'vitest';
import { readSettings } from '../../src/settings.js';
import { teamsAuthentication } from '../../src/chat/teams/teams-app.js';

describe('Teams settings', () => {
  const app = { MICROSOFT_APP_ID: '00000000-0000-4000-8000-000000000001', MICROSOFT_APP_PASSWORD: 'secret' };

  it('serves one tenant for a single-tenant bot, the listed tenants for a multi-tenant bot', () => {
    expect(readSettings({ ...app, MICROSOFT_APP_TENANT_ID: 't-1' }).teams).toMatchObject({ tenantId: 't-1', tenants: ['t-1'], allowUnauthenticated: false });
    expect(readSettings({ ...app, KEYWAY_TEAMS_TENANTS: 't-1, t-2' }).teams).toMatchObject({ tenantId: undefined, tenants: ['t-1', 't-2'] });
  });

  it('refuses a bot that any Microsoft tenant could use, a missing password, and authentication off with an app id', () => {
    expect(() => readSettings(app)).toThrow(/set MICROSOFT_APP_TENANT_ID .* or KEYWAY_TEAMS_TENANTS/);
    expect(() => readSettings({ MICROSOFT_APP_ID: app.MICROSOFT_APP_ID, MICROSOFT_APP_TENANT_ID: 't-1' })).toThrow(/MICROSOFT_APP_PASSWORD is not/);
    expect(() => readSettings({ ...app, MICROSOFT_APP_TENANT_ID: 't-1', KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED: 'true' })).toThrow(/for local development/);
  });

  it('turns Teams on without an app id only for local development', () => {
    expect(readSettings({}).teams).toBeUndefined();
    expect(readSettings({ KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED: 'true' }).teams).toEqual({ appId: '', appPassword: '', tenantId: undefined, tenants: [], allowUnauthenticated: true });
  });

  it('checks tokens for the configured app, single- or multi-tenant, and not at all for local development', async () => {
    const single = teamsAuthentication(readSettings({ ...app, MICROSOFT_APP_TENANT_ID: 't-1' }).teams!);
    const multi = teamsAuthentication(readSettings({ ...app, KEYWAY_TEAMS_TENANTS: 't-1' }).teams!);
    const open = teamsAuthentication(readSettings({ KEYWAY_TEAMS_ALLOW_UNAUTHENTICATED: 'true' }).teams!);
    const activity = { type: 'message', serviceUrl: 'http://127.0.0.1:9/', channelId: 'msteams' } as Parameters<typeof single.authenticateRequest>[0];
    for (const auth of [single, multi]) await expect(auth.authenticateRequest(activity, '')).rejects.toThrow(/Unauthorized/);
    await expect(open.authenticateRequest(activity, '')).resolves.toBeDefined();
  });
});

describe('listener settings', () => {
  it('serves chat on 0.0.0.0:3000 and health and metrics on 127.0.0.1:9464 by default', () => {
    expect(readSettings({})).toMatchObject({ host: '0.0.0.0', port: 3000, metrics: { host: '127.0.0.1', port: 9464 } });
  });

  it('reads HOST, PORT and METRICS_ADDR, IPv6 in brackets', () => {
    expect(readSettings({ HOST: '127.0.0.1', PORT: '8080', METRICS_ADDR: '0.0.0.0:9100' })).toMatchObject({ host: '127.0.0.1', port: 8080, metrics: { host: '0.0.0.0', port: 9100 } });
    expect(readSettings({ METRICS_ADDR: '[::1]:9464' }).metrics).toEqual({ host: '::1', port: 9464 });
    expect(readSettings({ METRICS_ADDR: 'localhost:0' }).metrics).toEqual({ host: 'localhost', port: 0 });
  });

  it.each(['9464', '127.0.0.1', '127.0.0.1:99999', ':9464', 'http://127.0.0.1:9464'])('refuses METRICS_ADDR=%s, saying what it needs', (value) => {
    expect(() => readSettings({ METRICS_ADDR: value })).toThrow(/METRICS_ADDR must be an address and port for \/healthz and \/metrics, such as 127\.0\.0\.1:9464/);
  });
});
