import { describe, expect, it } from 'vitest';
import { expectPathHolds, loadGolden, testName } from './harness.js';
import type { ModelName } from './models.js';
import { DEFAULT_VARIANT, type PolicyVariant } from './policy-variants.js';

/**
 * One `it` per committed path (test/paths/golden/<name>.json, or <name>.<setting>-<value>.json under a
 * policy variant), named after its steps and the rule ids of its transitions. The count is pinned by the
 * caller, so a state-space change fails loudly.
 */
export function describePaths(name: ModelName, pinnedCount: number, variant: PolicyVariant = DEFAULT_VARIANT): void {
  const paths = loadGolden(name, variant);
  const under = variant.setting ? ` under ${variant.name}` : '';
  describe(`${name}: generated paths${under}`, () => {
    it(`has ${pinnedCount} paths (pinned: regenerate with npm run coverage:paths -- --update, then update the pin)`, () => {
      expect(paths).toHaveLength(pinnedCount);
    });
    paths.forEach((path, index) => {
      it(testName(path, index), () => {
        expectPathHolds(name, path);
      });
    });
  });
}
