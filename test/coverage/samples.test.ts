/**
 * The sample suite: machines in the shapes XState users write, each with its states, transitions,
 * vertices and transition pairs counted by hand (the counts are in each sample's header comment).
 * Every figure the engine gives must equal the hand count, every path must replay, and mutants that
 * restore the wrong history must be caught.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CoverageError,
  coverageProblems,
  fail,
  feasiblePairs,
  generatePaths,
  replayOptionsOf,
  replayPath,
  runCoverage,
  toMermaid,
  type CoverageRun,
  type GenerateOptions,
} from '../../src/coverage/index.js';
import { checkoutMachine } from './samples/checkout.js';
import { dashboardMachine } from './samples/dashboard.js';
import { fetchCoverage, fetchMachine } from './samples/fetch.js';
import { graderCoverage, graderMachine } from './samples/grader.js';
import { bypassed, editorMachine, playerMachine, shallowed } from './samples/history.js';
import { nimCoverage, nimEvents, nimMachine } from './samples/nim.js';
import { countdownMachine, ovenMachine } from './samples/oven.js';
import { scoreboardCoverage, scoreboardMachine } from './samples/scoreboard.js';
import { SESSION_TIMEOUT, sessionMachine } from './samples/session.js';
import { assign, setup, type EventObject } from 'xstate';

type Names = Record<string, string>;

/** Figures of a run, with transitions and pairs named by the short names of the hand count. */
function figures(run: CoverageRun, names: Names) {
  const short = new Map(Object.entries(names).map(([name, id]) => [id, name]));
  const nameOf = (qualifiedId: string) => {
    const id = qualifiedId.slice(qualifiedId.indexOf(' ') + 1);
    const name = short.get(id);
    if (!name) throw new Error(`no short name for ${id}`);
    return name;
  };
  const pairs = new Set<string>();
  for (const exploration of run.pathSet.explorations) {
    for (const pair of feasiblePairs(exploration).keys()) {
      const [from, to] = pair.split(' -> ') as [string, string];
      pairs.add(`${nameOf(from)}→${nameOf(to)}`);
    }
  }
  const { coverage } = run;
  return {
    states: coverage.states,
    transitions: coverage.transitions,
    transitionPairs: coverage.transitionPairs,
    history: coverage.history,
    vertices: run.pathSet.explorations.map((exploration) => exploration.vertices.size),
    pairs: [...pairs].sort(),
    mismatches: run.replays.flatMap((replay) => replay.mismatches.map((m) => `${replay.path.id}: ${m.message}`)),
    failures: coverage.failures,
  };
}

const all = (n: number) => ({ covered: n, total: n });
const sorted = (list: string[]) => [...list].sort();

