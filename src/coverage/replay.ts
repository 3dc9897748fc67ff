import {
  createActor,
  SimulatedClock,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type InspectionEvent,
} from 'xstate';
import { isStub, prepareMachine } from './actors.js';
import { activeStateIds, delayOf, isAfterEvent, machineIdOf, transitionIdOf } from './model.js';
import type { GeneratedPath, PathStep } from './paths.js';
import { historyOfPersisted, historyOfSnapshot, settledOfPersisted, systemKey } from './snapshots.js';
import {
  activeMachinePaths,
  actorAtPath,
  defaultStamp,
  errorMessage,
  machineKey,
  machineView,
  matchesAny,
  persistedView,
  projectionOf,
  startTimeOf,
  type ActorPath,
  type ContextProjection,
  type Effect,
  type EventVariant,
  type KeyFunction,
  type LogicOptions,
  type PendingTimer,
  type Projection,
  type TakenTransition,
} from './traverse.js';

/** Options of {@link replayPath}: the same keying and time options the paths were generated with. */
export interface ReplayOptions extends Pick<LogicOptions, 'stamp' | 'timeResolution' | 'startTime' | 'ignoreEvents' | 'projectOutput'> {
  /** The key function the paths were generated with (default `{ value, context }`, children included in a system). */
  key?: KeyFunction;
  /** The context projection the paths were generated with (when there is no `key`). */
  projectContext?: ContextProjection;
  /** Replay as an actor system: the key sees the persisted snapshot with its children. */
  system?: boolean;
  /** The event to send for a host step (default: the step's own event). */
  resolveEvent?: (step: PathStep) => EventObject;
  /** Extra assertions after the start and after every step; throw to fail. */
  onStep?: (context: ReplayStepContext) => void;
  /**
   * The event variants the paths were generated with: after every step each is offered to the actor
   * (`can`, nothing is sent) and the accepted ones must be the predicted `enabled` labels.
   */
  variants?: readonly EventVariant[];
}

/** A history state entered in a step, and whether it restored a recorded configuration or its default. */
export interface HistoryEntry {
  machineId: string;
  id: string;
  recorded: boolean;
}

/** What the real actor did in one step. */
export interface ObservedStep {
  projection: Projection;
  transitions: TakenTransition[];
  emitted: Effect[];
  /** Active state node ids seen in any microstep of the step, per machine id. */
  states: Array<{ machineId: string; id: string }>;
  /** History states entered in the step. */
  history: HistoryEntry[];
  /** Clock time after the step. */
  now: number;
}

/** What a replay hook sees at a step: the index, the actor, the snapshot. */
export interface ReplayStepContext {
  /** -1 for the start. */
  index: number;
  step: PathStep | null;
  /** The event that was sent (host steps) or the timer events that fired. */
  sent: EventObject[];
  actor: AnyActorRef;
  clock: SimulatedClock;
  observed: ObservedStep;
  previous: ObservedStep | null;
  /** Persisted snapshot of the whole system before and after the step. */
  before: any;
  after: any;
  /** The actor at a path ([] is the root). */
  actorAt: (path: ActorPath) => AnyActorRef | undefined;
}

/** Where a replay differed from the path's expectation: the step, the field, expected and actual. */
export interface Mismatch {
  /** -1 for the start. */
  step: number;
  label: string;
  message: string;
}

/** What {@link replayPath} observed at every step, and its mismatches (none: the path passed). */
export interface ReplayResult {
  path: GeneratedPath;
  /** [start, step 1, …]. */
  observed: ObservedStep[];
  mismatches: Mismatch[];
}

const stable = (value: unknown) => JSON.stringify(value);

const sequence = (list: readonly TakenTransition[]) => list.map((t) => `${t.actorPath.join('/')}:${t.id}`);

/**
 * Runs a generated path against a real actor on a `SimulatedClock`, with the same stand-ins for
 * invoked actors as the traversal: host events are stamped with the clock's time and sent to their
 * target; an invoke step makes the stand-in end, so XState sends the parent its done or error event;
 * a timer step advances the clock to 1 ms before the timer's due time (nothing may happen) and then to
 * the due time exactly. After the start and after every step the observed key, pending timers,
 * history values, ended invokes, taken transitions, effects and final output must equal the graph's
 * prediction.
 */
