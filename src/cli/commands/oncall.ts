// keyway oncall who [FLOW]: who is on call now in each schedule the flows name (as requesters or approvers), asked
// of the providers exactly as a request would ask them; a provider that fails is shown with its reason.
import { createOncallResolver } from '../../access/oncall.js';
import { loadAccessConfig } from '../../config/load.js';
import { UserError } from '../../core/errors.js';
import { findFlow } from '../../core/lookup.js';
import type { Flow } from '../../core/model.js';
import { readSettings } from '../../settings.js';
import { flag, JSON_OPTION, printJson, type Command } from '../command.js';
import { isoTime, table } from '../format.js';

function schedulesOf(flow: Flow): string[] {
  return [...new Set([...(flow.requesters.oncall ?? []), ...(flow.approvers.oncall ?? [])])];
}

export const oncallWho: Command = {
  name: 'oncall who',
  summary: 'who is on call now in the schedules the flows name (one flow, or all)',
  usage: 'keyway oncall who [FLOW] [--json]',
  args: [{ name: '[flow]', description: 'only the schedules this flow names' }],
  options: { ...JSON_OPTION },
  async run(args, io) {
    const config = loadAccessConfig(readSettings(io.env).configPath);
    const name = args.positionals[0];
    const flow = name === undefined ? undefined : findFlow(config, name);
    if (name !== undefined && !flow) throw new UserError('config_invalid', `There is no flow called "${name}": keyway config check lists the flows.`);
    const flows = flow ? [flow] : config.flows;
    const schedules = [...new Set(flows.flatMap(schedulesOf))];
    if (schedules.length === 0) {
      io.out(flow ? `The flow ${flow.name} names no on-call schedule.` : 'No flow names an on-call schedule.');
      return 0;
    }
    const answers = await createOncallResolver({ config: () => config, env: io.env, now: () => Date.now() }).whoIsOnCall(schedules);
    if (flag(args, 'json')) {
      printJson(io, answers);
      return answers.some((a) => a.failure) ? 1 : 0;
    }
    io.out(table(['SCHEDULE', 'ON CALL', 'SHIFT ENDS', 'NOTE'], answers.flatMap((a) => {
      if (a.failure) return [[a.schedule, '', '', `provider failed, nobody counts as on call: ${a.failure}`]];
      if (a.shifts.length === 0) return [[a.schedule, '', '', 'nobody on call now']];
      return a.shifts.map((s) => [a.schedule, s.email, s.endsAt === undefined ? '' : isoTime(s.endsAt), '']);
    })));
    return answers.some((a) => a.failure) ? 1 : 0;
  },
};