describe('fetch with invoke and retry', () => {
  const names: Names = {
    fetch: 'fetch.idle|fetch|0',
    onDone: 'fetch.loading|xstate.done.actor.fetchUser|0',
    onError: 'fetch.loading|xstate.error.actor.fetchUser|0',
    retry: 'fetch.failure|retry|0',
    giveUp: 'fetch.failure|retry|1',
  };
  const run = runCoverage(fetchMachine, fetchCoverage);

  it('equals the hand count: 6 states, 5 transitions, 11 vertices, 6 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(6),
      transitions: all(5),
      transitionPairs: all(6),
      history: all(0),
      vertices: [11],
      pairs: sorted(['fetch→onDone', 'fetch→onError', 'onError→retry', 'onError→giveUp', 'retry→onDone', 'retry→onError']),
      mismatches: [],
      failures: [],
    });
    expect(coverageProblems(run.coverage)).toEqual([]);
  });

  it('ends the invoked promise as declared, and replays the final outputs', () => {
    const success = run.pathSet.paths.find((path) => path.name === 'idle —fetch→ loading —fetchUser.done(ada)→ success')!;
    expect(success.steps[1]!.invoke).toMatchObject({ id: 'fetchUser', outcome: { kind: 'done', output: { name: 'Ada' } } });
    expect(success.steps[1]!.final).toEqual({ output: { user: { name: 'Ada' }, retries: 0 } });
    const gaveUp = run.pathSet.paths.find((path) => path.name.endsWith('—retry→ gaveUp'))!;
    expect(gaveUp.steps.at(-1)!.final).toEqual({ output: { error: 'offline', retries: 2 } });
  });

  it('reports a final output that differs from the prediction', () => {
    const path = structuredClone(run.pathSet.paths.find((p) => p.steps.at(-1)?.final)!);
    path.steps.at(-1)!.final = { output: { user: { name: 'Grace' }, retries: 0 } };
    const result = replayPath(fetchMachine, path, replayOptionsOf(fetchCoverage));
    expect(result.mismatches.map((m) => m.message)).toEqual([expect.stringMatching(/^final output after "fetchUser\.done\(ada\)" differs/)]);
  });

  it('without declared outcomes, an invoke with onDone and onError completes and fails by default', () => {
    const defaults = runCoverage(fetchMachine);
    expect(defaults.coverage.transitions).toEqual(all(5));
    const labels = new Set(defaults.pathSet.paths.flatMap((path) => path.steps.map((step) => step.label)));
    expect([...labels].filter((label) => label.startsWith('fetchUser.')).sort()).toEqual(['fetchUser.done', 'fetchUser.error']);
  });

  it('names the fix when an outcome is missing', () => {
    const { coverage } = runCoverage(fetchMachine, { invokes: { fetchUser: [fail(new Error('offline'))] } });
    expect(coverage.uncovered).toContainEqual(
      expect.objectContaining({ kind: 'transition', id: names.onDone, reason: expect.stringContaining("invokes: { 'fetchUser': [...] }") }),
    );
  });

  it("refuses XState's own event names among the host events, naming `invokes` instead", () => {
    const events = { 'xstate.done.actor.fetchUser': [{ label: 'done', event: { type: 'xstate.done.actor.fetchUser' } }] };
    expect(() => generatePaths(fetchMachine, { events })).toThrow(CoverageError);
    expect(() => generatePaths(fetchMachine, { events })).toThrow(/invokes: \{ <invoke id>: \[done\(output\), fail\(error\)\] \}/);
  });

  it('treats the function form of events like the record form: internal names refused, ignored types dropped', () => {
    const internal = () => [{ label: 'done', event: { type: 'xstate.done.actor.fetchUser' } }];
    expect(() => generatePaths(fetchMachine, { events: internal })).toThrow(CoverageError);
    const retryOnly = (state: { value: unknown }) =>
      state.value === 'failure' ? [{ label: 'retry', event: { type: 'retry' } }] : [{ label: 'fetch', event: { type: 'fetch' } }];
    const run = runCoverage(fetchMachine, { ...fetchCoverage, events: retryOnly, ignoreEvents: ['retry'] });
    expect(run.coverage.uncovered.filter((item) => item.kind === 'transition').map((item) => item.id)).toEqual([names.retry, names.giveUp]);
    expect(run.replays.flatMap((replay) => replay.mismatches)).toEqual([]);
  });

  it('draws invoke outcomes as onDone / onError with the invoke id', () => {
    const diagram = toMermaid(fetchMachine).split('\n');
    expect(diagram).toContain('  loading --> success : onDone fetchUser');
    expect(diagram).toContain('  loading --> failure : onError fetchUser');
  });
});

describe('no sample names an XState-internal event', () => {
  it('the sample machines and their options contain no `xstate.` name', () => {
    const dir = new URL('./samples/', import.meta.url);
    for (const file of readdirSync(dir)) {
      expect(readFileSync(new URL(file, dir), 'utf8'), file).not.toMatch(/xstate\./);
    }
  });
});

describe('parallel workflow with final regions', () => {
  const names: Names = {
    P: 'checkout.processing.payment.unpaid|payment.succeeded|0',
    K: 'checkout.processing.shipping.packing|shipping.packed|0',
    S: 'checkout.processing.shipping.packed|shipping.shipped|0',
    D: 'checkout.processing|xstate.done.state.checkout.processing|0',
    C: 'checkout.processing|order.cancelled|0',
  };
  const run = runCoverage(checkoutMachine);

  it('equals the hand count: 11 states, 5 transitions, 7 vertices, 10 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(11),
      transitions: all(5),
      transitionPairs: all(10),
      history: all(0),
      vertices: [7],
      pairs: sorted(['P→D', 'S→D', 'P→K', 'P→S', 'P→C', 'K→P', 'K→S', 'K→C', 'S→P', 'S→C']),
      mismatches: [],
      failures: [],
    });
  });

  it('counts each region apart', () => {
    expect(run.coverage.regions).toEqual([
      { machineId: 'checkout', parallel: 'checkout.processing', region: 'checkout.processing.payment', states: all(3), transitions: all(1) },
      { machineId: 'checkout', parallel: 'checkout.processing', region: 'checkout.processing.shipping', states: all(4), transitions: all(2) },
    ]);
  });

  it('draws the regions as sections separated by --', () => {
    const diagram = toMermaid(checkoutMachine);
    const block = diagram.slice(diagram.indexOf('state processing {'));
    expect(block).toMatch(/state processing__payment \{[\s\S]*\n {4}}\n {4}--\n {4}state "shipping" as processing__shipping/);
    expect(diagram.split('\n')).toContain('  processing --> complete : onDone');
  });
});

