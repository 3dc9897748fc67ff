import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { activeStateIds, describeMachine, type MachineModel, type TransitionInfo } from './model.js';
import { feasiblePairs, machinesOf, pairsOf, qualified, type PathSet } from './paths.js';
import type { ReplayResult } from './replay.js';
import type { Vertex } from './traverse.js';

export interface Counter {
  covered: number;
  total: number;
}

export interface UncoveredItem {
  kind: 'state' | 'transition' | 'transitionPair' | 'replay';
  machineId: string;
  id: string;
  reason: string;
}

export interface MachineCoverage {
  /** The traversed machine (the root of a system). */
  machineId: string;
  /** Machines whose definitions are counted: the root and, for a system, its child machines. */
  machines: string[];
  states: Counter;
  transitions: Counter;
  transitionPairs: Counter;
  paths: number;
  uncovered: UncoveredItem[];
  byMachine: Record<string, { states: Counter; transitions: Counter }>;
  /** Ids, for diagrams and reports. */
  coveredStates: string[];
  coveredTransitions: string[];
}

const percent = (counter: Counter) => (counter.total === 0 ? 100 : (100 * counter.covered) / counter.total);
export const ratio = percent;

/** Active state node ids (qualified by machine id) of a traversal vertex, root and children. */
function activeInVertex(vertex: Vertex, machines: Map<string, AnyStateMachine>, kind: PathSet['kind'], rootId: string): string[] {
  if (kind === 'machine') {
    const snapshot = vertex.state as AnyMachineSnapshot;
    return snapshot._nodes.map((node) => `${rootId} ${node.id}`);
  }
  const found: string[] = [];
  const visit = (persisted: { value?: unknown; children?: Record<string, { snapshot?: unknown; src?: unknown }> }, machineId: string) => {
    const machine = [...machines.values()].find((m) => m.id === machineId);
    if (machine && 'value' in persisted) {
      for (const id of activeStateIds(machine, persisted.value)) found.push(`${machineId} ${id}`);
    }
    for (const child of Object.values(persisted.children ?? {})) {
      const snapshot = child.snapshot as { value?: unknown; machineId?: string } | undefined;
      const childMachine = typeof child.src === 'string' ? machines.get(child.src)?.id : undefined;
      if (snapshot && childMachine) visit(snapshot as never, childMachine);
    }
  };
  visit(vertex.state as never, rootId);
  return found;
}

/**
 * States, transitions and transition pairs covered by the replayed paths, against the machine
 * definitions (every state node, every transition definition with each guarded alternative apart)
 * and the pairs the explored graph makes feasible. Every uncovered item carries a reason.
 */
export function computeCoverage(pathSet: PathSet, replays: readonly ReplayResult[]): MachineCoverage {
  const machines = pathSet.kind === 'system' ? machinesOf(pathSet.machine) : [pathSet.machine];
  // A child's `src` is its key in `setup({ actors })`; map those keys to machines too.
  const byKey = new Map<string, AnyStateMachine>(machines.map((m) => [m.id, m]));
  for (const [src, logic] of Object.entries(pathSet.machine.implementations.actors ?? {})) {
    const machine = machines.find((m) => m === logic);
    if (machine) byKey.set(src, machine);
  }
  const models: MachineModel[] = machines.map(describeMachine);
  const transitionInfo = new Map<string, TransitionInfo>();
  for (const model of models) for (const t of model.transitions) transitionInfo.set(qualified(t), t);

  const coveredStates = new Set<string>();
  const coveredTransitions = new Set<string>();
  const coveredPairs = new Set<string>();
  const uncovered: UncoveredItem[] = [];
  for (const replay of replays) {
    for (const step of replay.observed) {
      for (const state of step.states) coveredStates.add(`${state.machineId} ${state.id}`);
      for (const t of step.transitions) {
        coveredTransitions.add(qualified(t));
        const info = transitionInfo.get(qualified(t));
        for (const target of info?.targets ?? []) coveredStates.add(`${t.machineId} ${target}`);
      }
    }
    for (const pair of pairsOf(replay.observed.flatMap((step) => step.transitions))) coveredPairs.add(pair);
    for (const mismatch of replay.mismatches) {
      uncovered.push({ kind: 'replay', machineId: pathSet.machineId, id: replay.path.id, reason: `step ${mismatch.step + 1}: ${mismatch.message}` });
    }
  }

  // What the traversal saw: for the reasons of uncovered items.
  const exploredActive = new Set<string>();
  const exploredTaken = new Set<string>();
  const feasible = new Set<string>();
  for (const exploration of pathSet.explorations) {
    for (const vertex of exploration.vertices.values()) {
      for (const id of activeInVertex(vertex, byKey, pathSet.kind, pathSet.machineId)) exploredActive.add(id);
    }
    for (const t of exploration.initial.taken) exploredTaken.add(qualified(t));
    for (const edge of exploration.edges) for (const t of edge.vertex.taken) exploredTaken.add(qualified(t));
    for (const pair of feasiblePairs(exploration).keys()) feasible.add(pair);
  }
  for (const pair of coveredPairs) feasible.add(pair);

  const byMachine: MachineCoverage['byMachine'] = {};
  let statesTotal = 0;
  let statesCovered = 0;
  let transitionsTotal = 0;
  let transitionsCovered = 0;
  for (const model of models) {
    const states = model.states.filter((state) => coveredStates.has(`${model.machineId} ${state.id}`)).length;
    const transitions = model.transitions.filter((t) => coveredTransitions.has(qualified(t))).length;
    byMachine[model.machineId] = {
      states: { covered: states, total: model.states.length },
      transitions: { covered: transitions, total: model.transitions.length },
    };
    statesTotal += model.states.length;
    statesCovered += states;
    transitionsTotal += model.transitions.length;
    transitionsCovered += transitions;

    for (const state of model.states) {
      if (coveredStates.has(`${model.machineId} ${state.id}`)) continue;
      const incoming = model.transitions.filter((t) => t.targets.includes(state.id));
      const reason =
        incoming.length === 0 && state.parent !== null && !isInitialChild(machines, model.machineId, state.id)
          ? 'no transition targets this state and it is no initial state: unreachable by construction'
          : exploredActive.has(`${model.machineId} ${state.id}`)
            ? 'reached in the explored graph but on no generated path'
            : `never active in the explored graph (${incoming.length} transition(s) target it, none was taken)`;
      uncovered.push({ kind: 'state', machineId: model.machineId, id: state.id, reason });
    }
    for (const t of model.transitions) {
      if (coveredTransitions.has(qualified(t))) continue;
      uncovered.push({ kind: 'transition', machineId: model.machineId, id: t.id, reason: transitionReason(t, model, exploredActive, exploredTaken) });
    }
  }
  for (const pair of [...feasible].sort()) {
    if (!coveredPairs.has(pair)) {
      uncovered.push({ kind: 'transitionPair', machineId: pathSet.machineId, id: pair, reason: 'feasible in the explored graph, never consecutive on a generated path' });
    }
  }

  return {
    machineId: pathSet.machineId,
    machines: models.map((model) => model.machineId),
    states: { covered: statesCovered, total: statesTotal },
    transitions: { covered: transitionsCovered, total: transitionsTotal },
    transitionPairs: { covered: [...coveredPairs].filter((pair) => feasible.has(pair)).length, total: feasible.size },
    paths: pathSet.paths.length,
    uncovered,
    byMachine,
    coveredStates: [...coveredStates].sort(),
    coveredTransitions: [...coveredTransitions].sort(),
  };
}

