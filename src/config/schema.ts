// The shape of config/access.yaml (snake_case, as in design.md) and its transformation into the AccessConfig model.
// Single-field rules live here; rules that relate fields to each other are in cross-checks.ts.
import { z } from 'zod';
import {
  DEFAULT_MAX_PENDING_REQUESTS, DEFAULT_ONCALL_CACHE_SECONDS, DEFAULT_ONCALL_TIMEOUT_SECONDS, type OncallConfig, type Audience, type AwsEc2Integration, type AzureVmIntegration, type Flow, type FlowResources, type Person, type RdpIntegration, type Server, type SshIntegration, type WindowsDcIntegration } from '../core/model.js';
import {
  apiUrl,
  awsRegion,
  refreshInterval,
  resourceGroup,
  roleArn,
  serviceUrl,
  subscriptionId,
  scheduleRef,
  cidr,
  connectorUser,
  duration,
  email,
  groupList,
  host,
  linuxUser,
  plainName,
  port,
  secretRef,
  serverName,
  tags,
  usergroupId,
} from './field-schemas.js';
import { commonIntegration, commonIntegrationFields } from './integration-common.js';
import { rdpIntegrationSchema, windowsDcIntegrationSchema } from './windows-schemas.js';

export { CUSTOM_ACCESS_DETAILS_MAX } from './integration-common.js';

export const serverSchema = z
  .strictObject({ name: serverName, host, user: connectorUser, port, tags })
  .transform((server): Server => server);

export const serverListSchema = z.array(serverSchema).min(1, 'the server list must have at least one server');

/** An integration as written: an SSH one's servers are either inline or still to be read from servers_file; a cloud
 * one's come later, from its inventory snapshot. */
export type ParsedSshIntegration = Omit<SshIntegration, 'servers'> & { servers?: Server[]; serversFile?: string };

export type ParsedIntegration = ParsedSshIntegration | AwsEc2Integration | AzureVmIntegration | RdpIntegration | WindowsDcIntegration;

/** type: ssh — servers listed by hand, inline or in a JSON file. */
export const sshIntegrationSchema = z
  .strictObject({
    type: z.literal('ssh'),
    ...commonIntegrationFields,
    servers: serverListSchema.optional(),
    servers_file: z.string().min(1, 'servers_file must be a path').optional(),
  })
  .superRefine((integration, context) => {
    if (integration.servers === undefined && integration.servers_file === undefined) {
      context.addIssue({ code: 'custom', message: `integration "${integration.name}" needs servers (a list) or servers_file (a JSON file)`, path: [] });
    }
    if (integration.servers !== undefined && integration.servers_file !== undefined) {
      context.addIssue({ code: 'custom', message: 'give servers or servers_file, not both', path: ['servers_file'] });
    }
  })
  .transform(
    (i): ParsedSshIntegration => ({
      ...commonIntegration(i),
      type: i.type,
      ...(i.servers !== undefined && { servers: i.servers }),
      ...(i.servers_file !== undefined && { serversFile: i.servers_file }),
    }),
  );

/** type: aws-ec2 — running EC2 instances with the given tags, in every listed region (design.md). */
export const awsEc2IntegrationSchema = z
  .strictObject({
    type: z.literal('aws-ec2'),
    ...commonIntegrationFields,
    regions: z.array(awsRegion).min(1, 'regions must list at least one AWS region, like [eu-west-1]'),
    tags,
    address: z.enum(['private', 'public', 'private-dns', 'public-dns'], { error: 'address must be private, public, private-dns or public-dns' }).default('private'),
    user: connectorUser,
    name_tag: z.string().min(1, 'name_tag must name a tag').max(128, 'name_tag must be at most 128 characters').default('Name'),
    refresh: refreshInterval,
    endpoint: serviceUrl('endpoint', 'https://vpce-0abc.ec2.eu-west-1.vpce.amazonaws.com').optional(),
    role_arn: roleArn.optional(),
  })
  .transform((i): AwsEc2Integration => ({
    ...commonIntegration(i),
    type: i.type,
    regions: [...new Set(i.regions)],
    tags: i.tags,
    address: i.address,
    user: i.user,
    nameTag: i.name_tag,
    refresh: i.refresh,
    ...(i.endpoint !== undefined && { endpoint: i.endpoint }),
    ...(i.role_arn !== undefined && { roleArn: i.role_arn }),
    servers: [],
  }));