export function replayPath(machine: AnyStateMachine, path: GeneratedPath, options: ReplayOptions = {}): ReplayResult {
  const prepared = prepareMachine(machine, options.system ? 'system' : 'machine');
  const clock = new SimulatedClock();
  clock.set(startTimeOf(path.input, options));
  const key: KeyFunction =
    options.key ?? (options.system ? (state) => systemKey(prepared, state as never, options.projectContext) : machineKey(machine, options));
  const stamp = options.stamp ?? defaultStamp;
  const mismatches: Mismatch[] = [];
  const observed: ObservedStep[] = [];

  const paths = new Map<AnyActorRef, ActorPath>();
  let root: AnyActorRef | null = null;
  const pathOf = (ref: AnyActorRef): ActorPath => {
    if (ref === root) return [];
    const known = paths.get(ref);
    if (known) return known;
    const parent = ref._parent as AnyActorRef | undefined;
    const result = parent ? [...pathOf(parent), ref.id] : [];
    paths.set(ref, result);
    return result;
  };
  const empty = (): Omit<ObservedStep, 'projection' | 'now'> => ({ transitions: [], emitted: [], states: [], history: [] });
  let current = empty();
  const timers = new Map<string, PendingTimer>();
  let seq = 0;
  let started = false;
  const timerKey = (target: ActorPath, id: string) => `${target.join('/')}|${id}`;
  const dropTimersOf = (target: ActorPath) => {
    for (const [k, timer] of timers) if (timer.target.join('/') === target.join('/')) timers.delete(k);
  };

  const inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.actor' && started) dropTimersOf(pathOf(event.actorRef as AnyActorRef));
    if (event.type === '@xstate.microstep') {
      const actorPath = pathOf(event.actorRef as AnyActorRef);
      for (const t of event._transitions) current.transitions.push({ id: transitionIdOf(t), machineId: machineIdOf(t), actorPath });
      const snapshot = event.snapshot as AnyMachineSnapshot;
      for (const id of activeStateIds(snapshot.machine, snapshot.value)) current.states.push({ machineId: snapshot.machine.id, id });
      for (const t of event._transitions) current.states.push({ machineId: machineIdOf(t), id: t.source.id });
      const recorded = (snapshot as { historyValue?: Record<string, unknown[]> }).historyValue ?? {};
      for (const t of event._transitions) {
        for (const target of (t.target ?? []) as AnyStateNode[]) {
          if (target.type === 'history')
            current.history.push({ machineId: machineIdOf(t), id: target.id, recorded: (recorded[target.id]?.length ?? 0) > 0 });
        }
      }
    }
    if (event.type === '@xstate.action') {
      const actorPath = pathOf(event.actorRef as AnyActorRef);
      const params = (event.action.params ?? {}) as { event?: EventObject; id?: unknown; delay?: unknown; sendId?: unknown };
      if (event.action.type === 'xstate.emit' && params.event) current.emitted.push({ actorPath, event: params.event });
      if (event.action.type === 'xstate.raise' && typeof params.delay === 'number' && params.event && isAfterEvent(params.event.type)) {
        const id = String(params.id ?? params.event.type);
        timers.delete(timerKey(actorPath, id));
        timers.set(timerKey(actorPath, id), {
          target: actorPath,
          eventType: params.event.type,
          delay: delayOf(params.event.type) ?? '',
          dueAt: clock.now() + params.delay,
          seq: seq++,
        });
      }
      if (event.action.type === 'xstate.cancel' && typeof params.sendId === 'string') timers.delete(timerKey(actorPath, params.sendId));
    }
    if (event.type === '@xstate.event' && isAfterEvent(event.event.type)) {
      // A timer that fires is no longer pending (the machine may not even react to it).
      timers.delete(timerKey(pathOf(event.actorRef as AnyActorRef), event.event.type));
    }
  };

  const actor = createActor(prepared, { clock, input: path.input, inspect } as never) as AnyActorRef;
  root = actor;
  let failure: { error: unknown } | null = null;
  const subscription = actor.subscribe({ error: (error: unknown) => (failure ??= { error }) });
  const persisted = () => JSON.parse(JSON.stringify(actor.getPersistedSnapshot()));
  const snapshotOf = () => actor.getSnapshot() as AnyMachineSnapshot;
  const liveTimers = () => {
    const active = activeMachinePaths(actor);
    return [...timers.values()].filter((timer) => active.has(timer.target.join('/')));
  };
  const project = (): Projection => {
    const snapshot = snapshotOf();
    const base = { status: snapshot.status, timers: snapshot.status === 'active' ? liveTimers() : [], now: clock.now() };
    if (options.system) {
      const view = persisted();
      return projectionOf(base, key(persistedView(view)), options.timeResolution, {
        history: historyOfPersisted(view),
        invokes: settledOfPersisted(prepared, view),
      });
    }
    const invokes = Object.entries(snapshot.children ?? {})
      .filter(([, ref]) => isStub(ref as AnyActorRef) && (ref as AnyActorRef).getSnapshot().status !== 'active')
      .map(([id, ref]) => `${id}:${(ref as AnyActorRef).getSnapshot().status}`);
    return projectionOf(base, key(machineView(snapshot)), options.timeResolution, { history: historyOfSnapshot(snapshot), invokes });
  };
  const activeNodes = (ref: AnyActorRef) => {
    const snapshot = ref.getSnapshot() as AnyMachineSnapshot;
    if (!snapshot?.machine) return;
    for (const id of activeStateIds(snapshot.machine, snapshot.value)) current.states.push({ machineId: snapshot.machine.id, id });
    for (const child of Object.values(snapshot.children ?? {})) if (child) activeNodes(child as AnyActorRef);
  };
  const finish = (): ObservedStep => {
    activeNodes(actor);
    const step: ObservedStep = { ...current, projection: project(), now: clock.now() };
    current = empty();
    return step;
  };
  const offered = (variant: EventVariant) => !variant.event.type.startsWith('xstate.') && !matchesAny(variant.event.type, options.ignoreEvents);
  const accepted = (): string[] =>
    (options.variants ?? [])
      .filter(offered)
      .filter((variant) => {
        const target = actorAtPath(actor, variant.target ?? []);
        const snapshot = target?.getSnapshot() as AnyMachineSnapshot | undefined;
        return snapshot?.status === 'active' && snapshot.can(stamp(variant.event, clock.now()) as never);
      })
      .map((variant) => variant.label)
      .sort();
  const compare = (
    index: number,
    label: string,
    expected: { expected: Projection; transitions: TakenTransition[]; effects?: string[]; enabled?: string[]; final?: { output: unknown } },
    got: ObservedStep,
  ) => {
    if (options.variants && expected.enabled) {
      // Only declared variants are offered; types sent as a bare `{ type }` are not checked here.
      const declared = new Set(options.variants.filter(offered).map((variant) => variant.label));
      const now = accepted();
      const extra = now.filter((l) => !expected.enabled!.includes(l));
      const missing = expected.enabled.filter((l) => declared.has(l) && !now.includes(l));
      if (extra.length || missing.length) {
        mismatches.push({
          step: index,
          label,
          message: `after "${label}" the actor ${extra.length ? `accepts ${extra.join(', ')}` : ''}${extra.length && missing.length ? ' and ' : ''}${missing.length ? `refuses ${missing.join(', ')}` : ''}, unlike the graph`,
        });
      }
    }
    if (stable(got.projection) !== stable(expected.expected)) {
      mismatches.push({
        step: index,
        label,
        message: `state after "${label}" differs:\n  expected ${stable(expected.expected)}\n  observed ${stable(got.projection)}`,
      });
    }
    const effects = got.emitted.map((e) => `${e.actorPath.join('/')}:${e.event.type}`);
    if (expected.effects && stable(effects) !== stable(expected.effects)) {
      mismatches.push({
        step: index,
        label,
        message: `effects of "${label}" differ:\n  expected ${expected.effects.join(', ')}\n  observed ${effects.join(', ')}`,
      });
    }
    if (stable(sequence(got.transitions)) !== stable(sequence(expected.transitions))) {
      mismatches.push({
        step: index,
        label,
        message: `transitions of "${label}" differ:\n  expected ${sequence(expected.transitions).join(', ')}\n  observed ${sequence(got.transitions).join(', ')}`,
      });
    }
    const snapshot = snapshotOf();
    if (expected.final && snapshot.status === 'done') {
      const output = (options.projectOutput ?? ((value: unknown) => value))(options.system ? persisted().output : snapshot.output);
      if (stable(output) !== stable(expected.final.output)) {
        mismatches.push({
          step: index,
          label,
          message:
            `final output after "${label}" differs:\n  expected ${stable(expected.final.output)}\n  observed ${stable(output)}\n` +
            '  (if only the key merges states whose outputs differ: keep what the output reads in the key, or leave it out with projectOutput)',
        });
      }
    }
  };
  const check = (index: number, step: PathStep | null, sent: EventObject[], before: unknown, got: ObservedStep) => {
    if (!options.onStep) return;
    try {
      options.onStep({
        index,
        step,
        sent,
        actor,
        clock,
        observed: got,
        previous: observed.at(-2) ?? null,
        before,
        after: persisted(),
        actorAt: (target) => actorAtPath(actor, target),
      });
    } catch (error) {
      mismatches.push({ step: index, label: step?.label ?? 'start', message: error instanceof Error ? error.message : String(error) });
    }
  };
  const failed = (index: number, label: string) => {
    const error = failure?.error ?? (snapshotOf().status === 'error' ? snapshotOf().error : undefined);
    if (!failure && snapshotOf().status !== 'error') return false;
    mismatches.push({ step: index, label, message: `the machine failed: ${errorMessage(error)}` });
    return true;
  };

  let before: unknown = null;
  try {
    actor.start();
    started = true;
    if (failed(-1, 'start')) return { path, observed, mismatches };
    const start = finish();
    observed.push(start);
    compare(-1, 'start', path.initial, start);
    check(-1, null, [], before, start);

    for (const [index, step] of path.steps.entries()) {
      if (mismatches.length) break;
      before = persisted();
      let sent: EventObject[];
      if (step.timers.length === 0) {
        const event = step.invoke ? step.event : stamp(options.resolveEvent ? options.resolveEvent(step) : step.event, clock.now());
        const target = actorAtPath(actor, step.target);
        if (!target || (step.invoke && (!isStub(target) || target.getSnapshot().status !== 'active'))) {
          const what = step.invoke ? `no running invoked actor ${step.invoke.id}` : 'no actor';
          mismatches.push({ step: index, label: step.label, message: `${what} at ${step.target.join('/') || 'root'}` });
          break;
        }
        target.send(event);
        sent = [event];
      } else {
        const due = step.timers.map((expected) => {
          const timer = liveTimers().find((t) => t.eventType === expected.eventType && t.target.join('/') === expected.target.join('/'));
          return timer?.dueAt;
        });
        const first = due[0];
        if (first === undefined || due.some((d) => d !== first)) {
          mismatches.push({
            step: index,
            label: step.label,
            message: `timers of "${step.label}" are not pending together (due: ${due.map((d) => d ?? 'not pending').join(', ')})`,
          });
          break;
        }
        if (first - 1 > clock.now()) {
          clock.set(first - 1);
          const early = finish();
          const last = observed.at(-1)!.projection;
          if (early.transitions.length || stable([early.projection.status, early.projection.key]) !== stable([last.status, last.key])) {
            mismatches.push({ step: index, label: step.label, message: `"${step.label}" acted 1 ms before its due time ${first}` });
            break;
          }
        }
        clock.set(first);
        sent = step.timers.map((timer) => ({ type: timer.eventType }));
      }
      if (failed(index, step.label)) break;
      const got = finish();
      observed.push(got);
      compare(index, step.label, step, got);
      check(index, step, sent, before, got);
    }
  } catch (error) {
    mismatches.push({
      step: observed.length - 1,
      label: path.steps[observed.length - 1]?.label ?? 'start',
      message: `the actor threw: ${error instanceof Error ? error.message : String(error)}`,
    });
  } finally {
    subscription.unsubscribe();
    actor.stop();
  }
  return { path, observed, mismatches };
}

/** A readable failure for a test: the path and every mismatch. */
export function formatMismatches(result: ReplayResult): string {
  return [
    `path ${result.path.id}: ${result.path.name}`,
    ...result.mismatches.map((m) => `  step ${m.step + 1} (${m.label}): ${m.message}`),
  ].join('\n');
}
