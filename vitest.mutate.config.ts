// The vitest config `npm run mutate` (StrykerJS) runs: unit tests only. They are the ones that exercise the pure
// parts being mutated (src/core, src/ca, src/config, the remote-command builders) without root, sshd or network,
// so each mutant is judged in seconds. Not used by `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
    allowOnly: false,
  },
});
