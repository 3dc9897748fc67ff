import {
  createMachine,
  type ActorLogic,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  type Snapshot,
} from 'xstate';

import { activeStateNodes } from './model.js';
/**
 * How an invoked actor ends in a generated path: it completes with an output or fails with an error.
 * Traversal and replay both make the stand-in actor end this way, so XState itself sends the parent
 * its done or error event.
 */
export interface InvokeOutcome {
  kind: 'done' | 'error';
  /** Shown in step labels: `fetchUser.done(ada)`. */
  label?: string;
  output?: unknown;
  error?: unknown;
}

/** Outcomes per invoke id (or per `src` name, for every invoke of that source). */
export type InvokeOutcomes = Readonly<Record<string, readonly InvokeOutcome[]>>;

/** The invoked actor completes with `output`. */
export function done(output?: unknown, label?: string): InvokeOutcome {
  return { kind: 'done', output, ...(label === undefined ? {} : { label }) };
}

/** The invoked actor fails with `error`. */
export function fail(error: unknown, label?: string): InvokeOutcome {
  return { kind: 'error', error, ...(label === undefined ? {} : { label }) };
}

/** The event a stand-in actor understands; nothing else moves it. */
export const SETTLE_EVENT = 'coverage.settle';

export interface SettleEvent extends EventObject {
  type: typeof SETTLE_EVENT;
  outcome: InvokeOutcome;
}

export const settleEvent = (outcome: InvokeOutcome): SettleEvent => ({ type: SETTLE_EVENT, outcome });

export const outcomeLabel = (id: string, outcome: InvokeOutcome) =>
  `${id}.${outcome.kind}${outcome.label === undefined ? '' : `(${outcome.label})`}`;

/** The event XState sends a parent when its child `id` ends with `outcome`. */
export function outcomeEvent(id: string, outcome: InvokeOutcome): EventObject {
  return outcome.kind === 'done'
    ? ({ type: `xstate.done.actor.${id}`, output: outcome.output, actorId: id } as EventObject)
    : ({ type: `xstate.error.actor.${id}`, error: outcome.error, actorId: id } as EventObject);
}

type StubSnapshot = Snapshot<unknown> & { status: 'active' | 'done' | 'error' | 'stopped' };

/** A stand-in for an invoked promise, callback or observable: it does nothing until told how it ends. */
export const stubLogic: ActorLogic<StubSnapshot, EventObject, unknown> = {
  transition(snapshot, event) {
    if (snapshot.status !== 'active' || event.type !== SETTLE_EVENT) return snapshot;
    const { outcome } = event as SettleEvent;
    return outcome.kind === 'done'
      ? { status: 'done', output: outcome.output, error: undefined }
      : { status: 'error', output: undefined, error: outcome.error };
  },
  getInitialSnapshot: () => ({ status: 'active', output: undefined, error: undefined }),
  getPersistedSnapshot: (snapshot) => snapshot,
  restoreSnapshot: (snapshot) => snapshot as StubSnapshot,
};

export const isStub = (ref: AnyActorRef | undefined): boolean => (ref as { logic?: unknown } | undefined)?.logic === stubLogic;

export const isMachineLogic = (logic: unknown): logic is AnyStateMachine =>
  typeof logic === 'object' && logic !== null && 'root' in logic && 'getStateNodeById' in logic;

/**
 * Invoked actors during traversal and replay. `machine`: every actor source is a stand-in (children
 * never run in a machine traversal, so the replay must not run them either). `system`: child machines
 * run, prepared the same way; every other source is a stand-in.
 */
export type StubMode = 'machine' | 'system';

const prepared = new WeakMap<AnyStateMachine, Partial<Record<StubMode, AnyStateMachine>>>();

/** The machine with stand-ins for its invoked actors; the machine itself when it has none. */
export function prepareMachine(machine: AnyStateMachine, mode: StubMode): AnyStateMachine {
  const cache = prepared.get(machine) ?? {};
  const known = cache[mode];
  if (known) return known;
  const result = build(machine, mode);
  cache[mode] = result;
  prepared.set(machine, cache);
  if (result !== machine) prepared.set(result, { [mode]: result });
  return result;
}

