import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** One state node of a machine definition. */
export interface StateInfo {
  /** State node id, e.g. `cancellation.refunding.backingOff`. */
  id: string;
  machineId: string;
  /** Keys from the root; [] for the root. */
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  parent: string | null;
  description: string | null;
}

/** How a transition is taken: by an event, eventlessly, by a delay, by a child's done event, or on invoke. */
export type TransitionKind = 'event' | 'always' | 'after' | 'done' | 'invoke';

/**
 * One transition definition. Guarded alternatives are separate: a transition is identified by its
 * source node, its event type and its index among the candidates for that event.
 */
export interface TransitionInfo {
  /** `${source}|${eventType or 'always'}|${index}`. */
  id: string;
  machineId: string;
  source: string;
  /** '' for eventless (`always`) transitions. */
  eventType: string;
  index: number;
  kind: TransitionKind;
  guard: string | null;
  /** Target state node ids; [] for a targetless transition. */
  targets: string[];
  /** Delay of an `after` transition: its name or milliseconds. */
  delay: string | number | null;
  description: string | null;
}

/** A machine definition described for coverage: every state and transition, with ids. */
export interface MachineModel {
  machineId: string;
  states: StateInfo[];
  transitions: TransitionInfo[];
}

export const ALWAYS = 'always';

const AFTER_PREFIX = 'xstate.after.';

/** A transition's id within its machine: `source|event|index`. */
export function transitionKey(source: string, eventType: string, index: number): string {
  return `${source}|${eventType === '' ? ALWAYS : eventType}|${index}`;
}

/** The id of a transition definition object, as found in `@xstate.microstep` inspection events. */
export function transitionIdOf(transition: AnyTransitionDefinition): string {
  const source = transition.source as AnyStateNode;
  const candidates: readonly unknown[] =
    transition.eventType === '' ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
  const index = candidates.indexOf(transition);
  if (index < 0) {
    throw new Error(`transition ${source.id} on ${transition.eventType || ALWAYS} is not in its source's definitions`);
  }
  return transitionKey(source.id, transition.eventType, index);
}

/** The machine id of the machine a transition belongs to. */
export function machineIdOf(transition: AnyTransitionDefinition): string {
  return (transition.source as AnyStateNode).machine.id;
}

/** Delay name of an `xstate.after.<delay>.<stateId>` event type. */
export function delayOf(eventType: string): string | null {
  if (!eventType.startsWith(AFTER_PREFIX)) return null;
  const rest = eventType.slice(AFTER_PREFIX.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? rest : rest.slice(0, dot);
}

export function isAfterEvent(eventType: string): boolean {
  return eventType.startsWith(AFTER_PREFIX);
}

/** A readable name for a guard: its name, `not(a)`, `and(a, b)`, or `inline`. */
export function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && 'type' in guard && typeof guard.type === 'string') return guard.type;
  if (typeof guard === 'function') {
    const composite = guard as { type?: unknown; guards?: unknown[]; guard?: unknown };
    if (composite.type === 'xstate.not') return `not(${guardName(composite.guards?.[0] ?? composite.guard)})`;
    if (composite.type === 'xstate.and' || composite.type === 'xstate.or') {
      const op = composite.type.slice('xstate.'.length);
      return `${op}(${(composite.guards ?? []).map(guardName).join(', ')})`;
    }
    if (composite.type === 'xstate.stateIn') return 'stateIn';
    return guard.name || 'inline';
  }
  return 'inline';
}

function kindOf(eventType: string): TransitionKind {
  if (eventType === '') return 'always';
  if (isAfterEvent(eventType)) return 'after';
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  if (eventType.startsWith('xstate.done.actor.') || eventType.startsWith('xstate.error.actor.')) return 'invoke';
  if (eventType.startsWith('xstate.snapshot.')) return 'invoke';
  return 'event';
}

function describeTransition(machineId: string, node: AnyStateNode, t: AnyTransitionDefinition, index: number): TransitionInfo {
  const delay = (t as { delay?: unknown }).delay;
  const description = (t as { description?: unknown }).description;
  return {
    id: transitionKey(node.id, t.eventType, index),
    machineId,
    source: node.id,
    eventType: t.eventType,
    index,
    kind: kindOf(t.eventType),
    guard: guardName(t.guard),
    targets: (t.target ?? []).map((target) => (target as AnyStateNode).id),
    delay: typeof delay === 'string' || typeof delay === 'number' ? delay : null,
    description: typeof description === 'string' ? description : null,
  };
}

/**
 * Every state node and every transition definition of a machine, walked from `machine.root`:
 * `node.transitions` (which holds `on`, `after`, `onDone` and invoke transitions) and `node.always`.
 */
