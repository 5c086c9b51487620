// The command grammar shared by Slack (`/ssh-access …`) and Teams (`…` in the bot's personal chat): turns the
// text into what the person asked for. Pure; every mistake is a UserError that says what to type instead,
// written with the platform's own prefix.
import { parseDuration } from '../core/duration.js';
import { UserError } from '../core/errors.js';
import { looksLikePrivateKey } from '../ca/user-key.js';
import type { AccessCommand } from '../access/command-runner.js';

export type { AccessCommand };

// Quotes around a server name with spaces: straight ones, and the curly ones Slack (and phones) type instead.
const OPENING_QUOTES: Record<string, string> = { '"': '"”', '“': '”"', '„': '“”"' };
const EXAMPLE = 'request web-1, web-2 2h INC-42 disk full';
const DURATION_WORD = /^(?:\d+[dhms])+$/;

/** How commands start on a platform: `/ssh-access ` on Slack, nothing in a Teams chat with the bot. */
export type CommandPrefix = string;

/** The help text as [command, what it does] pairs; each platform sets them in its own markup. */
export function commandHelp(prefix: CommandPrefix): Array<[string, string]> {
  return [
    [prefix.trim() || 'request', 'a form to request access'],
    [`${prefix}request <server>[,<server>…] <duration> <reason…>`, `e.g. \`${prefix}${EXAMPLE}\` (quote a name with spaces: \`"My Server 1"\`; leave out the duration for the flow's default)`],
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

/** Where `text` starts with a known name containing spaces, followed by a separator: that name. */
function knownNameAt(text: string, knownServers: readonly string[]): string | undefined {
  return knownServers
    .filter((name) => name.includes(' ') && text.startsWith(name) && /^(?:$|[\s,])/.test(text.slice(name.length)))
    .sort((a, b) => b.length - a.length)[0];
}

/**
 * The server list at the start of `rest`: names separated by commas (with or without spaces), each a bare word,
 * a quoted name ("My Server 1", “My Server 1”), or a known name with spaces typed without quotes.
 */
function readServers(prefix: CommandPrefix, rest: string, knownServers: readonly string[]): { servers: string[]; after: string } {
  const servers: string[] = [];
  let at = 0;
  for (;;) {
    while (at < rest.length && /[\s,]/.test(rest[at]!)) at += 1; // empty items (`a,,b`, `a, ,b`) are skipped
    if (at >= rest.length) break;
    const closing = OPENING_QUOTES[rest[at]!];
    if (closing) {
      let end = at + 1;
      while (end < rest.length && !closing.includes(rest[end]!)) end += 1;
      if (end >= rest.length) throw usage(prefix, `Close the quote around the server name, like \`${prefix}request "My Server 1" 1h INC-42\`.`);
      const name = rest.slice(at + 1, end).trim();
      if (name) servers.push(name);
      at = end + 1;
    } else {
      const known = knownNameAt(rest.slice(at), knownServers);
      const word = known ?? /^[^\s,]+/.exec(rest.slice(at))![0];
      // `web-1, 2h …`: a stray comma before the duration ends the list.
      if (servers.length > 0 && isDuration(word) && !knownServers.includes(word)) break;
      servers.push(word);
      at += word.length;
    }
    const separator = /^\s*,/.exec(rest.slice(at));
    if (!separator) break;
    at += separator[0].length;
  }
  return { servers, after: rest.slice(at).trim() };
}

function isDuration(word: string): boolean {
  return DURATION_WORD.test(word.toLowerCase());
}

/**
 * A word after the servers that is neither a duration nor plainly the reason: a server named without a comma,
 * or a name with spaces without quotes. Said now rather than read as the reason, which would quietly request
 * fewer servers (or the default duration) than the person meant.
 */
function misplacedServer(prefix: CommandPrefix, words: string[], knownServers: readonly string[]): UserError | undefined {
  const [first = ''] = words;
  const advice = `Separate servers with commas (\`${prefix}${EXAMPLE}\`), put a name with spaces in quotes (\`${prefix}request "My Server 1" 1h …\`), and give the duration right after the servers.`;
  const shown = first.length <= 60 ? `"${first}"` : 'The word after the servers';
  if (first !== '' && OPENING_QUOTES[first[0]!]) return usage(prefix, `${shown} looks like another server name. ${advice}`);
  if (knownServers.includes(first)) return usage(prefix, `${shown} is a server too. ${advice}`);
  // A duration a word or two later means the words before it were meant as servers, not as the reason.
  if (words.slice(1, 3).some(isDuration)) {
    return usage(prefix, `${shown} is neither ${knownServers.length > 0 ? 'a known server' : 'a server'} nor a duration. ${advice}`);
  }
  return undefined;
}

function parseRequest(prefix: CommandPrefix, rest: string, knownServers: readonly string[]): AccessCommand {
  const { servers, after } = readServers(prefix, rest, knownServers);
  if (servers.length === 0) throw usage(prefix, `Name the server(s): \`${prefix}${EXAMPLE}\`.`);
  const [next, ...others] = after.split(/\s+/).filter((w) => w.length > 0);
  // A word starting with a digit (or a sign and a digit) is meant as the duration: a typo there is an error, not
  // the start of the reason, so `request web-1 -5m x` never becomes a request for the default duration.
  if (next !== undefined && /^[-+]?\d/.test(next)) {
    if (/^[-+]/.test(next)) {
      throw new UserError('duration_invalid', `"${next}" is not a duration: give a positive number and a unit, like 45s, 30m, 2h, 1d or 1h30m.`);
    }
    return { kind: 'request', servers, duration: parseDuration(next), reason: others.join(' ') };
  }
  if (next !== undefined) {
    const misplaced = misplacedServer(prefix, [next, ...others], knownServers);
    if (misplaced) throw misplaced;
  }
  return { kind: 'request', servers, reason: [next, ...others].filter((w) => w !== undefined).join(' ') };
}

/**
 * Parses a command. `knownServers` (the names in the configuration, optional) lets a request name a server with
 * spaces without quotes, and says so when a word after the servers is a server given without a comma.
 */
export function parseAccessCommand(text: string, prefix: CommandPrefix, knownServers: readonly string[] = []): AccessCommand {
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
      return rest === '' ? { kind: 'modal' } : parseRequest(prefix, rest, knownServers);
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