function replacement(logic: unknown, mode: StubMode): unknown {
  if (mode === 'system' && isMachineLogic(logic)) return prepareMachine(logic, mode);
  return stubLogic;
}

function build(machine: AnyStateMachine, mode: StubMode): AnyStateMachine {
  const named = Object.entries(machine.implementations.actors ?? {});
  const actors: Record<string, unknown> = {};
  let changed = false;
  for (const [name, logic] of named) {
    const next = replacement(logic, mode);
    actors[name] = next;
    if (next !== logic) changed = true;
  }
  // Inline sources are read from the config (`xstate.invoke.<i>.<stateId>`), so the config is rebuilt.
  const inline = hasInlineSource(machine.root as AnyStateNode, mode);
  if (!changed && !inline) return machine;
  const base = inline
    ? createMachine(rebuildConfig(machine.root as AnyStateNode, machine.config as Record<string, unknown>, mode) as never)
    : machine;
  return base.provide({ ...machine.implementations, actors: { ...machine.implementations.actors, ...actors } } as never);
}

function inlineSources(node: AnyStateNode): unknown[] {
  const config = (node.config as { invoke?: unknown }).invoke;
  const list = config === undefined ? [] : Array.isArray(config) ? config : [config];
  return list.map((entry) => (entry as { src?: unknown }).src).filter((src) => typeof src !== 'string');
}

function hasInlineSource(node: AnyStateNode, mode: StubMode): boolean {
  if (inlineSources(node).some((src) => replacement(src, mode) !== src)) return true;
  return (Object.values(node.states) as AnyStateNode[]).some((child) => hasInlineSource(child, mode));
}

function rebuildConfig(node: AnyStateNode, config: Record<string, unknown>, mode: StubMode): Record<string, unknown> {
  const next: Record<string, unknown> = { ...config };
  if (config.invoke !== undefined) {
    const swap = (entry: Record<string, unknown>) => (typeof entry.src === 'string' ? entry : { ...entry, src: replacement(entry.src, mode) });
    next.invoke = Array.isArray(config.invoke) ? config.invoke.map(swap) : swap(config.invoke as Record<string, unknown>);
  }
  const states = config.states as Record<string, Record<string, unknown>> | undefined;
  if (states) {
    next.states = Object.fromEntries(
      Object.entries(states).map(([key, child]) => [key, rebuildConfig(node.states[key] as AnyStateNode, child, mode)]),
    );
  }
  return next;
}

/** Does an active state node of this snapshot handle `eventType` (wildcards included)? */
export function handles(snapshot: AnyMachineSnapshot, eventType: string): boolean {
  return activeStateNodes(snapshot).some((node) =>
    [...node.transitions.keys()].some(
      (descriptor) =>
        descriptor === eventType || descriptor === '*' || (descriptor.endsWith('.*') && eventType.startsWith(descriptor.slice(0, -1))),
    ),
  );
}

/**
 * Outcomes for the child `id` of `snapshot`: declared ones (by invoke id, then by source name), else
 * a completion when some active state handles it (`onDone`) and a failure when some handles that
 * (`onError`). A child that no active invoke declares gets only declared outcomes.
 */
export function outcomesFor(
  snapshot: AnyMachineSnapshot,
  id: string,
  src: unknown,
  declared: InvokeOutcomes | undefined,
): readonly InvokeOutcome[] {
  const own = declared?.[id] ?? (typeof src === 'string' ? declared?.[src] : undefined);
  if (own) return own;
  const invoked = activeStateNodes(snapshot).some((node) => node.invoke.some((def: { id: string }) => def.id === id));
  if (!invoked) return [];
  const defaults: InvokeOutcome[] = [];
  if (handles(snapshot, `xstate.done.actor.${id}`)) defaults.push(done());
  if (handles(snapshot, `xstate.error.actor.${id}`)) defaults.push(fail(new Error(`${id} failed`)));
  return defaults;
}
