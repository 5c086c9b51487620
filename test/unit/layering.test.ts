// Dependencies point inward and only store speaks SQL (design.md, "Shape of the code"). The first part runs the
// project's own ESLint configuration (what `npm run lint` runs) on import lines placed in each layer; the second
// reads every source file outside src/store/ for SQL.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('the layering lint rule', () => {
  let eslint: ESLint;
  beforeAll(() => {
    eslint = new ESLint({ cwd: root });
  });

  async function restrictedImports(file: string, source: string): Promise<string[]> {
    const text = `import { thing } from '${source}';\nexport const used = thing;\n`;
    const [result] = await eslint.lintText(text, { filePath: join(root, file) });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it('fails lint on an import from src/chat to src/store, naming where to go instead', async () => {
    const messages = await restrictedImports('src/chat/teams/layering-fixture.ts', '../../store/chat-addresses.js');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/src\/chat renders and transports only: reach targets and the database through access\//);
  });

  it('fails lint on an import from src/access to src/chat', async () => {
    const messages = await restrictedImports('src/access/layering-fixture.ts', '../chat/slack/slack-platform.js');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/src\/access is kind- and platform-agnostic/);
  });

  it.each([
    ['src/access/layering-fixture.ts', '../chat/port.js'],
    ['src/access/layering-fixture.ts', '../cli/runtime.js'],
    ['src/access/layering-fixture.ts', '../targets/ssh/provision.js'],
    ['src/access/layering-fixture.ts', '../hosts/provision.js'],
    ['src/core/layering-fixture.ts', '../store/outbox.js'],
    ['src/core/layering-fixture.ts', '../settings.js'],
    ['src/core/layering-fixture.ts', 'node:fs'],
    ['src/core/layering-fixture.ts', 'child_process'],
    ['src/core/layering-fixture.ts', 'better-sqlite3'],
    ['src/core/layering-fixture.ts', 'ssh2'],
    ['src/store/layering-fixture.ts', '../access/engine.js'],
    ['src/store/layering-fixture.ts', '../chat/port.js'],
    ['src/config/layering-fixture.ts', '../ca/user-key.js'],
    ['src/config/layering-fixture.ts', '../store/grants.js'],
    ['src/chat/slack/layering-fixture.ts', '../../targets/ssh/provision.js'],
    ['src/chat/teams/layering-fixture.ts', '../../hosts/provision.js'],
    ['src/chat/layering-fixture.ts', '../cli/runtime.js'],
    ['src/chat/slack/layering-fixture.ts', '../../store/audit-log.js'],
    ['src/chat/teams/layering-fixture.ts', '../../store/chat-addresses.js'],
    ['src/chat/layering-fixture.ts', '../store/requests.js'],
    ['src/chat/slack/layering-fixture.ts', 'better-sqlite3'],
    ['src/chat/teams/layering-fixture.ts', 'ssh2'],
  ])('refuses %s importing %s', async (file, source) => {
    expect(await restrictedImports(file, source)).toHaveLength(1);
  });

  it.each([
    ['src/access/layering-fixture.ts', './chat-port.js'],
    ['src/access/layering-fixture.ts', '../store/outbox.js'],
    ['src/core/layering-fixture.ts', './events.js'],
    ['src/core/layering-fixture.ts', 'node:crypto'],
    ['src/store/layering-fixture.ts', '../core/events.js'],
    ['src/store/layering-fixture.ts', 'better-sqlite3'],
    ['src/config/layering-fixture.ts', '../core/model.js'],
    ['src/chat/slack/layering-fixture.ts', '../../access/chat-port.js'],
    ['src/chat/slack/layering-fixture.ts', '../command-grammar.js'],
    ['src/chat/teams/layering-fixture.ts', '../../access/chat-identities.js'],
  ])('lets %s import %s', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});

const SQL = [/\bprepare\(/, /\bSELECT\b[\s\S]{0,300}?\bFROM\b/, /\bINSERT\s+INTO\b/, /\bUPDATE\b[\s\S]{0,300}?\bSET\b/, /\bDELETE\s+FROM\b/, /\bCREATE\s+TABLE\b/];

function sqlIn(text: string): string[] {
  return SQL.flatMap((pattern) => {
    const match = pattern.exec(text);
    if (!match) return [];
    const line = text.slice(0, match.index).split('\n').length;
    return [`line ${line}: ${match[0].split('\n')[0]}`];
  });
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name).split('\\').join('/'));
}

describe('SQL only in src/store', () => {
  it('finds the SQL the store holds (the scan is not blind)', () => {
    expect(sqlIn(readFileSync(join(root, 'src/store/outbox.ts'), 'utf8'))).not.toEqual([]);
  });

  it('finds no SQL in any file under src/ outside src/store/', () => {
    const found = sourceFiles('src')
      .filter((file) => !file.startsWith('src/store/'))
      .flatMap((file) => sqlIn(readFileSync(join(root, file), 'utf8')).map((hit) => `${file} ${hit}`));
    expect(found).toEqual([]);
  });
});
