import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import QuickestFirstSequencer from './mutation-sequencer.js';

/** `npm run mutation`: Stryker runs only the generated path tests and the rule tests. */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/paths/**/*.test.ts', 'test/rules/**/*.test.ts'],
    testTimeout: 60_000,
    sequence: { sequencer: QuickestFirstSequencer },
  },
});
