// The live config the app reads: the access file as loaded, with each cloud integration's servers filled from its
// latest inventory snapshot. So access, chat and the drivers see discovered servers exactly like listed ones, and the
// cloud is never on the request path. Rebuilt only when the file or a snapshot changes (a snapshot taken by another
// Keyway process, `keyway inventory refresh`, counts too).
import type { Database } from 'better-sqlite3';
import { isCloudIntegration, type AccessConfig } from '../../core/model.js';
import { latestSnapshot, newestSnapshotId } from '../../store/inventory-snapshots.js';

const WITH_INVENTORIES = Symbol('withInventories');
type LiveConfig = (() => AccessConfig) & { [WITH_INVENTORIES]?: true };

export function withInventories(db: Database, fileConfig: () => AccessConfig): () => AccessConfig {
  if ((fileConfig as LiveConfig)[WITH_INVENTORIES]) return fileConfig;
  let cachedFile: AccessConfig | undefined;
  let cachedSnapshot = -1;
  let live: AccessConfig | undefined;
  const config: LiveConfig = () => {
    const file = fileConfig();
    if (!file.integrations.some(isCloudIntegration)) return file;
    const snapshot = newestSnapshotId(db);
    if (live && file === cachedFile && snapshot === cachedSnapshot) return live;
    live = {
      ...file,
      integrations: file.integrations.map((integration) => (isCloudIntegration(integration)
        ? { ...integration, servers: (latestSnapshot(db, integration.name)?.servers ?? []).map(({ name, host, port, user, tags }) => ({ name, host, port, user, tags })) }
        : integration)),
    };
    cachedFile = file;
    cachedSnapshot = snapshot;
    return live;
  };
  config[WITH_INVENTORIES] = true;
  return config;
}
