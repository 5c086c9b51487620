// What the config loader refuses in an access file, for the tests of its sentences: each problem with its file,
// line and column, or a test failure when the text is accepted.
import { ConfigError, type ConfigProblem } from '../../src/config/config-error.js';
import { parseAccessConfig } from '../../src/config/load.js';

/** One YAML line per argument, so a test's line numbers are the argument positions. */
export const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** The problems parseAccessConfig reports for `text` read as `file` (servers_file paths through `readFile`). */
export function configProblems(text: string, file: string, readFile?: (path: string) => string): ConfigProblem[] {
  try {
    parseAccessConfig(text, file, readFile);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError, the config was accepted');
}
