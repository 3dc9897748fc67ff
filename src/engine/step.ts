import {
  createActor,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type InspectionEvent,
  type StateValue,
} from 'xstate';

/**
 * Runs events through a whole actor system (a machine and its invoked children) without any live
 * timer: XState's clock is inert, so delayed transitions fire only when a host delivers their
 * `xstate.after.*` event. Only public XState APIs are used: effects are what the root emits
 * (`actor.on`), pending deadlines are the active states' `after` definitions with the due times the
 * machines record in `context.deadlines`, and children are reached through `snapshot.children`.
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
  /** Always the root: effects leave a system through the root's `emit`. */
  actorPath: ActorPath;
  event: EventObject;
}

export interface StepResult {
  persisted: unknown;
  status: 'active' | 'done' | 'error' | 'stopped';
  output: unknown;
  emitted: EmittedEffect[];
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
  const system = new LiveSystem(machine, { input }, options);
  try {
    return system.result();
  } finally {
    system.stop();
  }
}

/** Restores a persisted system, delivers one event, and returns the result. */
export function stepSystem(machine: AnyStateMachine, persisted: unknown, delivery: Delivery, options: StepOptions = {}): StepResult {
  const system = new LiveSystem(machine, { snapshot: persisted }, options);
  try {
    system.deliver(delivery);
    return system.result();
  } finally {
    system.stop();
  }
}

