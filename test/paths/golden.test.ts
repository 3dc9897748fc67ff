import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatePaths } from '../../src/coverage/index.js';
import { goldenPath, serializeGolden, toGolden } from './harness.js';
import { MODELS, type ModelName } from './models.js';

const regenerate = (name: ModelName) => serializeGolden(toGolden(name, generatePaths(MODELS[name].machine, MODELS[name].options as never).paths));
const HINT = 'the state graph changed: review the diff, then run `npm run coverage:paths -- --update` and update the pinned counts';

/**
 * The committed paths are what the machines generate today. The composition takes ~30 s to explore,
 * so it is checked here only with PATHS_FULL=1; `npm run coverage:paths -- --check` (CI) always checks it.
 */
describe('golden paths are up to date', () => {
  for (const name of ['dispute', 'cancellation'] as const) {
    it(`${name}`, () => {
      expect(regenerate(name) === readFileSync(goldenPath(name), 'utf8'), `${name}: ${HINT}`).toBe(true);
    });
  }
  it.runIf(process.env.PATHS_FULL === '1')('order (composition)', () => {
    expect(regenerate('order') === readFileSync(goldenPath('order'), 'utf8'), `order: ${HINT}`).toBe(true);
  }, 300_000);
});
