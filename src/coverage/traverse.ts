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
import { restoreSystem, startSystem, stepSystem, type ActorPath, type StepResult } from '../engine/step.js';
import { delayOf, isAfterEvent, machineIdOf, transitionIdOf } from './model.js';

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
}

/** What a test asserts after each step: the bounded key and the pending timers relative to now. */
export interface Projection {
  status: string;
  key: unknown;
  timers: Array<{ target: string; event: string; dueIn: number }>;
}

/** An event of the traversal graph: a host event or the firing of a pending timer. */
export interface GraphEvent extends EventObject {
  /** Equal to `label`, so that xstate/graph names steps readably. */
  type: string;
  label: string;
  event: EventObject;
  target: ActorPath;
  /** Timers that fire in this step: the earliest pending ones, in scheduling order. */
  timers: PendingTimer[];
}

/** What a key function sees: a machine snapshot or a persisted one (children under `children[id].snapshot`). */
export interface KeySource {
  value: unknown;
  context: any;
  status: string;
  children?: Record<string, unknown>;
}

export type KeyFunction = (state: KeySource) => unknown;

export interface LogicOptions {
  /** Event variants per type (or a function of the vertex's state). */
  events?: EventVariants | ((state: KeySource) => readonly EventVariant[]);
  /** Event types never sent by the traversal (internal messages, …). */
  ignoreEvents?: ReadonlyArray<string | RegExp>;
  /** Bounded vertex key. Default: `{ value, context }` (grows with context: pass one). */
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
}

/** The traversal's view of a machine or an actor system. */
export interface CoverageLogic {
  kind: 'machine' | 'system';
  machine: AnyStateMachine;
  input: unknown;
  initial(): Vertex;
  enabled(vertex: Vertex): GraphEvent[];
  step(vertex: Vertex, event: GraphEvent): Vertex;
  project(vertex: Vertex): Projection;
  /** A key source for the vertex (for `key` and for event variant functions). */
  view(vertex: Vertex): KeySource;
}

export class CoverageError extends Error {
  override readonly name = 'CoverageError';
  readonly code = 'COVERAGE_FAILED';
}

export const defaultStamp = (event: EventObject, now: number): EventObject =>
  typeof (event as { at?: unknown }).at === 'number' ? ({ ...event, at: now } as EventObject) : event;

const defaultKey: KeyFunction = (state) => ({ value: state.value, context: state.context });

export function startTimeOf(input: unknown, options: LogicOptions): number {
  if (options.startTime !== undefined) return options.startTime;
  const at = (input as { at?: unknown } | undefined)?.at;
  return typeof at === 'number' ? at : 0;
}

export function matchesAny(type: string, patterns: ReadonlyArray<string | RegExp> | undefined): boolean {
  return (patterns ?? []).some((pattern) => (typeof pattern === 'string' ? pattern === type : pattern.test(type)));
}

/** Rebuilt discovery: own event types of the snapshot, each replaced by its variants. */
function hostVariants(snapshot: AnyMachineSnapshot, view: KeySource, options: LogicOptions): EventVariant[] {
  if (typeof options.events === 'function') return [...options.events(view)];
  const variants = options.events ?? {};
  const types = __unsafe_getAllOwnEventDescriptors(snapshot) as string[];
  return types
    // Wildcards and XState's own events (done, error, snapshot, after) are not sent by a host.
    .filter((type) => !type.includes('*') && !type.startsWith('xstate.') && !matchesAny(type, options.ignoreEvents))
    .flatMap((type) => variants[type] ?? [{ label: type, event: { type } }]);
}

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

export function timerLabel(timer: Pick<PendingTimer, 'delay' | 'target'>): string {
  return `after ${timer.delay}${timer.target.length ? `[${timer.target.join('/')}]` : ''}`;
}

function hostEvent(variant: EventVariant, now: number, options: LogicOptions): GraphEvent {
  const stamp = options.stamp ?? defaultStamp;
  return { type: variant.label, label: variant.label, event: stamp(variant.event, now), target: variant.target ?? [], timers: [] };
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
    taken.push(...current.taken);
    emitted.push(...current.emitted);
  }
  return { ...current, taken, emitted };
}

