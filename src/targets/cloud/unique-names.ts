// Names for discovered servers that people can type and that stay put: the cloud's name (a Name tag, a VM name) when
// it is a valid server name, else the cloud id; and when that name is carried by more than one instance of the
// integration, or already used by a listed server or another integration, `NAME (ID)` for each such instance
// (docs/configuration.md, "Names are made unique"). Depends only on the current answer and the names taken.
import { serverName } from '../../config/field-schemas.js';
import type { DiscoveredServer } from './discovered.js';

export interface NamedServer {
  server: DiscoveredServer;
  /** The name it is requested by. */
  name: string;
  /** The cloud's own name, when it had to change (duplicate, or not a valid server name). */
  renamedFrom?: string;
}

/** `i-0abc` stays; an Azure resource id becomes `resource-group/vm-name`. */
export function shortCloudId(id: string): string {
  const parts = id.split('/').filter((p) => p !== '');
  if (parts.length < 2) return id;
  const group = parts.findIndex((p) => p.toLowerCase() === 'resourcegroups');
  return group >= 0 && parts[group + 1] !== undefined ? `${parts[group + 1]}/${parts.at(-1)}` : parts.at(-1)!;
}

const isServerName = (name: string) => serverName.safeParse(name).success;

/** `taken`: names used by listed servers and other integrations, which keep them. */
export function uniqueNames(servers: readonly DiscoveredServer[], taken: ReadonlySet<string>): NamedServer[] {
  const base = servers.map((server) => (isServerName(server.name) ? server.name : shortCloudId(server.id)));
  const counts = new Map<string, number>();
  for (const name of base) counts.set(name, (counts.get(name) ?? 0) + 1);
  return servers.map((server, i) => {
    const wanted = base[i]!;
    const clash = counts.get(wanted)! > 1 || taken.has(wanted);
    const name = clash ? `${wanted} (${shortCloudId(server.id)})` : wanted;
    return { server, name, ...(name !== server.name && { renamedFrom: server.name }) };
  });
}
