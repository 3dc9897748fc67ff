import type { AnyStateMachine, AnyStateNode, EventObject } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from 'xstate/graph';
import type { InvokeOutcome } from './actors.js';
import { describeMachine, type TransitionInfo } from './model.js';
import {
  CoverageError,
  machineLogic,
  systemLogic,
  type ActorPath,
  type CoverageLogic,
  type GraphEvent,
  type KeySource,
  type LogicOptions,
  type Projection,
  type TakenTransition,
  type Vertex,
} from './traverse.js';

/** What a path set must cover: every state, transition, graph edge, or feasible transition pair. */
export type Criterion = 'states' | 'transitions' | 'edges' | 'pairs';

/** One machine input to explore from, with a label for path names. */
export interface InputVariant {
  label: string;
  input: unknown;
}

/** Options of {@link generatePaths}: the logic options, input variants, system mode and the coverage criterion. */
export interface GenerateOptions extends LogicOptions {
  /** Machine input variants: one traversal each (default: one traversal without input). */
  inputs?: readonly InputVariant[];
  /** Traverse the whole actor system through `stepSystem` (machines that spawn children). */
  system?: boolean;
  /**
   * What the selected paths must cover in the explored graph, all by default:
   * every vertex, every transition definition, every edge (each event variant from each vertex) and
   * every feasible transition pair.
   */
  criteria?: readonly Criterion[];
  /** Maximum traversal iterations per input variant (default 50,000). */
  limit?: number;
  /** Readable state name for path names (default: state values of the root and its children). */
  describeState?: (state: KeySource) => string;
  /** Rule ids taken from transition descriptions into path tags (default `P3b`, `INV1`, `X1` …). */
  tagPattern?: RegExp;
}

/** One step of a generated path: an event sent (or timers fired) and what the machine should then show. */
export interface PathStep {
  label: string;
  event: EventObject;
  target: ActorPath;
  /** A timer step: the timers that fire (one, or several due at the same instant) and how long after the previous step. */
  timers: Array<{ delay: string; eventType: string; target: ActorPath; dueIn: number }>;
  expected: Projection;
  transitions: TakenTransition[];
  /** Emitted event types, `path:type`. */
  effects: string[];
  /** Labels of the host event variants the state accepts after the step (a widened guard shows here). */
  enabled: string[];
  state: string;
  /** An invoked actor ends in this step: `target` is the child, `event` what makes its stand-in end. */
  invoke?: { actorPath: ActorPath; id: string; outcome: InvokeOutcome };
  /** The root reached a final state: its output, which the replay compares. */
  final?: { output: unknown };
}

/** A step the machine could not take: it threw, or went to status `error`. The traversal goes on. */
export interface MachineFailure {
  machineId: string;
  variant: string;
  /** Step labels from the start to the state the failing step left (the shortest way there). */
  prefix: string[];
  /** That state, as `describeState` names it. */
  state: string;
  /** The failing step: an event label, a timer, an invoke outcome, or `start`. */
  event: string;
  message: string;
}

/** A path from the initial state, with the expected projection after every step; replay it with `replayPath`. */
export interface GeneratedPath {
  /** `${machineId}/${variant}#${n}`. */
  id: string;
  name: string;
  machineId: string;
  variant: string;
  input: unknown;
  initial: {
    expected: Projection;
    transitions: TakenTransition[];
    effects: string[];
    enabled: string[];
    state: string;
    final?: { output: unknown };
  };
  steps: PathStep[];
  /** Rule ids of the transitions the path takes. */
  tags: string[];
}

/** An edge of the explored graph: an event that takes at least one transition from one vertex to another. */
export interface Edge {
  from: string;
  to: string;
  eventKey: string;
  event: GraphEvent;
  vertex: Vertex;
}

/** The explored graph of one input variant: vertices, edges, shortest prefixes and failures. */
export interface Exploration {
  variant: InputVariant;
  logic: CoverageLogic;
  initialKey: string;
  initial: Vertex;
  vertices: Map<string, Vertex>;
  /** Edges that take at least one transition. */
  edges: Edge[];
  /** Shortest edge sequence from the initial vertex to each vertex. */
  prefix: Map<string, Edge[]>;
  /** Steps the machine could not take (none of them is an edge). */
  failures: MachineFailure[];
}

