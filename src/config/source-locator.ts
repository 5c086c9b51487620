// Maps a path inside parsed data (["flows", 2, "max_duration"]) back to a line and column in the file it came from.
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { ConfigProblem } from './config-error.js';

export type ConfigPath = ReadonlyArray<PropertyKey>;

/** `value` points at the value of the last key; `key` at the key itself (for unknown fields). */
export type PointAt = 'value' | 'key';

export interface SourceFile {
  readonly file: string;
  problemAt(path: ConfigPath, message: string, pointAt?: PointAt): ConfigProblem;
}

export interface ParsedYaml {
  source: SourceFile;
  data: unknown;
  /** Syntax errors and warnings; when there are any, `data` must not be trusted. */
  problems: ConfigProblem[];
}

export function parseYamlSource(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // prettyErrors off: its messages quote the offending line, which could be a pasted secret.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const problems = [...doc.errors, ...doc.warnings].map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { file, line, col, message: `YAML syntax: ${firstSentence(error.message)}` };
  });
  return { source: yamlSource(file, doc, lineCounter), data: problems.length > 0 ? undefined : doc.toJS(), problems };
}

/** A file we can only name, not point into (for example JSON that the YAML parser does not read cleanly). */
export function wholeFileSource(file: string): SourceFile {
  return { file, problemAt: (_path, message) => ({ file, line: 1, col: 1, message }) };
}

export function positionOfOffset(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, col: (lines.at(-1)?.length ?? 0) + 1 };
}

function yamlSource(file: string, doc: Document, lineCounter: LineCounter): SourceFile {
  return {
    file,
    problemAt(path, message, pointAt = 'value') {
      const offset = offsetOf(doc, path, pointAt);
      const { line, col } = offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(offset);
      return { file, line, col, message };
    },
  };
}

interface Ranged {
  range?: readonly number[] | null;
}

/** Walks the document along `path`; where a key is missing, stops at the map that should have held it. */
function offsetOf(doc: Document, path: ConfigPath, pointAt: PointAt): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment));
      if (pair === undefined) break;
      next = pointAt === 'key' && index === path.length - 1 ? pair.key : (pair.value ?? pair.key);
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined) break;
    node = next;
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Ranged | null | undefined)?.range;
  return range ? range[0] : undefined;
}

function firstSentence(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