/** type: azure-vm — virtual machines of a subscription (or some of its resource groups) with the given tags. */
export const azureVmIntegrationSchema = z
  .strictObject({
    type: z.literal('azure-vm'),
    ...commonIntegrationFields,
    subscription_id: subscriptionId,
    resource_groups: z.array(resourceGroup).default([]),
    tags,
    address: z.enum(['private', 'public'], { error: 'address must be private or public' }).default('private'),
    user: connectorUser,
    refresh: refreshInterval,
    endpoint: serviceUrl('endpoint', 'https://management.usgovcloudapi.net').optional(),
    authority_host: serviceUrl('authority_host', 'https://login.microsoftonline.us').optional(),
  })
  .transform((i): AzureVmIntegration => ({
    ...commonIntegration(i),
    type: i.type,
    subscriptionId: i.subscription_id.toLowerCase(),
    resourceGroups: [...new Set(i.resource_groups)],
    tags: i.tags,
    address: i.address,
    user: i.user,
    refresh: i.refresh,
    ...(i.endpoint !== undefined && { endpoint: i.endpoint }),
    ...(i.authority_host !== undefined && { authorityHost: i.authority_host }),
    servers: [],
  }));

// One branch per integration type, discriminated on `type` (design.md).
const INTEGRATION_TYPES = [sshIntegrationSchema, awsEc2IntegrationSchema, azureVmIntegrationSchema, rdpIntegrationSchema, windowsDcIntegrationSchema] as const;
const typeNames = ['ssh', 'aws-ec2', 'azure-vm', 'rdp', 'windows-dc'];

/** An integration without `type` is an ssh one (design.md: ssh is the default). */
function defaultType(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !('type' in value) ? { ...value, type: 'ssh' } : value;
}

export const integrationSchema = z.preprocess(defaultType, z.discriminatedUnion('type', INTEGRATION_TYPES, {
  error: (issue) => issue.code === 'invalid_union'
    ? typeNames.length === 1 ? `type must be "${typeNames[0]}" (the only integration type)` : `type must be one of ${typeNames.map((t) => `"${t}"`).join(', ')}`
    : undefined,
}));

export const personSchema = z
  .strictObject({ email, linux_user: linuxUser })
  .transform((person): Person => ({ email: person.email, linuxUser: person.linux_user }));

function audienceSchema(role: 'requesters' | 'approvers') {
  return z
    .strictObject({
      everyone: z.boolean().optional(),
      emails: z.array(email).default([]),
      slack_usergroups: z.array(usergroupId).default([]),
      oncall: z.array(scheduleRef).default([]),
    })
    .superRefine((audience, context) => {
      const listed = audience.emails.length + audience.slack_usergroups.length + audience.oncall.length > 0;
      if (audience.everyone === true && role === 'approvers') {
        context.addIssue({ code: 'custom', message: 'approvers cannot be everyone: list the emails or slack_usergroups of the people who may approve', path: ['everyone'] });
      } else if (audience.everyone === true && listed) {
        context.addIssue({ code: 'custom', message: `${role}: everyone: true cannot be combined with emails or slack_usergroups`, path: ['everyone'] });
      } else if (audience.everyone !== true && !listed && role === 'requesters') {
        context.addIssue({ code: 'custom', message: 'requesters lists nobody: give emails, slack_usergroups, or everyone: true', path: [] });
      }
    })
    .transform(
      (audience): Audience => ({
        everyone: audience.everyone ?? false, emails: audience.emails, slackUsergroups: audience.slack_usergroups,
        ...(audience.oncall.length > 0 && { oncall: [...new Set(audience.oncall)] }),
      }),
    );
}

const resourcesSchema = z
  .strictObject({
    integration: z.string().min(1, 'resources.integration must name an integration'),
    servers: z.array(z.string()).default([]),
    tags,
  })
  .superRefine((resources, context) => {
    if (resources.servers.length === 0 && Object.keys(resources.tags).length === 0) {
      context.addIssue({ code: 'custom', message: 'resources selects no servers: list servers by name, or tags to match (like tags: { env: prod })', path: [] });
    }
  })
  .transform((resources): FlowResources => resources);

const noNewline = (field: string) =>
  z.string().min(1, `${field} must not be empty`).refine((value) => !/[\n\r]/.test(value), { error: `${field} must be a single line` });

