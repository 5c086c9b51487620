// type: aws-ec2: the running instances that carry the integration's tags, in every listed region, through the AWS
// SDK (DescribeInstances, every page). Credentials come from the SDK's standard chain (environment, shared profile,
// instance role); with role_arn, those assume the role first. `endpoint` points the SDK at a VPC endpoint or a test
// server. An instance is named by its name_tag (default Name), else its id; every tag becomes a server tag.
import { EC2Client, paginateDescribeInstances, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsEc2Integration } from '../../core/model.js';
import { SSH_PORT_TAG, sshPortOf, type DiscoveredServer } from './discovered.js';

const PAGE_SIZE = 1000;

export interface Ec2Options {
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export async function discoverEc2Instances(settings: AwsEc2Integration, options: Ec2Options): Promise<DiscoveredServer[]> {
  const filters: Filter[] = [
    { Name: 'instance-state-name', Values: ['running'] },
    ...Object.entries(settings.tags).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] })),
  ];
  const perRegion = await Promise.all(settings.regions.map(async (region) => {
    const client = ec2Client(settings, region, options.env);
    const found: DiscoveredServer[] = [];
    try {
      for await (const page of paginateDescribeInstances({ client, pageSize: PAGE_SIZE }, { Filters: filters }, { abortSignal: options.signal })) {
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          const server = serverOf(settings, region, instance);
          if (server) found.push(server);
        }
      }
    } catch (error) {
      throw new Error(`EC2 DescribeInstances in ${region} failed: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
    } finally {
      client.destroy();
    }
    return found;
  }));
  return perRegion.flat();
}

/**
 * Of `ids`, the instances EC2 reports terminated or shutting down, or no longer knows (terminated ones stay visible
 * for about an hour, then vanish): those have nothing left to revoke on.
 */
export async function ec2TerminatedInstances(settings: AwsEc2Integration, ids: string[], options: Ec2Options): Promise<Set<string>> {
  const seenAlive = new Set<string>();
  const dead = new Set<string>();
  await Promise.all(settings.regions.map(async (region) => {
    const client = ec2Client(settings, region, options.env);
    try {
      // A filter, not InstanceIds: an id EC2 no longer knows would fail the whole call. At most 200 values a filter.
      for (let i = 0; i < ids.length; i += 200) {
        const input = { Filters: [{ Name: 'instance-id', Values: ids.slice(i, i + 200) }] };
        for await (const page of paginateDescribeInstances({ client, pageSize: PAGE_SIZE }, input, { abortSignal: options.signal })) {
          for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
            const state = instance.State?.Name;
            if (state === 'terminated' || state === 'shutting-down') dead.add(instance.InstanceId!);
            else seenAlive.add(instance.InstanceId!);
          }
        }
      }
    } finally {
      client.destroy();
    }
  }));
  for (const id of ids) if (!seenAlive.has(id)) dead.add(id);
  return dead;
}

function ec2Client(settings: AwsEc2Integration, region: string, env: NodeJS.ProcessEnv): EC2Client {
  // The standard chain reads process.env; keys given in the environment Keyway was started with are used as they are.
  const fromEnv = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
    ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }) }
    : undefined;
  const credentials = settings.roleArn
    ? fromTemporaryCredentials({
      params: { RoleArn: settings.roleArn, RoleSessionName: `keyway-inventory-${settings.name}`.slice(0, 64) },
      ...(fromEnv && { masterCredentials: fromEnv }),
      clientConfig: { region },
    })
    : fromEnv;
  return new EC2Client({
    region,
    ...(settings.endpoint && { endpoint: settings.endpoint }),
    ...(credentials && { credentials }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

function serverOf(settings: AwsEc2Integration, region: string, instance: Instance): DiscoveredServer | undefined {
  const id = instance.InstanceId;
  if (!id) return undefined;
  const tags = Object.fromEntries((instance.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
  const host = {
    private: instance.PrivateIpAddress,
    public: instance.PublicIpAddress,
    'private-dns': instance.PrivateDnsName,
    'public-dns': instance.PublicDnsName,
  }[settings.address] ?? '';
  return { id, region, name: tags[settings.nameTag] || id, host, user: settings.user, tags, port: sshPortOf(tags[SSH_PORT_TAG]) };
}
