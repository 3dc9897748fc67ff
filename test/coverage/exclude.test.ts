import { describe, expect, it } from 'vitest';
import { coverageProblems, done, excludeFromCoverage, renderCoverageMarkdown, runCoverage, uncoveredKey } from '../../src/coverage/index.js';
import { fetchMachine } from './samples/fetch.js';

/**
 * What a variant of the input cannot reach by design leaves the totals only when named (paths per
 * policy, issue 15): the fetch sample with a fetch that never fails never enters `failure`.
 */
describe('excludeFromCoverage', () => {
  const run = runCoverage(fetchMachine, { invokes: { fetchUser: [done({ name: 'Ada' }, 'ada')] } });
  const missing = run.coverage.uncovered.filter((item) => item.kind !== 'transitionPair').map(uncoveredKey);

  it('takes named uncovered states and transitions out of the totals, with the reason', () => {
    expect(missing).toContain('state fetch fetch.failure');
    expect(coverageProblems(run.coverage)).not.toEqual([]);
    const { coverage, unknown } = excludeFromCoverage(run.coverage, missing, (item) => `only a failing fetch reaches it: ${item.reason}`);
    expect(unknown).toEqual([]);
    expect(coverage.states).toEqual({ covered: run.coverage.states.covered, total: run.coverage.states.covered });
    expect(coverage.transitions).toEqual({ covered: run.coverage.transitions.covered, total: run.coverage.transitions.covered });
    expect(coverage.byMachine.fetch!.states.total).toBe(run.coverage.states.covered);
    expect(coverage.uncovered.filter((item) => item.kind !== 'transitionPair')).toEqual([]);
    expect(coverage.excluded!.map(uncoveredKey).sort()).toEqual([...missing].sort());
    expect(coverage.excluded![0]!.reason).toMatch(/^only a failing fetch reaches it: /);
    expect(coverageProblems(coverage)).toEqual([]);
    expect(renderCoverageMarkdown([{ coverage, pathSet: run.pathSet }])).toContain(`### Excluded from the totals (${missing.length})`);
  });

  it('never excludes a covered item or a pair: those come back as unknown', () => {
    const { coverage, unknown } = excludeFromCoverage(run.coverage, ['state fetch fetch.success', 'transitionPair fetch x'], () => 'no');
    expect(unknown).toEqual(['state fetch fetch.success', 'transitionPair fetch x']);
    expect(coverage.states).toEqual(run.coverage.states);
    expect(coverage.excluded).toEqual([]);
  });
});
