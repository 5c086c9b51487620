// keyway inventory list | refresh: the servers each integration offers (listed ones, and cloud ones from their latest
// snapshot, with when it was taken), and a refresh of the cloud inventories now, stored like the service's own.
import { UserError } from '../../core/errors.js';
import { isCloudIntegration, type AccessConfig, type Integration } from '../../core/model.js';
import { lastRefreshes, latestSnapshot, type RefreshRecord, type Snapshot } from '../../store/inventory-snapshots.js';
import { cloudInventories } from '../../targets/cloud/clouds.js';
import { refreshAllInventories } from '../../targets/cloud/inventory-refresh.js';
import { JSON_OPTION, flag, printJson, type Command } from '../command.js';
import { isoTime, table } from '../format.js';
import { withRuntime, type CliRuntime } from '../runtime.js';

function pick(config: AccessConfig, name: string | undefined): Integration[] {
  if (name === undefined) return config.integrations;
  const found = config.integrations.find((i) => i.name === name);
  if (!found) throw new UserError('config_invalid', `No integration "${name}" in the config: it has ${config.integrations.map((i) => i.name).join(', ')}.`);
  return [found];
}

interface Listed {
  integration: Integration;
  snapshot?: Snapshot;
  lastRefresh?: RefreshRecord;
}

function listInventories(rt: CliRuntime, name: string | undefined): Listed[] {
  const refreshes = lastRefreshes(rt.db);
  // The file's config: servers of cloud integrations come from the snapshot itself, with their cloud ids.
  return pick(rt.config(), name).map((integration) => (isCloudIntegration(integration)
    ? { integration, snapshot: latestSnapshot(rt.db, integration.name), lastRefresh: refreshes.get(integration.name) }
    : { integration }));
}

export const inventoryList: Command = {
  name: 'inventory list',
  summary: 'list the servers of every integration (cloud ones from their latest snapshot)',
  usage: 'keyway inventory list [INTEGRATION] [--json]',
  args: [{ name: '[integration]', description: 'only this integration' }],
  options: { ...JSON_OPTION },
  run(args, io) {
    return withRuntime(io, (rt) => {
      const listed = listInventories(rt, args.positionals[0]);
      if (flag(args, 'json')) {
        return printJson(io, listed.map(({ integration, snapshot, lastRefresh }) => ({
          integration: integration.name, type: integration.type,
          ...(isCloudIntegration(integration) && {
            snapshotAt: snapshot ? new Date(snapshot.takenAt).toISOString() : null, snapshotMs: snapshot?.durationMs ?? null,
            lastRefresh: lastRefresh ? { at: new Date(lastRefresh.attemptedAt).toISOString(), ok: lastRefresh.ok, error: lastRefresh.error } : null,
          }),
          servers: snapshot?.servers ?? integration.servers,
        })));
      }
      const lines: string[] = [];
      const rows: string[][] = [];
      for (const { integration, snapshot, lastRefresh } of listed) {
        if (isCloudIntegration(integration)) {
          lines.push(`${integration.name} (${integration.type}): ${snapshot ? `snapshot of ${isoTime(snapshot.takenAt)}, ${snapshot.servers.length} servers, listed in ${snapshot.durationMs} ms` : 'no snapshot yet: run keyway inventory refresh'}`
            + (lastRefresh && !lastRefresh.ok ? `; the last refresh (${isoTime(lastRefresh.attemptedAt)}) failed: ${lastRefresh.error}` : ''));
        }
        const servers = snapshot?.servers ?? integration.servers.map((s) => ({ ...s, cloudId: undefined, discoveredName: s.name, missingSince: undefined }));
        for (const s of servers) {
          const notes = [
            ...(s.cloudId !== undefined ? [s.cloudId] : []),
            ...(s.discoveredName !== s.name ? [`named "${s.discoveredName}" in the cloud`] : []),
            ...(s.missingSince !== undefined ? [`gone from the cloud since ${isoTime(s.missingSince)}, kept for live grants`] : []),
          ];
          rows.push([integration.name, s.name, `${s.host}:${s.port}`, s.user, snapshot ? isoTime(snapshot.takenAt) : 'listed', notes.join('; ')]);
        }
      }
      if (lines.length > 0) io.out(lines.join('\n'));
      io.out(rows.length === 0 ? 'No servers.' : table(['INTEGRATION', 'SERVER', 'ADDRESS', 'CONNECTOR', 'SNAPSHOT', 'NOTES'], rows));
    }, { existing: true });
  },
};

export const inventoryRefresh: Command = {
  name: 'inventory refresh',
  summary: 'list the cloud inventories now and store the snapshots (the running service reads them at once)',
  usage: 'keyway inventory refresh [INTEGRATION] [--json]',
  args: [{ name: '[integration]', description: 'only this cloud integration' }],
  options: { ...JSON_OPTION },
  run(args, io) {
    return withRuntime(io, async (rt) => {
      const fileConfig = rt.config;
      const only = args.positionals[0];
      const named = pick(fileConfig(), only);
      if (only !== undefined && !isCloudIntegration(named[0]!)) throw new UserError('config_invalid', `Integration "${only}" is of type ${named[0]!.type}: its servers are listed in the config, there is nothing to refresh.`);
      const results = await refreshAllInventories({ db: rt.db, config: fileConfig, env: io.env, now: rt.now, logger: rt.logger, clouds: cloudInventories() }, only);
      if (flag(args, 'json')) printJson(io, results);
      else if (results.length === 0) io.out('No cloud integrations (aws-ec2, azure-vm) in the config: nothing to refresh.');
      else {
        for (const r of results) {
          io.out(r.ok
            ? `${r.integration}: ${r.servers} servers in ${r.durationMs} ms${r.renamed > 0 ? `, ${r.renamed} renamed to stay unique` : ''}${r.missing > 0 ? `, ${r.missing} gone from the cloud but kept for live grants` : ''}${r.gone > 0 ? `, ${r.gone} grants on terminated instances marked gone` : ''}`
            : `${r.integration}: refresh failed, the last snapshot stays in force: ${r.error}`);
        }
      }
      return results.every((r) => r.ok) ? 0 : 1;
    });
  },
};
