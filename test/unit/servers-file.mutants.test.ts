// An integration's servers_file (src/config/servers-file.ts): why it cannot be read, where its JSON breaks, and
// where in it a server is wrong. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import type { ConfigProblem } from '../../src/config/config-error.js';
import { createIssueDescriber } from '../../src/config/issue-messages.js';
import { readServersFile } from '../../src/config/servers-file.js';

const PATH = 'inventory/servers.json';
const REFERENCE: ConfigProblem = { file: 'access.yaml', line: 3, col: 19, message: `servers_file: cannot read ${PATH}` };

function read(text: string | (() => string)) {
  const readFile = typeof text === 'string' ? () => text : text;
  return readServersFile(PATH, readFile, createIssueDescriber(), () => REFERENCE);
}

const failing = (error: unknown) => () => {
  throw error;
};
const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('a servers_file that cannot be read', () => {
  it('is reported at the servers_file line of the YAML, with the reason', () => {
    const reasons: Array<[unknown, string]> = [
      [errno('ENOENT'), 'no such file'],
      [errno('EACCES'), 'permission denied'],
      [errno('EISDIR'), 'it is a directory'],
      [errno('EIO', 'EIO: i/o error, read'), 'EIO: i/o error, read'],
      ['a thrown string', 'a thrown string'],
    ];
    for (const [error, reason] of reasons) {
      const result = read(failing(error));
      expect(result.servers).toBeUndefined();
      expect(result.problems).toEqual([{ ...REFERENCE, message: `servers_file: cannot read ${PATH}: ${reason}` }]);
      expect(result.source.file).toBe(PATH);
      expect(result.source.problemAt([0, 'name'], 'm')).toEqual({ file: PATH, line: 1, col: 1, message: 'm' });
    }
  });
});

describe('a servers_file that is not JSON', () => {
  it('is reported at the line and column where the JSON breaks, with the parser\'s reason and no position', () => {
    expect(read('[\n  {"name": "web-1",, }]').problems).toEqual([
      { file: PATH, line: 2, col: 20, message: 'not valid JSON: Expected double-quoted property name' },
    ]);
  });

  it('is reported at the end of the file when the parser gives no position', () => {
    expect(read('[\n  1,]').problems).toEqual([
      { file: PATH, line: 2, col: 6, message: 'not valid JSON: Unexpected token \']\', "[\n  1,]" is not valid JSON' },
    ]);
  });
});

describe('a servers_file with a wrong server', () => {
  it('points into the JSON file', () => {
    const result = read('[\n  {"name": "web-1", "host": "10.0.0.1"},\n  {"name": "web-2", "host": "10.0.0.2", "port": "x"}\n]\n');
    expect(result.servers).toBeUndefined();
    expect(result.problems).toEqual([{ file: PATH, line: 3, col: 49, message: 'port must be a whole number from 1 to 65535' }]);
    expect(result.source.problemAt([1, 'host'], 'm')).toEqual({ file: PATH, line: 3, col: 29, message: 'm' });
  });

  it('names only the file when YAML cannot read the JSON (a key given twice)', () => {
    const result = read('[\n  {"name": "web-1", "host": "10.0.0.1", "host": "bad host"}\n]\n');
    expect(result.problems).toEqual([
      { file: PATH, line: 1, col: 1, message: 'host "bad host" is not a hostname or IP address (no spaces, ports, users or shell characters)' },
    ]);
  });
});

describe('a good servers_file', () => {
  it('gives its servers with their defaults, and a source that points into it', () => {
    const result = read('[{"name": "web-1", "host": "10.0.0.1", "tags": {"env": "prod"}}]');
    expect(result.problems).toEqual([]);
    expect(result.servers).toEqual([{ name: 'web-1', host: '10.0.0.1', user: 'keyway', port: 22, tags: { env: 'prod' } }]);
    expect(result.source.problemAt([0, 'host'], 'm')).toEqual({ file: PATH, line: 1, col: 28, message: 'm' });
  });
});