export function projectionOf(vertex: Pick<Vertex, 'status' | 'timers' | 'now'>, key: unknown, resolution = 1): Projection {
  return {
    status: vertex.status,
    key,
    timers: sortTimers(vertex.timers).map((timer) => ({
      target: timer.target.join('/'),
      event: timer.eventType,
      dueIn: Math.floor((timer.dueAt - vertex.now) / resolution) * resolution,
    })),
  };
}

type TimerOp =
  | { type: 'raise'; actorPath: ActorPath; id: string; eventType: string; delay: number }
  | { type: 'cancel'; actorPath: ActorPath; id: string };

/** Records microsteps, emitted events and delayed raises (in execution order) of one step. */
class StepRecorder {
  taken: TakenTransition[] = [];
  emitted: Effect[] = [];
  timerOps: TimerOp[] = [];
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
    if (event.type === '@xstate.microstep') {
      this.transitions(this.pathOf(event.actorRef as AnyActorRef), event._transitions);
    }
    if (event.type === '@xstate.action') {
      this.action(this.pathOf(event.actorRef as AnyActorRef), event.action.type, event.action.params);
    }
  };
}

const samePath = (a: ActorPath, b: ActorPath) => a.length === b.length && a.every((id, i) => id === b[i]);

/** Timers after one step: the previous ones, minus the one that fired, then raise/cancel in execution order. */
function applyTimerOps(
  timers: readonly PendingTimer[],
  fired: PendingTimer | null,
  ops: readonly TimerOp[],
  now: number,
  seq: number,
): { timers: PendingTimer[]; seq: number } {
  let next = timers.filter((timer) => !(fired && sameTimer(timer, fired)));
  for (const op of ops) {
    next = next.filter((timer) => !(timer.eventType === op.id && samePath(timer.target, op.actorPath)));
    if (op.type === 'raise' && isAfterEvent(op.eventType)) {
      next.push({ target: op.actorPath, eventType: op.eventType, delay: delayOf(op.eventType) ?? '', dueAt: now + op.delay, seq: seq++ });
    }
  }
  return { timers: next, seq };
}

/**
 * A single machine traversed through its pure `transition` (no actor runs, children never start).
 * Timers are tracked from the delayed `xstate.raise` actions XState resolves, so any machine with
 * `after` works, whatever its context holds.
 */
export function machineLogic(machine: AnyStateMachine, input: unknown, options: LogicOptions = {}): CoverageLogic {
  let recorder: StepRecorder | null = null;
  const self = createActor(machine, { input, inspect: (event: InspectionEvent) => recorder?.inspect(event) } as never) as AnyActorRef;
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
  const key = options.key ?? defaultKey;

  const run = (previous: Vertex | null, now: number, fired: PendingTimer | null, execute: () => unknown): Vertex => {
    const rec = new StepRecorder(self);
    recorder = rec;
    let snapshot: AnyMachineSnapshot;
    try {
      snapshot = execute() as AnyMachineSnapshot;
    } finally {
      recorder = null;
    }
    if (snapshot.status === 'error') {
      throw new CoverageError(`${machine.id} failed: ${String((snapshot as { error?: unknown }).error)}`);
    }
    const status = snapshot.status as Vertex['status'];
    const { timers, seq } = applyTimerOps(previous?.timers ?? [], fired, rec.timerOps, now, previous?.seq ?? 0);
    return { state: snapshot, status, now, timers: status === 'active' ? timers : [], seq, taken: rec.taken, emitted: rec.emitted };
  };

  const logic: CoverageLogic = {
    kind: 'machine',
    machine,
    input,
    initial: () => run(null, startTimeOf(input, options), null, () => machine.getInitialSnapshot(scope, input)),
    enabled(vertex) {
      if (vertex.status !== 'active') return [];
      const snapshot = vertex.state as AnyMachineSnapshot;
      const hosts = hostVariants(snapshot, logic.view(vertex), options)
        .map((variant) => hostEvent(variant, vertex.now, options))
        .filter((event) => snapshot.can(event.event as never));
      return [...hosts, ...nextTimers(vertex)];
    },
    step(vertex, event) {
      const deliver = (current: Vertex, sent: EventObject, fired: PendingTimer | null) =>
        run(current, fired ? fired.dueAt : current.now, fired, () =>
          machine.transition(current.state as AnyMachineSnapshot, sent as never, scope),
        );
      if (event.timers.length === 0) return deliver(vertex, event.event, null);
      return fireTimers(vertex, event, (current, timer) => deliver(current, { type: timer.eventType }, timer));
    },
    project: (vertex) => projectionOf(vertex, key(logic.view(vertex)), options.timeResolution),
    view: (vertex) => vertex.state as KeySource,
  };
  return logic;
}

