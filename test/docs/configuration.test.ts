import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPolicyTable, ROOT } from '../../scripts/docs.js';
import { DEFAULT_POLICY, POLICY_RULES, POLICY_VALUES, PolicySettings, type PolicyName } from '../../src/schemas/policy.js';

/** docs/configuration.md's Policy section is generated from src/schemas/policy.ts (scripts/docs.ts, region `policy`). */
const page = () => readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
const region = (markdown: string) => /<!-- generated:policy -->\n([\s\S]*?)\n<!-- \/generated:policy -->/.exec(markdown)?.[1];

describe('docs/configuration.md, Policy', () => {
  it('the committed Policy table is what the schema generates now (run npm run docs)', () => {
    expect(region(page())).toBe(renderPolicyTable());
  });

  it('D1/C2/C5/D6/D8/D9/A1: every setting is listed with its rule ID, every value with its meaning, the default marked', () => {
    const table = renderPolicyTable();
    for (const name of Object.keys(PolicySettings.shape) as PolicyName[]) {
      expect(table).toContain(`| \`policy.${name}\` | ${POLICY_RULES[name]} |`);
      for (const value of PolicySettings.shape[name].options as readonly string[]) {
        const meaning = (POLICY_VALUES[name] as Record<string, string>)[value];
        expect(meaning, `${name} ${value}`).toMatch(/\S{3}/);
        const suffix = value === DEFAULT_POLICY[name] ? ' (default)' : '';
        expect(table).toContain(`| \`'${value}'\`${suffix} | ${meaning!.replace(/\|/g, '\\|')} |`);
      }
      // the default is the enum's first value
      expect(PolicySettings.shape[name].options[0]).toBe(DEFAULT_POLICY[name]);
    }
  });

  it('D1/C2/C5/D6/D8/D9: no rule that is now a setting is still described as fixed', () => {
    const markdown = page();
    expect(markdown).not.toContain('[I] defaults without a setting');
    for (const rule of ['D1', 'C2', 'C5', 'D6', 'D8', 'D9']) expect(markdown, rule).not.toMatch(new RegExp(`^\\| ${rule} \\|`, 'm'));
  });
});
