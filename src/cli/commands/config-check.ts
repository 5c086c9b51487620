import { loadAccessConfig } from '../../config/load.js';
import { readSettings } from '../../settings.js';
import { serversOfFlow } from '../../core/policy.js';
import { flag, JSON_OPTION, printJson, type Command } from '../command.js';

export const configCheck: Command = {
  name: 'config check',
  summary: 'validate an access-flow file (default: $KEYWAY_CONFIG or config/access.yaml)',
  usage: 'keyway config check [FILE] [--json]',
  options: JSON_OPTION,
  run(args, io) {
    const path = args.positionals[0] ?? readSettings(io.env).configPath;
    const config = loadAccessConfig(path);
    const summary = {
      file: path,
      integrations: config.integrations.map((i) => ({ name: i.name, servers: i.servers.length })),
      flows: config.flows.map((f) => ({ name: f.name, servers: serversOfFlow(config, f).map((r) => r.server.name) })),
      people: config.people.length,
    };
    if (flag(args, 'json')) return printJson(io, { ok: true, ...summary });
    const servers = config.integrations.reduce((n, i) => n + i.servers.length, 0);
    io.out(`${path}: OK: ${config.integrations.length} integrations, ${servers} servers, ${config.flows.length} flows, ${config.people.length} people`);
  },
};
