// The configuration model every other part reads: the validated, normalised form of config/access.yaml.
// Field names are camelCase here; the YAML keeps the snake_case names of design.md.

export interface Server {
  name: string;
  host: string;
  user: string; // the connector account on this server
  port: number;
  tags: Record<string, string>;
}

export type SecretRef = { env: string } | { file: string };

export interface UidRange {
  min: number;
  max: number;
}

/** What every integration has, whatever its type (design.md "Integration settings"). */
export interface IntegrationCommon {
  name: string;
  /** The connector's credential: an SSH private key for Linux kinds, a password for rdp, the bind password for windows-dc. */
  secret?: SecretRef;
  /** ['Default'] means: only the user's own group. */
  userGroups: string[];
  loginShell: string;
  userKeyName: string;
  uidRange: UidRange;
  cleanupAfterDays: number;
  customAccessDetails?: string;
  owners: string[];
  resourceOwnerTag?: string;
  /** Lets grant_groups/user_groups name root-equivalent groups (sudo, docker, …); root and keyway-users never. */
  allowPrivilegedGroups: boolean;
}

/** type: ssh — Linux servers over SSH, listed by hand. */
export interface SshIntegration extends IntegrationCommon {
  type: 'ssh';
  servers: Server[];
}

/** type: aws-ec2 — Linux servers over SSH, discovered with EC2 DescribeInstances (design.md). */
export interface AwsEc2Integration extends IntegrationCommon {
  type: 'aws-ec2';
  regions: string[];
  /** Instance tags to match (running instances only). */
  tags: Record<string, string>;
  address: 'private' | 'public' | 'private-dns' | 'public-dns';
  /** The connector login on every discovered server. */
  user: string;
  /** The tag that names a server (default Name); else the instance id. */
  nameTag: string;
  /** Seconds between inventory refreshes. */
  refresh: number;
  /** A VPC endpoint or a test server. */
  endpoint?: string;
  roleArn?: string;
  /** The latest inventory snapshot (from SQLite), never the cloud on the request path. */
  servers: Server[];
}

/** type: azure-vm — Linux servers over SSH, discovered from a subscription's virtual machines (design.md). */
export interface AzureVmIntegration extends IntegrationCommon {
  type: 'azure-vm';
  subscriptionId: string;
  /** Empty: every resource group of the subscription. */
  resourceGroups: string[];
  tags: Record<string, string>;
  address: 'private' | 'public';
  user: string;
  /** Seconds between inventory refreshes. */
  refresh: number;
  /** Resource Manager base URL (sovereign clouds, test servers). */
  endpoint?: string;
  /** Entra ID authority (sovereign clouds, test servers). */
  authorityHost?: string;
  /** The latest inventory snapshot (from SQLite). */
  servers: Server[];
}

/** One Windows server reached over WinRM. `user` is the integration's admin account. */
export interface RdpServer extends Server {
  winrmPort: number;
  rdpPort: number;
  useSsl: boolean;
}

/** type: rdp — Windows servers over WinRM; the credential is a one-time password (design.md). */
export interface RdpIntegration extends IntegrationCommon {
  type: 'rdp';
  servers: RdpServer[];
  /** The admin account WinRM logs in as; `secret` is its password. userGroups defaults to [Remote Desktop Users]. */
  user: string;
  tlsCaFile?: string;
  /** Plain-HTTP WinRM (5985); refused unless set, and warned about at every start. */
  allowUnencrypted: boolean;
  /** A windows-dc integration: grants add the person's domain account to the servers' groups instead of a local one. */
  domain?: string;
}

/**
 * type: windows-dc — an Active Directory domain over LDAPS (or LDAP with StartTLS); `secret` is the bind password.
 * Its resources are its AD groups: `servers` holds one Server per group (name = the group's sAMAccountName,
 * host/port = the domain controller, user = the bind DN, no tags), so requests, flows and lookups name a group as
 * they name a server.
 */
export interface WindowsDcIntegration extends IntegrationCommon {
  type: 'windows-dc';
  /** ldaps://host[:port] or ldap://host[:port] (then startTls is true). */
  url: string;
  startTls: boolean;
  bindDn: string;
  baseDn: string;
  /** The OU where Keyway's accounts live (a DN under baseDn): Keyway touches no account outside it. */
  ou: string;
  /** The AD groups that may be requested (sAMAccountName). */
  groups: string[];
  tlsCaFile?: string;
  /** The port shown for RDP to servers of the domain (default 3389). */
  rdpPort: number;
  /** One per group: see above. */
  servers: Server[];
}

