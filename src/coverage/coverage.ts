import type { AnyMachineSnapshot, AnyStateNode } from 'xstate';
import { prepareMachine } from './actors.js';
import { activeStateIds, describeMachine, enterableStates, invokeIdOf, type MachineModel, type TransitionInfo } from './model.js';
import { feasiblePairs, machinesOf, pairsOf, qualified, type MachineFailure, type PathSet } from './paths.js';
import type { ReplayResult } from './replay.js';
import { walkPersisted } from './snapshots.js';
import type { Vertex } from './traverse.js';

/** How many of something are covered, out of how many. */
export interface Counter {
  covered: number;
  total: number;
}

/** A state, transition, pair or history restore no replayed path covers, or a replay that failed. */
export interface UncoveredItem {
  /** `history`: a history state that never restored a recorded configuration on a replayed path. */
  kind: 'state' | 'transition' | 'transitionPair' | 'history' | 'replay';
  machineId: string;
  id: string;
  reason: string;
}

/** One region of a parallel state: the states inside it and the transitions from them. */
export interface RegionCoverage {
  machineId: string;
  /** The parallel state. */
  parallel: string;
  /** The region (a child of the parallel state). */
  region: string;
  states: Counter;
  transitions: Counter;
}

/** Coverage of one machine (or system) by its replayed paths: states, transitions, pairs, history restores, and what is uncovered. */
export interface MachineCoverage {
  /** The traversed machine (the root of a system). */
  machineId: string;
  /** Machines whose definitions are counted: the root and, for a system, its child machines. */
  machines: string[];
  /** Every state node, history states included (covered when a transition into it is taken). */
  states: Counter;
  transitions: Counter;
  transitionPairs: Counter;
  /** History states that restored a recorded configuration (not just their default) on a replayed path. */
  history: Counter;
  /** Per region of every parallel state. */
  regions: RegionCoverage[];
  paths: number;
  uncovered: UncoveredItem[];
  /** Steps the machine could not take during the traversal. */
  failures: MachineFailure[];
  byMachine: Record<string, { states: Counter; transitions: Counter }>;
  /** Ids, for diagrams and reports. */
  coveredStates: string[];
  coveredTransitions: string[];
  /**
   * Items left out of the totals by `excludeFromCoverage` (for instance what only another setting of the
   * machine's input can reach), each with the reason. Absent when nothing was excluded.
   */
  excluded?: UncoveredItem[];
}

const percent = (counter: Counter) => (counter.total === 0 ? 100 : (100 * counter.covered) / counter.total);
export const ratio = percent;

/** Active state node ids (qualified by machine id) of a traversal vertex, root and children. */
function activeInVertex(vertex: Vertex, pathSet: PathSet): string[] {
  if (pathSet.kind === 'machine') {
    const snapshot = vertex.state as AnyMachineSnapshot;
    return activeStateIds(snapshot.machine, snapshot.value).map((id) => `${pathSet.machineId} ${id}`);
  }
  const found: string[] = [];
  walkPersisted(prepareMachine(pathSet.machine, 'system'), vertex.state as never, (node) => {
    if (!node.machine || node.snapshot.value === undefined) return;
    for (const id of activeStateIds(node.machine, node.snapshot.value)) found.push(`${node.machine.id} ${id}`);
  });
  return found;
}

const subtree = (node: AnyStateNode): AnyStateNode[] => [node, ...(Object.values(node.states) as AnyStateNode[]).flatMap(subtree)];

/**
 * States, transitions, transition pairs and history restores covered by the replayed paths, against
 * the machine definitions (every state node, every transition definition with each guarded
 * alternative apart, every history state) and the pairs the explored graph makes feasible. Every
 * uncovered item carries a reason; figures per region of each parallel state come along.
 */
