import { describe, expect, it } from 'vitest';
import {
  computeCoverage,
  coverageProblems,
  describeMachine,
  generatePaths,
  renderCoverageMarkdown,
  replayPath,
  runCoverage,
  toMermaid,
} from '../../src/coverage/index.js';
import { doorEvents, doorKey, doorMachine, kitchenMachine } from './toys.js';

const doorOptions = { events: doorEvents, key: doorKey } as const;

describe('describeMachine', () => {
  it('lists every state node and every transition, guarded alternatives and delays apart', () => {
    const model = describeMachine(doorMachine);
    expect(model.states.map((state) => state.id)).toEqual(['door', 'door.locked', 'door.unlocked', 'door.opened', 'door.broken']);
    expect(model.transitions.map((t) => [t.id, t.kind, t.guard, t.targets, t.delay])).toEqual([
      ['door.locked|unlock|0', 'event', 'isRightCode', ['door.unlocked'], null],
      ['door.locked|open|0', 'event', null, ['door.broken'], null],
      ['door.unlocked|open|0', 'event', null, ['door.opened'], null],
      ['door.unlocked|lock|0', 'event', null, ['door.locked'], null],
      ['door.unlocked|xstate.after.autoLock.door.unlocked|0', 'after', null, ['door.locked'], 'autoLock'],
      ['door.opened|close|0', 'event', null, ['door.unlocked'], null],
    ]);
  });
});

describe('generatePaths on a single machine', () => {
  const set = generatePaths(doorMachine, doorOptions);

  it('includes the delayed transition as a timer step with its delay', () => {
    const timerSteps = set.paths.flatMap((path) => path.steps).filter((step) => step.timers.length > 0);
    expect(timerSteps.length).toBeGreaterThan(0);
    expect(timerSteps[0]!.label).toBe('after autoLock');
    expect(timerSteps[0]!.timers[0]).toMatchObject({ delay: 'autoLock', dueIn: 1_000 });
  });

  it('sends payload variants, so the guard passes (and the failing variant is not an edge)', () => {
    const labels = new Set(set.paths.flatMap((path) => path.steps.map((step) => step.label)));
    expect(labels.has('unlock(42)')).toBe(true);
    expect(labels.has('unlock(7)')).toBe(false);
  });

  it('keeps the graph bounded by the key although the context grows', () => {
    expect(set.explorations[0]!.vertices.size).toBe(4);
  });

  it('names paths after their steps and tags them with rule ids from descriptions', () => {
    const names = set.paths.map((path) => path.name);
    expect(names).toContain('locked —unlock(42)→ unlocked —after autoLock→ locked —open→ broken');
    expect(set.paths.find((path) => path.name.endsWith('—after autoLock→ locked —open→ broken'))!.tags).toEqual(['T1', 'T2']);
  });
});

describe('replayPath', () => {
  const set = generatePaths(doorMachine, doorOptions);

  it('replays every path on a real actor and advances the clock by exactly the delay', () => {
    for (const path of set.paths) {
      const result = replayPath(doorMachine, path, { key: doorKey });
      expect(result.mismatches).toEqual([]);
      path.steps.forEach((step, i) => {
        if (step.timers.length) expect(result.observed[i + 1]!.now - result.observed[i]!.now).toBe(1_000);
      });
    }
  });

  it('reports a prediction the actor does not meet', () => {
    const path = structuredClone(set.paths.find((p) => p.steps.some((s) => s.label === 'open'))!);
    const open = path.steps.find((s) => s.label === 'open')!;
    open.expected = { ...open.expected, key: 'locked' };
    const result = replayPath(doorMachine, path, { key: doorKey });
    expect(result.mismatches[0]!.message).toMatch(/state after "open" differs/);
  });

  it('reports a widened guard: the actor accepts a variant the graph refused', () => {
    const lenient = doorMachine.provide({ guards: { isRightCode: () => true } });
    const path = set.paths.find((p) => p.steps.length > 0)!;
    const result = replayPath(lenient, path, { key: doorKey, variants: doorEvents.unlock });
    expect(result.mismatches[0]!.message).toMatch(/accepts unlock\(7\), unlike the graph/);
  });

  it('reports a timer that fires early', () => {
    const fast = doorMachine.provide({ delays: { autoLock: 500 } });
    const path = set.paths.find((p) => p.steps.some((s) => s.timers.length))!;
    const result = replayPath(fast, path, { key: doorKey });
    expect(result.mismatches.length).toBeGreaterThan(0);
  });
});

