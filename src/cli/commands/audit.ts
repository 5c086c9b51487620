import { auditHead, listAudit, verifyAuditChain } from '../../store/audit-log.js';
import { flag, JSON_OPTION, positiveId, printJson, stringOption, type Command } from '../command.js';
import { isoTime } from '../format.js';
import { withRuntime } from '../runtime.js';

export const auditList: Command = {
  name: 'audit',
  summary: 'show the audit log (latest entries), or `keyway audit verify` to check its hash chain',
  usage: 'keyway audit [--subject request:42] [--limit N] [--json]',
  options: {
    subject: { type: 'string', value: 'SUBJECT', description: 'only entries about this subject, like request:42 or server:web-1' },
    limit: { type: 'string', value: 'N', description: 'show the latest N entries (default 50)' },
    ...JSON_OPTION,
  },
  run(args, io) {
    const limit = stringOption(args, 'limit');
    return withRuntime(io, (rt) => {
      const entries = listAudit(rt.db, { subject: stringOption(args, 'subject'), limit: limit ? positiveId(limit, 'limit') : 50 });
      if (flag(args, 'json')) return printJson(io, entries);
      if (entries.length === 0) {
        io.out(stringOption(args, 'subject') ? `No audit entries about ${stringOption(args, 'subject')}.` : 'The audit log is empty.');
        return;
      }
      io.out(['SEQ', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'DETAILS'].join('\t'));
      for (const e of entries) io.out(`${e.seq}\t${isoTime(e.at)}\t${e.actor}\t${e.action}\t${e.subject}\t${JSON.stringify(e.details)}`);
    }, { config: false, existing: true });
  },
};

export const auditVerify: Command = {
  name: 'audit verify',
  summary: "check the audit log's hash chain; exit 1 if an entry was changed or removed",
  usage: 'keyway audit verify [--json]',
  options: JSON_OPTION,
  run(args, io) {
    return withRuntime(io, (rt) => {
      const result = verifyAuditChain(rt.db);
      const head = auditHead(rt.db);
      if (flag(args, 'json')) printJson(io, { ...result, head: head ?? null });
      else if (result.ok) io.out(`Audit log OK: ${result.entries} entries, head ${head ?? '(empty)'}.`);
      else io.err(`Audit log BROKEN at entry ${result.brokenAt}: ${result.problem}.`);
      return result.ok ? 0 : 1;
    }, { config: false, existing: true });
  },
};