/** What {@link generatePaths} returns: the explorations and the paths that cover them. */
export interface PathSet {
  machineId: string;
  kind: 'machine' | 'system';
  machine: AnyStateMachine;
  explorations: Exploration[];
  paths: GeneratedPath[];
  options: GenerateOptions;
}

export const DEFAULT_TAG_PATTERN = /\b(?:INV\d+|[A-Z]\d+[a-z]?)\b/g;
const ALL_CRITERIA: readonly Criterion[] = ['states', 'transitions', 'edges', 'pairs'];

/** A transition qualified by its machine: pairs and sets across machines. */
export const qualified = (t: { machineId: string; id: string }) => `${t.machineId} ${t.id}`;

/** The traversal logic for a machine: one machine alone, or its whole actor system with `system: true`. */
export function createLogic(machine: AnyStateMachine, input: unknown, options: GenerateOptions): CoverageLogic {
  return options.system ? systemLogic(machine, input, options) : machineLogic(machine, input, options);
}

const eventKeyOf = (event: GraphEvent) => `${event.label}@${event.target.join('/')}|${event.event.type}`;

/** Explores one input variant: adjacency with xstate/graph, shortest prefixes with `getShortestPaths`. */
export function explore(machine: AnyStateMachine, variant: InputVariant, options: GenerateOptions): Exploration {
  const logic = createLogic(machine, variant.input, options);
  const describe = options.describeState ?? defaultDescribeState;
  const outputOf = (vertex: Vertex) => (options.projectOutput ?? ((output) => output))(logic.view(vertex).output);
  const keys = new WeakMap<Vertex, string>();
  // A final vertex is also told apart by its output: two ways to finish that the key merges must not.
  const serializeState = (vertex: Vertex) => {
    let key = keys.get(vertex);
    if (key === undefined) {
      const projection = JSON.stringify(logic.project(vertex));
      key = vertex.status === 'done' ? `${projection}\u0000${JSON.stringify(outputOf(vertex)) ?? ''}` : projection;
      keys.set(vertex, key);
    }
    return key;
  };
  const initial = logic.initial();
  if (initial.failure !== undefined) {
    const failure: MachineFailure = {
      machineId: machine.id,
      variant: variant.label,
      prefix: [],
      state: '(none)',
      event: 'start',
      message: initial.failure,
    };
    return { variant, logic, initialKey: '', initial, vertices: new Map(), edges: [], prefix: new Map([['', []]]), failures: [failure] };
  }
  // A failing step is recorded and leads nowhere: the same key, nothing taken, so no edge.
  const failed: Array<{ from: Vertex; event: GraphEvent; message: string }> = [];
  const adapter = {
    transition: (vertex: Vertex, event: GraphEvent) => {
      const next = logic.step(vertex, event);
      if (next.failure === undefined) return next;
      failed.push({ from: vertex, event, message: next.failure });
      const unchanged: Vertex = { ...vertex, taken: [], emitted: [] };
      keys.set(unchanged, serializeState(vertex));
      return unchanged;
    },
    getInitialSnapshot: () => initial,
  };
  const traversal = {
    serializeState,
    serializeEvent: (event: GraphEvent) => eventKeyOf(event),
    events: (vertex: Vertex) => logic.enabled(vertex),
    fromState: initial,
    limit: options.limit ?? 50_000,
  };
  const adjacency = getAdjacencyMap(adapter as never, traversal as never) as unknown as Record<
    string,
    { state: Vertex; transitions: Record<string, { event: GraphEvent; state: Vertex }> }
  >;
  // Same graph again, read from the adjacency map instead of re-running the machines.
  const cached = {
    transition: (vertex: Vertex, event: GraphEvent) => {
      const next = adjacency[serializeState(vertex)]?.transitions[eventKeyOf(event)]?.state;
      if (!next) throw new CoverageError(`no explored edge ${eventKeyOf(event)} from ${serializeState(vertex)}`);
      return next;
    },
    getInitialSnapshot: () => initial,
  };
  const shortest = getShortestPaths(cached as never, traversal as never) as unknown as Array<{
    state: Vertex;
    steps: Array<{ state: Vertex; event: GraphEvent }>;
  }>;

  const vertices = new Map<string, Vertex>();
  const edges: Edge[] = [];
  const edgeIndex = new Map<string, Edge>();
  for (const [from, entry] of Object.entries(adjacency)) {
    vertices.set(from, entry.state);
    for (const [eventKey, { event, state }] of Object.entries(entry.transitions)) {
      const to = serializeState(state);
      // A step that takes no transition still counts when it changes the vertex (a timer whose guard fails).
      if (state.taken.length === 0 && to === from) continue;
      const edge: Edge = { from, to, eventKey, event, vertex: state };
      edges.push(edge);
      edgeIndex.set(`${from}\n${eventKey}`, edge);
    }
  }
  const initialKey = serializeState(initial);
  const prefix = new Map<string, Edge[]>();
  for (const path of shortest) {
    const steps: Edge[] = [];
    let from = initialKey;
    for (const step of path.steps.slice(1)) {
      const edge = edgeIndex.get(`${from}\n${eventKeyOf(step.event)}`);
      if (!edge) throw new CoverageError(`shortest path uses an unknown edge from ${from}`);
      steps.push(edge);
      from = edge.to;
    }
    prefix.set(serializeState(path.state), steps);
  }
  const seen = new Set<string>();
  const failures: MachineFailure[] = [];
  for (const { from, event, message } of failed) {
    const key = serializeState(from);
    const id = `${key}\n${eventKeyOf(event)}`;
    if (seen.has(id)) continue;
    seen.add(id);
    failures.push({
      machineId: machine.id,
      variant: variant.label,
      prefix: (prefix.get(key) ?? []).map((edge) => edge.event.label),
      state: describe(logic.view(from)),
      event: event.label,
      message,
    });
  }
  failures.sort(
    (a, b) => a.prefix.length - b.prefix.length || a.prefix.join(' ').localeCompare(b.prefix.join(' ')) || a.event.localeCompare(b.event),
  );
  return { variant, logic, initialKey, initial, vertices, edges, prefix, failures };
}

