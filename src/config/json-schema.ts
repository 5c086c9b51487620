// The JSON Schema of access.yaml, generated from the zod schema that validates it (the input side: what people
// write, with defaults shown), for editors' completion and hover (`keyway config schema`, config/access.schema.json).
// It is a guide, not the judge: `keyway config check` runs the real rules (names, durations, cross-references).
import { z } from 'zod';
import { accessFileSchema } from './schema.js';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, JsonSchema>; required?: string[] };

// zod cannot express these: secret is a custom check, `type` is filled in before the union sees it, and the group
// lists' default sits behind a transform.
const SECRET: JsonSchema = {
  description: "Where the connector's private key is: { env: NAME } or { file: PATH }. Never the key itself.",
  oneOf: [
    { type: 'object', properties: { env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } }, required: ['env'], additionalProperties: false },
    { type: 'object', properties: { file: { type: 'string', minLength: 1 } }, required: ['file'], additionalProperties: false },
  ],
};

const SECRET_DESCRIPTIONS: Record<string, string> = {
  ssh: SECRET.description as string,
  rdp: 'Where the WinRM admin password is: { env: NAME } or { file: PATH }. Never the password itself.',
  'windows-dc': 'Where the bind password of bind_dn is: { env: NAME } or { file: PATH }. Never the password itself.',
};

const DESCRIPTIONS: Record<string, string> = {
  integrations: 'Sets of servers reached the same way, with their owners and defaults.',
  people: 'People whose Linux username is not the local part of their e-mail.',
  flows: 'Who may request which servers, for how long, approved by whom.',
  max_pending_requests: 'Requests one person may have waiting for a decision at once (1-100).',
  oncall: 'Shift providers (PagerDuty, Opsgenie) whose schedules flows name as requesters.oncall and approvers.oncall.',
};

const TOKEN: JsonSchema = {
  description: "Where the provider's API token is: { env: NAME } or { file: PATH }. Never the token itself.",
  oneOf: SECRET.oneOf,
};

export function accessJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(accessFileSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const top = schema.properties!;
  for (const [name, description] of Object.entries(DESCRIPTIONS)) top[name] = { description, ...top[name] };
  for (const integration of (top.integrations!.items as { oneOf: JsonSchema[] }).oneOf) {
    const properties = integration.properties!;
    const type = (properties.type as { const?: string }).const ?? 'ssh';
    properties.secret = { ...SECRET, description: SECRET_DESCRIPTIONS[type] ?? SECRET.description };
    if (type === 'rdp' || type === 'windows-dc') continue;
    properties.user_groups = { ...properties.user_groups, default: ['Default'] };
    if (type !== 'ssh') continue;
    properties.type = { ...properties.type, default: 'ssh' };
    integration.required = integration.required!.filter((key) => key !== 'type');
    integration.oneOf = [{ required: ['servers'] }, { required: ['servers_file'] }];
  }
  for (const provider of ['pagerduty', 'opsgenie']) {
    const settings = top.oncall!.properties![provider]!;
    settings.properties!.secret = TOKEN;
  }
  const flow = (top.flows!.items as JsonSchema).properties!;
  flow.grant_groups = { ...flow.grant_groups, default: ['Default'] };
  delete (flow.min_approvals as JsonSchema).maximum; // zod's safe-integer bound, not a rule of ours
  return {
    $schema: schema.$schema,
    title: 'Keyway access configuration (access.yaml)',
    description: 'Reference: docs/configuration.md. Check a file with `keyway config check`.',
    ...schema,
  };
}

/** The committed config/access.schema.json: two-space JSON and a final newline. */
export function accessJsonSchemaText(): string {
  return `${JSON.stringify(accessJsonSchema(), null, 2)}\n`;
}
