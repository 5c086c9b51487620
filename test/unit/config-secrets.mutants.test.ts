// Passwords named by a SecretRef (src/config/secrets.ts readPasswordSecret: the windows-dc bind password, the WinRM
// admin password) and the connector key file that cannot be read: the exact value taken, and the exact sentence for
// each mistake, naming the variable or file and never the value. Written for the mutants that survived
// `npm run mutate`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPasswordSecret, readSecret } from '../../src/config/secrets.js';
import { userErrorOf } from '../helpers/user-error.js';

const WHAT = 'the bind password of integration corp';
const dir = mkdtempSync(join(tmpdir(), 'keyway-password-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Linux refuses to open this write-only file for reading, even for root (the tests run as root): EACCES. */
const WRITE_ONLY = '/proc/sys/vm/drop_caches';

function fileHolding(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('readPasswordSecret from an environment variable', () => {
  it('returns the value exactly as set, spaces and all', () => {
    expect(readPasswordSecret({ env: 'BIND_PASSWORD' }, { BIND_PASSWORD: ' s3cret pass \n' }, WHAT)).toBe(' s3cret pass \n');
    expect(readPasswordSecret({ env: 'BIND_PASSWORD' }, { BIND_PASSWORD: 'x' }, WHAT)).toBe('x');
  });

  it('calls an unset or empty variable not set, naming it and what belongs there', () => {
    for (const env of [{}, { BIND_PASSWORD: '' }, { OTHER: 'x' }]) {
      const error = userErrorOf(() => readPasswordSecret({ env: 'BIND_PASSWORD' }, env, WHAT));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe('environment variable BIND_PASSWORD is not set: put the bind password of integration corp there');
    }
  });
});

describe('readPasswordSecret from a file', () => {
  it('returns the content less one final newline (LF or CRLF), and nothing else trimmed', () => {
    expect(readPasswordSecret({ file: fileHolding('lf', 's3cret\n') }, {}, WHAT)).toBe('s3cret');
    expect(readPasswordSecret({ file: fileHolding('crlf', 's3cret\r\n') }, {}, WHAT)).toBe('s3cret');
    expect(readPasswordSecret({ file: fileHolding('none', ' s3cret ') }, {}, WHAT)).toBe(' s3cret ');
    expect(readPasswordSecret({ file: fileHolding('two', 's3cret\n\n') }, {}, WHAT)).toBe('s3cret\n');
    expect(readPasswordSecret({ file: fileHolding('inner', 'first\nsecond\n') }, {}, WHAT)).toBe('first\nsecond');
  });

  it('calls a file empty when it holds nothing but a newline', () => {
    for (const [name, content] of [['empty', ''], ['newline', '\n'], ['crlf-only', '\r\n']] as const) {
      const path = fileHolding(name, content);
      const error = userErrorOf(() => readPasswordSecret({ file: path }, {}, WHAT));
      expect(error.code).toBe('config_invalid');
      expect(error.message).toBe(`${path} is empty: put the bind password of integration corp there`);
    }
  });

  it('names the file, what it should hold and why it cannot be read', () => {
    const missing = join(dir, 'missing');
    const error = userErrorOf(() => readPasswordSecret({ file: missing }, {}, WHAT));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toBe(`cannot read the bind password of integration corp from ${missing}: no such file`);
    expect(userErrorOf(() => readPasswordSecret({ file: WRITE_ONLY }, {}, WHAT)).message).toBe(
      `cannot read the bind password of integration corp from ${WRITE_ONLY}: permission denied`,
    );
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    expect(userErrorOf(() => readPasswordSecret({ file: sub }, {}, WHAT)).message).toBe(
      `cannot read the bind password of integration corp from ${sub}: it is a directory`,
    );
  });
});

describe('readSecret from a file it may not read', () => {
  it('says permission denied', () => {
    expect(userErrorOf(() => readSecret({ file: WRITE_ONLY }, {})).message).toBe(`cannot read the connector key file ${WRITE_ONLY}: permission denied`);
  });
});