/** Transition sequence of a path: the initial microsteps, then every step's. */
function sequenceOf(initial: Vertex, edges: readonly Edge[]): TakenTransition[] {
  return [...initial.taken, ...edges.flatMap((edge) => edge.vertex.taken)];
}

/** The transition pairs (one transition, then the next) a sequence of taken transitions contains. */
export function pairsOf(sequence: readonly TakenTransition[]): string[] {
  const pairs: string[] = [];
  for (let i = 1; i < sequence.length; i++) pairs.push(`${qualified(sequence[i - 1]!)} -> ${qualified(sequence[i]!)}`);
  return pairs;
}

/** How a pair is taken: the path to `via`, `via`, steps that take nothing (`bridge`), then `next`. */
export interface PairWitness {
  via: Edge | null;
  bridge: Edge[];
  next: Edge | null;
  cost: number;
}

/**
 * Pairs of transitions that can follow each other in the explored graph: within one step, and from
 * the last transition of a step to the first of a following one (across steps that take none).
 */
export function feasiblePairs(exploration: Exploration): Map<string, PairWitness> {
  const witnesses = new Map<string, PairWitness>();
  const offer = (pair: string, via: Edge | null, bridge: Edge[], next: Edge | null) => {
    const cost = (via ? (exploration.prefix.get(via.from)?.length ?? Infinity) + 1 : 0) + bridge.length + (next ? 1 : 0);
    const known = witnesses.get(pair);
    if (!known || cost < known.cost) witnesses.set(pair, { via, bridge, next, cost });
  };
  const taking = (edge: Edge) => edge.vertex.taken.length > 0;
  const incoming = new Map<string, Array<Edge | null>>([[exploration.initialKey, [null]]]);
  const outgoing = new Map<string, Edge[]>();
  for (const edge of exploration.edges) {
    if (taking(edge)) {
      const list = incoming.get(edge.to) ?? [];
      list.push(edge);
      incoming.set(edge.to, list);
    }
    const out = outgoing.get(edge.from) ?? [];
    out.push(edge);
    outgoing.set(edge.from, out);
  }
  for (const pair of pairsOf(exploration.initial.taken)) offer(pair, null, [], null);
  for (const edge of exploration.edges) {
    for (const pair of pairsOf(edge.vertex.taken)) offer(pair, edge, [], null);
  }
  // Vertices reachable from each vertex through steps that take nothing, with the shortest such bridge.
  const bridges = (start: string) => {
    const found = new Map<string, Edge[]>([[start, []]]);
    const queue = [start];
    while (queue.length) {
      const key = queue.shift()!;
      for (const edge of outgoing.get(key) ?? []) {
        if (taking(edge) || found.has(edge.to)) continue;
        found.set(edge.to, [...found.get(key)!, edge]);
        queue.push(edge.to);
      }
    }
    return found;
  };
  for (const [vertex, ins] of incoming) {
    const reach = bridges(vertex);
    for (const via of ins) {
      const last = via ? via.vertex.taken.at(-1) : exploration.initial.taken.at(-1);
      if (!last) continue;
      for (const [from, bridge] of reach) {
        for (const next of outgoing.get(from) ?? []) {
          if (!taking(next)) continue;
          offer(`${qualified(last)} -> ${qualified(next.vertex.taken[0]!)}`, via, bridge, next);
        }
      }
    }
  }
  return witnesses;
}

