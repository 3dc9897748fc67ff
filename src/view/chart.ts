import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { describeMachine } from '../coverage/index.js';
import type { ChartDefinition, ChartState, Label } from './protocol.js';

/** A person's name for a state of a machine (e.g. 物流待跟进 for the cancel order's `logisticsFollowUp`). */
export type StateLabeler = (machineId: string, stateKey: string) => Label | undefined;

/**
 * The configured duration of a named delay, for a context when there is one. A machine's delay function
 * may answer the time *left* (a durable machine measures from its recorded deadline), so the view asks
 * this first and falls back to the delay itself.
 */
export type DelayDurations = (delay: string, context: unknown) => number | undefined;

/** Options of {@link chartOf}: state labels and delay durations. */
export interface ChartOptions {
  labels?: StateLabeler;
  durations?: DelayDurations;
  /** Context to resolve delays that are functions of it (`({ context }) => context.timers.x`). */
  context?: unknown;
}

const isStateMachine = (value: unknown): value is AnyStateMachine =>
  typeof value === 'object' &&
  value !== null &&
  'root' in value &&
  typeof (value as { getStateNodeById?: unknown }).getStateNodeById === 'function';

export { isStateMachine };

/**
 * A machine's definition as JSON the page can draw: every state node (nested, parallel, history, final)
 * and every transition definition, identified as the coverage engine identifies them, so the live view
 * and the coverage page draw the same edges.
 */
export function chartOf(machine: AnyStateMachine, options: ChartOptions = {}): ChartDefinition {
  const model = describeMachine(machine);
  const nodes = new Map<string, AnyStateNode>();
  const walk = (node: AnyStateNode) => {
    nodes.set(node.id, node);
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root as AnyStateNode);

  const states: ChartState[] = model.states.map((info) => {
    const node = nodes.get(info.id);
    const key = info.path.at(-1) ?? machine.id;
    const parent = node?.parent;
    const initialTargets: ReadonlyArray<{ id: string }> = parent?.initial?.target ?? [];
    const label = info.path.length ? options.labels?.(machine.id, key) : undefined;
    return {
      id: info.id,
      key,
      path: info.path,
      type: info.type,
      parent: info.parent,
      description: info.description,
      initial: parent !== undefined && parent.type !== 'parallel' && initialTargets.some((target) => target.id === info.id),
      tags: node ? [...node.tags] : [],
      history: info.type === 'history' ? ((node as { history?: 'shallow' | 'deep' } | undefined)?.history ?? 'shallow') : null,
      ...(label ? { label } : {}),
    };
  });
  const transitions = model.transitions.map((t) => ({
    ...t,
    delayMs:
      t.delay === null
        ? null
        : typeof t.delay === 'number'
          ? t.delay
          : (options.durations?.(t.delay, options.context) ?? positive(resolveDelay(machine, t.delay, options.context))),
  }));
  return { machineId: machine.id, description: (machine.root as { description?: string }).description ?? null, states, transitions };
}

/** Milliseconds of a delay (a number, or a name of `setup({ delays })`), or null when it cannot be known. */
export function resolveDelay(machine: AnyStateMachine, delay: string | number, context?: unknown, event?: unknown): number | null {
  if (typeof delay === 'number') return delay;
  const implementation: unknown = (machine.implementations.delays as Record<string, unknown> | undefined)?.[delay];
  if (typeof implementation === 'number') return implementation;
  if (typeof implementation !== 'function' || context === undefined) return null;
  try {
    const ms: unknown = implementation({ context, event: event ?? { type: '' } }, undefined);
    return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
  } catch {
    return null;
  }
}

/** Delay names and their milliseconds for a context: what the page shows on `after` edges. */
const positive = (ms: number | null): number | null => (ms !== null && ms > 0 ? ms : null);

export function delaysOf(machine: AnyStateMachine, context: unknown, durations?: DelayDurations): Record<string, number> {
  let delays = delayCache.get(machine);
  if (!delays) {
    delays = [...new Set(describeMachine(machine).transitions.flatMap((t) => (t.delay === null ? [] : [t.delay])))];
    delayCache.set(machine, delays);
  }
  const resolved: Record<string, number> = {};
  for (const delay of delays) {
    const ms = typeof delay === 'number' ? delay : (durations?.(delay, context) ?? positive(resolveDelay(machine, delay, context)));
    if (ms !== null) resolved[String(delay)] = ms;
  }
  return resolved;
}

const delayCache = new WeakMap<AnyStateMachine, Array<string | number>>();

/** The state value a machine starts in, read from its definition alone (initial children; every region of a parallel node). */
export function initialValueOf(machine: AnyStateMachine): unknown {
  const stateValueOf = (node: AnyStateNode): unknown => {
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.type === 'parallel') {
      return Object.fromEntries(children.filter((c) => c.type !== 'history').map((child) => [child.key, stateValueOf(child)]));
    }
    const initial = (node.initial?.target?.[0] as AnyStateNode | undefined) ?? children.find((child) => child.type !== 'history');
    if (!initial) return {};
    const below = Object.values(initial.states).length ? stateValueOf(initial) : null;
    return below === null ? initial.key : { [initial.key]: below };
  };
  return stateValueOf(machine.root as AnyStateNode);
}
