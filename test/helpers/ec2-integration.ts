// An aws-ec2 integration for tests, with the defaults the config loader fills in, pointed at an EC2 stand-in.
import type { AwsEc2Integration } from '../../src/core/model.js';

export function ec2Integration(name: string, endpoint: string, extra: Partial<AwsEc2Integration> = {}): AwsEc2Integration {
  return {
    name, type: 'aws-ec2', regions: ['eu-west-1', 'us-east-1'], tags: { env: 'prod' }, address: 'private', user: 'keyway', nameTag: 'Name',
    refresh: 300, endpoint, servers: [], userGroups: ['Default'], loginShell: '/bin/bash', userKeyName: 'id_ed25519',
    uidRange: { min: 60000, max: 64999 }, cleanupAfterDays: 7, owners: ['platform@example.com'], allowPrivilegedGroups: false, ...extra,
  };
}
