import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (design.md, "Shape of the code"): dependencies point inward. chat and targets depend on access and core,
// never the reverse; core has no I/O; only store speaks SQL (test/unit/layering.test.ts checks that part).
// no-restricted-imports sees the import as written, so each rule is spelled per folder depth: from
// src/access/x.ts the src folder is one `../` up, from src/chat/slack/x.ts two.
const DEPTHS = [1, 2, 3];
const up = (depth) => `^(?:\\.\\./){${depth}}`;
const filesAt = (folder, depth) => [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`];

// Node modules and packages that do I/O (files, network, processes, clocks): none of them in core.
const IO_MODULES = ['fs', 'fs/promises', 'net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns', 'dns/promises',
  'child_process', 'cluster', 'worker_threads', 'os', 'readline', 'timers', 'timers/promises'];
const IO_PACKAGES = ['better-sqlite3', 'ssh2', '@slack/bolt', 'botbuilder', 'node-cron', 'pino'];
const coreIoPaths = [...IO_MODULES.flatMap((m) => [m, `node:${m}`]), ...IO_PACKAGES]
  .map((name) => ({ name, message: 'src/core has no I/O: do it in store/, access/ or a driver and pass the result (or the time) in.' }));

/** Files in src/<folder> may import from src/ only the folders (or top-level files) listed. */
function onlyFrom(folder, allowed, message, paths = []) {
  const allowedAlternatives = allowed.map((a) => (a.endsWith('.js') ? `${a.replaceAll('.', '\\.')}$` : `${a}/`)).join('|');
  return DEPTHS.map((depth) => ({
    files: filesAt(folder, depth),
    rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ regex: `${up(depth)}(?!${allowedAlternatives})`, message }] }] },
  }));
}

/** Files in src/<folder> may not import the folders (or packages) listed. */
function notFrom(folder, forbidden, message, packages = []) {
  const paths = packages.map((name) => ({ name, message }));
  return DEPTHS.map((depth) => ({
    files: filesAt(folder, depth),
    rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ regex: `${up(depth)}(?:${forbidden.join('|')})(?:/|$)`, message }] }] },
  }));
}

const layering = [
  ...DEPTHS.map((depth) => ({
    files: filesAt('core', depth),
    rules: { 'no-restricted-imports': ['error', { paths: coreIoPaths, patterns: [{ regex: up(depth), message: 'src/core is the pure domain: it imports nothing from other src folders.' }] }] },
  })),
  // package-root.ts is a leaf (node builtins only) that finds migrations/.
  ...onlyFrom('store', ['core', 'package-root.js'], 'src/store imports only core: it serves access and the adapters, never calls them.'),
  ...onlyFrom('config', ['core'], 'src/config imports only core: the validators it shares with the drivers live in core.'),
  ...notFrom('access', ['chat', 'hosts', 'targets', 'cli'], 'src/access is kind- and platform-agnostic: define a port in access/ (like chat-port.ts) and implement it in chat/ or targets/.'),
  // store too: what chat needs from the database (who is who, where to reach them, an audit entry, the record
  // types a view shows) it gets from access/ (chat-identities.ts, chat-port.ts), so chat holds no SQL and no decision.
  ...notFrom('chat', ['hosts', 'targets', 'cli', 'store'], 'src/chat renders and transports only: reach targets and the database through access/ (e.g. access/chat-identities.ts, the types in access/chat-port.ts).',
    ['better-sqlite3', 'ssh2']),
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', 'reports/', '.stryker-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  ...layering,
  {
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-properties': ['error',
      { object: 'it', property: 'only', message: 'no focused tests' },
      { object: 'describe', property: 'only', message: 'no focused tests' },
      { object: 'test', property: 'only', message: 'no focused tests' }] },
  },
);
