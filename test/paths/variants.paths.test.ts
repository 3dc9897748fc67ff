import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { goldenPath } from './harness.js';
import { loadPins } from './pins.js';
import { POLICY_VARIANTS } from './policy-variants.js';
import { describePaths } from './suite.js';

/**
 * Paths per policy (issue 15): every policy variant's committed paths replay with the domain oracles,
 * as the default's do (dispute/cancellation/order.paths.test.ts). The counts are the variant pins
 * (test/path-coverage.variants.pins.json), which `npm run coverage:paths -- --update` writes with them.
 */
const pins = loadPins();
for (const variant of POLICY_VARIANTS.filter((v) => v.setting)) {
  for (const model of variant.models) {
    const file = goldenPath(model, variant);
    const pinned = pins[variant.name]?.[model];
    if (!existsSync(file) || !pinned) {
      describe(`${model}: generated paths under ${variant.name}`, () => {
        it('has committed paths and pins (run npm run coverage:paths -- --update)', () => {
          expect(existsSync(file), file).toBe(true);
          expect(pinned, `pins of ${variant.name} ${model}`).toBeDefined();
        });
      });
      continue;
    }
    describePaths(model, pinned.paths, variant);
  }
}
