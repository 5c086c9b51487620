// Reads an integration's servers_file: the JSON inventory array, validated like inline servers,
// with problems located inside the JSON file.
import type { Server } from '../core/model.js';
import type { ConfigProblem } from './config-error.js';
import type { IssueDescriber } from './issue-messages.js';
import { serverListSchema } from './schema.js';
import { parseYamlSource, positionOfOffset, wholeFileSource, type SourceFile } from './source-locator.js';

export interface ServersFileResult {
  servers?: Server[];
  /** Where the servers came from, for cross-checks that point at a server. */
  source: SourceFile;
  problems: ConfigProblem[];
}

export function readServersFile(
  path: string,
  readFile: (path: string) => string,
  describer: IssueDescriber,
  reference: () => ConfigProblem,
): ServersFileResult {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const problem = reference();
    return { source: wholeFileSource(path), problems: [{ ...problem, message: `${problem.message}: ${readFailure(error)}` }] };
  }

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const offset = /at position (\d+)/.exec(detail)?.[1];
    const { line, col } = positionOfOffset(text, offset === undefined ? text.length : Number(offset));
    const reason = detail.replace(/ in JSON at position \d+.*$/s, '').replace(/ \(line \d+ column \d+\)$/, '');
    return { source: wholeFileSource(path), problems: [{ file: path, line, col, message: `not valid JSON: ${reason}` }] };
  }

  // JSON is YAML, so the YAML parser can tell us where each value is; if it cannot (tabs, say), name the file only.
  const located = parseYamlSource(text, path);
  const source = located.problems.length === 0 ? located.source : wholeFileSource(path);
  const result = serverListSchema.safeParse(data, { error: describer.errorMap });
  if (!result.success) return { source, problems: describer.toProblems(result.error.issues, source) };
  return { servers: result.data, source, problems: [] };
}

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return error instanceof Error ? error.message : String(error);
}