describe('computeCoverage and the report', () => {
  it('covers every state, transition and feasible pair of the door', () => {
    const { coverage } = runCoverage(doorMachine, doorOptions);
    expect(coverage.states).toEqual({ covered: 5, total: 5 });
    expect(coverage.transitions).toEqual({ covered: 6, total: 6 });
    expect(coverage.transitionPairs.covered).toBe(coverage.transitionPairs.total);
    expect(coverageProblems(coverage)).toEqual([]);
  });

  it('explains what a narrower fixture leaves uncovered', () => {
    const set = generatePaths(doorMachine, { ...doorOptions, events: { unlock: [doorEvents.unlock[1]!] } });
    const coverage = computeCoverage(
      set,
      set.paths.map((path) => replayPath(doorMachine, path, { key: doorKey })),
    );
    expect(coverage.transitions.covered).toBeLessThan(coverage.transitions.total);
    expect(coverage.uncovered.find((item) => item.id === 'door.locked|unlock|0')!.reason).toMatch(/guard isRightCode never held/);
    expect(coverage.uncovered.find((item) => item.id === 'door.unlocked|lock|0')!.reason).toMatch(/source state door.unlocked is never active/);
  });

  it('draws a Mermaid state diagram with guards, delays and uncovered marks', () => {
    const diagram = toMermaid(doorMachine, { uncovered: ['door.unlocked|lock|0'], delayLabel: () => 'after 1s' });
    expect(diagram.split('\n')).toEqual(
      expect.arrayContaining([
        'stateDiagram-v2',
        '  [*] --> locked',
        '  locked --> unlocked : unlock [isRightCode]',
        '  unlocked --> locked : after 1s',
        '  unlocked --> locked : lock ✗ uncovered',
        '  broken --> [*]',
      ]),
    );
  });

  it('renders a report with a summary, the diagram and the paths in words', () => {
    const run = runCoverage(doorMachine, doorOptions);
    const markdown = renderCoverageMarkdown([{ coverage: run.coverage, pathSet: run.pathSet }]);
    expect(markdown).toContain('| door | 5/5 (100.0 %) | 6/6 (100.0 %) |');
    expect(markdown).toContain('```mermaid\nstateDiagram-v2');
    expect(markdown).toContain('locked —unlock(42)→ unlocked');
  });
});

describe('the system variant (children, built on src/engine/step.ts)', () => {
  const options = {
    system: true,
    events: {
      'kettle.add': [{ label: 'kettle.add', event: { type: 'kettle.add', at: 0 } }],
      heat: [{ label: 'heat', event: { type: 'heat', at: 0 } }],
    },
    ignoreEvents: ['kettle.boiled'],
    key: (state: { value: unknown; children?: Record<string, any> }) => ({
      value: state.value,
      children: Object.fromEntries(Object.entries(state.children ?? {}).map(([id, child]) => [id, child.snapshot.value])),
    }),
    startTime: 1_000,
  };

  it('fires the child timer at its due time and counts the child machine', () => {
    const run = runCoverage(kitchenMachine, options);
    expect(run.replays.flatMap((replay) => replay.mismatches)).toEqual([]);
    const timer = run.pathSet.paths.flatMap((path) => path.steps).find((step) => step.timers.length)!;
    expect(timer.label).toBe('after boil[k1]');
    expect(timer.timers[0]).toMatchObject({ target: ['k1'], dueIn: 5_000 });
    expect(run.coverage.machines).toEqual(['kitchen', 'kettle']);
    expect(run.coverage.byMachine.kettle).toEqual({ states: { covered: 4, total: 4 }, transitions: { covered: 2, total: 2 } });
    expect(run.coverage.byMachine.kitchen!.states).toEqual({ covered: 4, total: 4 });
    expect(coverageProblems(run.coverage)).toEqual([]);
  });
});

describe('cli', () => {
  it('writes the report for a machine of a user module', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('../../src/coverage/cli.js');
    const out = mkdtempSync(join(tmpdir(), 'coverage-cli-'));
    const lines: string[] = [];
    const result = await runCli(
      ['--module', 'test/coverage/toys.ts', '--export', 'doorMachine', '--options', 'doorCoverage', '--out', out],
      (line) => lines.push(line),
    );
    expect(result.exitCode).toBe(0);
    expect(lines).toEqual(['door: states 5/5, transitions 6/6, transition pairs 11/11, 7 paths [ok]']);
    const json = JSON.parse(readFileSync(join(out, 'path-coverage.json'), 'utf8'));
    expect(json.machines.door.transitions).toEqual({ covered: 6, total: 6 });
    expect(readFileSync(join(out, 'path-coverage.md'), 'utf8')).toContain('stateDiagram-v2');
  });
});
