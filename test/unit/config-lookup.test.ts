import { describe, expect, it } from 'vitest';
import { parseAccessConfig } from '../../src/config/load.js';
import { findServer, peopleOverrides, serversOfFlow } from '../../src/core/lookup.js';

const config = parseAccessConfig(
  [
    'integrations:',
    '  - name: prod',
    '    servers:',
    '      - { name: web-1, host: 10.0.0.1, tags: { env: prod, role: web } }',
    '      - { name: web-2, host: 10.0.0.2, tags: { env: prod, role: web } }',
    '      - { name: db-1, host: 10.0.0.3, tags: { env: prod, role: db } }',
    '      - { name: Batch, host: 10.0.0.4, tags: { env: prod, role: batch } }',
    '    owners: [ops@example.com]',
    '  - name: staging',
    '    servers: [{ name: stage-1, host: 10.0.1.1, tags: { env: staging } }]',
    '    owners: [ops@example.com]',
    'people:',
    '  - { email: Henk@Example.com, linux_user: devhba }',
    'flows:',
    '  - name: web-and-db',
    '    requesters: { everyone: true }',
    '    resources: { integration: prod, servers: [db-1], tags: { role: web } }',
    '  - name: prod-web-only',
    '    requesters: { everyone: true }',
    '    resources: { integration: prod, tags: { env: prod, role: web } }',
    '',
  ].join('\n'),
  'access.yaml',
);

const names = (flowIndex: number) => serversOfFlow(config, config.flows[flowIndex]!).map((ref) => ref.server.name);

describe('config lookups', () => {
  it('selects named servers and tag matches together, in inventory order', () => {
    expect(names(0)).toEqual(['web-1', 'web-2', 'db-1']);
  });

  it('requires every tag selector to match', () => {
    expect(names(1)).toEqual(['web-1', 'web-2']);
  });

  it('finds a server by its exact name, with its integration', () => {
    expect(findServer(config, 'stage-1')?.integration.name).toBe('staging');
    expect(findServer(config, 'Batch')?.server.host).toBe('10.0.0.4');
    expect(findServer(config, 'batch')).toBeUndefined();
  });

  it('maps lower-cased e-mails to configured Linux users', () => {
    expect(peopleOverrides(config)).toEqual(new Map([['henk@example.com', 'devhba']]));
  });
});
