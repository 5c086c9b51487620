#!/usr/bin/env node
import { main } from './main.js';
import { withDotEnv } from './dot-env.js';

const { env, warning } = withDotEnv(process.cwd(), process.env);
if (warning) process.stderr.write(`warning: ${warning}\n`);
const code = await main(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text + '\n'),
  err: (text) => void process.stderr.write(text + '\n'),
  env,
});
process.exitCode = code;
// Whatever a library may have left open, a finished command ends: stdout gets time to drain, then the process exits.
setTimeout(() => process.exit(code), 3000).unref();
