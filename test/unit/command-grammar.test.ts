import { describe, expect, it } from 'vitest';
import { commandHelp, parseAccessCommand as parseWithPrefix } from '../../src/chat/command-grammar.js';

const SLACK = '/ssh-access ';
const parseAccessCommand = (text: string) => parseWithPrefix(text, SLACK);
import { userErrorOf } from '../helpers/user-error.js';

const refusal = (text: string) => userErrorOf(() => parseAccessCommand(text), `"${text}" was accepted`);

describe('the /ssh-access grammar', () => {
  it('opens the modal when no words are given', () => {
    expect(parseAccessCommand('')).toEqual({ kind: 'modal' });
    expect(parseAccessCommand('   ')).toEqual({ kind: 'modal' });
  });

  it('reads a request with several servers, a duration and a reason of many words', () => {
    expect(parseAccessCommand('request web-1,web-2 1h30m INC-42 disk  full')).toEqual({
      kind: 'request', servers: ['web-1', 'web-2'], duration: 5400, reason: 'INC-42 disk full',
    });
    expect(parseAccessCommand('REQUEST db-1 45s x')).toMatchObject({ servers: ['db-1'], duration: 45 });
    expect(parseAccessCommand('request db-1 1d because')).toMatchObject({ duration: 86_400 });
  });

  it('leaves the duration to the flow when the second word is not a number', () => {
    expect(parseAccessCommand('request web-1 fixing the deploy')).toEqual({ kind: 'request', servers: ['web-1'], reason: 'fixing the deploy' });
    expect(parseAccessCommand('request web-1')).toEqual({ kind: 'request', servers: ['web-1'], reason: '' });
  });

  it('reads servers separated by commas with or without spaces, never the second server as the reason', () => {
    const both = { kind: 'request', servers: ['web-1', 'web-2'], duration: 7200, reason: 'fix' };
    for (const text of ['request web-1, web-2 2h fix', 'request web-1 ,web-2 2h fix', 'request web-1 , web-2 2h fix', 'request web-1,,web-2, 2h fix']) {
      expect(parseAccessCommand(text), text).toEqual(both);
    }
  });

  it('reads a quoted server name with spaces, straight or with Slack\'s curly quotes', () => {
    expect(parseAccessCommand('request "My Server 1" 1h x')).toEqual({ kind: 'request', servers: ['My Server 1'], duration: 3600, reason: 'x' });
    expect(parseAccessCommand('request “My Server 1”, web-2 1h x')).toMatchObject({ servers: ['My Server 1', 'web-2'], duration: 3600 });
    expect(parseAccessCommand('request web-2,“My Server 1” x')).toEqual({ kind: 'request', servers: ['web-2', 'My Server 1'], reason: 'x' });
    expect(refusal('request "My Server 1 1h x').message).toMatch(/Close the quote/);
  });

  it('reads a known name with spaces typed without quotes, when the names are given', () => {
    expect(parseWithPrefix('request My Server 1 1h x', SLACK, ['My Server 1', 'web-1'])).toMatchObject({ servers: ['My Server 1'], duration: 3600, reason: 'x' });
    expect(parseWithPrefix('request web-1, My Server 1 x', SLACK, ['My Server 1', 'web-1'])).toMatchObject({ servers: ['web-1', 'My Server 1'], reason: 'x' });
  });

  it('says so when a word after the servers is neither a server nor a duration, instead of reading it as the reason', () => {
    const known = ['web-1', 'web-2', 'My Server 1'];
    const unknown = userErrorOf(() => parseWithPrefix('request web-1 wbe-2 2h fix', SLACK, known));
    expect(unknown.message).toMatch(/"wbe-2" is neither a known server nor a duration\. Separate servers with commas/);
    expect(userErrorOf(() => parseWithPrefix('request web-1 web-2 2h fix', SLACK, known)).message).toMatch(/"web-2" is a server too\. Separate servers with commas/);
    expect(refusal('request web-1 web-2 2h fix').message).toMatch(/"web-2" is neither a server nor a duration.*`\/ssh-access request web-1, web-2 2h/);
    expect(refusal('request My Server 1 1h x').message).toMatch(/"Server" is neither a server nor a duration.*in quotes/);
    expect(refusal('request web-1 "My Server 1" 1h').message).toMatch(/looks like another server name/);
    // A reason without a duration in its first words is still a reason.
    expect(parseWithPrefix('request web-1 fixing the deploy', SLACK, known)).toMatchObject({ servers: ['web-1'], reason: 'fixing the deploy' });
  });

  it('refuses a mistyped duration instead of reading it as the reason', () => {
    const error = refusal('request web-1 2hours INC-1');
    expect(error.code).toBe('duration_invalid');
    expect(error.message).toMatch(/like 45s, 30m, 2h, 1d or 1h30m/);
  });

  it('refuses a word that looks like a duration but is not one, instead of starting the reason with it', () => {
    for (const word of ['-5m', '0m', '2x', '5mm', '+1h', '-1']) {
      const error = refusal(`request web-1 ${word} x`);
      expect(error.code, word).toBe('duration_invalid');
      expect(error.message, word).toContain(`"${word}"`);
      expect(error.message, word).toMatch(/like 45s, 30m, 2h, 1d or 1h30m|more than zero/);
    }
    expect(refusal('request web-1 0m x').message).toMatch(/more than zero/);
    // Words that are plainly the reason's still are.
    expect(parseAccessCommand('request web-1 - hotfix')).toMatchObject({ reason: '- hotfix' });
    expect(parseAccessCommand('request web-1 INC-42 disk full')).toMatchObject({ reason: 'INC-42 disk full' });
  });

  it('opens the form for `request` alone, and asks for servers when a request names none', () => {
    expect(parseAccessCommand('request')).toEqual({ kind: 'modal' });
    expect(refusal('request ,').message).toMatch(/Name the server/);
  });

  it('keeps the whole key line, spaces and comment included', () => {
    expect(parseAccessCommand('key ssh-ed25519 AAAAC3Nza me@laptop')).toEqual({ kind: 'key', keyText: 'ssh-ed25519 AAAAC3Nza me@laptop' });
    expect(refusal('key').message).toMatch(/Paste your public key/);
  });

  it('treats a pasted private key as a key, so it is refused with the advice to rotate it', () => {
    const pasted = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----';
    expect(parseAccessCommand(pasted)).toEqual({ kind: 'key', keyText: pasted });
  });

  it('reads list, servers and help', () => {
    expect(parseAccessCommand('list')).toEqual({ kind: 'list' });
    expect(parseAccessCommand('servers')).toEqual({ kind: 'servers' });
    expect(parseAccessCommand('Help')).toEqual({ kind: 'help' });
  });

  it('reads revoke, cancel and extend with a request number, with or without #', () => {
    expect(parseAccessCommand('revoke 42')).toEqual({ kind: 'revoke', requestId: 42 });
    expect(parseAccessCommand('revoke #42')).toEqual({ kind: 'revoke', requestId: 42 });
    expect(parseAccessCommand('cancel 7')).toEqual({ kind: 'cancel', requestId: 7 });
    expect(parseAccessCommand('extend 42 30m')).toEqual({ kind: 'extend', requestId: 42, duration: 1800 });
  });

  it('says what to type when a number or a duration is missing', () => {
    expect(refusal('revoke').message).toMatch(/`\/ssh-access revoke 42`/);
    expect(refusal('revoke web-1').message).toMatch(/"web-1" is not one/);
    expect(refusal('extend 42').message).toMatch(/`\/ssh-access extend 42 1h`/);
    expect(refusal('extend 42 forever').code).toBe('duration_invalid');
  });

  it('refuses unknown words, pointing at help, and never echoes text that is not a plain word', () => {
    const unknown = refusal('grant web-1');
    expect(unknown.code).toBe('usage');
    expect(unknown.message).toMatch(/do not know the command "grant".*`\/ssh-access help`/);
    expect(refusal('xoxb-1234-secret-token').message).not.toContain('xoxb');
  });

  it('writes its advice with the platform\'s prefix: none in a Teams chat', () => {
    expect(parseWithPrefix('request web-1 2h INC-1', '')).toEqual({ kind: 'request', servers: ['web-1'], duration: 7200, reason: 'INC-1' });
    expect(() => parseWithPrefix('revoke', '')).toThrow(/like `revoke 42`.*Type `help`/);
    expect(commandHelp('')[0]).toEqual(['request', 'a form to request access']);
    expect(commandHelp(SLACK)[0]![0]).toBe('/ssh-access');
    expect(commandHelp(SLACK).map(([command]) => command.split(' ')[1] ?? '')).toEqual(['', 'request', 'key', 'list', 'servers', 'revoke', 'cancel', 'extend', 'help']);
  });
});
