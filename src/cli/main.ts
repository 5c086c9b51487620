// keyway: a commander program built from the command list: finds the command, parses its arguments and options,
// runs it, and turns errors into exit codes (0 success, 1 a user error with a one-line reason, 2 bad usage).
// The program is built afresh for each call, so tests run it in-process with their own output and environment.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command as Program, CommanderError, Option } from 'commander';
import { isUserError } from '../core/errors.js';
import { packageRoot } from '../package-root.js';
import { UsageError, type CliIO, type Command, type ParsedArgs } from './command.js';
import { COMMANDS } from './commands.js';

const GROUP_SUMMARIES: Record<string, string> = {
  config: 'check the access-flow file',
  ca: "the SSH certificate authority: create its key, print it, sign by hand",
  keys: "people's SSH public keys: add, list, remove",
  requests: 'access requests',
  grants: 'grants: the access an approved request gives on each server',
  hosts: 'prepare servers for Keyway, check them, re-pin a host key',
  inventory: 'the servers of every integration; refresh the cloud inventories (EC2, Azure)',
  audit: 'the audit log: show it, verify its hash chain',
  oncall: 'on-call schedules the flows name: who is on call now',
};

const FOOTER = [
  '',
  'Exit codes: 0 success, 1 a user error (one line says why), 2 bad usage.',
  'Environment: KEYWAY_CONFIG (default config/access.yaml), KEYWAY_DATA_DIR (default ./data); see .env.example.',
  'A .env file in the working directory is read; variables already in the environment win over it.',
].join('\n');

export function keywayVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The environment a command sees: --config and --data-dir override KEYWAY_CONFIG and KEYWAY_DATA_DIR. */
function envWithGlobals(env: NodeJS.ProcessEnv, globals: { config?: string; dataDir?: string }): NodeJS.ProcessEnv {
  return {
    ...env,
    ...(globals.config !== undefined ? { KEYWAY_CONFIG: globals.config } : {}),
    ...(globals.dataDir !== undefined ? { KEYWAY_DATA_DIR: globals.dataDir } : {}),
  };
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function addCommand(parent: Program, command: Command, name: string, io: CliIO, done: (code: number) => void, isDefault = false): Program {
  const sub = parent.command(name, { isDefault }).description(command.summary);
  sub.usage(command.usage.slice(`keyway ${command.name}`.length).trim() || '[options]');
  for (const arg of command.args ?? []) sub.argument(arg.name, arg.description);
  for (const [long, spec] of Object.entries(command.options ?? {})) {
    const flags = `${spec.short ? `-${spec.short}, ` : ''}--${long}${spec.type === 'string' ? ` <${spec.value ?? 'value'}>` : ''}`;
    const option = new Option(flags, spec.description + (spec.multiple ? ' (repeatable)' : ''));
    if (spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    sub.addOption(option);
  }
  sub.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Program;
    const opts = self.opts();
    const values: ParsedArgs['values'] = {};
    for (const long of Object.keys(command.options ?? {})) values[long] = opts[camel(long)] as ParsedArgs['values'][string];
    const globals = self.optsWithGlobals<{ config?: string; dataDir?: string }>();
    const commandIo: CliIO = { out: io.out, err: io.err, env: envWithGlobals(io.env, globals) };
    const code = await command.run({ values, positionals: self.args }, commandIo);
    done(typeof code === 'number' ? code : 0);
  });
  return sub;
}

function argumentTerm(arg: { name(): string; required: boolean; variadic: boolean }): string {
  const name = arg.name() + (arg.variadic ? '...' : '');
  return arg.required ? `<${name}>` : `[${name}]`;
}

export function buildProgram(io: CliIO, done: (code: number) => void): Program {
  const program = new Program('keyway')
    .description('keyway: just-in-time SSH access from Slack and Microsoft Teams')
    .version(keywayVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for the command')
    .helpCommand(false)
    .option('--config <file>', 'the access-flow file (overrides KEYWAY_CONFIG; default config/access.yaml)')
    .option('--data-dir <dir>', 'the data directory: database and CA key (overrides KEYWAY_DATA_DIR; default ./data)')
    .addHelpText('after', FOOTER)
    .configureHelp({
      showGlobalOptions: true,
      // The top level lists every command by its full name (`hosts bootstrap`), not just the groups.
      visibleCommands: (cmd) => (cmd.parent ? [...cmd.commands] : cmd.commands.flatMap((c) => (c.commands.length === 0 ? [c] : c.commands))),
      subcommandTerm: (cmd) => [cmd.parent?.parent ? `${cmd.parent.name()} ${cmd.name()}` : cmd.name(), ...cmd.registeredArguments.map(argumentTerm)].join(' '),
    })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n+$/, '')),
      writeErr: (text) => io.err(text.replace(/\n+$/, '')),
      outputError: () => undefined, // main() prints one line of its own
    });
  const groups = new Map<string, Program>();
  const withDefault = new Set<Program>();
  for (const command of COMMANDS) {
    const [first, second] = command.name.split(' ') as [string, string | undefined];
    if (!GROUP_SUMMARIES[first]) {
      addCommand(program, command, command.name, io, done);
      continue;
    }
    let group = groups.get(first);
    if (!group) {
      group = program.command(first).description(GROUP_SUMMARIES[first]).usage('<command> [options]').helpCommand(false);
      groups.set(first, group);
    }
    // `keyway audit` is also `keyway audit list`: the group's default command.
    addCommand(group, command, second ?? 'list', io, done, second === undefined);
    if (second === undefined) withDefault.add(group);
  }
  for (const group of groups.values()) {
    if (withDefault.has(group)) continue;
    group.argument('[command]').action((word?: string) => { // `keyway hosts` alone: the group's help, which lists its commands
      if (word !== undefined) throw new UsageError(`unknown command '${word}'`);
      io.out(group.helpInformation().replace(/\n+$/, ''));
      done(0);
    });
  }
  return program;
}

function commandPath(command: Program | undefined): string {
  const names: string[] = [];
  for (let c = command; c; c = c.parent ?? undefined) names.unshift(c.name());
  return names.join(' ');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  if (argv.length === 0) {
    io.out(program.helpInformation().replace(/\n+$/, ''));
    return 2;
  }
  let running: Program | undefined;
  program.hook('preAction', (_program, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    const where = commandPath(running) || 'keyway';
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      const failed = commandPath(lastCommandOf(program, argv)) || 'keyway';
      io.err(`${failed}: ${error.message.replace(/^error: /, '').replace(/\.+$/, '')}. See ${failed} --help.`);
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`${where}: ${error.message.replace(/\.+$/, '')}. See ${where} --help.`);
      return 2;
    }
    if (isUserError(error)) {
      io.err(`${where}: ${error.message}`);
      return 1;
    }
    io.err(`${where}: ${(error as Error).message}`);
    return 1;
  }
}

/** The deepest command named by the leading words of argv: where a usage error belongs. */
function lastCommandOf(program: Program, argv: string[]): Program {
  let current = program;
  for (const word of argv) {
    const next = current.commands.find((c) => c.name() === word);
    if (!next) break;
    current = next;
  }
  return current;
}
