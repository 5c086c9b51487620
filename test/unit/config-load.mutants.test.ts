// Loading the access file end to end (src/config/load.ts, source-locator.ts) where config.test.ts leaves edges open:
// read failures, where a problem points when its key is missing, aliases, the order of problems across files,
// servers_file with inline servers, and the on-call section. Written for the mutants that survived `npm run mutate`.
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, type ConfigProblem } from '../../src/config/config-error.js';
import { loadAccessConfig, parseAccessConfig } from '../../src/config/load.js';
import { parseYamlSource, positionOfOffset, wholeFileSource } from '../../src/config/source-locator.js';
import { configProblems, yaml } from '../helpers/config-problems.js';

const FILE = '/etc/keyway/access.yaml';
const PROD = ['integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    owners: [ops@example.com]'];

const problemsOf = (text: string, readFile?: (path: string) => string): ConfigProblem[] => configProblems(text, FILE, readFile);

const at = (line: number, col: number, message: string, file = FILE): ConfigProblem => ({ file, line, col, message });

describe('loadAccessConfig: a file that cannot be read', () => {
  it('gives the reason of any other failure, also of a non-Error', () => {
    const eacces = () => {
      throw Object.assign(new Error('EACCES: permission denied, open'), { code: 'EACCES' });
    };
    expect(() => loadAccessConfig(FILE, eacces)).toThrow(new ConfigError([at(1, 1, 'cannot read the configuration file: EACCES: permission denied, open')]));
    const odd = () => {
      throw 'odd failure';
    };
    expect(() => loadAccessConfig(FILE, odd)).toThrow(new ConfigError([at(1, 1, 'cannot read the configuration file: odd failure')]));
  });

  it('passes the path it was given to readFile, and parses what it returns', () => {
    const read: string[] = [];
    const config = loadAccessConfig(FILE, (path) => {
      read.push(path);
      return yaml(...PROD);
    });
    expect(read).toEqual([FILE]);
    expect(config.integrations.map((integration) => integration.name)).toEqual(['prod']);
  });
});

describe('parseAccessConfig: what the config holds', () => {
  it('keeps people, flows, max_pending_requests and an on-call section with secrets resolved against the file', () => {
    const config = parseAccessConfig(yaml(
      ...PROD,
      'people: [{ email: ana@example.com, linux_user: ana }]',
      'max_pending_requests: 3',
      'oncall:',
      '  pagerduty: { secret: { file: keys/pd }, api_url: "https://api.eu.pagerduty.com" }',
      '  opsgenie: { secret: { env: OPSGENIE_KEY } }',
      '  cache: 2m',
    ), FILE);
    expect(config.people).toEqual([{ email: 'ana@example.com', linuxUser: 'ana' }]);
    expect(config.maxPendingRequests).toBe(3);
    expect(config.flows).toEqual([]);
    expect(config.oncall).toEqual({
      providers: { pagerduty: { secret: { file: '/etc/keyway/keys/pd' }, apiUrl: 'https://api.eu.pagerduty.com' }, opsgenie: { secret: { env: 'OPSGENIE_KEY' } } },
      cacheSeconds: 120,
      timeoutSeconds: expect.any(Number),
    });
    expect(parseAccessConfig(yaml(...PROD), FILE).oncall).toBeUndefined();
    expect('oncall' in parseAccessConfig(yaml(...PROD), FILE)).toBe(false);
  });

  it('reads an absolute servers_file as given, and keeps no servers_file field in the result', () => {
    const read: string[] = [];
    const config = parseAccessConfig(yaml('integrations:', '  - name: prod', '    servers_file: /srv/inventory.json', '    owners: [ops@example.com]'), FILE, (path) => {
      read.push(path);
      return '[{"name": "web-1", "host": "10.0.0.1"}]';
    });
    expect(read).toEqual(['/srv/inventory.json']);
    expect(config.integrations[0]!.servers.map((server) => server.name)).toEqual(['web-1']);
    expect(Object.keys(config.integrations[0]!)).not.toContain('serversFile');
  });

  it('does not read servers_file when servers are also given, or when it is empty or not text', () => {
    const reads: string[] = [];
    const readFile = (path: string) => {
      reads.push(path);
      return '[]';
    };
    problemsOf(yaml('integrations:', '  - name: prod', '    servers: [{ name: web-1, host: 10.0.0.1 }]', '    servers_file: inv.json', '    owners: [ops@example.com]'), readFile);
    problemsOf(yaml('integrations:', '  - name: prod', '    servers_file: ""', '    owners: [ops@example.com]'), readFile);
    problemsOf(yaml('integrations:', '  - name: prod', '    servers_file: [a]', '    owners: [ops@example.com]'), readFile);
    problemsOf(yaml('integrations:', '  - prod'), readFile);
    problemsOf(yaml('integrations: prod'), readFile);
    expect(reads).toEqual([]);
  });

  it('reports problems of the YAML first, then of each servers file, each in line order, without repeats', () => {
    const files: Record<string, string> = {
      '/etc/keyway/a.json': '[{"name": "web-1", "host": "bad host"}]',
      '/etc/keyway/b.json': '[\n{"name": "web-2", "host": "10.0.0.2", "port": 0},\n{"name": "web-3", "host": "bad host"}]',
    };
    const problems = problemsOf(yaml(
      'integrations:',
      '  - name: b',
      '    servers_file: b.json',
      '    owners: [ops@example.com]',
      '  - name: a',
      '    servers_file: a.json',
      '    owners: [ops@example.com]',
      '    cleanup_after_days: -1',
      'max_pending_requests: 0',
    ), (path) => files[path]!);
    expect(problems.map(formatProblem)).toEqual([
      '/etc/keyway/access.yaml:8:25: cleanup_after_days must not be negative',
      '/etc/keyway/access.yaml:9:23: max_pending_requests must be at least 1',
      '/etc/keyway/a.json:1:28: host "bad host" is not a hostname or IP address (no spaces, ports, users or shell characters)',
      '/etc/keyway/b.json:2:47: port must be a whole number from 1 to 65535',
      '/etc/keyway/b.json:3:27: host "bad host" is not a hostname or IP address (no spaces, ports, users or shell characters)',
    ]);
  });

  it('sorts problems on the same line by column', () => {
    const problems = problemsOf(yaml('integrations:', '  - name: prod', '    servers: [{ name: "", host: "bad host" }]', '    owners: [ops@example.com]'));
    expect(problems.map((problem) => problem.col)).toEqual([23, 33]);
  });

  it('reports the same servers file problem once when two integrations read the same file', () => {
    const problems = problemsOf(yaml(
      'integrations:',
      '  - name: a',
      '    servers_file: inv.json',
      '    owners: [ops@example.com]',
      '  - name: b',
      '    servers_file: inv.json',
      '    owners: [ops@example.com]',
    ), () => '[{"name": "web-1", "host": "bad host"}]');
    expect(problems).toHaveLength(1);
  });
});