export function describeMachine(machine: AnyStateMachine): MachineModel {
  const machineId = machine.id;
  const states: StateInfo[] = [];
  const transitions: TransitionInfo[] = [];
  const visit = (node: AnyStateNode, parent: string | null) => {
    const description = (node as { description?: unknown }).description;
    states.push({
      id: node.id,
      machineId,
      path: [...node.path],
      type: node.type,
      parent,
      description: typeof description === 'string' ? description : null,
    });
    for (const list of node.transitions.values()) {
      list.forEach((t, index) => {
        transitions.push(describeTransition(machineId, node, t, index));
      });
    }
    (node.always ?? []).forEach((t, index) => {
      transitions.push(describeTransition(machineId, node, t, index));
    });
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child, node.id);
  };
  visit(machine.root as AnyStateNode, null);
  return { machineId, states, transitions };
}

/** State node ids active in a snapshot-like `{ value }` of a machine: the node of every value path. */
export function activeStateIds(machine: AnyStateMachine, value: unknown): string[] {
  const ids: string[] = [machine.root.id];
  const walk = (node: AnyStateNode, v: unknown) => {
    if (typeof v === 'string') {
      const child = node.states[v] as AnyStateNode | undefined;
      if (child) ids.push(child.id);
      return;
    }
    if (v && typeof v === 'object') {
      for (const [key, sub] of Object.entries(v)) {
        const child = node.states[key] as AnyStateNode | undefined;
        if (!child) continue;
        ids.push(child.id);
        walk(child, sub);
      }
    }
  };
  walk(machine.root as AnyStateNode, value);
  return ids;
}

/** The active state nodes of a snapshot, root first, from its public `machine` and `value`. */
export function activeStateNodes(snapshot: { machine: AnyStateMachine; value: unknown }): AnyStateNode[] {
  return activeStateIds(snapshot.machine, snapshot.value).map((id) => snapshot.machine.getStateNodeById(id) as AnyStateNode);
}

/** Where a history state goes when nothing is recorded: its `target`, else its parent's initial state. */
export function historyDefaultTargets(node: AnyStateNode): AnyStateNode[] {
  const parent = node.parent as AnyStateNode;
  const raw = (node.config as { target?: unknown }).target;
  const targets = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (targets.length === 0) return ((parent.initial?.target ?? []) as AnyStateNode[]).slice();
  return targets.map((target) => {
    if (typeof target !== 'string') return target as AnyStateNode;
    if (target.startsWith('#')) return node.machine.getStateNodeById(target.slice(1)) as AnyStateNode;
    let current: AnyStateNode = parent;
    for (const key of target.split('.')) current = current.states[key] as AnyStateNode;
    return current;
  });
}

/**
 * State nodes that the definition can ever enter, guards and events aside: the initial configuration,
 * then whatever a transition from an enterable state targets, with the ancestors, initial states,
 * sibling regions and history defaults that entering it implies.
 */
export function enterableStates(machine: AnyStateMachine, exclude: (t: TransitionInfo) => boolean = () => false): Set<string> {
  const entered = new Set<string>();
  const enterDown = (node: AnyStateNode) => {
    if (entered.has(node.id)) return;
    entered.add(node.id);
    if (node.type === 'history') {
      for (const target of historyDefaultTargets(node)) enter(target);
      return;
    }
    if (node.type === 'parallel') {
      for (const child of Object.values(node.states) as AnyStateNode[]) if (child.type !== 'history') enterDown(child);
    }
    if (node.type === 'compound') for (const target of (node.initial?.target ?? []) as AnyStateNode[]) enterDown(target);
  };
  const enter = (node: AnyStateNode) => {
    enterDown(node);
    for (
      let child = node, parent = node.parent as AnyStateNode | undefined;
      parent;
      child = parent, parent = parent.parent as AnyStateNode | undefined
    ) {
      entered.add(parent.id);
      if (parent.type === 'parallel') {
        for (const region of Object.values(parent.states) as AnyStateNode[])
          if (region !== child && region.type !== 'history') enterDown(region);
      }
    }
  };
  enterDown(machine.root as AnyStateNode);
  const model = describeMachine(machine);
  let size = -1;
  while (size !== entered.size) {
    size = entered.size;
    for (const t of model.transitions) {
      if (!entered.has(t.source) || exclude(t)) continue;
      for (const target of t.targets) enter(machine.getStateNodeById(target) as AnyStateNode);
    }
  }
  return entered;
}

/** Invoke id of an `xstate.done.actor.<id>` / `xstate.error.actor.<id>` event type (null for wildcards and others). */
export function invokeIdOf(eventType: string): string | null {
  const match = /^xstate\.(?:done|error)\.actor\.(.+)$/.exec(eventType);
  return match && !match[1]!.includes('*') ? match[1]! : null;
}
