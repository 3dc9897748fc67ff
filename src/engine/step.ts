import {
  createActor,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
  type InspectionEvent,
} from 'xstate';

/**
 * Runs one event through a whole actor system (a machine and its children) restored from a persisted
 * snapshot, without any live timer: XState's clock is inert, so delayed transitions fire only when a
 * host delivers their `xstate.after.*` event. What the step emitted, which transitions it took and
 * which deadlines are pending afterwards are returned, so a durable host can store them together.
 */

/** Child actor ids from the root; [] is the root. */
export type ActorPath = string[];

export interface Delivery {
  event: EventObject;
  /** Which actor gets the event; the root when absent. */
  target?: ActorPath;
}

export interface PendingDeadline {
  actorPath: ActorPath;
  /** Delay name, e.g. `interceptWindow`. */
  timer: string;
  /** The event that makes the delayed transition: `xstate.after.<delay>.<stateNodeId>`. */
  eventType: string;
  /** Absolute due time, read from the actor's `context.deadlines[timer]`. */
  dueAt: number;
}

export interface EmittedEffect {
  actorPath: ActorPath;
  event: EventObject;
}

export interface TakenTransition {
  /** Machine id of the actor that took it (e.g. `cancellation`). */
  machineId: string;
  actorPath: ActorPath;
  /** Source state node id. */
  source: string;
  eventType: string;
  /** Target state node ids ([] for a targetless transition). */
  targets: string[];
}

export interface StepResult {
  persisted: unknown;
  status: 'active' | 'done' | 'error' | 'stopped';
  output: unknown;
  emitted: EmittedEffect[];
  transitions: TakenTransition[];
  deadlines: PendingDeadline[];
}

export interface StepOptions {
  /** Extra inspection (for example the Stately inspector). */
  inspect?: (event: InspectionEvent) => void;
}

/** A clock that never fires: delayed events come from the host's durable scheduler. */
export const inertClock = {
  setTimeout: () => 0 as unknown as ReturnType<typeof setTimeout>,
  clearTimeout: () => {},
};

export class StepError extends Error {
  override readonly name = 'StepError';
  readonly code = 'STEP_FAILED';
}

/** Starts a new actor system from input and returns its first step. */
export function startSystem(machine: AnyStateMachine, input: unknown, options: StepOptions = {}): StepResult {
  const session = new SystemSession(machine, { input }, options, true);
  return session.deliver(undefined);
}

/** Restores a persisted system, delivers one event, and returns the result. */
export function stepSystem(
  machine: AnyStateMachine,
  persisted: unknown,
  delivery: Delivery,
  options: StepOptions = {},
): StepResult {
  return openSystem(machine, persisted, options).deliver(delivery);
}

/** Restores a persisted system (inert clock) to read it: snapshots, children, `can`. Stop it after use. */
export function restoreSystem(machine: AnyStateMachine, persisted: unknown): AnyActorRef {
  const actor = createActor(machine, { snapshot: structuredClone(persisted) as never, clock: inertClock });
  actor.start();
  return actor;
}

/**
 * Restores a persisted system to read it first and then, optionally, deliver one event to it: one
 * restore where `restoreSystem` + `stepSystem` take two. Reading (snapshots, `can`, pending deadlines)
 * never changes the actor, so `deliver` gives exactly the result `stepSystem` gives on the same
 * persisted snapshot. Inspection events of the restore reach `options.inspect` only if an event is
 * delivered (a session that is only read stays invisible, as `restoreSystem` is).
 */
export function openSystem(machine: AnyStateMachine, persisted: unknown, options: StepOptions = {}): SystemSession {
  return new SystemSession(machine, { snapshot: persisted }, options, false);
}

/** The actor at a path, or undefined. */
export function actorAt(root: AnyActorRef, path: ActorPath): AnyActorRef | undefined {
  let current: AnyActorRef | undefined = root;
  for (const id of path) {
    const snapshot = current?.getSnapshot() as AnyMachineSnapshot | undefined;
    current = snapshot?.children?.[id] as AnyActorRef | undefined;
  }
  return current;
}

/** A restored (or new) actor system with an inert clock, good for one delivery. */
export class SystemSession {
  /** The live root actor: read it, never send to it (use `deliver`). */
  readonly actor: AnyActorRef;
  private readonly emitted: EmittedEffect[] = [];
  private readonly transitions: TakenTransition[] = [];
  private readonly paths = new Map<AnyActorRef, ActorPath>();
  private readonly subscription: { unsubscribe(): void };
  private failure: unknown;
  /** After `deliver`: whether the root's snapshot object changed (XState keeps it when nothing is taken). */
  changedRoot = false;
  /**
   * Inspection events of a restore that is only read so far, held until a delivery makes the session
   * visible to `options.inspect` (then null: events pass straight through, the stop's included).
   */
  private held: InspectionEvent[] | null;
  private open = true;