/**
 * An integration: one member per type, discriminated on `type` (its target kind): ssh, aws-ec2 and azure-vm (Linux
 * over SSH; the cloud kinds' servers come from an inventory snapshot), rdp and windows-dc (Windows).
 */
export type Integration = SshIntegration | AwsEc2Integration | AzureVmIntegration | RdpIntegration | WindowsDcIntegration;

/** The integrations whose servers come from a cloud API, polled and kept as snapshots. */
export type CloudIntegration = AwsEc2Integration | AzureVmIntegration;

export function isCloudIntegration(integration: Integration): integration is CloudIntegration {
  return integration.type === 'aws-ec2' || integration.type === 'azure-vm';
}

export type IntegrationType = Integration['type'];

/** The kinds whose credential is an OpenSSH certificate for the person's own key: only these need one registered. */
const SSH_CERTIFICATE_KINDS: readonly string[] = ['ssh', 'aws-ec2', 'azure-vm'];

export function needsSshPublicKey(integration: Pick<Integration, 'type'>): boolean {
  return SSH_CERTIFICATE_KINDS.includes(integration.type);
}

export interface Person {
  email: string;
  linuxUser: string;
}

export interface Audience {
  everyone: boolean;
  emails: string[];
  slackUsergroups: string[];
  /** On-call schedules as `provider:SCHEDULE_ID` (e.g. pagerduty:PSCHED1): whoever is on call in one belongs. */
  oncall?: string[];
}

export interface FlowResources {
  integration: string;
  servers: string[];
  tags: Record<string, string>;
}

export interface Flow {
  name: string;
  requesters: Audience;
  resources: FlowResources;
  /** ['Default'] means: no groups beyond the user's own. */
  grantGroups: string[];
  approvers: Audience;
  minApprovals: number;
  allowSelfApproval: boolean;
  autoApprove: boolean;
  /** Durations are whole seconds. */
  defaultDuration: number;
  maxDuration: number;
  requireReason: boolean;
  requestTtl: number;
  notifyChannel?: string;
  /** Slack channel where approvers decide, instead of a DM to each approver. */
  approvalChannel?: string;
  /** Certificate settings: permit-pty always; forwarding only when allowed. */
  allowAgentForwarding: boolean;
  allowPortForwarding: boolean;
  sourceAddress: string[];
  forceCommand?: string;
  /** Slack guests (single- and multi-channel) and bots may request under this flow only when it says so. */
  allowGuests: boolean;
  /**
   * auto_approve: on_call — approved at once when the requester is on call in one of the flow's schedules (its
   * requesters' or approvers' oncall lists) at the moment of the request; else the flow's approvers are asked.
   */
  autoApproveOnCall?: boolean;
  /** With autoApproveOnCall: cap an auto-approved duration to the rest of the shift (default true). */
  capToShift?: boolean;
}

export type OncallProviderName = 'pagerduty' | 'opsgenie';

export const ONCALL_PROVIDERS: readonly OncallProviderName[] = ['pagerduty', 'opsgenie'];

export interface OncallProviderConfig {
  /** The API token: {env} or {file}, never inline. */
  secret: SecretRef;
  /** The API's base URL (EU regions, a proxy, a test server); the provider's public API by default. */
  apiUrl?: string;
}

/** The top-level `oncall:` section: shift providers and how long their answers are kept. */
export interface OncallConfig {
  providers: Partial<Record<OncallProviderName, OncallProviderConfig>>;
  /** Seconds an answer is reused (default 60), so a burst of requests makes one provider call. */
  cacheSeconds: number;
  /** Seconds a provider call may take before it counts as unreachable (default 5). */
  timeoutSeconds: number;
}

export const DEFAULT_ONCALL_CACHE_SECONDS = 60;
export const DEFAULT_ONCALL_TIMEOUT_SECONDS = 5;

export interface AccessConfig {
  integrations: Integration[];
  people: Person[];
  flows: Flow[];
  /** How many requests one person may have waiting for approval at once. */
  maxPendingRequests: number;
  /** Shift providers; absent: no flow may name a schedule. */
  oncall?: OncallConfig;
}

export const DEFAULT_MAX_PENDING_REQUESTS = 5;

/** A server together with the integration that reaches it. */
export interface ServerRef {
  integration: Integration;
  server: Server;
}

export const DEFAULT_GROUP = 'Default';
