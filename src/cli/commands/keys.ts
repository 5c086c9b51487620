// keyway keys add | list | remove: people's SSH public keys, as an admin registers and retires them.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { registerPublicKey } from '../../access/people.js';
import { UserError } from '../../core/errors.js';
import { flowsForRequester } from '../../core/policy.js';
import { appendAudit } from '../../store/audit-log.js';
import { listCurrentKeys, retireCurrentKey } from '../../store/public-keys.js';
import { UsageError, flag, JSON_OPTION, printJson, stringOption, type Command } from '../command.js';
import { isoTime, table } from '../format.js';
import { cliActor, withRuntime } from '../runtime.js';

const KEY_LINE_START = /^(ssh-|ecdsa-|sk-)/;

/** The key text from the words after the e-mail: a key line (quoted or not), or the path of a .pub file. */
function keyText(words: string[], file: string | undefined): string {
  if (file) return readFileSync(file, 'utf8');
  if (words.length === 1 && !KEY_LINE_START.test(words[0]!)) {
    const path = words[0]!.replace(/^~(?=\/)/, homedir());
    if (!existsSync(path)) throw new UserError('usage', `There is no file ${words[0]}: give the public key line (ssh-ed25519 AAAA… comment) or the path of the .pub file.`);
    return readFileSync(path, 'utf8');
  }
  return words.join(' ');
}

export const keysAdd: Command = {
  name: 'keys add',
  summary: "register or replace a person's SSH public key",
  usage: 'keyway keys add EMAIL (PUBLIC-KEY-LINE | KEY.pub | --file KEY.pub) [--json]',
  args: [{ name: '<email>', description: "the person's e-mail" }, { name: '[key...]', description: 'the public key line, or the path of the .pub file' }],
  options: { file: { type: 'string', short: 'f', value: 'KEY.pub', description: 'read the public key from this file' }, ...JSON_OPTION },
  run(args, io) {
    const [email, ...keyWords] = args.positionals;
    if (!email || !email.includes('@')) throw new UsageError("give the person's e-mail first");
    const text = keyText(keyWords, stringOption(args, 'file'));
    if (!text.trim()) throw new UsageError('give the public key line, or the path of the .pub file');
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

export const keysList: Command = {
  name: 'keys list',
  summary: 'list the people with a registered SSH public key',
  usage: 'keyway keys list [--json]',
  options: JSON_OPTION,
  run(args, io) {
    return withRuntime(io, (rt) => {
      const keys = listCurrentKeys(rt.db);
      if (flag(args, 'json')) return printJson(io, keys);
      if (keys.length === 0) {
        io.out('No keys registered.');
        return;
      }
      io.out(table(['EMAIL', 'LINUX USER', 'TYPE', 'FINGERPRINT', 'ADDED'], keys.map((k) => [k.email, k.linuxUser, k.keyType, k.fingerprint, isoTime(k.createdAt)])));
    }, { config: false, existing: true });
  },
};

export const keysRemove: Command = {
  name: 'keys remove',
  summary: "remove a person's SSH public key: no new access until they register one (live grants run on)",
  usage: 'keyway keys remove EMAIL [--json]',
  args: [{ name: '<email>', description: "the person's e-mail" }],
  options: JSON_OPTION,
  run(args, io) {
    const email = args.positionals[0]!.toLowerCase();
    if (!email.includes('@')) throw new UsageError("give the person's e-mail");
    return withRuntime(io, (rt) => {
      const fingerprint = rt.db.transaction(() => {
        const retired = retireCurrentKey(rt.db, email, rt.now());
        if (retired) appendAudit(rt.db, { actor: cliActor(), action: 'key.removed', subject: `person:${email}`, details: { fingerprint: retired } }, rt.now());
        return retired;
      })();
      if (!fingerprint) throw new UserError('unknown_person', `${email} has no registered key: see keyway keys list.`);
      if (flag(args, 'json')) return printJson(io, { email, fingerprint });
      io.out(`Removed the key ${fingerprint} of ${email}. Grants already given run until they end; revoke them with keyway revoke ID.`);
    }, { config: false, existing: true });
  },
};