function isInitialChild(machines: readonly AnyStateMachine[], machineId: string, stateId: string): boolean {
  const machine = machines.find((m) => m.id === machineId);
  const node = machine?.getStateNodeById(stateId);
  const parent = node?.parent;
  if (!parent) return true;
  const initial = parent.initial?.target ?? [];
  return parent.type === 'parallel' || initial.some((target: { id: string }) => target.id === stateId);
}

function transitionReason(t: TransitionInfo, model: MachineModel, active: Set<string>, taken: Set<string>): string {
  const earlier = model.transitions.find(
    (other) => other.source === t.source && other.eventType === t.eventType && other.index < t.index && other.guard === null,
  );
  if (earlier) return `shadowed: candidate #${earlier.index} for the same event has no guard, so this one can never be chosen`;
  if (!active.has(`${model.machineId} ${t.source}`)) return `its source state ${t.source} is never active in the explored graph`;
  if (taken.has(qualified(t))) return 'taken in the explored graph but on no generated path';
  const event = t.kind === 'always' ? 'the eventless check' : t.kind === 'after' ? `the timer ${t.delay}` : `event ${t.eventType}`;
  if (t.guard) return `guard ${t.guard} never held when ${event} reached ${t.source} (no fixture variant or state satisfied it)`;
  return `${event} never reached ${t.source} while it was active (no fixture variant sends it there, or an earlier candidate always wins)`;
}

export interface GateOptions {
  /** Minimum covered transition pairs (a pinned figure). */
  transitionPairs?: number;
}

/** Why a coverage result fails the gate: below 100 % states or transitions, below the pinned pairs, or a replay mismatch. */
export function coverageProblems(coverage: MachineCoverage, gate: GateOptions = {}): string[] {
  const problems: string[] = [];
  const replays = coverage.uncovered.filter((item) => item.kind === 'replay');
  if (replays.length) problems.push(`${replays.length} replay mismatch(es), first: ${replays[0]!.id} ${replays[0]!.reason.split('\n')[0]}`);
  const states = coverage.uncovered.filter((item) => item.kind === 'state');
  if (coverage.states.covered < coverage.states.total) {
    problems.push(`states ${coverage.states.covered}/${coverage.states.total}: ${states.map((item) => `${item.id} (${item.reason})`).join('; ')}`);
  }
  const transitions = coverage.uncovered.filter((item) => item.kind === 'transition');
  if (coverage.transitions.covered < coverage.transitions.total) {
    problems.push(
      `transitions ${coverage.transitions.covered}/${coverage.transitions.total}: ${transitions.map((item) => `${item.id} (${item.reason})`).join('; ')}`,
    );
  }
  if (gate.transitionPairs !== undefined && coverage.transitionPairs.covered < gate.transitionPairs) {
    problems.push(`transition pairs ${coverage.transitionPairs.covered} < pinned ${gate.transitionPairs}`);
  }
  return problems;
}
