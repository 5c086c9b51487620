// The keyway command run in-process, as bin.ts runs it: each write returns what process.stdout.write returns (true),
// so a command that handed that back as its exit code would show. `out`/`err` are the writes joined by newlines;
// `outs`/`errs` are the writes one by one.
import { main } from '../../src/cli/main.js';

export interface KeywayRun {
  code: number;
  out: string;
  err: string;
  outs: string[];
  errs: string[];
}

export async function runKeyway(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<KeywayRun> {
  const outs: string[] = [];
  const errs: string[] = [];
  const write = (into: string[]) => (text: string) => {
    into.push(text);
    return true as unknown as void;
  };
  const code = await main(argv, { out: write(outs), err: write(errs), env });
  return { code, out: outs.join('\n'), err: errs.join('\n'), outs, errs };
}
