import { readFileSync } from 'node:fs';
import { registerPublicKey } from '../../access/people.js';
import { flowsForRequester } from '../../core/policy.js';
import { UsageError, flag, JSON_OPTION, printJson, stringOption, type Command } from '../command.js';
import { cliActor, withRuntime } from '../runtime.js';

export const keysAdd: Command = {
  name: 'keys add',
  summary: "register or replace a person's SSH public key",
  usage: 'keyway keys add EMAIL (PUBLIC-KEY-LINE | --file KEY.pub) [--json]',
  options: { file: { type: 'string', short: 'f' }, ...JSON_OPTION },
  run(args, io) {
    const [email, ...keyWords] = args.positionals;
    if (!email || !email.includes('@')) throw new UsageError("give the person's e-mail first");
    const file = stringOption(args, 'file');
    const text = file ? readFileSync(file, 'utf8') : keyWords.join(' ');
    if (!text.trim()) throw new UsageError('give the public key line, or --file KEY.pub');
    return withRuntime(io, (rt) => {
      // An admin may register a key before the person is in a flow (chat refuses that); the name rules still apply.
      const key = registerPublicKey(rt, email, text, cliActor(), { byAdmin: true });
      if (flag(args, 'json')) return printJson(io, key);
      io.out(`Registered ${key.type} key ${key.fingerprint} for ${key.email} (Linux user ${key.linuxUser}).`);
      if (flowsForRequester(rt.config(), { email: key.email }).length === 0) {
        io.out(`Note: no access flow names ${key.email} yet, so they cannot request access until one does.`);
      }
    });
  },
};