describe('deep history', () => {
  const names: Names = {
    ON: 'player.off|power.on|0',
    OFF: 'player.on|power.off|0',
    S: 'player.on.tuner|source.switch|0',
    FA: 'player.on.tuner.fm|band.switch|0',
    AF: 'player.on.tuner.am|band.switch|0',
    C: 'player.on.cd|source.switch|0',
  };
  const run = runCoverage(playerMachine);

  it('equals the hand count: 8 states, 6 transitions, 16 vertices, 17 pairs, 1/1 history restores', () => {
    expect(figures(run, names)).toEqual({
      states: all(8),
      transitions: all(6),
      transitionPairs: all(17),
      history: all(1),
      vertices: [16],
      pairs: sorted([
        'ON→FA',
        'ON→S',
        'ON→OFF',
        'ON→AF',
        'ON→C',
        'OFF→ON',
        'S→C',
        'S→OFF',
        'FA→AF',
        'FA→S',
        'FA→OFF',
        'AF→FA',
        'AF→S',
        'AF→OFF',
        'C→FA',
        'C→S',
        'C→OFF',
      ]),
      mismatches: [],
      failures: [],
    });
  });

  const restoring =
    'off —power.on→ on.tuner.fm —band.switch→ on.tuner.am —power.off→ off —power.on→ on.tuner.am —band.switch→ on.tuner.fm —band.switch→ on.tuner.am';

  it('keeps the recorded history in the vertex, so a path restores it', () => {
    const path = run.pathSet.paths.find((p) => p.name === restoring)!;
    expect(path.steps[2]!.expected.history).toEqual({ 'player.on.hist': ['player.on.tuner.am'] });
    expect(path.steps[3]!.expected.key).toEqual({ value: { on: { tuner: 'am' } }, context: {} });
    expect(run.replays.flatMap((replay) => replay.observed.flatMap((step) => step.history))).toContainEqual({
      machineId: 'player',
      id: 'player.on.hist',
      recorded: true,
    });
  });

  it('catches a mutant that records the same history but restores the wrong child', () => {
    const mutant = bypassed(playerMachine, 'off', 'power.on', 'on');
    const result = replayPath(mutant, run.pathSet.paths.find((p) => p.name === restoring)!);
    expect(result.mismatches[0]).toMatchObject({ step: 3, label: 'power.on' });
    expect(result.mismatches[0]!.message).toMatch(
      /expected .*"value":\{"on":\{"tuner":"am"\}\}[\s\S]*observed .*"value":\{"on":\{"tuner":"fm"\}\}/,
    );
  });

  it('catches a mutant whose history is shallow, at the step that records it', () => {
    const mutant = shallowed(playerMachine, 'on');
    const result = replayPath(mutant, run.pathSet.paths.find((p) => p.name === restoring)!);
    expect(result.mismatches[0]).toMatchObject({ step: 2, label: 'power.off' });
    expect(result.mismatches[0]!.message).toMatch(/observed .*"history":\{"player\.on\.hist":\["player\.on\.tuner"\]\}/);
    // Generated from the mutant itself, the figures leave the hand count: 12 vertices, not 16.
    expect(runCoverage(mutant).pathSet.explorations[0]!.vertices.size).toBe(12);
  });

  it('draws the history state as H* with a note', () => {
    const diagram = toMermaid(playerMachine).split('\n');
    expect(diagram).toContain('    state "H*" as on__hist');
    expect(diagram).toContain('      H* deep history of on, restores the last active states at every depth inside it');
    expect(diagram).toContain('  off --> on__hist : power.on');
  });
});