export const flowSchema = z
  .strictObject({
    name: plainName('flow'),
    requesters: audienceSchema('requesters'),
    resources: resourcesSchema,
    grant_groups: groupList('grant_groups'),
    approvers: audienceSchema('approvers').prefault({}),
    min_approvals: z
      .int({ error: 'min_approvals must be a whole number' })
      .min(1, 'min_approvals must be at least 1 (use auto_approve: true for flows that need no approval)')
      .default(1),
    allow_self_approval: z.boolean().default(false),
    auto_approve: z.union([z.boolean(), z.literal('on_call')], { error: (issue) => (typeof issue.input === 'string' ? 'auto_approve must be true or false, not text' : 'auto_approve must be true, false or on_call') }).default(false),
    cap_to_shift: z.boolean().default(true),
    default_duration: duration('default_duration', '1h'),
    max_duration: duration('max_duration', '8h'),
    require_reason: z.boolean().default(true),
    request_ttl: duration('request_ttl', '1h'),
    notify_channel: noNewline('notify_channel').optional(),
    approval_channel: noNewline('approval_channel').optional(),
    allow_agent_forwarding: z.boolean().default(false),
    allow_port_forwarding: z.boolean().default(false),
    source_address: z.array(cidr).default([]),
    force_command: noNewline('force_command').optional(),
    allow_guests: z.boolean().default(false),
  })
  .transform(
    (f): Flow => ({
      name: f.name,
      requesters: f.requesters,
      resources: f.resources,
      grantGroups: f.grant_groups,
      approvers: f.approvers,
      minApprovals: f.min_approvals,
      allowSelfApproval: f.allow_self_approval,
      autoApprove: f.auto_approve === true,
      ...(f.auto_approve === 'on_call' && { autoApproveOnCall: true, capToShift: f.cap_to_shift }),
      defaultDuration: f.default_duration,
      maxDuration: f.max_duration,
      requireReason: f.require_reason,
      requestTtl: f.request_ttl,
      ...(f.notify_channel !== undefined && { notifyChannel: f.notify_channel }),
      ...(f.approval_channel !== undefined && { approvalChannel: f.approval_channel }),
      allowAgentForwarding: f.allow_agent_forwarding,
      allowPortForwarding: f.allow_port_forwarding,
      sourceAddress: f.source_address,
      ...(f.force_command !== undefined && { forceCommand: f.force_command }),
      allowGuests: f.allow_guests,
    }),
  );

const oncallProviderSchema = z.strictObject({ secret: secretRef, api_url: apiUrl.optional() })
  .transform((p) => ({ secret: p.secret, ...(p.api_url !== undefined && { apiUrl: p.api_url }) }));

/** The top-level `oncall:` section: shift providers (design.md "Shifts"). */
export const oncallSchema = z
  .strictObject({
    pagerduty: oncallProviderSchema.optional(),
    opsgenie: oncallProviderSchema.optional(),
    cache: duration('oncall.cache', `${DEFAULT_ONCALL_CACHE_SECONDS}s`),
    timeout: duration('oncall.timeout', `${DEFAULT_ONCALL_TIMEOUT_SECONDS}s`),
  })
  .superRefine((o, context) => {
    if (!o.pagerduty && !o.opsgenie) context.addIssue({ code: 'custom', message: 'oncall names no provider: give pagerduty or opsgenie (with a secret)', path: [] });
  })
  .transform((o): OncallConfig => ({
    providers: { ...(o.pagerduty && { pagerduty: o.pagerduty }), ...(o.opsgenie && { opsgenie: o.opsgenie }) },
    cacheSeconds: o.cache,
    timeoutSeconds: o.timeout,
  }));

export const accessFileSchema = z.strictObject({
  oncall: oncallSchema.optional(),
  integrations: z.array(integrationSchema).min(1, 'integrations must list at least one integration'),
  people: z.array(personSchema).default([]),
  flows: z.array(flowSchema).default([]),
  max_pending_requests: z
    .int({ error: 'max_pending_requests must be a whole number' })
    .min(1, 'max_pending_requests must be at least 1')
    .max(100, 'max_pending_requests must be at most 100')
    .default(DEFAULT_MAX_PENDING_REQUESTS),
});

export type ParsedAccessFile = z.output<typeof accessFileSchema>;