/** Restores a persisted system (inert clock) to read it: snapshots, children, `can`. Stop it after use. */
export function restoreSystem(machine: AnyStateMachine, persisted: unknown): AnyActorRef {
  return new LiveSystem(machine, { snapshot: persisted }, {}).actor;
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

/**
 * The JSON text of each object `persist` returned, so a store that writes the snapshot as JSON does not
 * serialise it a second time. Valid only while the object is unchanged: `persist` returns a new object
 * each time, and the hosts never change one.
 */
export const persistedText = new WeakMap<object, string>();

/**
 * A running actor system with an inert clock: restored (or started) once, then given any number of
 * deliveries. A host that keeps it between commands pays no restore; one that stores the persisted
 * snapshot restores a new one per command. Effects emitted at the root collect until `takeEmitted`.
 */
export class LiveSystem {
  /** The live root actor: read it, never send to it (use `deliver`). */
  readonly actor: AnyActorRef;
  private emitted: EmittedEffect[] = [];
  private readonly subscription: { unsubscribe(): void };
  private failure: unknown;
  private open = true;

  /**
   * `owned`: the snapshot is the caller's own fresh object (just parsed from the store) and is not used
   * again, so XState may revive it in place; otherwise the system is restored from a copy.
   */
  constructor(machine: AnyStateMachine, start: { input?: unknown; snapshot?: unknown; owned?: boolean }, options: StepOptions = {}) {
    this.actor = createActor(machine, {
      // XState revives actor refs inside the snapshot it is given: restore from a copy unless it is ours
      ...(start.snapshot === undefined
        ? { input: start.input }
        : { snapshot: (start.owned ? start.snapshot : structuredClone(start.snapshot)) as never }),
      clock: inertClock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.on('*', (event: EventObject) => this.emitted.push({ actorPath: [], event }));
    this.subscription = this.actor.subscribe({ error: (error) => (this.failure = error) });
    this.actor.start();
    this.assertHealthy();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Delivers one event; returns whether the root's snapshot changed (XState keeps it when nothing is taken). */
  deliver(delivery: Delivery): boolean {
    if (!this.open) throw new StepError('this actor system is stopped');
    const before = this.actor.getSnapshot();
    const target = actorAt(this.actor, delivery.target ?? []);
    if (!target) throw new StepError(`no actor at ${JSON.stringify(delivery.target)}`);
    target.send(delivery.event);
    this.assertHealthy();
    return this.actor.getSnapshot() !== before;
  }

  snapshot(): AnyMachineSnapshot {
    return this.actor.getSnapshot() as AnyMachineSnapshot;
  }

  /** What the root emitted since the last call. */
  takeEmitted(): EmittedEffect[] {
    const emitted = this.emitted;
    this.emitted = [];
    return emitted;
  }

  /** The JSON text of the persisted snapshot (what `persist` parses). */
  persistText(): string {
    return JSON.stringify(this.actor.getPersistedSnapshot());
  }

  persist(): unknown {
    const text = this.persistText();
    const persisted = JSON.parse(text) as unknown;
    if (persisted !== null && typeof persisted === 'object') persistedText.set(persisted, text);
    return persisted;
  }

  /** The whole result of what happened since the last `takeEmitted`. */
  result(): StepResult {
    const snapshot = this.snapshot();
    return {
      persisted: this.persist(),
      status: snapshot.status,
      output: snapshot.output,
      emitted: this.takeEmitted(),
      deadlines: pendingDeadlines(this.actor),
    };
  }

  /** Stops the actor (idempotent). */
  stop(): void {
    if (!this.open) return;
    this.open = false;
    this.subscription.unsubscribe();
    this.actor.stop();
  }

  private assertHealthy(): void {
    const snapshot = this.actor.getSnapshot() as AnyMachineSnapshot;
    const error = this.failure ?? (snapshot.status === 'error' ? snapshot.error : undefined);
    if (error === undefined) return;
    this.stop();
    throw new StepError(`the machine failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

interface DelayedNode {
  /** The node's path from the machine's root: the node is active when the state value contains it. */
  path: readonly string[];
  transitions: Array<{ eventType: string; timer: string }>;
}

const delayedNodesByMachine = new WeakMap<AnyStateMachine, DelayedNode[]>();

/** The state nodes of a machine that have `after` transitions (computed once per machine). */
function delayedNodes(machine: AnyStateMachine): DelayedNode[] {
  let found = delayedNodesByMachine.get(machine);
  if (found) return found;
  found = [];
  const visit = (node: AnyStateNode) => {
    if (node.after.length > 0 && node.path.length > 0) {
      const seen = new Set<string>();
      const transitions: DelayedNode['transitions'] = [];
      for (const transition of node.after) {
        if (seen.has(transition.eventType)) continue;
        seen.add(transition.eventType);
        transitions.push({ eventType: transition.eventType, timer: String(transition.delay) });
      }
      found!.push({ path: [...node.path], transitions });
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  delayedNodesByMachine.set(machine, found);
  return found;
}

/**
 * Whether the state node at `path` is active in a state value: what `snapshot.matches` answers for the
 * node's value, read straight off the public `snapshot.value` (this runs after every step).
 */
function isActive(value: StateValue, path: readonly string[]): boolean {
  let current: StateValue | undefined = value;
  for (let depth = 0; depth < path.length; depth += 1) {
    if (current === undefined) return false;
    if (typeof current === 'string') return depth === path.length - 1 && current === path[depth];
    current = current[path[depth]!];
  }
  return current !== undefined;
}

/**
 * Every delayed transition the system is waiting for, with its due time. Machines record due times in
 * `context.deadlines[delayName]` (see machines/time.ts); a missing one is a machine bug and throws.
 */
export function pendingDeadlines(root: AnyActorRef): PendingDeadline[] {
  const found: PendingDeadline[] = [];
  collectDeadlines(root, [], found);
  return found.length < 2 ? found : found.sort(byDueTime);
}

const byDueTime = (a: PendingDeadline, b: PendingDeadline) => a.dueAt - b.dueAt || a.eventType.localeCompare(b.eventType);

function collectDeadlines(ref: AnyActorRef, path: ActorPath, found: PendingDeadline[]): void {
  const snapshot = ref.getSnapshot() as AnyMachineSnapshot;
  if (snapshot.status !== 'active' || !snapshot.machine) return;
  for (const node of delayedNodes(snapshot.machine)) {
    if (!isActive(snapshot.value, node.path)) continue;
    for (const { eventType, timer } of node.transitions) {
      const dueAt = (snapshot.context as { deadlines?: Record<string, number> } | undefined)?.deadlines?.[timer];
      if (typeof dueAt !== 'number') {
        throw new StepError(`${snapshot.machine.id} waits for ${eventType} but records no deadline ${timer}`);
      }
      found.push({ actorPath: path, timer, eventType, dueAt });
    }
  }
  const children = snapshot.children as Record<string, AnyActorRef | undefined> | undefined;
  for (const id in children) {
    const child = children[id];
    if (child) collectDeadlines(child, [...path, id], found);
  }
}

/** Restores a persisted system to read it and deliver to it; stop it after use. */
export function openSystem(machine: AnyStateMachine, persisted: unknown, options: StepOptions = {}): LiveSystem {
  return new LiveSystem(machine, { snapshot: persisted }, options);
}
