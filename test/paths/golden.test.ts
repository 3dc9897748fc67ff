import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatePaths } from '../../src/coverage/index.js';
import { goldenPath, serializeGolden, toGolden } from './harness.js';
import { MODELS, modelFor, type ModelName } from './models.js';
import { POLICY_VARIANTS, type PolicyVariant } from './policy-variants.js';

const regenerate = (name: ModelName) =>
  serializeGolden(toGolden(name, generatePaths(MODELS[name].machine, MODELS[name].options as never).paths));
const regenerateUnder = (name: ModelName, variant: PolicyVariant) => {
  const { machine, options } = modelFor(name, variant.policy);
  return serializeGolden(toGolden(name, generatePaths(machine, options as never).paths));
};
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
  // Paths per policy: the standalone machines under each variant that can change them (seconds each).
  for (const variant of POLICY_VARIANTS.filter((v) => v.setting)) {
    for (const name of variant.models.filter((model) => model !== 'order')) {
      it(`${name} under ${variant.name}`, () => {
        expect(
          regenerateUnder(name, variant) === readFileSync(goldenPath(name, variant), 'utf8'),
          `${name} under ${variant.name}: ${HINT}`,
        ).toBe(true);
      });
    }
  }
  it.runIf(process.env.PATHS_FULL === '1')(
    'order (composition)',
    () => {
      expect(regenerate('order') === readFileSync(goldenPath('order'), 'utf8'), `order: ${HINT}`).toBe(true);
    },
    300_000,
  );
});