describe('history directly under a parallel state', () => {
  const names: Names = {
    OPEN: 'editor.editing|preview.open|0',
    BON: 'editor.editing.bold.off|bold.toggle|0',
    BOFF: 'editor.editing.bold.on|bold.toggle|0',
    ION: 'editor.editing.italic.off|italic.toggle|0',
    IOFF: 'editor.editing.italic.on|italic.toggle|0',
    CLOSE: 'editor.previewing|preview.close|0',
  };
  const run = runCoverage(editorMachine);
  const toggles = ['BON', 'BOFF', 'ION', 'IOFF'];
  const undo: Record<string, string> = { BON: 'BOFF', BOFF: 'BON', ION: 'IOFF', IOFF: 'ION' };
  const otherRegion: Record<string, string[]> = { BON: ['ION', 'IOFF'], BOFF: ['ION', 'IOFF'], ION: ['BON', 'BOFF'], IOFF: ['BON', 'BOFF'] };

  it('equals the hand count: 10 states, 6 transitions, 24 vertices, 22 pairs, 1/1 history restores', () => {
    expect(figures(run, names)).toEqual({
      states: all(10),
      transitions: all(6),
      transitionPairs: all(22),
      history: all(1),
      vertices: [24],
      pairs: sorted([
        'OPEN→CLOSE',
        ...['OPEN', ...toggles].map((next) => `CLOSE→${next}`),
        ...toggles.flatMap((t) => [`${t}→OPEN`, `${t}→${undo[t]}`, ...otherRegion[t]!.map((o) => `${t}→${o}`)]),
      ]),
      mismatches: [],
      failures: [],
    });
    expect(run.coverage.regions.map((region) => [region.region, region.states, region.transitions])).toEqual([
      ['editor.editing.bold', all(3), all(2)],
      ['editor.editing.italic', all(3), all(2)],
    ]);
  });

  it('catches a mutant that comes back to the initial toggles instead of the recorded ones', () => {
    const mutant = bypassed(editorMachine, 'previewing', 'preview.close', 'editing');
    const failed = run.pathSet.paths.map((path) => replayPath(mutant, path)).filter((replay) => replay.mismatches.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((replay) => replay.mismatches[0]!.label))).toEqual(new Set(['preview.close']));
  });

  it('catches a mutant whose history is shallow (regions restored at their initial states)', () => {
    const mutant = shallowed(editorMachine, 'editing');
    const failed = run.pathSet.paths.map((path) => replayPath(mutant, path)).filter((replay) => replay.mismatches.length);
    expect(new Set(failed.map((replay) => replay.mismatches[0]!.label))).toEqual(new Set(['preview.open']));
  });

  it('gives a history state that is never entered a history reason, not an initial-state one', () => {
    const { coverage } = runCoverage(editorMachine, { ignoreEvents: ['preview.close'] });
    expect(coverage.uncovered.filter((item) => item.id === 'editor.editing.hist')).toEqual([
      { kind: 'history', machineId: 'editor', id: 'editor.editing.hist', reason: 'no generated path takes a transition into it' },
      {
        kind: 'state',
        machineId: 'editor',
        id: 'editor.editing.hist',
        reason: '1 transition(s) target this history state, none was taken on a generated path',
      },
    ]);
    expect(coverage.history).toEqual({ covered: 0, total: 1 });
    expect(coverageProblems(coverage).join('\n')).toMatch(/history restores 0\/1/);
  });

  it('draws the history state in the first section of the parallel state', () => {
    const diagram = toMermaid(editorMachine);
    expect(diagram).toMatch(/state editing \{\n {4}state "H\*" as editing__hist\n {4}state "bold" as editing__bold/);
    expect(diagram).toContain('      nothing recorded → every region at its initial state');
    expect(diagram).toContain('  previewing --> editing__hist : preview.close');
  });
});

describe('always chains', () => {
  const names: Names = {
    excellent: 'grader.grading|always|0',
    passing: 'grader.grading|always|1',
    failing: 'grader.grading|always|2',
    honours: 'grader.checkingHonours|always|0',
    passed: 'grader.checkingHonours|always|1',
    revised: 'grader.failed|score.revised|0',
  };
  const run = runCoverage(graderMachine, graderCoverage);

  it('equals the hand count: 7 states, 6 transitions, 5 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(7),
      transitions: all(6),
      transitionPairs: all(5),
      history: all(0),
      vertices: [1, 1, 1, 3],
      pairs: sorted(['passing→honours', 'passing→passed', 'revised→passing', 'revised→failing', 'failing→revised']),
      mismatches: [],
      failures: [],
    });
  });

  it('covers an initial configuration that is already final with a path of no step, output checked', () => {
    const initialOnly = run.pathSet.paths.filter((path) => path.steps.length === 0);
    expect(Object.fromEntries(initialOnly.map((path) => [path.variant, path.initial.final]))).toEqual({
      '95': { output: { grade: 'excellent', score: 95 } },
      '85': { output: { grade: 'honours', score: 85 } },
      '60': { output: { grade: 'passed', score: 60 } },
    });
  });
});

