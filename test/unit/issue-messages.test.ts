// How zod's issues become the sentences an admin reads, at the line and column of the YAML they are about
// (src/config/issue-messages.ts): each kind of issue, each way to name a field, unknown keys with suggestions.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ConfigProblem } from '../../src/config/config-error.js';
import { createIssueDescriber } from '../../src/config/issue-messages.js';
import { parseYamlSource } from '../../src/config/source-locator.js';

const FILE = 'access.yaml';

/** Parses `yaml` with `schema` as src/config/load.ts does; returns every problem. */
function problemsOf(schema: z.ZodType, yaml: string): ConfigProblem[] {
  const { source, data, problems } = parseYamlSource(yaml, FILE);
  expect(problems).toEqual([]);
  const describer = createIssueDescriber();
  const parsed = schema.safeParse(data, { error: describer.errorMap });
  if (parsed.success) throw new Error(`expected a problem, got ${JSON.stringify(parsed.data)}`);
  return describer.toProblems(parsed.error.issues, source);
}

/** The sentence for `value` given to one field `field` (JS values, no YAML: for inputs YAML cannot write). */
function messageFor(schema: z.ZodType, value: unknown): string {
  const describer = createIssueDescriber();
  const parsed = z.object({ field: schema }).safeParse({ field: value }, { error: describer.errorMap });
  if (parsed.success) throw new Error('expected a problem');
  expect(parsed.error.issues).toHaveLength(1);
  return parsed.error.issues[0]!.message;
}

const at = (line: number, col: number, message: string): ConfigProblem => ({ file: FILE, line, col, message });

describe('a value of the wrong type', () => {
  it('says a required field is missing, at the map that should hold it', () => {
    expect(problemsOf(z.object({ flows: z.object({ name: z.string() }) }), 'flows:\n  other: 1\n')).toEqual([
      at(2, 3, 'missing required field name'),
    ]);
  });

  it('says an empty value is empty, and what to give', () => {
    const schema = z.object({ a: z.string(), b: z.number(), c: z.int(), d: z.boolean(), e: z.array(z.string()), f: z.object({}), g: z.record(z.string(), z.string()) });
    expect(problemsOf(schema, 'a:\nb:\nc:\nd:\ne:\nf:\ng:\n').map((problem) => problem.message)).toEqual([
      'a is empty: give text, or remove the line',
      'b is empty: give a number, or remove the line',
      'c is empty: give a number, or remove the line',
      'd is empty: give true or false, or remove the line',
      'e is empty: give a list, or remove the line',
      'f is empty: give a map (key: value), or remove the line',
      'g is empty: give a map (key: value), or remove the line',
    ]);
  });

  it('names what was given instead', () => {
    expect(messageFor(z.string(), ['a'])).toBe('field must be text, not a list');
    expect(messageFor(z.boolean(), 'yes')).toBe('field must be true or false, not text');
    expect(messageFor(z.string(), 3)).toBe('field must be text, not a whole number');
    expect(messageFor(z.string(), 2.5)).toBe('field must be text, not a number');
    expect(messageFor(z.string(), true)).toBe('field must be text, not true/false');
    expect(messageFor(z.string(), { a: 1 })).toBe('field must be text, not a map');
    expect(messageFor(z.string(), 10n)).toBe('field must be text, not bigint');
    expect(messageFor(z.int(), 1.5)).toBe('field must be a whole number, not a number');
    // A type without words of its own is named as zod names it.
    expect(messageFor(z.bigint(), 'x')).toBe('field must be bigint, not text');
  });
});

describe('a value too small or too big', () => {
  it('counts entries of a list, characters of text, and numbers', () => {
    expect(messageFor(z.array(z.string()).min(1), [])).toBe('field must have at least 1 entry');
    expect(messageFor(z.array(z.string()).min(2), ['a'])).toBe('field must have at least 2 entries');
    expect(messageFor(z.string().min(1), '')).toBe('field must not be empty');
    expect(messageFor(z.string().min(3), 'ab')).toBe('field must be at least 3 characters');
    expect(messageFor(z.number().min(5), 4)).toBe('field must be at least 5');
    expect(messageFor(z.array(z.string()).max(1), ['a', 'b'])).toBe('field must have at most 1 entries');
    expect(messageFor(z.string().max(2), 'abc')).toBe('field must be at most 2 characters');
    expect(messageFor(z.number().max(5), 6)).toBe('field must be at most 5');
  });
});

describe('other issues', () => {
  it('lists the allowed values, says a format is wrong, and calls anything else not valid', () => {
    expect(messageFor(z.enum(['ssh', 'rdp']), 'winrm')).toBe('field must be "ssh" or "rdp"');
    expect(messageFor(z.string().regex(/^a/), 'b')).toBe('field has the wrong format');
    expect(messageFor(z.number().multipleOf(5), 7)).toBe('field is not valid');
  });
});

