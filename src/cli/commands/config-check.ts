import { ConfigError, formatProblem, type ConfigProblem } from '../../config/config-error.js';
import { loadAccessConfig } from '../../config/load.js';
import { isUserError } from '../../core/errors.js';
import type { AccessConfig } from '../../core/model.js';
import { readSettings } from '../../settings.js';
import { serversOfFlow } from '../../core/policy.js';
import { flag, JSON_OPTION, printJson, type Command } from '../command.js';

export const configCheck: Command = {
  name: 'config check',
  summary: 'validate an access-flow file (default: $KEYWAY_CONFIG or config/access.yaml)',
  usage: 'keyway config check [FILE] [--json]',
  args: [{ name: '[file]', description: 'the file to check (default: --config, $KEYWAY_CONFIG or config/access.yaml)' }],
  options: JSON_OPTION,
  run(args, io) {
    const path = args.positionals[0] ?? readSettings(io.env).configPath;
    let config: AccessConfig;
    try {
      config = loadAccessConfig(path);
    } catch (error) {
      if (!isUserError(error) || error.code !== 'config_invalid') throw error;
      // Each problem on a line of its own that starts with file:line:col, for editors and CI annotations.
      const problems: Array<ConfigProblem | { file: string; message: string }> = error instanceof ConfigError ? error.problems : [{ file: path, message: error.message }];
      if (flag(args, 'json')) printJson(io, { ok: false, file: path, problems });
      else for (const problem of problems) io.err('line' in problem ? formatProblem(problem) : `${problem.file}: ${problem.message}`);
      return 1;
    }
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