describe('root-level after', () => {
  const names: Names = {
    T: 'session|xstate.after.sessionTimeout.session|0',
    A: 'session.idle|user.active|0',
    I: 'session.active|user.idle|0',
    L: 'session.active|user.logout|0',
    G: 'session.expired|user.login|0',
  };
  const run = runCoverage(sessionMachine);

  it('equals the hand count: 5 states, 5 transitions, 6 vertices, 7 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(5),
      transitions: all(5),
      transitionPairs: all(7),
      history: all(0),
      vertices: [6],
      pairs: sorted(['A→I', 'A→L', 'A→T', 'I→A', 'I→T', 'T→G', 'G→A']),
      mismatches: [],
      failures: [],
    });
  });

  it('fires once: after the login nothing is pending', () => {
    const path = run.pathSet.paths.find((p) => p.steps.some((step) => step.label === 'user.login'))!;
    const timer = path.steps.find((step) => step.timers.length)!;
    expect(timer.timers[0]).toMatchObject({ delay: 'sessionTimeout', dueIn: SESSION_TIMEOUT });
    expect(path.steps.find((step) => step.label === 'user.login')!.expected.timers).toEqual([]);
  });

  it('draws the timer from idle and active only, with no impossible self-loop', () => {
    const edges = toMermaid(sessionMachine)
      .split('\n')
      .filter((line) => line.includes('after sessionTimeout'));
    expect(edges).toEqual(['  idle --> expired : after sessionTimeout', '  active --> expired : after sessionTimeout']);
  });
});

describe('payload-guarded game', () => {
  const names: Names = {
    T: 'nim.playing|take|0',
    E: 'nim.checking|always|0',
    P: 'nim.checking|always|1',
  };
  const run = runCoverage(nimMachine, nimCoverage);

  it('equals the hand count: 4 states, 3 transitions, 8 vertices, 3 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(4),
      transitions: all(3),
      transitionPairs: all(3),
      history: all(0),
      vertices: [8],
      pairs: sorted(['T→E', 'T→P', 'P→T']),
      mismatches: [],
      failures: [],
    });
    const winners = run.pathSet.paths.map((path) => path.steps.at(-1)?.final?.output).filter(Boolean);
    expect(new Set(winners.map((output) => JSON.stringify(output)))).toEqual(new Set(['{"winner":"alice"}', '{"winner":"bob"}']));
  });

  it('projects the context: without the projection the move log makes 12 vertices', () => {
    expect(runCoverage(nimMachine, { events: nimEvents }).pathSet.explorations[0]!.vertices.size).toBe(12);
  });

  it('without payload variants the guard never passes, and the gap names it', () => {
    const { coverage } = runCoverage(nimMachine);
    expect(coverage.transitions).toEqual({ covered: 0, total: 3 });
    expect(coverage.states).toEqual({ covered: 2, total: 4 });
    expect(coverage.uncovered).toContainEqual(
      expect.objectContaining({ id: names.T, reason: expect.stringMatching(/^guard canTake never held when event take reached nim\.playing/) }),
    );
  });
});