export function computeCoverage(pathSet: PathSet, replays: readonly ReplayResult[]): MachineCoverage {
  const machines = pathSet.kind === 'system' ? machinesOf(pathSet.machine) : [pathSet.machine];
  const models: MachineModel[] = machines.map(describeMachine);
  const transitionInfo = new Map<string, TransitionInfo>();
  for (const model of models) for (const t of model.transitions) transitionInfo.set(qualified(t), t);

  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  const coveredPairs = new Set<string>();
  const restored = new Set<string>();
  const enteredHistory = new Set<string>();
  const uncovered: UncoveredItem[] = [];
  for (const replay of replays) {
    for (const step of replay.observed) {
      for (const state of step.states) coveredStates.add(`${state.machineId} ${state.id}`);
      for (const t of step.transitions) {
        coveredTransitions.add(qualified(t));
        const info = transitionInfo.get(qualified(t));
        for (const target of info?.targets ?? []) coveredStates.add(`${t.machineId} ${target}`);
      }
      for (const entry of step.history ?? []) {
        enteredHistory.add(`${entry.machineId} ${entry.id}`);
        if (entry.recorded) restored.add(`${entry.machineId} ${entry.id}`);
      }
    }
    for (const pair of pairsOf(replay.observed.flatMap((step) => step.transitions))) coveredPairs.add(pair);
    for (const mismatch of replay.mismatches) {
      uncovered.push({
        kind: 'replay',
        machineId: pathSet.machineId,
        id: replay.path.id,
        reason: `step ${mismatch.step + 1}: ${mismatch.message}`,
      });
    }
  }

  // What the traversal saw: for the reasons of uncovered items.
  const exploredActive = new Set<string>();
  const exploredTaken = new Set<string>();
  const feasible = new Set<string>();
  for (const exploration of pathSet.explorations) {
    for (const vertex of exploration.vertices.values()) {
      for (const id of activeInVertex(vertex, pathSet)) exploredActive.add(id);
    }
    for (const t of exploration.initial.taken) exploredTaken.add(qualified(t));
    for (const edge of exploration.edges) for (const t of edge.vertex.taken) exploredTaken.add(qualified(t));
    for (const pair of feasiblePairs(exploration).keys()) feasible.add(pair);
  }
  for (const pair of coveredPairs) feasible.add(pair);

  const byMachine: MachineCoverage['byMachine'] = {};
  const regions: RegionCoverage[] = [];
  let statesTotal = 0;
  let statesCovered = 0;
  let transitionsTotal = 0;
  let transitionsCovered = 0;
  let historyTotal = 0;
  for (const [index, model] of models.entries()) {
    const machine = machines[index]!;
    const isCovered = (id: string) => coveredStates.has(`${model.machineId} ${id}`);
    const states = model.states.filter((state) => isCovered(state.id)).length;
    const transitions = model.transitions.filter((t) => coveredTransitions.has(qualified(t))).length;
    byMachine[model.machineId] = {
      states: { covered: states, total: model.states.length },
      transitions: { covered: transitions, total: model.transitions.length },
    };
    statesTotal += model.states.length;
    statesCovered += states;
    transitionsTotal += model.transitions.length;
    transitionsCovered += transitions;

    for (const node of model.states) {
      const parallel = machine.getStateNodeById(node.id) as AnyStateNode;
      if (parallel.type !== 'parallel') continue;
      for (const region of Object.values(parallel.states) as AnyStateNode[]) {
        if (region.type === 'history') continue;
        const inside = new Set(subtree(region).map((n) => n.id));
        const regionTransitions = model.transitions.filter((t) => inside.has(t.source));
        regions.push({
          machineId: model.machineId,
          parallel: parallel.id,
          region: region.id,
          states: { covered: [...inside].filter(isCovered).length, total: inside.size },
          transitions: {
            covered: regionTransitions.filter((t) => coveredTransitions.has(qualified(t))).length,
            total: regionTransitions.length,
          },
        });
      }
    }

    const enterable = enterableStates(machine);
    for (const state of model.states) {
      if (state.type === 'history') {
        historyTotal++;
        if (!restored.has(`${model.machineId} ${state.id}`)) {
          uncovered.push({
            kind: 'history',
            machineId: model.machineId,
            id: state.id,
            reason: historyReason(model, state.id, enteredHistory.has(`${model.machineId} ${state.id}`)),
          });
        }
      }
      if (isCovered(state.id)) continue;
      uncovered.push({ kind: 'state', machineId: model.machineId, id: state.id, reason: stateReason(model, state, enterable, exploredActive) });
    }
    for (const t of model.transitions) {
      if (coveredTransitions.has(qualified(t))) continue;
      uncovered.push({
        kind: 'transition',
        machineId: model.machineId,
        id: t.id,
        reason: transitionReason(t, model, exploredActive, exploredTaken),
      });
    }
  }
  for (const pair of [...feasible].sort()) {
    if (!coveredPairs.has(pair)) {
      uncovered.push({
        kind: 'transitionPair',
        machineId: pathSet.machineId,
        id: pair,
        reason: 'feasible in the explored graph, never consecutive on a generated path',
      });
    }
  }
  const restoredCount = [...restored].filter((id) =>
    models.some((model) => model.states.some((s) => `${model.machineId} ${s.id}` === id)),
  ).length;

  return {
    machineId: pathSet.machineId,
    machines: models.map((model) => model.machineId),
    states: { covered: statesCovered, total: statesTotal },
    transitions: { covered: transitionsCovered, total: transitionsTotal },
    transitionPairs: { covered: [...coveredPairs].filter((pair) => feasible.has(pair)).length, total: feasible.size },
    history: { covered: restoredCount, total: historyTotal },
    regions,
    paths: pathSet.paths.length,
    uncovered,
    failures: pathSet.explorations.flatMap((exploration) => exploration.failures),
    byMachine,
    coveredStates: [...coveredStates].sort(),
    coveredTransitions: [...coveredTransitions].sort(),
  };
}