describe('a map key the rules refuse', () => {
  it("says the key rule's own sentence (an empty tag name), not that a nameless field is not valid", () => {
    const tags = z.record(z.string().min(1, 'tag names must not be empty'), z.string());
    expect(messageFor(tags, { '': 'prod' })).toBe('tag names must not be empty');
    expect(messageFor(z.record(z.string().regex(/^a/), z.string()), { b: 'x' })).toBe('b is not a valid name');
  });
});

describe('naming the field', () => {
  it('numbers list entries from 1, with the list they are in', () => {
    const schema = z.object({ servers: z.array(z.string()) });
    expect(problemsOf(schema, 'servers:\n  - web-1\n  - 7\n')).toEqual([at(3, 5, 'entry 2 of servers must be text, not a whole number')]);
    expect(problemsOf(z.array(z.string()), '- a\n- 7\n')).toEqual([at(2, 3, 'entry 2 must be text, not a whole number')]);
  });

  it('calls the top level "the file"', () => {
    expect(problemsOf(z.object({ a: z.string() }), '- a\n')).toEqual([at(1, 1, 'the file must be a map (key: value), not a list')]);
  });

  it('puts a problem of a part at its place in the whole file', () => {
    const { source, data } = parseYamlSource('integrations:\n  - name: prod\n    port: x\n', FILE);
    const part = (data as { integrations: unknown[] }).integrations[0];
    const describer = createIssueDescriber();
    const parsed = z.object({ port: z.number() }).safeParse(part, { error: describer.errorMap });
    expect(parsed.success).toBe(false);
    expect(describer.toProblems(parsed.error!.issues, source, ['integrations', 0])).toEqual([at(3, 11, 'port must be a number, not text')]);
  });
});

describe('unknown fields', () => {
  const flow = z.strictObject({ name: z.string().optional(), max_duration: z.string().optional(), requesters: z.string().optional() });

  it('reports each unknown key at the key, suggesting the closest known field', () => {
    expect(problemsOf(flow, 'name: a\nmax_duraton: 1h\nRequesters: x\n')).toEqual([
      at(2, 1, 'unknown field max_duraton (did you mean max_duration?)'),
      at(3, 1, 'unknown field Requesters (did you mean requesters?)'),
    ]);
  });

  it('lists the known fields when none is close', () => {
    expect(problemsOf(flow, 'colour: red\n')).toEqual([at(1, 1, 'unknown field colour (known fields: name, max_duration, requesters)')]);
  });

  it('says only "unknown field" of a map that takes none', () => {
    expect(problemsOf(z.strictObject({}), 'x: 1\n')).toEqual([at(1, 1, 'unknown field x')]);
  });

  it('suggests within two edits, or a quarter of a long name', () => {
    const long = z.strictObject({ allow_port_forwarding: z.boolean().optional(), user: z.string().optional() });
    // 3 edits from a 21-character name: a quarter of it is 5.
    expect(problemsOf(long, 'alow_prt_forwardin: true\n')).toEqual([at(1, 1, 'unknown field alow_prt_forwardin (did you mean allow_port_forwarding?)')]);
    // 3 edits from "user" is too far; 2 is close enough.
    expect(problemsOf(long, 'usrnm: a\n')[0]!.message).toBe('unknown field usrnm (known fields: allow_port_forwarding, user)');
    expect(problemsOf(long, 'usr1: a\n')[0]!.message).toBe('unknown field usr1 (did you mean user?)');
  });

  it('suggests the closest of several, the first listed on a tie', () => {
    const schema = z.strictObject({ ab: z.string().optional(), ac: z.string().optional(), abcd: z.string().optional() });
    expect(problemsOf(schema, 'abc: x\n')[0]!.message).toBe('unknown field abc (did you mean ab?)');
    expect(problemsOf(schema, 'abce: x\n')[0]!.message).toBe('unknown field abce (did you mean abcd?)');
    expect(problemsOf(schema, 'ax: x\n')[0]!.message).toBe('unknown field ax (did you mean ab?)');
  });

  it('keeps the known fields of each map apart', () => {
    const schema = z.object({ a: z.strictObject({ colour: z.string().optional() }), b: z.strictObject({ size: z.string().optional() }) });
    expect(problemsOf(schema, 'a:\n  color: red\nb:\n  sise: 1\n')).toEqual([
      at(2, 3, 'unknown field color (did you mean colour?)'),
      at(4, 3, 'unknown field sise (did you mean size?)'),
    ]);
  });
});
