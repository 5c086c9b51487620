// The shape of a CLI command: a name of one or two words, its arguments and options (each with a line of help),
// and a run function. main.ts turns the list into a commander program.

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's name in help (`--for DURATION`); VALUE when omitted. */
  value?: string;
  description: string;
}

export type Options = Record<string, OptionSpec>;

export interface ArgumentSpec {
  /** commander syntax: `<id>` required, `[file]` optional, `<servers...>` one or more, `[reason...]` any. */
  name: string;
  description: string;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  args?: ArgumentSpec[];
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
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

export function positiveId(text: string | undefined, what = 'request id'): number {
  if (text === undefined) throw new UsageError(`give a ${what}`);
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new UsageError(`"${text}" is not a ${what}: use a number like 42`);
  return Number(text);
}

export const JSON_OPTION: Options = { json: { type: 'boolean', short: 'j', description: 'print the result as JSON' } };

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