/**
 * An actor system (a machine and the children it spawns) traversed through `stepSystem`
 * (src/engine/step.ts): every vertex is a persisted snapshot of the whole system, every step restores
 * it with an inert clock and delivers one event. Due times come from `context.deadlines` (the
 * convention of machines/time.ts, which `stepSystem` requires) and are checked against the delays
 * XState resolves.
 */
export function systemLogic(machine: AnyStateMachine, input: unknown, options: LogicOptions = {}): CoverageLogic {
  const key = options.key ?? defaultKey;

  const toVertex = (result: StepResult, rec: StepRecorder, now: number, previous: Vertex | null, fired: PendingTimer | null): Vertex => {
    // XState's view (what it scheduled, in order) gives the sequence; the machines' deadlines give due times.
    const scheduled = applyTimerOps(previous?.timers ?? [], fired, rec.timerOps, now, previous?.seq ?? 0);
    const timers: PendingTimer[] = result.deadlines.map((deadline) => {
      const known = scheduled.timers.find((t) => t.eventType === deadline.eventType && samePath(t.target, deadline.actorPath));
      if (!known) {
        throw new CoverageError(`${deadline.eventType} at ${deadline.actorPath.join('/') || 'root'} is pending but was never scheduled`);
      }
      if (known.dueAt !== deadline.dueAt) {
        throw new CoverageError(
          `${deadline.eventType} at ${deadline.actorPath.join('/') || 'root'}: context.deadlines says ${deadline.dueAt}, ` +
            `XState schedules it at ${known.dueAt}`,
        );
      }
      return known;
    });
    const status = result.status;
    return { state: result.persisted, status, now, timers, seq: scheduled.seq, taken: rec.taken, emitted: rec.emitted };
  };

  const logic: CoverageLogic = {
    kind: 'system',
    machine,
    input,
    initial() {
      const rec = new StepRecorder();
      return toVertex(startSystem(machine, input, { inspect: rec.inspect }), rec, startTimeOf(input, options), null, null);
    },
    enabled(vertex) {
      if (vertex.status !== 'active') return [];
      const root = restoreSystem(machine, vertex.state);
      try {
        const snapshot = root.getSnapshot() as AnyMachineSnapshot;
        const hosts = hostVariants(snapshot, logic.view(vertex), options)
          .map((variant) => hostEvent(variant, vertex.now, options))
          .filter((event) => {
            let target: AnyActorRef | undefined = root;
            for (const id of event.target) target = (target?.getSnapshot() as AnyMachineSnapshot).children?.[id] as AnyActorRef;
            return (target?.getSnapshot() as AnyMachineSnapshot | undefined)?.can?.(event.event as never) ?? false;
          });
        return [...hosts, ...nextTimers(vertex)];
      } finally {
        root.stop();
      }
    },
    step(vertex, event) {
      const deliver = (current: Vertex, sent: EventObject, target: ActorPath, fired: PendingTimer | null) => {
        const rec = new StepRecorder();
        const result = stepSystem(machine, current.state, { event: sent, target }, { inspect: rec.inspect });
        return toVertex(result, rec, fired ? fired.dueAt : current.now, current, fired);
      };
      if (event.timers.length === 0) return deliver(vertex, event.event, event.target, null);
      return fireTimers(vertex, event, (current, timer) => deliver(current, { type: timer.eventType }, timer.target, timer));
    },
    project: (vertex) => projectionOf(vertex, key(logic.view(vertex)), options.timeResolution),
    view: (vertex) => vertex.state as KeySource,
  };
  return logic;
}