describe('final outputs', () => {
  const coin = setup({
    types: { context: {} as { side: string | null }, events: {} as { type: 'flip'; side: string } | { type: 'reveal' } },
    actions: { land: assign({ side: ({ event }) => (event as { side: string }).side }) },
  }).createMachine({
    id: 'coin',
    context: { side: null },
    output: ({ event }) => event.output,
    initial: 'flipping',
    states: {
      flipping: { on: { flip: { target: 'landed', actions: 'land' } } },
      landed: { on: { reveal: 'revealed' } },
      revealed: { type: 'final', output: ({ context }) => ({ side: context.side, revealed: true }) },
    },
  });
  const options: GenerateOptions = {
    events: { flip: ['heads', 'tails'].map((side) => ({ label: `flip(${side})`, event: { type: 'flip', side } })) },
    // Wrong on purpose: the side decides the output, the projection drops it.
    projectContext: () => ({}),
  };
  const pathThroughTails = () => {
    const path = structuredClone(generatePaths(coin, options).paths.find((p) => p.steps.length === 2)!);
    path.steps[0] = { ...path.steps[0]!, label: 'flip(tails)', event: { type: 'flip', side: 'tails' } as EventObject };
    return path;
  };

  it('catches a key that merges states whose outputs differ, and says what to do', () => {
    const result = replayPath(coin, pathThroughTails(), replayOptionsOf(options));
    expect(result.mismatches.map((m) => m.message)).toEqual([
      'final output after "reveal" differs:\n  expected {"side":"heads","revealed":true}\n  observed {"side":"tails","revealed":true}\n' +
        '  (if only the key merges states whose outputs differ: keep what the output reads in the key, or leave it out with projectOutput)',
    ]);
  });

  it('compares only what projectOutput keeps', () => {
    const narrowed: GenerateOptions = { ...options, projectOutput: (output) => ({ revealed: (output as { revealed: boolean }).revealed }) };
    const path = structuredClone(generatePaths(coin, narrowed).paths.find((p) => p.steps.length === 2)!);
    expect(path.steps[1]!.final).toEqual({ output: { revealed: true } });
    path.steps[0] = { ...path.steps[0]!, label: 'flip(tails)', event: { type: 'flip', side: 'tails' } as EventObject };
    expect(replayPath(coin, path, replayOptionsOf(narrowed)).mismatches).toEqual([]);
  });
});

describe('parallel invoked promises', () => {
  const names: Names = {
    PD: 'dashboard.profile.loading|xstate.done.actor.loadProfile|0',
    PE: 'dashboard.profile.loading|xstate.error.actor.loadProfile|0',
    FD: 'dashboard.feed.loading|xstate.done.actor.loadFeed|0',
    FE: 'dashboard.feed.loading|xstate.error.actor.loadFeed|0',
  };
  const expected = {
    states: all(9),
    transitions: all(4),
    transitionPairs: all(8),
    history: all(0),
    vertices: [9],
    pairs: sorted(['PD→FD', 'PD→FE', 'PE→FD', 'PE→FE', 'FD→PD', 'FD→PE', 'FE→PD', 'FE→PE']),
    mismatches: [],
    failures: [],
  };

  it('equals the hand count: 9 states, 4 transitions, 9 vertices, 8 pairs', () => {
    expect(figures(runCoverage(dashboardMachine), names)).toEqual(expected);
  });

  it('gives the same figures as an actor system, stand-ins persisted with the snapshot', () => {
    const run = runCoverage(dashboardMachine, { system: true });
    expect(figures(run, names)).toEqual(expected);
    const settled = run.pathSet.paths.flatMap((path) => path.steps.map((step) => step.expected.invokes)).filter(Boolean);
    expect(settled).toEqual([]);
  });

  it('covers the initial configuration even when nothing can happen', () => {
    const { coverage, pathSet } = runCoverage(dashboardMachine, { invokes: { loadProfile: [], loadFeed: [] } });
    expect(pathSet.paths.map((path) => path.steps.length)).toEqual([0]);
    expect(coverage.states).toEqual({ covered: 5, total: 9 });
    expect(coverage.coveredStates).toEqual(
      ['dashboard', 'dashboard.feed', 'dashboard.feed.loading', 'dashboard.profile', 'dashboard.profile.loading'].map((id) => `dashboard ${id}`),
    );
  });

  it('keeps an invoke that ended without leaving its state in the vertex', () => {
    const waiting = setup({ actors: { job: dashboardMachine } }).createMachine({
      id: 'waiting',
      initial: 'working',
      states: { working: { invoke: { id: 'job', src: 'job', onDone: { actions: () => {} } }, on: { stop: 'stopped' } }, stopped: {} },
    });
    const run = runCoverage(waiting);
    expect(run.replays.flatMap((replay) => replay.mismatches)).toEqual([]);
    const afterDone = run.pathSet.paths.flatMap((path) => path.steps).find((step) => step.label === 'job.done')!;
    expect(afterDone.expected.invokes).toEqual(['job:done']);
    expect(afterDone.enabled).toEqual(['stop']);
    expect(run.coverage.transitions).toEqual(all(2));
  });
});

