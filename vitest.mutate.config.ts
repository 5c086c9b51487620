// The vitest config `npm run mutate` (StrykerJS) runs: the unit tests OF the pure parts being mutated (src/core,
// src/ca, src/config, the remote-command builders), not every unit test that happens to import them. A static mutant
// (a module-level constant) runs every test file that imports its module, and nearly every unit test of the access
// service, the store and the chat adapters imports src/core and src/config: with them in, one static mutant cost
// ~25 test files (about 10 hours for a full run). Those tests still run in `npm test`; here the pure parts must be
// pinned down by their own tests. Not used by `npm test`.
import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const PURE_PART_TESTS = [
  // src/ca. Not ca.test.ts and ca-user-key.test.ts: they check every key type against OpenSSH's own ssh-keygen, which
  // makes them take ~15 s each on a busy machine, paid again by every static mutant of src/ca they import; the
  // *.mutants.test.ts files pin the same rules down with node:crypto keys in well under a second. Both run in npm test.
  'test/unit/ca-key.test.ts',
  'test/unit/ca-wire.test.ts',
  // src/config
  'test/unit/config.test.ts',
  'test/unit/config-lookup.test.ts',
  'test/unit/config-schema.test.ts',
  'test/unit/config-secrets.test.ts',
  'test/unit/config-watch.test.ts',
  'test/unit/issue-messages.test.ts',
  'test/unit/cloud-config.test.ts',
  'test/unit/windows-config.test.ts',
  // src/core
  'test/unit/duration.test.ts',
  'test/unit/lifecycle.test.ts',
  'test/unit/linux-names.test.ts',
  'test/unit/oncall-policy.test.ts',
  'test/unit/policy.test.ts',
  'test/unit/retry-and-warning-times.test.ts',
  'test/unit/username.test.ts',
  'test/unit/active-directory-names.test.ts',
  // The remote-command builders: src/targets/ssh/remote-commands.ts and remote-values.ts, and rdp's PowerShell builder
  'test/unit/remote-commands.test.ts',
  'test/unit/rdp-remote-commands.test.ts',
  // Tests written for mutants that survived (docs/testing.md), whatever module they pin down.
  'test/unit/*.mutants.test.ts',
];

/**
 * Stryker stops a run at the first failing test (bail), so the order of files is most of the cost of a static mutant:
 * vitest's own order puts the slowest files first. Here the file that failed last time comes first (the next mutant is
 * usually on the next line of the same module), then the quickest.
 */
class FailedThenQuickestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const resultOf = (file: TestSpecification) =>
      this.ctx.cache.getFileTestResults(`${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`);
    return [...files].sort((a, b) => {
      const [resultA, resultB] = [resultOf(a), resultOf(b)];
      const failedFirst = Number(resultB?.failed ?? false) - Number(resultA?.failed ?? false);
      return failedFirst !== 0 ? failedFirst : (resultA?.duration ?? 0) - (resultB?.duration ?? 0);
    });
  }
}

export default defineConfig({
  test: {
    include: PURE_PART_TESTS,
    sequence: { sequencer: FailedThenQuickestFirst },
    testTimeout: 30_000,
    allowOnly: false,
  },
});
