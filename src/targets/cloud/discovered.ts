// What a cloud inventory (EC2, Azure) reports for one running machine, before names are made unique and the
// snapshot is stored: the same fields as a listed server, plus the cloud's own id.
import type { Server } from '../../core/model.js';

export interface DiscoveredServer extends Server {
  /** The cloud's id: an EC2 instance id (i-0abc…), an Azure VM resource id. Stable across renames. */
  id: string;
  /** Where it was found: an AWS region, an Azure location. */
  region: string;
}