function stateReason(model: MachineModel, state: MachineModel['states'][number], enterable: Set<string>, active: Set<string>): string {
  const incoming = model.transitions.filter((t) => t.targets.includes(state.id));
  if (state.type === 'history') {
    return incoming.length === 0
      ? 'no transition targets this history state, so it can never restore anything'
      : `${incoming.length} transition(s) target this history state, none was taken on a generated path`;
  }
  if (!enterable.has(state.id)) {
    return 'no transition enters it or a state inside it, and it is neither an initial state nor a region of an enterable state: unreachable by construction';
  }
  if (active.has(`${model.machineId} ${state.id}`)) return 'reached in the explored graph but on no generated path';
  const parents = new Map(model.states.map((s) => [s.id, s.parent]));
  const inside = (id: string): boolean => id === state.id || (parents.get(id) ? inside(parents.get(id)!) : false);
  const entering = model.transitions.filter((t) => t.targets.some(inside));
  return `never active in the explored graph (${entering.length} transition(s) enter it or a state inside it, none was taken)`;
}

function historyReason(model: MachineModel, id: string, entered: boolean): string {
  if (entered) return 'entered only while nothing was recorded (its default): no path leaves its parent and comes back through it';
  const incoming = model.transitions.filter((t) => t.targets.includes(id));
  return incoming.length === 0 ? 'no transition targets it' : 'no generated path takes a transition into it';
}

function transitionReason(t: TransitionInfo, model: MachineModel, active: Set<string>, taken: Set<string>): string {
  const earlier = model.transitions.find(
    (other) => other.source === t.source && other.eventType === t.eventType && other.index < t.index && other.guard === null,
  );
  if (earlier) return `shadowed: candidate #${earlier.index} for the same event has no guard, so this one can never be chosen`;
  if (!active.has(`${model.machineId} ${t.source}`)) return `its source state ${t.source} is never active in the explored graph`;
  if (taken.has(qualified(t))) return 'taken in the explored graph but on no generated path';
  if (t.kind === 'invoke') {
    const id = invokeIdOf(t.eventType);
    const ending = t.eventType.startsWith('xstate.error.') ? 'fails' : 'completes';
    const declare = id ? `declare the outcome it needs in \`invokes: { '${id}': [...] }\`` : 'declare outcomes in `invokes` per invoke id';
    if (t.guard)
      return `guard ${t.guard} never held when ${id ?? 'the invoked actor'} ${ending === 'fails' ? 'failed' : 'completed'} (${declare})`;
    return `${id ?? 'the invoked actor'} never ${ending} while ${t.source} is active (${declare})`;
  }
  const event = t.kind === 'always' ? 'the eventless check' : t.kind === 'after' ? `the timer ${t.delay}` : `event ${t.eventType}`;
  if (t.guard) return `guard ${t.guard} never held when ${event} reached ${t.source} (no fixture variant or state satisfied it)`;
  return `${event} never reached ${t.source} while it was active (no fixture variant sends it there, or an earlier candidate always wins)`;
}

/** `kind machineId id`: how an uncovered item is named in pins and exclusion lists. */
export const uncoveredKey = (item: Pick<UncoveredItem, 'kind' | 'machineId' | 'id'>): string => `${item.kind} ${item.machineId} ${item.id}`;

