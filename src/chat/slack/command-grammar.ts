// The `/ssh-access` grammar: turns the text after the command into what the person asked for. Pure; every
// mistake is a UserError that says what to type instead.
import { parseDuration } from '../../core/duration.js';
import { UserError } from '../../core/errors.js';
import { looksLikePrivateKey } from '../../ca/user-key.js';

export type AccessCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'request'; servers: string[]; duration?: number; reason: string }
  | { kind: 'key'; keyText: string }
  | { kind: 'list' }
  | { kind: 'servers' }
  | { kind: 'revoke'; requestId: number }
  | { kind: 'cancel'; requestId: number }
  | { kind: 'extend'; requestId: number; duration: number };

export const COMMAND_HELP = [
  '*`/ssh-access`* — a form to request access',
  '*`/ssh-access request <server>[,<server>…] <duration> <reason…>`* — e.g. `/ssh-access request web-1,web-2 2h INC-42 disk full` (leave out the duration for the flow\'s default)',
  '*`/ssh-access key <public key>`* — register or replace your SSH public key (the line in `~/.ssh/id_ed25519.pub`)',
  '*`/ssh-access list`* — your access, your pending requests, approvals waiting for you',
  '*`/ssh-access servers`* — the servers you may request',
  '*`/ssh-access revoke <id>`* — end access now · *`/ssh-access cancel <id>`* — withdraw a pending request',
  '*`/ssh-access extend <id> <duration>`* — ask for more time',
  'Durations: `45s`, `30m`, `2h`, `1d`, `1h30m`.',
].join('\n');

function usage(message: string): UserError {
  return new UserError('usage', `${message} Type \`/ssh-access help\` for the commands.`);
}

function requestId(word: string | undefined, example: string): number {
  const match = /^#?(\d{1,12})$/.exec(word ?? '');
  if (!match) throw usage(`Give the request number, like \`${example}\`${word ? ` ("${word}" is not one).` : '.'}`);
  return Number(match[1]);
}

function parseRequest(rest: string): AccessCommand {
  const [serverWord = '', next, ...others] = rest.split(/\s+/).filter((w) => w.length > 0);
  const servers = serverWord.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (servers.length === 0) throw usage('Name the server(s): `/ssh-access request web-1,web-2 2h INC-42 disk full`.');
  // A word starting with a digit is meant as the duration: a typo there is an error, not part of the reason.
  if (next !== undefined && /^\d/.test(next)) {
    return { kind: 'request', servers, duration: parseDuration(next), reason: others.join(' ') };
  }
  return { kind: 'request', servers, reason: [next, ...others].filter((w) => w !== undefined).join(' ') };
}

export function parseAccessCommand(text: string): AccessCommand {
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
      return parseRequest(rest);
    case 'key':
      if (rest === '') throw usage('Paste your public key after `key`: `/ssh-access key ssh-ed25519 AAAA… you@laptop`.');
      return { kind: 'key', keyText: rest };
    case 'list':
      return { kind: 'list' };
    case 'servers':
      return { kind: 'servers' };
    case 'revoke':
      return { kind: 'revoke', requestId: requestId(words[0], '/ssh-access revoke 42') };
    case 'cancel':
      return { kind: 'cancel', requestId: requestId(words[0], '/ssh-access cancel 42') };
    case 'extend': {
      const id = requestId(words[0], '/ssh-access extend 42 1h');
      if (!words[1]) throw usage('Say how much longer, like `/ssh-access extend 42 1h`.');
      return { kind: 'extend', requestId: id, duration: parseDuration(words[1]) };
    }
    default:
      // Echo only a plain word: the text may be a pasted secret.
      throw usage(/^[a-z-]{1,20}$/.test(verb) ? `\`/ssh-access\` does not know "${verb}".` : '`/ssh-access` does not know that.');
  }
}
