// What a cloud inventory (EC2, Azure) reports for one running machine, before names are made unique and the
// snapshot is stored: the same fields as a listed server, plus the cloud's own id.
import type { Server } from '../../core/model.js';

export interface DiscoveredServer extends Server {
  /** The cloud's id: an EC2 instance id (i-0abc…), an Azure VM resource id. Stable across renames. */
  id: string;
  /** Where it was found: an AWS region, an Azure location. */
  region: string;
}

/** A machine tag that moves Keyway's SSH connections (and the requester's ssh line) off port 22. */
export const SSH_PORT_TAG = 'keyway:ssh-port';
const SSH_PORT = 22;

/** The port a `keyway:ssh-port` tag value names: 1–65535 written in digits; absent or anything else is 22. */
export function sshPortOf(tagValue: string | undefined): number {
  const port = tagValue !== undefined && /^\d{1,5}$/.test(tagValue) ? Number(tagValue) : SSH_PORT;
  return port >= 1 && port <= 65_535 ? port : SSH_PORT;
}
