import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { isMachineLogic, stubLogic } from './actors.js';

/** Recorded history values: history state id (prefixed `actor/path#` below the root) → state node ids. */
export type History = Record<string, string[]>;

export interface PersistedActor {
  value?: unknown;
  context?: any;
  status: string;
  output?: unknown;
  historyValue?: Record<string, Array<{ id: string }>>;
  children?: Record<string, { snapshot: PersistedActor; src?: unknown }>;
}

/** The logic behind a child's `src`, as XState resolves it on restore. */
export function resolveSource(machine: AnyStateMachine, src: unknown): unknown {
  if (typeof src !== 'string') return src;
  const inline = /^xstate\.invoke\.(\d+)\.(.*)$/.exec(src);
  if (!inline) return machine.implementations.actors?.[src];
  try {
    const config = (machine.getStateNodeById(inline[2]!).config as { invoke?: unknown }).invoke;
    const entry = Array.isArray(config) ? config[Number(inline[1])] : config;
    return (entry as { src?: unknown } | undefined)?.src;
  } catch {
    return undefined;
  }
}

export interface PersistedNode {
  path: string[];
  snapshot: PersistedActor;
  /** The machine of a machine actor; null for any other logic. */
  machine: AnyStateMachine | null;
  logic: unknown;
}

/** Every actor of a persisted system, depth first, with the logic its `src` resolves to. */
export function walkPersisted(machine: AnyStateMachine, persisted: PersistedActor, visit: (node: PersistedNode) => void): void {
  const walk = (snapshot: PersistedActor, current: AnyStateMachine, path: string[]) => {
    visit({ path, snapshot, machine: current, logic: current });
    for (const [id, child] of Object.entries(snapshot.children ?? {})) {
      const logic = resolveSource(current, child.src);
      if (isMachineLogic(logic)) walk(child.snapshot, logic, [...path, id]);
      else visit({ path: [...path, id], snapshot: child.snapshot, machine: null, logic });
    }
  };
  walk(persisted, machine, []);
}

const prefixed = (path: readonly string[], id: string) => (path.length ? `${path.join('/')}#${id}` : id);

function sortedHistory(entries: Iterable<[string, string[]]>): History {
  return Object.fromEntries([...entries].map(([id, ids]) => [id, [...ids].sort()] as const).sort(([a], [b]) => a.localeCompare(b)));
}

/** History values of a live machine snapshot. */
export function historyOfSnapshot(snapshot: AnyMachineSnapshot): History {
  const value = (snapshot as { historyValue?: Record<string, Array<{ id: string }>> }).historyValue ?? {};
  return sortedHistory(Object.entries(value).map(([id, nodes]) => [id, nodes.map((node) => node.id)]));
}

/** History values of a persisted system: the root's, then (when `deep`) every child machine's, prefixed by its path. */
export function historyOfPersisted(persisted: PersistedActor, deep = true): History {
  const entries: Array<[string, string[]]> = [];
  const walk = (snapshot: PersistedActor, path: string[]) => {
    for (const [id, nodes] of Object.entries(snapshot.historyValue ?? {})) entries.push([prefixed(path, id), nodes.map((node) => node.id)]);
    if (!deep) return;
    for (const [id, child] of Object.entries(snapshot.children ?? {})) {
      if (child.snapshot && 'historyValue' in child.snapshot) walk(child.snapshot, [...path, id]);
    }
  };
  walk(persisted, []);
  return sortedHistory(entries);
}

/** Stand-ins that have ended and are still children, as `path:status`. */
export function settledOfPersisted(machine: AnyStateMachine, persisted: PersistedActor): string[] {
  const found: string[] = [];
  walkPersisted(machine, persisted, (node) => {
    if (node.logic === stubLogic && node.snapshot.status !== 'active') found.push(`${node.path.join('/')}:${node.snapshot.status}`);
  });
  return found.sort();
}

/**
 * The default key of a system: per machine actor its value and (projected) context, per other child
 * its status, nested as the system is.
 */
export function systemKey(
  machine: AnyStateMachine,
  root: PersistedActor,
  project: ((context: any, actor: { path: string[]; machineId: string }) => unknown) | undefined,
): unknown {
  const keyOf = (snapshot: PersistedActor, current: AnyStateMachine, path: string[]): Record<string, unknown> => {
    const key: Record<string, unknown> = {
      value: snapshot.value,
      context: project ? project(snapshot.context, { path, machineId: current.id }) : snapshot.context,
    };
    const children = Object.entries(snapshot.children ?? {});
    if (children.length) {
      key.children = Object.fromEntries(
        children.map(([id, child]) => {
          const logic = resolveSource(current, child.src);
          const src = typeof child.src === 'string' ? child.src : 'inline';
          return [
            id,
            isMachineLogic(logic)
              ? { src, status: child.snapshot.status, ...keyOf(child.snapshot, logic, [...path, id]) }
              : { src, status: child.snapshot.status },
          ];
        }),
      );
    }
    return key;
  };
  return keyOf(root, machine, []);
}
