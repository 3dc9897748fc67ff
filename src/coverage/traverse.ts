import {
  __unsafe_getAllOwnEventDescriptors,
  createActor,
  type ActorScope,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyTransitionDefinition,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import {
  isStub,
  outcomeEvent,
  outcomeLabel,
  outcomesFor,
  prepareMachine,
  settleEvent,
  type InvokeOutcome,
  type InvokeOutcomes,
} from './actors.js';
import { delayOf, isAfterEvent, machineIdOf, transitionIdOf } from './model.js';
import { historyOfPersisted, historyOfSnapshot, settledOfPersisted, systemKey, type History } from './snapshots.js';

/** Child actor ids from the root; [] is the root. */
export type ActorPath = string[];

/** A concrete event the traversal may send, with a readable label (`merchant.planSubmitted(DIRECT_REFUND)`). */
export interface EventVariant {
  label: string;
  event: EventObject;
  /** Child actor path to deliver to; the root when absent. */
  target?: ActorPath;
}

/** Variants per event type; a discovered type without variants is sent as `{ type }`. */
export type EventVariants = Readonly<Record<string, readonly EventVariant[]>>;

/** A transition definition taken by one actor. */
export interface TakenTransition {
  /** Transition id: `${source}|${eventType or 'always'}|${index}`. */
  id: string;
  machineId: string;
  actorPath: ActorPath;
}

/** An event an actor emitted (or sent to its parent) during a step. */
export interface Effect {
  actorPath: ActorPath;
  event: EventObject;
}

/** A delayed transition the actor system waits for. */
export interface PendingTimer {
  target: ActorPath;
  /** `xstate.after.<delay>.<stateId>`. */
  eventType: string;
  delay: string;
  dueAt: number;
  /** Scheduling order: timers due at the same instant fire in this order (as `SimulatedClock` does). */
  seq: number;
}

/** An invoked child of a machine traversal that has ended (it stays a child until its state is left). */
export interface SettledChild {
  id: string;
  status: 'done' | 'error';
  ref: unknown;
}

/** A traversal vertex: a snapshot plus the time bookkeeping that XState does not persist. */
export interface Vertex {
  /** Machine snapshot (machine traversal) or persisted system snapshot (system traversal). */
  state: unknown;
  status: 'active' | 'done' | 'error' | 'stopped';
  now: number;
  timers: PendingTimer[];
  /** Next scheduling sequence number. */
  seq: number;
  /** What the step that produced this vertex did. */
  taken: TakenTransition[];
  emitted: Effect[];
  /** Machine traversal only: invoked children that ended. */
  settled?: SettledChild[];
  /** Why the step failed: the machine threw, or went to status `error`. */
  failure?: string;
}

/**
 * What a test asserts after each step: the bounded key, the pending timers relative to now and, when
 * there are any, the recorded history values and the invoked children that ended.
 */
export interface Projection {
  status: string;
  key: unknown;
  timers: Array<{ target: string; event: string; dueIn: number }>;
  /** `historyStateId` (root) or `actor/path#historyStateId` → recorded state node ids. */
  history?: History;
  /** `actor/path:done` or `:error`, for invoked children that ended and are still children. */
  invokes?: string[];
}

/** An event of the traversal graph: a host event, an invoked actor ending, or the firing of pending timers. */
export interface GraphEvent extends EventObject {
  /** Equal to `label`, so that xstate/graph names steps readably. */
  type: string;
  label: string;
  event: EventObject;
  target: ActorPath;
  /** Timers that fire in this step: the earliest pending ones, in scheduling order. */
  timers: PendingTimer[];
  /** An invoked actor ends: `target` is the child, `event` the stand-in's settle event. */
  invoke?: { actorPath: ActorPath; id: string; outcome: InvokeOutcome };
}

/** What a key function sees: a machine snapshot or a persisted one (children under `children[id].snapshot`). */
export interface KeySource {
  value: unknown;
  context: any;
  status: string;
  output?: unknown;
  children?: Record<string, unknown>;
  /** Recorded history values of this actor: history state id → state node ids. */
  history: History;
}

/** Maps an actor's state to the key that identifies a vertex: states with equal keys are one vertex. */
export type KeyFunction = (state: KeySource) => unknown;

/** The part of an actor's context that decides its future (what guards, delays and outputs read). */
export type ContextProjection = (context: any, actor: { path: ActorPath; machineId: string }) => unknown;

/** How the traversal sends events, stamps time, keys vertices and projects context. */
export interface LogicOptions {
  /** Event variants per type (or a function of the vertex's state). */
  events?: EventVariants | ((state: KeySource) => readonly EventVariant[]);
  /** Event types never sent by the traversal (internal messages, …). */
  ignoreEvents?: ReadonlyArray<string | RegExp>;
  /**
   * How invoked actors end, per invoke id (or `src` name): `{ fetchUser: [done(user), fail(error)] }`.
   * Without an entry an invoke completes with no output when an active state has `onDone`, and fails
   * when one has `onError`.
   */
  invokes?: InvokeOutcomes;
  /** Keeps the part of each actor's context that matters (default: all of it). Ignored when `key` is given. */
  projectContext?: ContextProjection;
  /**
   * The part of a final output the paths predict and the replay compares (default: all of it). A key
   * that leaves out what the output reads merges final states whose outputs differ: either keep that in
   * the key or leave it out of the output here.
   */
  projectOutput?: (output: unknown) => unknown;
  /**
   * Bounded vertex key, replacing the default `{ value, context }` (children included in a system).
   * Status, pending timers, history values and ended invokes are always part of the vertex.
   */
  key?: KeyFunction;
  /** Rewrites a host event to happen at `now` (default: replaces a numeric `at`). */
  stamp?: (event: EventObject, now: number) => EventObject;
  /** Time of the initial snapshot (default: `input.at` when numeric, else 0). */
  startTime?: number;
  /**
   * Resolution (ms) of the remaining times of pending timers in the key (default 1: exact). Loops that
   * let time pass (retries with backoff) shift other timers by a little each round; a coarser
   * resolution (e.g. an hour when the business timers are whole hours) keeps the graph finite. The
   * order of pending timers stays exact.
   */
  timeResolution?: number;
  /**
   * Due times a machine records itself (this package's convention: `context.deadlines[delayName]`),
   * checked against the timers XState schedules; a difference is reported as a failure. `false` turns
   * the check off.
   */
  recordedDeadlines?: ((context: any) => Readonly<Record<string, unknown>> | undefined) | false;
}

/** The traversal's view of a machine or an actor system. */
export interface CoverageLogic {
  kind: 'machine' | 'system';
  machine: AnyStateMachine;
  /** The machine actually run: invoked actors replaced by stand-ins. */
  prepared: AnyStateMachine;
  input: unknown;
  /** The vertex of the freshly started actor. */
  initial(): Vertex;
  /** The events the vertex accepts (variants included). */
  enabled(vertex: Vertex): GraphEvent[];
  /** The vertex after sending the event (on a restored copy: vertices are never mutated). */
  step(vertex: Vertex, event: GraphEvent): Vertex;
  /** What a replay compares at the vertex: states, context projection, timers, effects. */
  project(vertex: Vertex): Projection;
  /** A key source for the vertex (for `key` and for event variant functions). */
  view(vertex: Vertex): KeySource;
}

/** Thrown when paths cannot be generated or replayed as asked (a traversal limit, a bad option). */
export class CoverageError extends Error {
  override readonly name = 'CoverageError';
  readonly code = 'COVERAGE_FAILED';
}

/** Stamps the event's `at` with the simulated time, when the event carries one. */
export const defaultStamp = (event: EventObject, now: number): EventObject =>
  typeof (event as { at?: unknown }).at === 'number' ? ({ ...event, at: now } as EventObject) : event;

export function startTimeOf(input: unknown, options: Pick<LogicOptions, 'startTime'>): number {
  if (options.startTime !== undefined) return options.startTime;
  const at = (input as { at?: unknown } | undefined)?.at;
  return typeof at === 'number' ? at : 0;
}

export function matchesAny(type: string, patterns: ReadonlyArray<string | RegExp> | undefined): boolean {
  return (patterns ?? []).some((pattern) => (typeof pattern === 'string' ? pattern === type : pattern.test(type)));
}

export const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

const internalEventHint = (type: string) =>
  `event ${type} is XState's own: timers fire by themselves, and invoked actors end through \`invokes: { <invoke id>: [done(output), fail(error)] }\``;

/** Refuses XState's internal events among the declared variants: the traversal produces them itself. */
export function checkVariants(events: LogicOptions['events']): void {
  if (!events || typeof events === 'function') return;
  for (const [type, variants] of Object.entries(events)) {
    if (type.startsWith('xstate.')) throw new CoverageError(internalEventHint(type));
    for (const variant of variants) if (variant.event.type.startsWith('xstate.')) throw new CoverageError(internalEventHint(variant.event.type));
  }
}

/** Rebuilt discovery: own event types of the snapshot, each replaced by its variants. */
function hostVariants(snapshot: AnyMachineSnapshot, view: KeySource, options: LogicOptions): EventVariant[] {
  if (typeof options.events === 'function') {
    const variants = [...options.events(view)];
    for (const variant of variants) if (variant.event.type.startsWith('xstate.')) throw new CoverageError(internalEventHint(variant.event.type));
    return variants.filter((variant) => !matchesAny(variant.event.type, options.ignoreEvents));
  }
  const variants = options.events ?? {};
  const types = __unsafe_getAllOwnEventDescriptors(snapshot) as string[];
  return (
    types
      // Wildcards and XState's own events (done, error, snapshot, after) are not sent by a host.
      .filter((type) => !type.includes('*') && !type.startsWith('xstate.') && !matchesAny(type, options.ignoreEvents))
      .flatMap((type) => variants[type] ?? [{ label: type, event: { type } }])
  );
}

/** Timers in firing order: due time, then the order they were started. */
export function sortTimers(timers: readonly PendingTimer[]): PendingTimer[] {
  return [...timers].sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
}

/**
 * Time only passes when a timer fires, and then it is the earliest pending one. Timers due at the same
 * instant fire together, in scheduling order, as one step: a clock cannot separate them either.
 */
function nextTimers(vertex: Vertex): GraphEvent[] {
  if (vertex.status !== 'active' || vertex.timers.length === 0) return [];
  const sorted = sortTimers(vertex.timers);
  const tied = sorted.filter((timer) => timer.dueAt === sorted[0]!.dueAt);
  const label = tied.map(timerLabel).join(' + ');
  return [{ type: label, label, event: { type: tied[0]!.eventType }, target: tied[0]!.target, timers: tied }];
}

/** A timer as a path step label: `after <delay>[<actor path>]`. */
export function timerLabel(timer: Pick<PendingTimer, 'delay' | 'target'>): string {
  return `after ${timer.delay}${timer.target.length ? `[${timer.target.join('/')}]` : ''}`;
}

function hostEvent(variant: EventVariant, now: number, options: LogicOptions): GraphEvent {
  const stamp = options.stamp ?? defaultStamp;
  return { type: variant.label, label: variant.label, event: stamp(variant.event, now), target: variant.target ?? [], timers: [] };
}

/** Outcomes of an invoked child, labelled uniquely (`fetchUser.done`, `fetchUser.error(offline)`, `x.done#2`). */
function completionEvents(snapshot: AnyMachineSnapshot, actorPath: ActorPath, id: string, src: unknown, options: LogicOptions): GraphEvent[] {
  const outcomes = outcomesFor(snapshot, id, src, options.invokes);
  const name = [...actorPath, id].join('/');
  const seen = new Map<string, number>();
  return outcomes.map((outcome) => {
    let label = outcomeLabel(name, outcome);
    const count = (seen.get(label) ?? 0) + 1;
    seen.set(label, count);
    if (count > 1) label = `${label}#${count}`;
    return { type: label, label, event: settleEvent(outcome), target: [...actorPath, id], timers: [], invoke: { actorPath, id, outcome } };
  });
}

/** `can`, where a guard that throws counts as accepting: the step then reports the failure. */
function accepts(snapshot: AnyMachineSnapshot | undefined, event: EventObject): boolean {
  if (snapshot?.status !== 'active' || typeof snapshot.can !== 'function') return false;
  try {
    return snapshot.can(event as never);
  } catch {
    return true;
  }
}

const sameTimer = (a: PendingTimer, b: PendingTimer) => a.seq === b.seq && a.eventType === b.eventType && samePath(a.target, b.target);

/** Fires the timers of a timer step one after the other; one that an earlier one cancelled is skipped. */
function fireTimers(vertex: Vertex, event: GraphEvent, fire: (current: Vertex, timer: PendingTimer) => Vertex): Vertex {
  let current = vertex;
  const taken: TakenTransition[] = [];
  const emitted: Effect[] = [];
  for (const timer of event.timers) {
    if (current.status !== 'active' || !current.timers.some((pending) => sameTimer(pending, timer))) continue;
    current = fire(current, timer);
    if (current.failure !== undefined) return current;
    taken.push(...current.taken);
    emitted.push(...current.emitted);
  }
  return { ...current, taken, emitted };
}

export function projectionOf(
  vertex: Pick<Vertex, 'status' | 'timers' | 'now'>,
  key: unknown,
  resolution = 1,
  extra: { history?: History; invokes?: string[] } = {},
): Projection {
  const projection: Projection = {
    status: vertex.status,
    key,
    timers: sortTimers(vertex.timers).map((timer) => ({
      target: timer.target.join('/'),
      event: timer.eventType,
      dueIn: Math.floor((timer.dueAt - vertex.now) / resolution) * resolution,
    })),
  };
  if (extra.history && Object.keys(extra.history).length) projection.history = extra.history;
  if (extra.invokes?.length) projection.invokes = [...extra.invokes].sort();
  return projection;
}

type TimerOp =
  | { type: 'raise'; actorPath: ActorPath; id: string; eventType: string; delay: number }
  | { type: 'cancel'; actorPath: ActorPath; id: string };

/** Records microsteps, emitted events, delayed raises (in execution order) and new actors of one step. */
export class StepRecorder {
  taken: TakenTransition[] = [];
  emitted: Effect[] = [];
  timerOps: TimerOp[] = [];
  /** Actors created while `live` (a restore creates actors too: those are not new). */
  created: string[] = [];
  live = true;
  private readonly paths = new Map<AnyActorRef, ActorPath>();
  constructor(private readonly root: AnyActorRef | null = null) {}

  pathOf(ref: AnyActorRef): ActorPath {
    if (this.root && ref === this.root) return [];
    const known = this.paths.get(ref);
    if (known) return known;
    const parent = ref._parent as AnyActorRef | undefined;
    const path = parent ? [...this.pathOf(parent), ref.id] : [];
    this.paths.set(ref, path);
    return path;
  }

  transitions(actorPath: ActorPath, list: readonly AnyTransitionDefinition[]) {
    for (const transition of list) {
      this.taken.push({ id: transitionIdOf(transition), machineId: machineIdOf(transition), actorPath });
    }
  }

  action(actorPath: ActorPath, type: string, params: unknown) {
    const p = (params ?? {}) as { event?: EventObject; id?: unknown; delay?: unknown; sendId?: unknown };
    if (type === 'xstate.emit' && p.event) this.emitted.push({ actorPath, event: p.event });
    if (type === 'xstate.raise' && typeof p.delay === 'number' && p.event) {
      this.timerOps.push({ type: 'raise', actorPath, id: String(p.id ?? p.event.type), eventType: p.event.type, delay: p.delay });
    }
    if (type === 'xstate.cancel' && typeof p.sendId === 'string') this.timerOps.push({ type: 'cancel', actorPath, id: p.sendId });
  }

  inspect = (event: InspectionEvent) => {
    if (!this.live) return;
    if (event.type === '@xstate.microstep') {
      this.transitions(this.pathOf(event.actorRef as AnyActorRef), event._transitions);
    }
    if (event.type === '@xstate.action') {
      this.action(this.pathOf(event.actorRef as AnyActorRef), event.action.type, event.action.params);
    }
    if (event.type === '@xstate.actor') this.created.push(this.pathOf(event.actorRef as AnyActorRef).join('/'));
  };
}

const samePath = (a: ActorPath, b: ActorPath) => a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * Timers after one step: the previous ones minus the one that fired and those of actors that were
 * replaced, then raise/cancel in execution order.
 */
export function applyTimerOps(
  timers: readonly PendingTimer[],
  fired: PendingTimer | null,
  ops: readonly TimerOp[],
  now: number,
  seq: number,
  replaced: ReadonlySet<string> = new Set(),
): { timers: PendingTimer[]; seq: number } {
  let next = timers.filter((timer) => !(fired && sameTimer(timer, fired)) && !replaced.has(timer.target.join('/')));
  for (const op of ops) {
    next = next.filter((timer) => !(timer.eventType === op.id && samePath(timer.target, op.actorPath)));
    if (op.type === 'raise' && isAfterEvent(op.eventType)) {
      next.push({ target: op.actorPath, eventType: op.eventType, delay: delayOf(op.eventType) ?? '', dueAt: now + op.delay, seq: seq++ });
    }
  }
  return { timers: next, seq };
}

const failedVertex = (previous: Vertex | null, now: number, error: unknown): Vertex => ({
  state: previous?.state ?? null,
  status: 'error',
  now,
  timers: [],
  seq: previous?.seq ?? 0,
  taken: [],
  emitted: [],
  settled: previous?.settled ?? [],
  failure: errorMessage(error),
});

/** Key source of a live machine snapshot. */
export function machineView(snapshot: AnyMachineSnapshot): KeySource {
  return {
    value: snapshot.value,
    context: snapshot.context,
    status: snapshot.status,
    ...(snapshot.status === 'done' ? { output: snapshot.output } : {}),
    children: snapshot.children,
    history: historyOfSnapshot(snapshot),
  };
}

/** The default key of a machine traversal: value and (projected) context. */
export function machineKey(machine: AnyStateMachine, options: Pick<LogicOptions, 'key' | 'projectContext'>): KeyFunction {
  if (options.key) return options.key;
  const project = options.projectContext;
  return (state) => ({ value: state.value, context: project ? project(state.context, { path: [], machineId: machine.id }) : state.context });
}

/**
 * A single machine traversed through its pure `transition` (no actor runs, children never start:
 * invoked actors end when a step says so). Timers are tracked from the delayed `xstate.raise` actions
 * XState resolves, so any machine with `after` works, whatever its context holds.
 */
export function machineLogic(machine: AnyStateMachine, input: unknown, options: LogicOptions = {}): CoverageLogic {
  checkVariants(options.events);
  const prepared = prepareMachine(machine, 'machine');
  let recorder: StepRecorder | null = null;
  const self = createActor(prepared, { input, inspect: (event: InspectionEvent) => recorder?.inspect(event) } as never) as AnyActorRef;
  const scope = {
    self,
    id: '',
    sessionId: '',
    logger: () => {},
    defer: () => {},
    system: self.system,
    stopChild: () => {},
    emit: () => {},
    actionExecutor: (action: { type: string; params?: unknown }) => recorder?.action([], action.type, action.params),
  } as unknown as ActorScope<any, any, any, any>;
  const key = machineKey(machine, options);

  const run = (
    previous: Vertex | null,
    now: number,
    fired: PendingTimer | null,
    settles: SettledChild | null,
    execute: () => unknown,
  ): Vertex => {
    const rec = new StepRecorder(self);
    recorder = rec;
    let snapshot: AnyMachineSnapshot;
    try {
      snapshot = execute() as AnyMachineSnapshot;
    } catch (error) {
      return failedVertex(previous, now, error);
    } finally {
      recorder = null;
    }
    if (snapshot.status === 'error') return failedVertex(previous, now, (snapshot as { error?: unknown }).error);
    const status = snapshot.status as Vertex['status'];
    const { timers, seq } = applyTimerOps(previous?.timers ?? [], fired, rec.timerOps, now, previous?.seq ?? 0);
    const settled = [...(previous?.settled ?? []), ...(settles ? [settles] : [])].filter((child) => snapshot.children[child.id] === child.ref);
    return { state: snapshot, status, now, timers: status === 'active' ? timers : [], seq, taken: rec.taken, emitted: rec.emitted, settled };
  };

  const logic: CoverageLogic = {
    kind: 'machine',
    machine,
    prepared,
    input,
    initial: () => run(null, startTimeOf(input, options), null, null, () => prepared.getInitialSnapshot(scope, input)),
    enabled(vertex) {
      if (vertex.status !== 'active') return [];
      const snapshot = vertex.state as AnyMachineSnapshot;
      const hosts = hostVariants(snapshot, logic.view(vertex), options)
        .map((variant) => hostEvent(variant, vertex.now, options))
        .filter((event) => accepts(snapshot, event.event));
      const settled = new Set((vertex.settled ?? []).map((child) => child.id));
      const completions = Object.entries(snapshot.children)
        .filter(([id, ref]) => isStub(ref as AnyActorRef) && !settled.has(id))
        .flatMap(([id, ref]) => completionEvents(snapshot, [], id, (ref as AnyActorRef).src, options));
      return [...hosts, ...completions, ...nextTimers(vertex)];
    },
    step(vertex, event) {
      const snapshotOf = (current: Vertex) => current.state as AnyMachineSnapshot;
      if (event.invoke) {
        const { id, outcome } = event.invoke;
        const ref = snapshotOf(vertex).children[id];
        const settles: SettledChild = { id, status: outcome.kind, ref };
        return run(vertex, vertex.now, null, settles, () => prepared.transition(snapshotOf(vertex), outcomeEvent(id, outcome) as never, scope));
      }
      const deliver = (current: Vertex, sent: EventObject, fired: PendingTimer | null) =>
        run(current, fired ? fired.dueAt : current.now, fired, null, () => prepared.transition(snapshotOf(current), sent as never, scope));
      if (event.timers.length === 0) return deliver(vertex, event.event, null);
      return fireTimers(vertex, event, (current, timer) => deliver(current, { type: timer.eventType }, timer));
    },
    project: (vertex) =>
      projectionOf(vertex, key(logic.view(vertex)), options.timeResolution, {
        history: vertex.state ? historyOfSnapshot(vertex.state as AnyMachineSnapshot) : {},
        invokes: (vertex.settled ?? []).map((child) => `${child.id}:${child.status}`),
      }),
    view: (vertex) => machineView(vertex.state as AnyMachineSnapshot),
  };
  return logic;
}

/** A clock that never fires: timers fire when the traversal delivers their event. */
const inertClock = {
  setTimeout: () => 0 as unknown as ReturnType<typeof setTimeout>,
  clearTimeout: () => {},
};

interface SystemRun<T> {
  persisted: any;
  status: Vertex['status'];
  failure?: string;
  read: T;
}

/**
 * A whole actor system restored from a persisted snapshot (or started from input) with an inert
 * clock; optionally one event delivered to the actor at a path. Like src/engine/step.ts, but with no
 * convention on the machines' context.
 */
export function runSystem<T>(
  machine: AnyStateMachine,
  start: { input: unknown } | { snapshot: unknown },
  delivery: { event: EventObject; target: ActorPath } | null,
  recorder: StepRecorder | null,
  read: (root: AnyActorRef) => T,
): SystemRun<T> {
  let failure: unknown;
  let failed = false;
  if (recorder) recorder.live = !('snapshot' in start);
  const actor = createActor(machine, {
    ...('snapshot' in start ? { snapshot: structuredClone(start.snapshot) as never } : { input: start.input }),
    clock: inertClock,
    ...(recorder ? { inspect: recorder.inspect } : {}),
  } as never) as AnyActorRef;
  const subscription = actor.subscribe({
    error: (error: unknown) => {
      failed = true;
      failure = error;
    },
  });
  try {
    actor.start();
    if (delivery) {
      if (recorder) recorder.live = true;
      const target = actorAtPath(actor, delivery.target);
      if (!target) throw new CoverageError(`no actor at ${delivery.target.join('/') || 'root'}`);
      target.send(delivery.event);
    }
    const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
    if (!failed && snapshot.status === 'error') {
      failed = true;
      failure = snapshot.error;
    }
    return {
      persisted: JSON.parse(JSON.stringify(actor.getPersistedSnapshot())),
      status: snapshot.status as Vertex['status'],
      ...(failed ? { failure: errorMessage(failure) } : {}),
      read: read(actor),
    };
  } finally {
    subscription.unsubscribe();
    actor.stop();
  }
}

export function actorAtPath(root: AnyActorRef, path: ActorPath): AnyActorRef | undefined {
  let current: AnyActorRef | undefined = root;
  for (const id of path) current = (current?.getSnapshot() as AnyMachineSnapshot | undefined)?.children?.[id] as AnyActorRef | undefined;
  return current;
}

/** Every machine actor of a live system, with its path (children of finished actors included). */
export function liveMachines(root: AnyActorRef): Array<{ path: ActorPath; ref: AnyActorRef; snapshot: AnyMachineSnapshot }> {
  const found: Array<{ path: ActorPath; ref: AnyActorRef; snapshot: AnyMachineSnapshot }> = [];
  const visit = (ref: AnyActorRef, path: ActorPath) => {
    const snapshot = ref.getSnapshot() as AnyMachineSnapshot;
    if (!snapshot?.machine) return;
    found.push({ path, ref, snapshot });
    for (const [id, child] of Object.entries(snapshot.children ?? {})) if (child) visit(child as AnyActorRef, [...path, id]);
  };
  visit(root, []);
  return found;
}

/** Paths of the machine actors that are active (their timers can still fire). */
export const activeMachinePaths = (root: AnyActorRef) =>
  new Set(
    liveMachines(root)
      .filter((actor) => actor.snapshot.status === 'active')
      .map((actor) => actor.path.join('/')),
  );

const defaultRecorded = (context: any) => {
  const deadlines = context?.deadlines;
  return deadlines && typeof deadlines === 'object' ? (deadlines as Record<string, unknown>) : undefined;
};

/**
 * An actor system (a machine and the children it invokes or spawns) traversed step by step: every
 * vertex is a persisted snapshot of the whole system, every step restores it with an inert clock and
 * delivers one event. Due times come from the delays XState resolves when it schedules a timer, so
 * any machine with `after` works; due times a machine records itself (`recordedDeadlines`) are checked.
 */
export function systemLogic(machine: AnyStateMachine, input: unknown, options: LogicOptions = {}): CoverageLogic {
  checkVariants(options.events);
  const prepared = prepareMachine(machine, 'system');
  const key: KeyFunction = options.key ?? ((state) => systemKey(prepared, state as never, options.projectContext));
  const recorded = options.recordedDeadlines === false ? null : (options.recordedDeadlines ?? defaultRecorded);

  const toVertex = (
    result: SystemRun<{ active: Set<string>; contexts: Map<string, unknown> }>,
    rec: StepRecorder,
    now: number,
    previous: Vertex | null,
    fired: PendingTimer | null,
  ): Vertex => {
    if (result.failure !== undefined) return failedVertex(previous, now, result.failure);
    const replaced = new Set(rec.created);
    const scheduled = applyTimerOps(previous?.timers ?? [], fired, rec.timerOps, now, previous?.seq ?? 0, replaced);
    const timers = scheduled.timers.filter((timer) => result.read.active.has(timer.target.join('/')));
    if (recorded) {
      for (const timer of timers) {
        const due = recorded(result.read.contexts.get(timer.target.join('/')))?.[timer.delay];
        if (typeof due === 'number' && due !== timer.dueAt) {
          return failedVertex(
            previous,
            now,
            `${timer.eventType} at ${timer.target.join('/') || 'root'}: the machine records its due time as ${due}, XState schedules it at ${timer.dueAt}`,
          );
        }
      }
    }
    return { state: result.persisted, status: result.status, now, timers, seq: scheduled.seq, taken: rec.taken, emitted: rec.emitted };
  };
  const readTimers = (root: AnyActorRef) => {
    const actors = liveMachines(root);
    return {
      active: new Set(actors.filter((actor) => actor.snapshot.status === 'active').map((actor) => actor.path.join('/'))),
      contexts: new Map(actors.map((actor) => [actor.path.join('/'), actor.snapshot.context as unknown])),
    };
  };

  const logic: CoverageLogic = {
    kind: 'system',
    machine,
    prepared,
    input,
    initial() {
      const rec = new StepRecorder();
      return toVertex(runSystem(prepared, { input }, null, rec, readTimers), rec, startTimeOf(input, options), null, null);
    },
    enabled(vertex) {
      if (vertex.status !== 'active') return [];
      return runSystem(prepared, { snapshot: vertex.state }, null, null, (root) => {
        const snapshot = root.getSnapshot() as AnyMachineSnapshot;
        const hosts = hostVariants(snapshot, logic.view(vertex), options)
          .map((variant) => hostEvent(variant, vertex.now, options))
          .filter((event) => accepts(actorAtPath(root, event.target)?.getSnapshot() as AnyMachineSnapshot | undefined, event.event));
        const completions = liveMachines(root)
          .filter((actor) => actor.snapshot.status === 'active')
          .flatMap(({ path, snapshot: parent }) =>
            Object.entries(parent.children ?? {})
              .filter(([, ref]) => isStub(ref as AnyActorRef) && (ref as AnyActorRef).getSnapshot().status === 'active')
              .flatMap(([id, ref]) => completionEvents(parent, path, id, (ref as AnyActorRef).src, options)),
          );
        return [...hosts, ...completions, ...nextTimers(vertex)];
      }).read;
    },
    step(vertex, event) {
      const deliver = (current: Vertex, sent: EventObject, target: ActorPath, fired: PendingTimer | null) => {
        const rec = new StepRecorder();
        const result = runSystem(prepared, { snapshot: current.state }, { event: sent, target }, rec, readTimers);
        return toVertex(result, rec, fired ? fired.dueAt : current.now, current, fired);
      };
      if (event.timers.length === 0) return deliver(vertex, event.event, event.target, null);
      return fireTimers(vertex, event, (current, timer) => deliver(current, { type: timer.eventType }, timer.target, timer));
    },
    project: (vertex) =>
      projectionOf(vertex, key(logic.view(vertex)), options.timeResolution, {
        history: vertex.state ? historyOfPersisted(vertex.state as never) : {},
        invokes: vertex.state ? settledOfPersisted(prepared, vertex.state as never) : [],
      }),
    view: (vertex) => persistedView(vertex.state as never),
  };
  return logic;
}

/** Key source of a persisted system snapshot (children under `children[id].snapshot`). */
export function persistedView(persisted: {
  value: unknown;
  context: any;
  status: string;
  output?: unknown;
  children?: Record<string, unknown>;
  historyValue?: unknown;
}): KeySource {
  return {
    value: persisted.value,
    context: persisted.context,
    status: persisted.status,
    ...(persisted.status === 'done' ? { output: persisted.output } : {}),
    children: persisted.children ?? {},
    history: historyOfPersisted(persisted as never, false),
  };
}
