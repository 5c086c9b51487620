import { parseUserPublicKey } from '../../ca/user-key.js';
import { appendAudit } from '../../store/audit-log.js';
import { setCurrentKey, upsertPerson } from '../../store/people.js';
import { linuxUserFor } from '../../access/requests.js';
import { UsageError, flag, JSON_OPTION, printJson, type Command } from '../command.js';
import { cliActor, withRuntime } from '../runtime.js';
import { readFileSync } from 'node:fs';

export const keysAdd: Command = {
  name: 'keys add',
  summary: "register or replace a person's SSH public key",
  usage: 'keyway keys add EMAIL (PUBLIC-KEY-LINE | --file KEY.pub) [--json]',
  options: { file: { type: 'string', short: 'f' }, ...JSON_OPTION },
  run(args, io) {
    const [email, ...keyWords] = args.positionals;
    if (!email || !email.includes('@')) throw new UsageError('give the person\'s e-mail first');
    const file = typeof args.values.file === 'string' ? args.values.file : undefined;
    const text = file ? readFileSync(file, 'utf8') : keyWords.join(' ');
    if (!text.trim()) throw new UsageError('give the public key line, or --file KEY.pub');
    const key = parseUserPublicKey(text);
    return withRuntime(io, (rt) => {
      const now = rt.now();
      const lower = email.toLowerCase();
      const linuxUser = linuxUserFor(rt, lower);
      rt.db.transaction(() => {
        upsertPerson(rt.db, lower, linuxUser, now);
        setCurrentKey(rt.db, { email: lower, keyType: key.type, keyLine: key.line, fingerprint: key.fingerprint, createdAt: now });
        appendAudit(rt.db, { actor: cliActor(), action: 'key.registered', subject: `person:${lower}`, details: { fingerprint: key.fingerprint, type: key.type } }, now);
      })();
      if (flag(args, 'json')) return printJson(io, { email: lower, linuxUser, type: key.type, fingerprint: key.fingerprint });
      io.out(`Registered ${key.type} key ${key.fingerprint} for ${lower} (Linux user ${linuxUser}).`);
    });
  },
};