function defaultDescribeState(state: KeySource): string {
  const value = formatValue(state.value);
  const children = Object.entries(state.children ?? {})
    .map(([id, child]) => {
      const snapshot = (child as { snapshot?: { value?: unknown } } | undefined)?.snapshot;
      return snapshot && 'value' in snapshot ? `${id}:${formatValue(snapshot.value)}` : null;
    })
    .filter((entry): entry is string => entry !== null);
  return children.length ? `${value}{${children.join(', ')}}` : value;
}

/** A state value or payload as one short line for path names and messages. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, sub] = entries[0]!;
      return `${key}.${formatValue(sub)}`;
    }
    return `(${entries.map(([key, sub]) => `${key}.${formatValue(sub)}`).join(' | ')})`;
  }
  return String(value);
}

const MAX_NAME = 240;

/**
 * `a —e1→ b —e2→ c`. When that is long, the intermediate states go (every event and the final state
 * stay: `a —e1→ —e2→ c`), and only then the middle steps.
 */
export function pathName(initial: string, steps: ReadonlyArray<{ label: string; state: string }>): string {
  const full = [initial, ...steps.map((step) => ` —${step.label}→ ${step.state}`)].join('');
  if (full.length <= MAX_NAME || steps.length === 0) return full;
  const labels = steps.map((step) => ` —${step.label}→`);
  const last = ` ${steps.at(-1)!.state}`;
  const compact = `${initial}${labels.join('')}${last}`;
  if (compact.length <= MAX_NAME) return compact;
  let head = 0;
  let tail = 1;
  const render = () => `${initial}${labels.slice(0, head).join('')} …${labels.slice(labels.length - tail).join('')}${last}`;
  while (head + tail < labels.length) {
    head++;
    if (render().length > MAX_NAME) {
      head--;
      break;
    }
    if (head + tail < labels.length) {
      tail++;
      if (render().length > MAX_NAME) {
        tail--;
        break;
      }
    }
  }
  return render();
}

