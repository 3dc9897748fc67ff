import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatePaths } from '../../src/coverage/index.js';
import { DEFAULT_POLICY, POLICY_RULES, PolicySettings, type PolicyName, type PolicySettings as Policy } from '../../src/schemas/policy.js';
import { modelFor, type ModelName } from './models.js';
import {
  HOST_SIDE_SETTINGS,
  hostSideValues,
  POLICY_VARIANTS,
  SETTING_MODELS,
  settingsNotChanging,
  settingValues,
  siblingsOf,
} from './policy-variants.js';

/**
 * A model's explored graph under a policy: per input, every vertex and every edge with the transitions
 * it takes, as a set of lines.
 */
function graphOf(model: ModelName, policy: Partial<Policy>): Set<string> {
  const { machine, options } = modelFor(model, policy);
  const lines = new Set<string>();
  for (const exploration of generatePaths(machine, options as never).explorations) {
    const input = exploration.variant.label;
    for (const key of exploration.vertices.keys()) lines.add(`[${input}] vertex ${key}`);
    for (const edge of exploration.edges) {
      const taken = edge.vertex.taken.map((t) => `${t.machineId} ${t.id}`).join(', ');
      lines.add(`[${input}] ${edge.from} —${edge.event.label}→ ${edge.to} [${taken}]`);
    }
  }
  return lines;
}

/** The lines only one of two graphs has (both empty: the same graph). */
function difference(variant: Set<string>, baseline: Set<string>) {
  return {
    onlyUnderVariant: [...variant].filter((line) => !baseline.has(line)).slice(0, 5),
    onlyUnderDefault: [...baseline].filter((line) => !variant.has(line)).slice(0, 5),
  };
}
const SAME = { onlyUnderVariant: [], onlyUnderDefault: [] };

const settings = Object.keys(PolicySettings.shape) as PolicyName[];

describe('policy variants (issue 15: paths per policy)', () => {
  it('are the default, then one per non-default value of every setting that changes a transition, from the schema', () => {
    const expected = settings
      .filter((setting) => !(setting in HOST_SIDE_SETTINGS))
      .flatMap((setting) =>
        settingValues(setting)
          .slice(1)
          .map((value) => `${setting}=${value}`),
      );
    expect(POLICY_VARIANTS.map((v) => v.name)).toEqual(['default', ...expected]);
    for (const setting of settings) expect(settingValues(setting)[0], setting).toBe(DEFAULT_POLICY[setting]);
    // The order runs every machine: every setting that changes a transition changes its graph.
    for (const variant of POLICY_VARIANTS) expect(variant.models).toContain('order');
    // Each variant sets one setting; the machines resolve the rest to the defaults.
    for (const variant of POLICY_VARIANTS.filter((v) => v.setting)) expect(Object.keys(variant.policy)).toEqual([variant.setting]);
  });

  it('every setting is declared once: with the models it changes, or host-side with its reason', () => {
    for (const setting of settings) {
      const declared = Number(setting in SETTING_MODELS) + Number(setting in HOST_SIDE_SETTINGS);
      expect(declared, setting).toBe(1);
    }
  });

  it('an exclusion is checked against variants that differ in one setting only', () => {
    const never = POLICY_VARIANTS.find((v) => v.name === 'disputeWithdrawal=never')!;
    expect(
      siblingsOf(never)
        .map((v) => v.name)
        .sort(),
    ).toEqual(['default', 'disputeWithdrawal=untilPlanAccepted']);
    expect(siblingsOf(POLICY_VARIANTS[0]!)).toEqual(POLICY_VARIANTS.slice(1));
  });

  it('D9: refusalLog is host-side: no machine reads it (the graphs below prove it changes none)', () => {
    const sources = readdirSync(new URL('../../machines/', import.meta.url)).filter((file) => file.endsWith('.ts'));
    for (const file of sources) {
      expect(readFileSync(new URL(`../../machines/${file}`, import.meta.url), 'utf8'), file).not.toMatch(/refusalLog/);
    }
  });

  // A setting not declared for a model changes nothing there: the same vertices and edges as the default.
  for (const model of ['dispute', 'cancellation'] as const) {
    let cached: Set<string> | undefined;
    const baseline = () => (cached ??= graphOf(model, {}));
    for (const variant of settingsNotChanging(model)) {
      it(`${POLICY_RULES[variant.setting!]}: ${variant.name} does not change the ${model} graph (not declared for it)`, () => {
        expect(difference(graphOf(model, variant.policy), baseline()), 'declare it in SETTING_MODELS (test/paths/policy-variants.ts)').toEqual(
          SAME,
        );
      });
    }
    for (const { setting, value, policy } of hostSideValues()) {
      it(`${POLICY_RULES[setting]}: ${setting}=${value} (host-side) does not change the ${model} graph`, () => {
        expect(difference(graphOf(model, policy), baseline())).toEqual(SAME);
      });
    }
  }

  // The composition takes about a minute per policy: with PATHS_FULL=1, like the order's golden check.
  for (const { setting, value, policy } of hostSideValues()) {
    it.runIf(process.env.PATHS_FULL === '1')(
      `${POLICY_RULES[setting]}: ${setting}=${value} (host-side) does not change the order graph`,
      () => {
        expect(difference(graphOf('order', policy), graphOf('order', {}))).toEqual(SAME);
      },
      600_000,
    );
  }
});
