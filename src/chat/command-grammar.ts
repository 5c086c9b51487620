// The command grammar shared by Slack (`/ssh-access …`) and Teams (`…` in the bot's personal chat): turns the
// text into what the person asked for. Pure; every mistake is a UserError that says what to type instead,
// written with the platform's own prefix.
import { parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { looksLikePrivateKey } from '../ca/user-key.js';
import type { AccessCommand } from '../access/command-runner.js';

export type { AccessCommand };

/** How commands start on a platform: `/ssh-access ` on Slack, nothing in a Teams chat with the bot. */
export type CommandPrefix = string;

/** The help text as [command, what it does] pairs; each platform sets them in its own markup. */
export function commandHelp(prefix: CommandPrefix): Array<[string, string]> {
  return [
    [prefix.trim() || 'request', 'a form to request access'],
    [`${prefix}request <server>[,<server>…] <duration> <reason…>`, `e.g. \`${prefix}request web-1,web-2 2h INC-42 disk full\` (leave out the duration for the flow's default)`],
    [`${prefix}key <public key>`, 'register or replace your SSH public key (the line in `~/.ssh/id_ed25519.pub`)'],
    [`${prefix}list`, 'your access, your pending requests, approvals waiting for you'],
    [`${prefix}servers`, 'the servers you may request'],
    [`${prefix}revoke <id>`, 'end access now'],
    [`${prefix}cancel <id>`, 'withdraw a pending request'],
    [`${prefix}extend <id> <duration>`, 'ask for more time'],
    [`${prefix}help`, 'this list. Durations: `45s`, `30m`, `2h`, `1d`, `1h30m`.'],
  ];
}

function usage(prefix: CommandPrefix, message: string): UserError {
  return new UserError('usage', `${message} Type \`${prefix}help\` for the commands.`);
}

function requestId(prefix: CommandPrefix, word: string | undefined, example: string): number {
  const match = /^#?(\d{1,12})$/.exec(word ?? '');
  if (!match) throw usage(prefix, `Give the request number, like \`${prefix}${example}\`${word ? ` ("${word}" is not one).` : '.'}`);
  return Number(match[1]);
}

function parseRequest(prefix: CommandPrefix, rest: string): AccessCommand {
  const [serverWord = '', next, ...others] = rest.split(/\s+/).filter((w) => w.length > 0);
  const servers = serverWord.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (servers.length === 0) throw usage(prefix, `Name the server(s): \`${prefix}request web-1,web-2 2h INC-42 disk full\`.`);
  // A word starting with a digit (or a sign and a digit) is meant as the duration: a typo there is an error, not
  // the start of the reason, so `request web-1 -5m x` never becomes a request for the default duration.
  if (next !== undefined && /^[-+]?\d/.test(next)) {
    if (/^[-+]/.test(next)) {
      throw new UserError('duration_invalid', `"${next}" is not a duration: give a positive number and a unit, like 45s, 30m, 2h, 1d or 1h30m.`);
    }
    return { kind: 'request', servers, duration: parseDuration(next), reason: others.join(' ') };
  }
  return { kind: 'request', servers, reason: [next, ...others].filter((w) => w !== undefined).join(' ') };
}

export function parseAccessCommand(text: string, prefix: CommandPrefix): AccessCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'modal' };
  // A private key pasted without `key` still gets the key handling: refused, with the advice to rotate it.
  if (looksLikePrivateKey(trimmed)) return { kind: 'key', keyText: trimmed };
  const [first = '', ...words] = trimmed.split(/\s+/);
  const verb = first.toLowerCase();
  const rest = trimmed.slice(first.length).trim();
  switch (verb) {
    case 'help':
      return { kind: 'help' };
    case 'request':
      return rest === '' ? { kind: 'modal' } : parseRequest(prefix, rest);
    case 'key':
      if (rest === '') throw usage(prefix, `Paste your public key after \`key\`: \`${prefix}key ssh-ed25519 AAAA… you@laptop\`.`);
      return { kind: 'key', keyText: rest };
    case 'list':
      return { kind: 'list' };
    case 'servers':
      return { kind: 'servers' };
    case 'revoke':
      return { kind: 'revoke', requestId: requestId(prefix, words[0], 'revoke 42') };
    case 'cancel':
      return { kind: 'cancel', requestId: requestId(prefix, words[0], 'cancel 42') };
    case 'extend': {
      const id = requestId(prefix, words[0], 'extend 42 1h');
      if (!words[1]) throw usage(prefix, `Say how much longer, like \`${prefix}extend 42 1h\`.`);
      return { kind: 'extend', requestId: id, duration: parseDuration(words[1]) };
    }
    default:
      // Echo only a plain word: the text may be a pasted secret.
      throw usage(prefix, /^[a-z-]{1,20}$/.test(verb) ? `I do not know the command "${verb}".` : 'I do not know that command.');
  }
}