function tagsOf(transitions: readonly TakenTransition[], infos: Map<string, TransitionInfo>, pattern: RegExp): string[] {
  const tags = new Set<string>();
  for (const taken of transitions) {
    const description = infos.get(qualified(taken))?.description;
    for (const match of description?.matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`)) ??
      []) {
      tags.add(match[0]);
    }
  }
  return [...tags].sort();
}

/** Every machine definition in a system: the root and the machines it invokes or spawns (named or inline), recursively. */
export function machinesOf(machine: AnyStateMachine): AnyStateMachine[] {
  const found = new Map<string, AnyStateMachine>();
  const isMachine = (candidate: unknown): candidate is AnyStateMachine =>
    typeof candidate === 'object' && candidate !== null && 'root' in candidate && 'getStateNodeById' in candidate;
  const inline = (node: AnyStateNode): unknown[] => {
    const config = (node.config as { invoke?: unknown }).invoke;
    const own = (config === undefined ? [] : Array.isArray(config) ? config : [config]).map((entry) => (entry as { src?: unknown }).src);
    return [...own, ...(Object.values(node.states) as AnyStateNode[]).flatMap(inline)];
  };
  const visit = (m: AnyStateMachine) => {
    if (found.has(m.id)) return;
    found.set(m.id, m);
    for (const logic of [...Object.values(m.implementations.actors ?? {}), ...inline(m.root as AnyStateNode)]) {
      const candidate = (logic as { src?: unknown } | undefined)?.src ?? logic;
      if (isMachine(candidate)) visit(candidate);
    }
  };
  visit(machine);
  return [...found.values()];
}

/**
 * Explores the machine (one traversal per input variant) and selects paths from the initial state that
 * cover every feasible transition pair, every edge, every transition and every vertex of the explored
 * graph (as chosen by `criteria`). Prefixes come from `getShortestPaths`; `getSimplePaths` explodes.
 */
export function generatePaths(machine: AnyStateMachine, options: GenerateOptions = {}): PathSet {
  const variants = options.inputs?.length ? options.inputs : [{ label: 'default', input: undefined }];
  const criteria = new Set(options.criteria ?? ALL_CRITERIA);
  const infos = new Map<string, TransitionInfo>();
  for (const m of options.system ? machinesOf(machine) : [machine]) {
    for (const t of describeMachine(m).transitions) infos.set(qualified(t), t);
  }
  const describe = options.describeState ?? defaultDescribeState;
  const pattern = options.tagPattern ?? DEFAULT_TAG_PATTERN;
  const explorations: Exploration[] = [];
  const paths: GeneratedPath[] = [];
  // Definition-level items are shared across input variants; graph-level ones (edges, vertices) are not.
  const shared = { transitions: new Set<string>(), pairs: new Set<string>() };

  for (const variant of variants) {
    const exploration = explore(machine, variant, options);
    explorations.push(exploration);
    const plans = selectPlans(exploration, criteria, shared, paths.length > 0);
    const { logic, initial } = exploration;
    const nameOf = (vertex: Vertex) => describe(logic.view(vertex));
    const projectOutput = options.projectOutput ?? ((output: unknown) => output);
    const finalOf = (vertex: Vertex) => (vertex.status === 'done' ? { final: { output: projectOutput(logic.view(vertex).output) } } : {});
    const effectsOf = (vertex: Vertex) => vertex.emitted.map((e) => `${e.actorPath.join('/')}:${e.event.type}`);
    const enabledCache = new Map<Vertex, string[]>();
    const enabledOf = (vertex: Vertex) => {
      let labels = enabledCache.get(vertex);
      if (!labels) {
        labels = logic
          .enabled(vertex)
          .filter((event) => event.timers.length === 0)
          .map((event) => event.label)
          .sort();
        enabledCache.set(vertex, labels);
      }
      return labels;
    };
    plans.forEach((plan, n) => {
      let previous = initial;
      const steps: PathStep[] = plan.map((edge) => {
        const step: PathStep = {
          ...(edge.event.invoke ? { invoke: edge.event.invoke } : {}),
          label: edge.event.label,
          event: edge.event.event,
          target: edge.event.target,
          timers: edge.event.timers.map((timer) => ({
            delay: timer.delay,
            eventType: timer.eventType,
            target: timer.target,
            dueIn: timer.dueAt - previous.now,
          })),
          expected: logic.project(edge.vertex),
          transitions: edge.vertex.taken,
          effects: effectsOf(edge.vertex),
          enabled: enabledOf(edge.vertex),
          state: nameOf(edge.vertex),
          ...finalOf(edge.vertex),
        };
        previous = edge.vertex;
        return step;
      });
      const initialState = nameOf(initial);
      const path: GeneratedPath = {
        id: `${machine.id}/${variant.label}#${n + 1}`,
        name: pathName(initialState, steps),
        machineId: machine.id,
        variant: variant.label,
        input: variant.input,
        initial: {
          expected: logic.project(initial),
          transitions: initial.taken,
          effects: effectsOf(initial),
          enabled: enabledOf(initial),
          state: initialState,
          ...finalOf(initial),
        },
        steps,
        tags: tagsOf(sequenceOf(initial, plan), infos, pattern),
      };
      paths.push(path);
    });
  }
  return { machineId: machine.id, kind: options.system ? 'system' : 'machine', machine, explorations, paths, options };
}

