// Reads config/access.yaml into a validated AccessConfig, or throws one ConfigError listing every problem.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { AccessConfig, Integration, SecretRef } from '../core/model.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { crossCheckConfig, type ServerOrigin } from './cross-checks.js';
import { createIssueDescriber } from './issue-messages.js';
import { accessFileSchema, type ParsedIntegration } from './schema.js';
import { readServersFile, type ServersFileResult } from './servers-file.js';
import { parseYamlSource, type SourceFile } from './source-locator.js';

export type ReadTextFile = (path: string) => string;

const readTextFile: ReadTextFile = (path) => readFileSync(path, 'utf8');

export function loadAccessConfig(path: string, readFile: ReadTextFile = readTextFile): AccessConfig {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    const message =
      code === 'ENOENT'
        ? `no such file: copy config/access.example.yaml to ${path} and edit it, or set KEYWAY_CONFIG to your configuration file`
        : `cannot read the configuration file: ${error instanceof Error ? error.message : String(error)}`;
    throw new ConfigError([{ file: path, line: 1, col: 1, message }]);
  }
  return parseAccessConfig(text, path, readFile);
}

/** `file` names the YAML in messages and anchors relative paths (servers_file, secret.file). */
export function parseAccessConfig(text: string, file: string, readFile: ReadTextFile = readTextFile): AccessConfig {
  const { source, data, problems: syntaxProblems } = parseYamlSource(text, file);
  if (syntaxProblems.length > 0) throw new ConfigError(syntaxProblems);
  if (data === null || data === undefined) {
    throw new ConfigError([{ file, line: 1, col: 1, message: 'the file is empty: start from config/access.example.yaml' }]);
  }

  const describer = createIssueDescriber();
  const parsed = accessFileSchema.safeParse(data, { error: describer.errorMap });
  const problems: ConfigProblem[] = parsed.success ? [] : describer.toProblems(parsed.error.issues, source);

  // Read servers files even when the YAML has problems, so one run reports everything.
  const serversFiles = rawIntegrations(data).map((raw, i) => {
    const serversFile = raw?.['servers_file'];
    if (typeof serversFile !== 'string' || serversFile === '' || raw?.['servers'] !== undefined) return undefined;
    const path = relativeTo(file, serversFile);
    const reference = () => source.problemAt(['integrations', i, 'servers_file'], `servers_file: cannot read ${path}`);
    return readServersFile(path, readFile, describer, reference);
  });
  problems.push(...serversFiles.flatMap((result) => result?.problems ?? []));
  if (!parsed.success || problems.length > 0) throw new ConfigError(sortProblems(problems, file));

  const serverOrigins: ServerOrigin[][] = [];
  const integrations = parsed.data.integrations.map((integration, i) => {
    const fromFile = serversFiles[i];
    serverOrigins.push(originsOf(integration, i, source, fromFile));
    return finishIntegration(integration, fromFile, file);
  });
  const oncall = parsed.data.oncall;
  const config: AccessConfig = {
    integrations, people: parsed.data.people, flows: parsed.data.flows, maxPendingRequests: parsed.data.max_pending_requests,
    ...(oncall && { oncall: { ...oncall, providers: Object.fromEntries(Object.entries(oncall.providers).map(([name, p]) => [name, { ...p, secret: resolveSecret(p.secret, file) }])) } }),
  };
  const crossProblems = crossCheckConfig({ config, yaml: source, serverOrigins });
  if (crossProblems.length > 0) throw new ConfigError(sortProblems(crossProblems, file));
  return config;
}

function finishIntegration(parsed: ParsedIntegration, fromFile: ServersFileResult | undefined, file: string): Integration {
  const secret = parsed.secret !== undefined ? { secret: resolveSecret(parsed.secret, file) } : {};
  if (parsed.type === 'rdp' || parsed.type === 'windows-dc') {
    // Like secret files, a relative CA file is relative to the YAML file.
    const tlsCaFile = parsed.tlsCaFile !== undefined ? { tlsCaFile: relativeTo(file, parsed.tlsCaFile) } : {};
    return { ...parsed, ...secret, ...tlsCaFile };
  }
  if (parsed.type !== 'ssh') return { ...parsed, ...secret };
  const { servers, serversFile: _serversFile, ...rest } = parsed;
  return { ...rest, servers: servers ?? fromFile?.servers ?? [], ...secret };
}

// A relative secret file is relative to the YAML file, like servers_file, not to wherever Keyway was started.
function resolveSecret(secret: SecretRef, file: string): SecretRef {
  return 'file' in secret ? { file: resolve(dirname(file), secret.file) } : secret;
}

function originsOf(parsed: ParsedIntegration, i: number, yaml: SourceFile, fromFile: ServersFileResult | undefined): ServerOrigin[] {
  if (parsed.type === 'aws-ec2' || parsed.type === 'azure-vm') return []; // a cloud inventory's servers are named by the refresh, not written here
  // A windows-dc integration's resources are its groups: one per entry of `groups`.
  if (parsed.type === 'windows-dc') return parsed.groups.map((_, j) => ({ source: yaml, path: ['integrations', i, 'groups', j] }));
  if (parsed.servers !== undefined) return parsed.servers.map((_, j) => ({ source: yaml, path: ['integrations', i, 'servers', j] }));
  return (fromFile?.servers ?? []).map((_, j) => ({ source: fromFile!.source, path: [j] }));
}

function rawIntegrations(data: unknown): Array<Record<string, unknown> | undefined> {
  const integrations = (data as { integrations?: unknown } | null)?.integrations;
  if (!Array.isArray(integrations)) return [];
  return integrations.map((item: unknown) => (typeof item === 'object' && item !== null && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined));
}

function relativeTo(file: string, path: string): string {
  return isAbsolute(path) ? path : join(dirname(file), path);
}

/** The YAML file first, then servers files; each in line order. */
function sortProblems(problems: ConfigProblem[], mainFile: string): ConfigProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = JSON.stringify(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => Number(a.file !== mainFile) - Number(b.file !== mainFile) || a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
}