  constructor(
    machine: AnyStateMachine,
    start: { input?: unknown; snapshot?: unknown },
    private readonly options: StepOptions,
    visible: boolean,
  ) {
    this.held = visible || !options.inspect ? null : [];
    this.actor = createActor(machine, {
      // XState revives actor refs inside the snapshot it is given: restore from a copy
      ...(start.snapshot === undefined ? { input: start.input } : { snapshot: structuredClone(start.snapshot) as never }),
      clock: inertClock,
      inspect: (event) => this.observe(event),
    });
    this.subscription = this.actor.subscribe({ error: (error) => (this.failure = error) });
    this.actor.start();
  }

  /** Delivers one event (none: only the start) and stops the session. */
  deliver(delivery: Delivery | undefined): StepResult {
    if (!this.open) throw new StepError('this session has delivered its event already');
    const { actor } = this;
    try {
      if (this.held) {
        const held = this.held;
        this.held = null;
        for (const event of held) this.options.inspect?.(event);
      }
      const before = actor.getSnapshot();
      if (delivery) {
        const target = actorAt(actor, delivery.target ?? []);
        if (!target) throw new StepError(`no actor at ${JSON.stringify(delivery.target)}`);
        target.send(delivery.event);
      }
      this.changedRoot = actor.getSnapshot() !== before;
      const snapshot = actor.getSnapshot() as AnyMachineSnapshot;
      const errorOf = this.failure ?? (snapshot.status === 'error' ? snapshot.error : undefined);
      if (errorOf !== undefined) {
        throw new StepError(`the machine failed: ${errorOf instanceof Error ? errorOf.message : String(errorOf)}`, {
          cause: errorOf,
        });
      }
      return {
        persisted: JSON.parse(JSON.stringify(actor.getPersistedSnapshot())),
        status: snapshot.status,
        output: snapshot.output,
        emitted: this.emitted,
        transitions: this.transitions,
        deadlines: pendingDeadlines(actor),
      };
    } finally {
      this.stop();
    }
  }

  /** Stops the actor (idempotent). */
  stop(): void {
    if (!this.open) return;
    this.open = false;
    this.subscription.unsubscribe();
    this.actor.stop();
  }

  private pathOf(ref: AnyActorRef): ActorPath {
    const known = this.paths.get(ref);
    if (known) return known;
    const parent = ref._parent as AnyActorRef | undefined;
    const path = parent ? [...this.pathOf(parent), ref.id] : [];
    this.paths.set(ref, path);
    return path;
  }

  private observe(event: InspectionEvent): void {
    if (this.held) {
      if (this.open) this.held.push(event);
    } else {
      this.options.inspect?.(event);
    }
    if (event.type === '@xstate.action' && event.action.type === 'xstate.emit') {
      const params = event.action.params as { event?: EventObject } | undefined;
      if (params?.event) this.emitted.push({ actorPath: this.pathOf(event.actorRef as AnyActorRef), event: params.event });
    }
    if (event.type === '@xstate.microstep') {
      const snapshot = event.snapshot as AnyMachineSnapshot;
      for (const transition of event._transitions) {
        this.transitions.push({
          machineId: snapshot.machine.id,
          actorPath: this.pathOf(event.actorRef as AnyActorRef),
          source: transition.source.id,
          eventType: transition.eventType,
          targets: (transition.target ?? []).map((node) => node.id),
        });
      }
    }
  }
}

/**
 * Every delayed transition the system is waiting for, with its due time. Machines record due times in
 * `context.deadlines[delayName]` (see machines/time.ts); a missing one is a machine bug and throws.
 */
export function pendingDeadlines(root: AnyActorRef): PendingDeadline[] {
  const found: PendingDeadline[] = [];
  const visit = (ref: AnyActorRef, path: ActorPath) => {
    const snapshot = ref.getSnapshot() as AnyMachineSnapshot;
    if (snapshot.status !== 'active' || !snapshot.machine) return;
    const seen = new Set<string>();
    for (const node of snapshot._nodes) {
      for (const transition of node.after) {
        if (seen.has(transition.eventType)) continue;
        seen.add(transition.eventType);
        const timer = /^xstate\.after\.([^.]+)\./.exec(transition.eventType)?.[1] ?? '';
        const dueAt = (snapshot.context as { deadlines?: Record<string, number> } | undefined)?.deadlines?.[timer];
        if (typeof dueAt !== 'number') {
          throw new StepError(`${snapshot.machine.id} waits for ${transition.eventType} but records no deadline ${timer}`);
        }
        found.push({ actorPath: path, timer, eventType: transition.eventType, dueAt });
      }
    }
    for (const [id, child] of Object.entries(snapshot.children ?? {})) {
      if (child) visit(child as AnyActorRef, [...path, id]);
    }
  };
  visit(root, []);
  return found.sort((a, b) => a.dueAt - b.dueAt || a.eventType.localeCompare(b.eventType));
}
