import { GRANT_STATES, GRANT_STATES_WITH_ACCESS, type GrantState } from '../../core/lifecycle.js';
import { listGrants } from '../../store/grants.js';
import { UsageError, flag, JSON_OPTION, listOption, printJson, stringOption, type Command } from '../command.js';
import { isoTime, table } from '../format.js';
import { withRuntime } from '../runtime.js';

export const grantsList: Command = {
  name: 'grants list',
  summary: 'list grants (default: those that give or may still give access)',
  usage: 'keyway grants list [--all | --state STATE …] [--user LINUX-USER] [--json]',
  options: {
    all: { type: 'boolean', description: 'every grant, also revoked and cleaned ones' },
    state: { type: 'string', multiple: true, value: 'STATE', description: `only grants in this state: ${GRANT_STATES.join(', ')}` },
    user: { type: 'string', value: 'LINUX-USER', description: "only this person's grants, by Linux user name" },
    ...JSON_OPTION,
  },
  run(args, io) {
    const states = listOption(args, 'state');
    for (const s of states) if (!GRANT_STATES.includes(s as GrantState)) throw new UsageError(`--state must be one of ${GRANT_STATES.join(', ')}`);
    const filterStates = flag(args, 'all') ? [] : states.length > 0 ? (states as GrantState[]) : GRANT_STATES_WITH_ACCESS;
    return withRuntime(io, (rt) => {
      const grants = listGrants(rt.db, { states: filterStates, linuxUser: stringOption(args, 'user') });
      if (flag(args, 'json')) return printJson(io, grants);
      if (grants.length === 0) {
        io.out(flag(args, 'all') ? 'No grants.' : states.length > 0 ? `No grants in state ${states.join(', ')}.` : 'No grants give or may still give access. (keyway grants list --all shows ended ones.)');
        return;
      }
      io.out(table(['ID', 'REQUEST', 'STATE', 'USER', 'SERVER', 'GROUPS', 'EXPIRES', 'LAST ERROR'], grants.map((g) => [
        String(g.id), String(g.requestId), g.state, g.linuxUser, g.server, g.groups.join(','), isoTime(g.expiresAt), g.lastError ?? '',
      ])));
    }, { config: false, existing: true });
  },
};
