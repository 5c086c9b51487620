// Mutation testing of the pure parts (`npm run mutate`; see docs/testing.md): StrykerJS changes one thing in the
// code at a time and runs the unit tests that cover it; a mutant no test notices is a bug a change could bring in
// unseen. Not part of `npm test` or CI: a full run from scratch took 48 minutes on two cores shared with other
// work (load 8-13, niced); later runs are incremental and take minutes (1-4 on 2026-12-01). Reports land in
// reports/mutation/.
// @ts-check
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  // The TypeScript checker (drops mutants that do not compile) is off by default: with two slots it takes one of
  // them and halves the speed, and on 2026-12-01 it crashed half-way ("Debug Failure" in ScriptFile.getOffset).
  // `npx stryker run stryker.config.mjs --checkers typescript` turns it on.
  checkers: [],
  tsconfigFile: 'tsconfig.mutate.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: false },
  mutate: [
    'src/core/**/*.ts',
    'src/ca/**/*.ts',
    'src/config/**/*.ts',
    'src/targets/ssh/remote-commands.ts',
    'src/targets/ssh/remote-values.ts',
    'src/targets/windows/rdp/remote-commands.ts',
    'src/targets/windows/rdp/rdp-values.ts',
  ],
  // What the sandbox copy of the project can do without: build output, data, reports, and the slow test kinds.
  ignorePatterns: ['dist', 'data', 'coverage', 'reports', 'bench', 'test/integration', 'test/e2e'],
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants: schema definitions, transition tables, reserved-name lists) need the
  // module re-imported to take effect. With ignoreStatic: true, this runner still ran most of them against their
  // covering tests WITHOUT re-importing, and reported 579 of them as survivors, among them ones the tests plainly
  // kill (an empty request transition table, which test/unit/lifecycle.test.ts catches). So they run with every
  // test file that imports their module: most of the run's time (vitest.mutate.config.ts keeps that small), but
  // results that can be trusted.
  ignoreStatic: false,
  concurrency: 2,
  // Re-runs only mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};

export default config;
