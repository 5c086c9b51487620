// keyway: finds the command, parses its options, runs it, and turns errors into exit codes
// (0 success, 1 a user error with a one-line reason, 2 bad usage).
import { parseArgs } from 'node:util';
import { isUserError } from '../core/errors.js';
import { UsageError, type CliIO, type Command } from './command.js';
import { COMMANDS } from './commands.js';

export function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'keyway: just-in-time SSH access from Slack and Microsoft Teams',
    '',
    'Usage: keyway <command> [options]     keyway <command> --help',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 success, 1 a user error (one line says why), 2 bad usage.',
    'Environment: KEYWAY_CONFIG (default config/access.yaml), KEYWAY_DATA_DIR (default ./data); see .env.example.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const options = Object.entries(command.options ?? {}).map(([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}${o.multiple ? ' (repeatable)' : ''}`);
  return [`keyway ${command.name}: ${command.summary}`, '', `Usage: ${command.usage}`, ...(options.length ? ['', 'Options:', ...options] : [])].join('\n');
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(helpText());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.err(`keyway: unknown command "${argv.slice(0, 2).join(' ')}". Run keyway --help for the list.`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    const parsed = parseArgs({ args: rest, options: command.options ?? {}, allowPositionals: true, strict: true });
    return (await command.run(parsed, io)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`keyway ${command.name}: ${(error as Error).message}\nUsage: ${command.usage}`);
      return 2;
    }
    if (isUserError(error)) {
      io.err(`keyway ${command.name}: ${error.message}`);
      return 1;
    }
    io.err(`keyway ${command.name}: ${(error as Error).message}`);
    return 1;
  }
}