describe('an exception inside a machine', () => {
  const run = runCoverage(scoreboardMachine, scoreboardCoverage);

  it('is reported with its path, state and event, and the run goes on', () => {
    expect(run.coverage.failures).toEqual([
      {
        machineId: 'scoreboard',
        variant: 'default',
        prefix: [],
        state: 'open',
        event: 'board.closed',
        message: 'Reduce of empty array with no initial value',
      },
    ]);
    expect(figures(run, { add: 'scoreboard.open|score.added|0', close: 'scoreboard.open|board.closed|0' })).toMatchObject({
      states: all(3),
      transitions: all(2),
      transitionPairs: all(2),
      vertices: [3],
      pairs: ['add→add', 'add→close'],
      mismatches: [],
    });
    expect(coverageProblems(run.coverage)).toEqual([
      'machine failure [default] board.closed (in open): Reduce of empty array with no initial value',
    ]);
  });

  it('names the steps that lead to it, in a system too', () => {
    // The countdown's final state has an output but its root has none, so the oven reads `undefined.rang`.
    const countdown = setup({ delays: { bakeTime: 1_000 } }).createMachine({
      id: 'countdown',
      initial: 'counting',
      states: { counting: { after: { bakeTime: 'finished' } }, finished: { type: 'final', output: { rang: true } } },
    });
    const { coverage } = runCoverage(ovenMachine.provide({ actors: { countdown } }), { system: true });
    expect(coverageProblems(coverage)).toContain(
      "machine failure [default] start → after bakeTime[timer] (in baking{timer:counting}): Cannot read properties of undefined (reading 'rang')",
    );
    expect(coverage.transitions).toEqual({ covered: 3, total: 5 });
  });

  it('at the start too: no path, the failure named', () => {
    const broken = setup({ types: { input: {} as { limit?: number } } }).createMachine({
      id: 'broken',
      context: ({ input }) => {
        if (input.limit === undefined) throw new Error('limit is required');
        return { limit: input.limit };
      },
      initial: 'ready',
      states: { ready: {} },
    });
    const run = runCoverage(broken, {
      inputs: [
        { label: 'no limit', input: {} },
        { label: 'limit 3', input: { limit: 3 } },
      ],
    });
    expect(run.coverage.failures).toEqual([
      { machineId: 'broken', variant: 'no limit', prefix: [], state: '(none)', event: 'start', message: 'limit is required' },
    ]);
    expect(run.pathSet.paths.map((path) => [path.variant, path.steps.length])).toEqual([['limit 3', 0]]);
    expect(run.coverage.states).toEqual(all(2));
  });

  it('makes the CLI exit 1 and print it', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runCli } = await import('../../src/coverage/cli.js');
    const lines: string[] = [];
    const out = mkdtempSync(join(tmpdir(), 'coverage-cli-'));
    const args = [
      '--module',
      'test/coverage/samples/scoreboard.ts',
      '--export',
      'scoreboardMachine',
      '--options',
      'scoreboardCoverage',
      '--out',
      out,
    ];
    const result = await runCli(args, (line) => lines.push(line));
    expect(result.exitCode).toBe(1);
    expect(lines[0]).toBe('scoreboard: states 3/3, transitions 2/2, transition pairs 2/2, 2 paths [FAIL]');
    expect(lines.slice(1)).toEqual(['✗ machine failure [default] board.closed (in open): Reduce of empty array with no initial value']);
    const json = JSON.parse(readFileSync(join(out, 'path-coverage.json'), 'utf8'));
    expect(json.machines.scoreboard.failures).toHaveLength(1);
    expect(readFileSync(join(out, 'path-coverage.md'), 'utf8')).toContain('### Machine failures (1)');
  });
});