describe('source-locator', () => {
  it('points at the map that should hold a missing key, and at the key itself for an unknown one', () => {
    const { source } = parseYamlSource(yaml('flows:', '  - name: debug', '    colour: red'), 'f.yaml');
    expect(source.problemAt(['flows', 0, 'requesters'], 'm')).toEqual({ file: 'f.yaml', line: 2, col: 5, message: 'm' });
    expect(source.problemAt(['flows', 0, 'colour'], 'm')).toEqual({ file: 'f.yaml', line: 3, col: 13, message: 'm' });
    expect(source.problemAt(['flows', 0, 'colour'], 'm', 'key')).toEqual({ file: 'f.yaml', line: 3, col: 5, message: 'm' });
    expect(source.problemAt(['flows', 5, 'name'], 'm')).toEqual({ file: 'f.yaml', line: 2, col: 3, message: 'm' });
    expect(source.problemAt(['nothing', 'here'], 'm')).toEqual({ file: 'f.yaml', line: 1, col: 1, message: 'm' });
    expect(source.problemAt([], 'm')).toEqual({ file: 'f.yaml', line: 1, col: 1, message: 'm' });
  });

  it('points at the key only for the last step of the path, and just after a key with no value', () => {
    const { source } = parseYamlSource(yaml('a:', '  b:', '    c: 1', 'd:'), 'f.yaml');
    expect(source.problemAt(['a', 'b'], 'm', 'key')).toEqual({ file: 'f.yaml', line: 2, col: 3, message: 'm' });
    expect(source.problemAt(['a', 'b', 'c'], 'm', 'key')).toEqual({ file: 'f.yaml', line: 3, col: 5, message: 'm' });
    expect(source.problemAt(['d'], 'm')).toEqual({ file: 'f.yaml', line: 4, col: 3, message: 'm' });
  });

  it('follows aliases and merge keys to where the value is written', () => {
    const text = yaml('base: &base', '  port: x', 'servers:', '  - *base', '  - { <<: *base, host: h }');
    const { source, data } = parseYamlSource(text, 'f.yaml');
    expect(data).toEqual({ base: { port: 'x' }, servers: [{ port: 'x' }, { port: 'x', host: 'h' }] });
    expect(source.problemAt(['servers', 0, 'port'], 'm')).toEqual({ file: 'f.yaml', line: 2, col: 9, message: 'm' });
  });

  it('matches numeric keys as text', () => {
    const { source } = parseYamlSource(yaml('codes:', '  404: missing'), 'f.yaml');
    expect(source.problemAt(['codes', '404'], 'm')).toEqual({ file: 'f.yaml', line: 2, col: 8, message: 'm' });
  });

  it('gives syntax problems their place and first sentence only, and no data', () => {
    const parsed = parseYamlSource(yaml('a: [1, 2', 'b: 1'), 'f.yaml');
    expect(parsed.data).toBeUndefined();
    expect(parsed.problems.length).toBeGreaterThan(0);
    for (const problem of parsed.problems) {
      expect(problem.file).toBe('f.yaml');
      expect(problem.message).toMatch(/^YAML syntax: [^\n]*[^:]$/);
      expect(problem.message).not.toMatch(/at line \d+, column \d+/);
    }
  });

  it('turns an offset into a line and column, clamped to the text', () => {
    expect(positionOfOffset('ab\ncd', 0)).toEqual({ line: 1, col: 1 });
    expect(positionOfOffset('ab\ncd', 3)).toEqual({ line: 2, col: 1 });
    expect(positionOfOffset('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
    expect(positionOfOffset('ab\ncd', 99)).toEqual({ line: 2, col: 3 });
    expect(positionOfOffset('ab\ncd', -5)).toEqual({ line: 1, col: 1 });
  });

  it('a whole-file source names only the file', () => {
    expect(wholeFileSource('x.json').problemAt([3, 'host'], 'm', 'key')).toEqual({ file: 'x.json', line: 1, col: 1, message: 'm' });
    expect(wholeFileSource('x.json').file).toBe('x.json');
  });
});
