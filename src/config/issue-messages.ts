// Turns zod issues into sentences a person editing the YAML understands, and into located problems.
// Generic messages never quote the value: it might be a secret pasted in the wrong place.
import type { core } from 'zod';
import type { ConfigProblem } from './config-error.js';
import type { ConfigPath, SourceFile } from './source-locator.js';

type RawIssue = core.$ZodRawIssue;

export interface IssueDescriber {
  /** Passed to zod as the parse-level error map. */
  errorMap: (issue: RawIssue) => string | undefined;
  toProblems(issues: readonly core.$ZodIssue[], source: SourceFile, basePath?: ConfigPath): ConfigProblem[];
}

export function createIssueDescriber(): IssueDescriber {
  // zod reports unknown keys as one issue per object; we report each key at its own line, with a suggestion.
  const knownKeys = new Map<string, string[]>();

  return {
    errorMap(issue) {
      const path = issue.path ?? [];
      if (issue.code === 'unrecognized_keys') {
        const shape = (issue.inst as { shape?: Record<string, unknown> } | undefined)?.shape;
        knownKeys.set(pathKey(path), Object.keys(shape ?? {}));
        return 'unknown field';
      }
      return describe(issue, fieldName(path));
    },
    toProblems(issues, source, basePath = []) {
      return issues.flatMap((issue) => {
        const path = [...basePath, ...issue.path];
        if (issue.code !== 'unrecognized_keys') return [source.problemAt(path, issue.message)];
        const known = knownKeys.get(pathKey(issue.path)) ?? [];
        return issue.keys.map((key) => source.problemAt([...path, key], unknownFieldMessage(key, known), 'key'));
      });
    },
  };
}

function unknownFieldMessage(key: string, known: string[]): string {
  const suggestion = closest(key, known);
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : known.length > 0 ? ` (known fields: ${known.join(', ')})` : '';
  return `unknown field ${key}${hint}`;
}

function describe(issue: RawIssue, field: string): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `missing required field ${field}`;
      if (issue.input === null) return `${field} is empty: give ${expectedWords(issue.expected)}, or remove the line`;
      return `${field} must be ${expectedWords(issue.expected)}, not ${kindOf(issue.input)}`;
    case 'too_small':
      if (issue.origin === 'array') return `${field} must have at least ${String(issue.minimum)} ${issue.minimum === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'string') return issue.minimum === 1 ? `${field} must not be empty` : `${field} must be at least ${String(issue.minimum)} characters`;
      return `${field} must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array') return `${field} must have at most ${String(issue.maximum)} entries`;
      if (issue.origin === 'string') return `${field} must be at most ${String(issue.maximum)} characters`;
      return `${field} must be at most ${String(issue.maximum)}`;
    case 'invalid_value':
      return `${field} must be ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
    case 'invalid_format':
      return `${field} has the wrong format`;
    case 'invalid_key': {
      // A map key the rules refuse: zod keeps the key rule's own sentence (an empty tag name) in a nested issue. One
      // without a sentence of ours was described with an empty path, as about "the file": name the key instead.
      const nested = issue.issues[0]?.message;
      return nested !== undefined && !nested.startsWith('the file ') ? nested : `${field} is not a valid name`;
    }
    default:
      return `${field} is not valid`;
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  const last = path.at(-1);
  if (last === undefined) return 'the file';
  if (typeof last === 'number') {
    const parent = path.at(-2);
    return parent === undefined ? `entry ${last + 1}` : `entry ${last + 1} of ${String(parent)}`;
  }
  return String(last);
}

function expectedWords(expected: string): string {
  const words: Record<string, string> = {
    string: 'text',
    number: 'a number',
    int: 'a whole number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map (key: value)',
    record: 'a map (key: value)',
  };
  return words[expected] ?? expected;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number';
  if (typeof value === 'boolean') return 'true/false';
  if (typeof value === 'object' && value !== null) return 'a map';
  return typeof value;
}

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}