describe('an actor system whose child has its own after (no context convention)', () => {
  const names: Names = {
    S: 'oven.idle|start|0',
    O: 'oven.baking|door.opened|0',
    D: 'oven.baking|xstate.done.actor.timer|0',
    C: 'oven.paused|door.closed|0',
    T: 'countdown.counting|xstate.after.bakeTime.countdown.counting|0',
  };
  const options: GenerateOptions = { system: true };
  const run = runCoverage(ovenMachine, options);

  it('equals the hand count: 8 states, 5 transitions, 4 vertices, 6 pairs', () => {
    expect(figures(run, names)).toEqual({
      states: all(8),
      transitions: all(5),
      transitionPairs: all(6),
      history: all(0),
      vertices: [4],
      pairs: sorted(['T→D', 'S→O', 'S→T', 'O→C', 'C→O', 'C→T']),
      mismatches: [],
      failures: [],
    });
    expect(run.coverage.byMachine).toEqual({
      oven: { states: all(5), transitions: all(4) },
      countdown: { states: all(3), transitions: all(1) },
    });
  });

  it("fires the child's timer at the delay XState resolves, and drops it with the child", () => {
    const steps = run.pathSet.paths.flatMap((path) => path.steps);
    expect(steps.find((step) => step.timers.length)!.timers).toEqual([
      { delay: 'bakeTime', eventType: 'xstate.after.bakeTime.countdown.counting', target: ['timer'], dueIn: 1_000 },
    ]);
    expect(steps.find((step) => step.label === 'door.opened')!.expected.timers).toEqual([]);
    expect(steps.find((step) => step.label === 'after bakeTime[timer]')!.final).toEqual({ output: { baked: true } });
  });

  it('still checks due times a machine records itself in context.deadlines', () => {
    const recording = setup({ delays: { bakeTime: 1_000 } }).createMachine({
      id: 'countdown',
      context: { deadlines: { bakeTime: 999 } },
      initial: 'counting',
      states: { counting: { after: { bakeTime: 'finished' } }, finished: { type: 'final' } },
    });
    const oven = ovenMachine.provide({ actors: { countdown: recording } });
    const { coverage } = runCoverage(oven, options);
    expect(coverage.failures.map((failure) => [failure.event, failure.message])).toEqual([
      ['start', 'xstate.after.bakeTime.countdown.counting at timer: the machine records its due time as 999, XState schedules it at 1000'],
    ]);
    expect(
      runCoverage(ovenMachine.provide({ actors: { countdown: countdownMachine } }), { ...options, recordedDeadlines: false }).coverage.failures,
    ).toEqual([]);
  });
});

describe('diagnoses', () => {
  const machine = setup({ guards: { never: () => false } }).createMachine({
    id: 'lab',
    initial: 'a',
    states: {
      a: { on: { go: { guard: 'never', target: 'b.inner' } } },
      b: { initial: 'outer', states: { outer: {}, inner: {} } },
      island: {},
    },
  });
  const { coverage } = runCoverage(machine);
  const reason = (id: string) => coverage.uncovered.find((item) => item.kind === 'state' && item.id === id)?.reason;

  it('a state whose child is targeted is not unreachable by construction', () => {
    expect(reason('lab.b')).toBe('never active in the explored graph (1 transition(s) enter it or a state inside it, none was taken)');
  });

  it('a state nothing can enter is: a sibling of the targeted child, a state with no way in', () => {
    expect(reason('lab.b.outer')).toMatch(/unreachable by construction$/);
    expect(reason('lab.island')).toMatch(/unreachable by construction$/);
  });
});

describe('docs/coverage.md', () => {
  const docs = readFileSync(new URL('../../docs/coverage.md', import.meta.url), 'utf8');
  const samples: Array<[string, string, CoverageRun]> = [
    ['fetch', 'fetch', runCoverage(fetchMachine, fetchCoverage)],
    ['checkout', 'checkout', runCoverage(checkoutMachine)],
    ['player', 'history', runCoverage(playerMachine)],
    ['editor', 'history', runCoverage(editorMachine)],
    ['grader', 'grader', runCoverage(graderMachine, graderCoverage)],
    ['session', 'session', runCoverage(sessionMachine)],
    ['nim', 'nim', runCoverage(nimMachine, nimCoverage)],
    ['dashboard', 'dashboard', runCoverage(dashboardMachine)],
    ['scoreboard', 'scoreboard', runCoverage(scoreboardMachine, scoreboardCoverage)],
    ['oven', 'oven', runCoverage(ovenMachine, { system: true })],
  ];

  it('lists every sample with the figures the engine gives', () => {
    for (const [name, file, { coverage, pathSet }] of samples) {
      const full = [coverage.states, coverage.transitions, coverage.transitionPairs, coverage.history].every((c) => c.covered === c.total);
      expect(full, name).toBe(true);
      const vertices = pathSet.explorations.map((exploration) => exploration.vertices.size).join(' + ');
      const row = `| ${name} | [${file}.ts](../test/coverage/samples/${file}.ts) | ${coverage.states.total} | ${coverage.transitions.total} | ${vertices} | ${coverage.transitionPairs.total} | ${coverage.history.total} |`;
      expect(docs, name).toContain(row);
    }
  });

  it('quotes the CLI lines it shows', () => {
    expect(docs).toContain('fetch: states 6/6, transitions 5/5, transition pairs 6/6, 4 paths [ok]');
    expect(docs).toContain('✗ machine failure [default] board.closed (in open): Reduce of empty array with no initial value');
  });
});
