// The shape of a CLI command: a name of one or two words, its options (node:util parseArgs), and a run function.
import type { ParseArgsConfig } from 'node:util';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options?: Options;
  /** Returns the exit code (0 when omitted). */
  run(args: ParsedArgs, io: CliIO): Promise<number | void> | number | void;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function positiveId(text: string | undefined, what = 'request id'): number {
  if (text === undefined) throw new UsageError(`give a ${what}`);
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new UsageError(`"${text}" is not a ${what}: use a number like 42`);
  return Number(text);
}

export const JSON_OPTION: Options = { json: { type: 'boolean', short: 'j' } };

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