/** Greedy selection: each uncovered item gets its cheapest witness path; prefix-subsumed paths are dropped. */
function selectPlans(
  exploration: Exploration,
  criteria: ReadonlySet<Criterion>,
  shared: { transitions: Set<string>; pairs: Set<string> },
  anyPath: boolean,
): Edge[][] {
  const plans: Edge[][] = [];
  const coveredVertices = new Set<string>([exploration.initialKey]);
  const coveredEdges = new Set<Edge>();
  const coveredTransitions = shared.transitions;
  const coveredPairs = shared.pairs;
  for (const t of exploration.initial.taken) coveredTransitions.add(qualified(t));
  for (const pair of pairsOf(exploration.initial.taken)) coveredPairs.add(pair);
  const prefixOf = (key: string) => {
    const prefix = exploration.prefix.get(key);
    if (!prefix) throw new CoverageError(`no shortest path to ${key}`);
    return prefix;
  };
  const add = (plan: Edge[]) => {
    plans.push(plan);
    for (const edge of plan) {
      coveredEdges.add(edge);
      coveredVertices.add(edge.to);
    }
    const sequence = sequenceOf(exploration.initial, plan);
    for (const t of sequence) coveredTransitions.add(qualified(t));
    for (const pair of pairsOf(sequence)) coveredPairs.add(pair);
  };

  if (criteria.has('pairs')) {
    const witnesses = [...feasiblePairs(exploration)].sort((a, b) => a[1].cost - b[1].cost || a[0].localeCompare(b[0]));
    for (const [pair, { via, bridge, next }] of witnesses) {
      if (coveredPairs.has(pair)) continue;
      const plan = via ? [...prefixOf(via.from), via] : [];
      plan.push(...bridge);
      if (next) plan.push(next);
      add(plan);
    }
  }
  const byCost = [...exploration.edges].sort(
    (a, b) => prefixOf(a.from).length - prefixOf(b.from).length || a.from.localeCompare(b.from) || a.eventKey.localeCompare(b.eventKey),
  );
  if (criteria.has('transitions')) {
    for (const edge of byCost) {
      if (edge.vertex.taken.every((t) => coveredTransitions.has(qualified(t)))) continue;
      add([...prefixOf(edge.from), edge]);
    }
  }
  if (criteria.has('edges')) {
    for (const edge of byCost) {
      if (!coveredEdges.has(edge)) add([...prefixOf(edge.from), edge]);
    }
  }
  if (criteria.has('states')) {
    for (const key of exploration.vertices.keys()) {
      if (!coveredVertices.has(key)) add(prefixOf(key));
    }
  }
  // The initial configuration is covered by a path like any other: with no step if need be.
  if (plans.length === 0 && exploration.vertices.size > 0 && (criteria.has('states') || !anyPath)) plans.push([]);
  return dedupe(plans);
}

function dedupe(plans: Edge[][]): Edge[][] {
  const keyOf = (plan: Edge[]) => plan.map((edge) => `${edge.from}\n${edge.eventKey}`);
  const sorted = [...plans].sort((a, b) => b.length - a.length);
  const kept: Edge[][] = [];
  for (const plan of sorted) {
    const key = keyOf(plan);
    const subsumed = kept.some((other) => {
      const otherKey = keyOf(other);
      return key.every((step, i) => otherKey[i] === step);
    });
    if (!subsumed) kept.push(plan);
  }
  const label = (plan: Edge[]) => plan.map((edge) => edge.event.label).join(' ');
  return kept.sort((a, b) => label(a).localeCompare(label(b)) || a.length - b.length);
}
