// The JSON Schema of access.yaml: generated from the zod schema, committed as config/access.schema.json (kept in sync
// here), named on the example's first line for editors, and describing what the example and the docs use.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runKeyway } from '../helpers/run-keyway.js';
import { accessJsonSchema, accessJsonSchemaText } from '../../src/config/json-schema.js';

const EXAMPLE = 'config/access.example.yaml';
const COMMITTED = 'config/access.schema.json';

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; oneOf?: Schema[]; additionalProperties?: boolean | Schema; const?: unknown };

const keyway = (...argv: string[]) => runKeyway({}, ...argv);

/**
 * Not a JSON Schema validator: the structural subset the schema uses for shape (object keys, required, closed
 * objects, arrays, oneOf), enough to show that every field the example writes is one the schema knows.
 */
function shapeProblems(schema: Schema, value: unknown, at: string): string[] {
  if (schema.oneOf) {
    const branches = schema.oneOf.map((branch) => shapeProblems({ ...schema, ...branch, oneOf: undefined, required: [...(schema.required ?? []), ...(branch.required ?? [])] }, value, at));
    return branches.some((problems) => problems.length === 0) ? [] : [`${at}: matches no branch (${branches.map((p) => p.join('; ')).join(' | ')})`];
  }
  if (Array.isArray(value)) return schema.items ? value.flatMap((item, i) => shapeProblems(schema.items!, item, `${at}[${i}]`)) : [];
  if (value === null || typeof value !== 'object' || !schema.properties && !schema.required) return [];
  const record = value as Record<string, unknown>;
  const problems = (schema.required ?? []).filter((key) => !(key in record)).map((key) => `${at}: missing ${key}`);
  for (const [key, child] of Object.entries(record)) {
    const property = schema.properties?.[key];
    if (property) problems.push(...shapeProblems(property, child, `${at}.${key}`));
    else if (schema.additionalProperties === false) problems.push(`${at}: unknown field ${key}`);
  }
  return problems;
}

describe('the JSON Schema of access.yaml', () => {
  it('is committed as config/access.schema.json, exactly as keyway config schema prints it', async () => {
    const committed = readFileSync(COMMITTED, 'utf8');
    // After a change to the zod schema: npm run build && node dist/src/cli/bin.js config schema > config/access.schema.json
    expect(committed).toBe(accessJsonSchemaText());
    const printed = await keyway('config', 'schema');
    expect(printed.code).toBe(0);
    expect(`${printed.out}\n`).toBe(committed);
  });

  it('is named on the first line of the example, for the YAML language server', () => {
    expect(readFileSync(EXAMPLE, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./access.schema.json');
  });

  it('describes the input side: integration types, defaults, the secret forms and the required keys', () => {
    const schema = accessJsonSchema() as Schema;
    expect(schema.required).toEqual(['integrations']);
    expect(schema.additionalProperties).toBe(false);
    const integrations = schema.properties!.integrations!.items!.oneOf!;
    expect(integrations.map((branch) => branch.properties!.type!.const)).toEqual(['ssh', 'aws-ec2', 'azure-vm', 'rdp', 'windows-dc']);
    const [ssh, ec2, azure, rdp, windowsDc] = integrations as [Schema, Schema, Schema, Schema, Schema];
    // Cloud kinds: type must be written, their servers come from the inventory, never from the file.
    expect(ec2.required).toEqual(['type', 'name', 'regions']);
    expect(azure.required).toEqual(['type', 'name', 'subscription_id']);
    for (const cloud of [ec2, azure]) {
      expect(cloud.properties!.servers).toBeUndefined();
      expect(cloud.properties!.secret!.oneOf!.map((form) => form.required)).toEqual([['env'], ['file']]);
      expect(cloud.properties!.refresh).toMatchObject({ type: 'string', default: '5m' });
      expect(cloud.properties!.address).toMatchObject({ default: 'private' });
    }
    for (const windows of [rdp, windowsDc]) {
      expect(windows.properties!.secret!.oneOf!.map((form) => form.required)).toEqual([['env'], ['file']]);
      // The Linux account settings are not asked of a Windows kind.
      expect(Object.keys(windows.properties!)).not.toEqual(expect.arrayContaining(['login_shell']));
      expect(Object.keys(windows.properties!)).not.toEqual(expect.arrayContaining(['uid_range']));
    }
    expect(windowsDc.required).toEqual(expect.arrayContaining(['type', 'name', 'secret', 'url', 'bind_dn', 'base_dn', 'ou', 'groups']));
    const rdpServer = rdp.properties!.servers!.items!;
    expect(rdpServer.properties!.use_ssl).toMatchObject({ default: true });
    for (const integration of [ssh]) {
      // type may be left out (ssh is the default), so only name is required, and servers or servers_file.
      expect(integration.required).toEqual(['name']);
      expect(integration.oneOf).toEqual([{ required: ['servers'] }, { required: ['servers_file'] }]);
      expect(integration.properties!.secret!.oneOf!.map((form) => form.required)).toEqual([['env'], ['file']]);
      const server = integration.properties!.servers!.items!;
      expect(server.required).toEqual(['name', 'host']);
      expect(server.properties!.user).toMatchObject({ default: 'keyway' });
      expect(server.properties!.port).toMatchObject({ default: 22 });
    }
    const flow = schema.properties!.flows!.items!;
    expect(flow.required).toEqual(['name', 'requesters', 'resources']);
    expect(Object.keys(flow.properties!)).toEqual(expect.arrayContaining([
      'requesters', 'resources', 'grant_groups', 'approvers', 'min_approvals', 'allow_self_approval', 'auto_approve',
      'default_duration', 'max_duration', 'require_reason', 'request_ttl', 'notify_channel', 'approval_channel',
      'allow_agent_forwarding', 'allow_port_forwarding', 'source_address', 'force_command', 'allow_guests',
    ]));
    // Durations are written as text ("1h"), not the seconds the parsed config holds.
    expect(flow.properties!.max_duration).toMatchObject({ type: 'string', default: '8h' });
    expect(schema.properties!.people!.items!.required).toEqual(['email', 'linux_user']);
  });

  it('knows every field the example writes, and the example passes keyway config check', async () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as unknown;
    expect(shapeProblems(accessJsonSchema() as Schema, example, '$')).toEqual([]);
    expect(shapeProblems(accessJsonSchema() as Schema, { integrations: [{ name: 'x', servers: [], sevrers_file: 'y' }] }, '$')).not.toEqual([]);
    const checked = await keyway('config', 'check', EXAMPLE);
    expect(checked).toMatchObject({ code: 0, err: '' });
    expect(checked.out).toMatch(/: OK: 2 integrations, 4 servers, 3 flows, 2 people$/);
  });
});