/** Kinds `excludeFromCoverage` can take out of the totals. */
const EXCLUDABLE = new Set<UncoveredItem['kind']>(['state', 'transition', 'history']);

/**
 * The same coverage with some uncovered states, transitions or history states taken out of the totals
 * (moved to `excluded`, with `reason(item)`): what a variant of the input cannot reach by design, when
 * another variant covers it. Only items that are uncovered here and of those kinds are excluded; the
 * others are returned in `unknown` (an exclusion list that names a covered item is stale).
 */
export function excludeFromCoverage(
  coverage: MachineCoverage,
  keys: Iterable<string>,
  reason: (item: UncoveredItem) => string,
): { coverage: MachineCoverage; unknown: string[] } {
  const wanted = new Set(keys);
  const excluded: UncoveredItem[] = [];
  const uncovered: UncoveredItem[] = [];
  for (const item of coverage.uncovered) {
    if (EXCLUDABLE.has(item.kind) && wanted.delete(uncoveredKey(item))) excluded.push({ ...item, reason: reason(item) });
    else uncovered.push(item);
  }
  const less = (counter: Counter, n: number): Counter => ({ covered: counter.covered, total: counter.total - n });
  const count = (kind: UncoveredItem['kind'], machineId?: string) =>
    excluded.filter((item) => item.kind === kind && (machineId === undefined || item.machineId === machineId)).length;
  const byMachine: MachineCoverage['byMachine'] = {};
  for (const [id, counts] of Object.entries(coverage.byMachine)) {
    byMachine[id] = { states: less(counts.states, count('state', id)), transitions: less(counts.transitions, count('transition', id)) };
  }
  return {
    coverage: {
      ...coverage,
      states: less(coverage.states, count('state')),
      transitions: less(coverage.transitions, count('transition')),
      history: less(coverage.history, count('history')),
      byMachine,
      uncovered,
      excluded: [...(coverage.excluded ?? []), ...excluded],
    },
    unknown: [...wanted],
  };
}

/** Pinned minimums for {@link coverageProblems}: a coverage gate fails below them. */
export interface GateOptions {
  /** Minimum covered transition pairs (a pinned figure). */
  transitionPairs?: number;
}

/** `[variant] step → step → failing step (in state): message`. */
const formatFailure = (failure: MachineFailure) =>
  `[${failure.variant}] ${[...failure.prefix, failure.event].join(' → ')} (in ${failure.state}): ${failure.message}`;

export { formatFailure };

/**
 * Why a coverage result fails the gate: a machine failure, a replay mismatch, below 100 % states,
 * transitions or history restores, or below the pinned pairs.
 */
export function coverageProblems(coverage: MachineCoverage, gate: GateOptions = {}): string[] {
  const problems: string[] = [];
  for (const failure of coverage.failures ?? []) problems.push(`machine failure ${formatFailure(failure)}`);
  const replays = coverage.uncovered.filter((item) => item.kind === 'replay');
  if (replays.length) problems.push(`${replays.length} replay mismatch(es), first: ${replays[0]!.id} ${replays[0]!.reason.split('\n')[0]}`);
  const states = coverage.uncovered.filter((item) => item.kind === 'state');
  if (coverage.states.covered < coverage.states.total) {
    problems.push(
      `states ${coverage.states.covered}/${coverage.states.total}: ${states.map((item) => `${item.id} (${item.reason})`).join('; ')}`,
    );
  }
  const transitions = coverage.uncovered.filter((item) => item.kind === 'transition');
  if (coverage.transitions.covered < coverage.transitions.total) {
    problems.push(
      `transitions ${coverage.transitions.covered}/${coverage.transitions.total}: ${transitions.map((item) => `${item.id} (${item.reason})`).join('; ')}`,
    );
  }
  const history = coverage.uncovered.filter((item) => item.kind === 'history');
  if (coverage.history && coverage.history.covered < coverage.history.total) {
    problems.push(
      `history restores ${coverage.history.covered}/${coverage.history.total}: ${history.map((item) => `${item.id} (${item.reason})`).join('; ')}`,
    );
  }
  if (gate.transitionPairs !== undefined && coverage.transitionPairs.covered < gate.transitionPairs) {
    problems.push(`transition pairs ${coverage.transitionPairs.covered} < pinned ${gate.transitionPairs}`);
  }
  return problems;
}
