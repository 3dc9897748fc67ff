import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { orderMachine } from '../../machines/order.js';
import { activeStateIds } from '../coverage/index.js';
import { WorkflowNotFoundError } from '../errors.js';
import { stableSessionId } from '../inspect.js';
import type { AuditRow, DeadlineRow, WorkflowStore } from '../runtime/store.js';
import { chartOf, delaysOf, initialValueOf, isStateMachine, resolveDelay, type DelayDurations, type StateLabeler } from './chart.js';
import type { DeadlineView, ViewMessage } from './protocol.js';

/** Options of {@link replayWorkflow}. */
export interface ReplayOptions {
  /** The workflow's root machine. Default: this package's order machine. */
  machine?: AnyStateMachine;
  labels?: StateLabeler;
  durations?: DelayDurations;
}

/** The reads a replay needs: any WorkflowStore (SQLite, PostgreSQL, memory) has them. */
export type ReplayStore = Pick<WorkflowStore, 'load' | 'listAudit' | 'listDeadlines'>;

interface PersistedActor {
  value?: unknown;
  context?: unknown;
  children?: Record<string, { src?: unknown; snapshot?: PersistedActor }>;
}

interface Timeline {
  sessionId: string;
  path: string[];
  machine: AnyStateMachine;
  /** Final context, when the actor still exists in the stored snapshot. */
  context: unknown;
  values: Array<unknown | undefined>;
}

/**
 * A durable workflow's audit trail as view messages, one `step` per accepted event (step 0 is the
 * opening): each actor's state as the audit recorded it, and the deadlines as they stood after each step.
 * Due times come from the trail itself where it says them (a timer fires at its due time), from the
 * store for deadlines still pending, and otherwise from the entry time plus the delay.
 */
export async function replayWorkflow(store: ReplayStore, workflowId: string, options: ReplayOptions = {}): Promise<ViewMessage[]> {
  const record = await store.load(workflowId);
  if (!record) throw new WorkflowNotFoundError(workflowId);
  const audit = await store.listAudit(workflowId);
  const stored = await store.listDeadlines(workflowId);
  const root = options.machine ?? orderMachine;
  const persisted = (record.snapshot ?? {}) as PersistedActor;
  const chartOptions = { ...(options.labels ? { labels: options.labels } : {}), ...(options.durations ? { durations: options.durations } : {}) };
  const durations = options.durations;

  const childMachines = new Map<string, AnyStateMachine>();
  for (const [src, logic] of Object.entries(root.implementations.actors ?? {})) {
    if (isStateMachine(logic)) childMachines.set(src, logic);
  }
  const machineKeys = new Map<AnyStateMachine, string>();
  const messages: ViewMessage[] = [{ type: 'hello', mode: 'replay', title: workflowId, now: record.createdAt, workflowId }];
  const keyOf = (machine: AnyStateMachine): string => {
    let key = machineKeys.get(machine);
    if (!key) {
      key = `${machine.id}#${machineKeys.size + 1}`;
      machineKeys.set(machine, key);
      messages.push({ type: 'machine', machineKey: key, chart: chartOf(machine, chartOptions) });
    }
    return key;
  };

  // Each actor's value after every step (undefined: not alive then).
  const steps = audit.length + 1;
  const rootTimeline: Timeline = {
    sessionId: stableSessionId(workflowId, []),
    path: [],
    machine: root,
    context: persisted.context,
    values: [initialValueOf(root)],
  };
  const timelines = new Map<string, Timeline>([['', rootTimeline]]);
  audit.forEach((row, index) => {
    const state = (row.resultingState ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(state)) {
      const isRoot = key === 'order' || key === root.id;
      const path = isRoot ? [] : [key];
      let timeline = timelines.get(path.join('/'));
      if (!timeline) {
        const child = persisted.children?.[key];
        const machine =
          (typeof child?.src === 'string' ? childMachines.get(child.src) : undefined) ?? guessMachine([...childMachines.values()], value);
        if (!machine) continue;
        timeline = { sessionId: stableSessionId(workflowId, path), path, machine, context: child?.snapshot?.context, values: [] };
        timelines.set(path.join('/'), timeline);
      }
      timeline.values[index + 1] = value;
    }
  });
  for (const timeline of timelines.values()) {
    timeline.values.length = steps;
    // A child that reaches a final state is gone from the next resulting state: infer where it ended
    for (let step = 1; step < steps; step += 1) {
      if (timeline.values[step] !== undefined || timeline.values[step - 1] === undefined) continue;
      const row = audit[step - 1]!;
      const final = finalValueAfter(timeline.machine, timeline.values[step - 1], row.eventType);
      if (final !== undefined) timeline.values[step] = final;
      break;
    }
  }

  const deadlinesByStep = deadlineTimelines([...timelines.values()], audit, stored, record.createdAt, durations);

  const sessionOf = (path: unknown): string => stableSessionId(workflowId, Array.isArray(path) ? path.map(String) : []);
  for (let step = 0; step < steps; step += 1) {
    const row = step === 0 ? undefined : audit[step - 1]!;
    const at = row?.at ?? record.createdAt;
    const event = (row?.event ?? {}) as Record<string, unknown>;
    messages.push({
      type: 'step',
      index: step,
      seq: row?.seq ?? null,
      at,
      title: row ? row.eventType : 'workflow opened',
      detail: row
        ? { by: { role: row.role, id: row.actorId }, event: row.event, commandId: row.commandId }
        : { workflowId, orderId: record.orderId, merchantId: record.merchantId },
    });
    const target = row ? sessionOf(event.actorPath) : rootTimeline.sessionId;
    if (row) messages.push({ type: 'event', sessionId: target, sourceId: null, eventType: row.eventType, event: row.event, at });
    const last = step === steps - 1;
    for (const timeline of timelines.values()) {
      const value = timeline.values[step];
      const before = step === 0 ? undefined : timeline.values[step - 1];
      if (value === undefined) {
        if (before !== undefined) messages.push(snapshotMessage(timeline, before, 'stopped', row?.eventType ?? '', at, [], [], null, durations));
        continue;
      }
      if (before === undefined) {
        messages.push({
          type: 'actor',
          sessionId: timeline.sessionId,
          actorId: timeline.path.at(-1) ?? workflowId,
          parentId: timeline.path.length ? rootTimeline.sessionId : null,
          rootId: rootTimeline.sessionId,
          machineKey: keyOf(timeline.machine),
          at,
        });
      }
      const { pending, fired } = deadlinesByStep.get(timeline.sessionId)?.[step] ?? { pending: [], fired: [] };
      const changed =
        before === undefined || JSON.stringify(before) !== JSON.stringify(value) || timeline.sessionId === target || fired.length > 0;
      if (!changed && !last) continue;
      const done = timeline.machine.getStateNodeById(activeStateIds(timeline.machine, value).at(-1) ?? timeline.machine.id).type === 'final';
      const context = last ? (timeline.context ?? null) : null;
      messages.push(
        snapshotMessage(timeline, value, done ? 'done' : 'active', row?.eventType ?? 'xstate.init', at, pending, fired, context, durations),
      );
    }
  }
  return messages;
}

function snapshotMessage(
  timeline: Timeline,
  value: unknown,
  status: string,
  eventType: string,
  at: number,
  deadlines: DeadlineView[],
  fired: DeadlineView[],
  context: unknown,
  durations: DelayDurations | undefined,
): ViewMessage {
  const activeIds = activeStateIds(timeline.machine, value);
  const tags = activeIds.flatMap((id) => [...(timeline.machine.getStateNodeById(id) as AnyStateNode).tags]);
  return {
    type: 'snapshot',
    sessionId: timeline.sessionId,
    eventType,
    status,
    value,
    context,
    activeIds,
    tags: [...new Set(tags)],
    delays: delaysOf(timeline.machine, timeline.context, durations),
    deadlines,
    fired,
    at,
  };
}

/**
 * The final state a machine reaches from `value` on `eventType`, read from its definition: the first
 * candidate transition (deepest active state first) whose targets are all final states.
 */
function finalValueAfter(machine: AnyStateMachine, value: unknown, eventType: string): unknown {
  for (const id of activeStateIds(machine, value).reverse()) {
    const node = machine.getStateNodeById(id) as AnyStateNode;
    for (const transition of node.transitions.get(eventType) ?? []) {
      const targets = (transition.target ?? []) as AnyStateNode[];
      if (targets.length === 1 && targets[0]!.type === 'final') {
        return targets[0]!.path.reduceRight<unknown>((below, key) => (below === undefined ? key : { [key]: below }), undefined);
      }
    }
  }
  return undefined;
}

/** The child machine whose top-level states hold a value. */
function guessMachine(machines: AnyStateMachine[], value: unknown): AnyStateMachine | undefined {
  const keys = typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.keys(value) : [];
  return machines.find((machine) => keys.length > 0 && keys.every((key) => key in machine.root.states));
}

interface Instance {
  view: DeadlineView;
  enteredAt: number;
  from: number;
  /** Last step at which it is pending. */
  to: number;
  firedStep: number | null;
}

/** Per actor session, per step: the pending deadlines and those that fired at that step. */
function deadlineTimelines(
  timelines: Timeline[],
  audit: AuditRow[],
  stored: DeadlineRow[],
  createdAt: number,
  durations: DelayDurations | undefined,
): Map<string, Array<{ pending: DeadlineView[]; fired: DeadlineView[] }>> {
  const result = new Map<string, Array<{ pending: DeadlineView[]; fired: DeadlineView[] }>>();
  const steps = audit.length + 1;
  for (const timeline of timelines) {
    const instances: Instance[] = [];
    let open = new Map<string, Instance>();
    for (let step = 0; step < steps; step += 1) {
      const row = step === 0 ? undefined : audit[step - 1]!;
      const at = row?.at ?? createdAt;
      const value = timeline.values[step];
      const targetPath = ((row?.event as { actorPath?: unknown } | undefined)?.actorPath ?? []) as unknown[];
      const targeted = row !== undefined && targetPath.join('/') === timeline.path.join('/');
      const next = new Map<string, Instance>();
      const active = value === undefined ? [] : activeStateIds(timeline.machine, value);
      const previous =
        step === 0 || timeline.values[step - 1] === undefined
          ? new Set<string>()
          : new Set(activeStateIds(timeline.machine, timeline.values[step - 1]));
      for (const id of active) {
        const node = timeline.machine.getStateNodeById(id) as AnyStateNode;
        for (const transition of node.after ?? []) {
          const eventType = transition.eventType;
          if (next.has(eventType)) continue;
          const firedHere = targeted && row.eventType === eventType;
          const carried = open.get(eventType);
          if (carried && previous.has(id) && !firedHere) {
            carried.to = step;
            next.set(eventType, carried);
            continue;
          }
          const delay = String((transition as { delay?: string | number }).delay ?? eventType.split('.')[2]);
          const ms =
            durations?.(delay, timeline.context) ??
            (timeline.context === undefined
              ? null
              : resolveDelay(timeline.machine, (transition as { delay?: string | number }).delay ?? delay, timeline.context));
          const instance: Instance = {
            view: { sessionId: timeline.sessionId, eventType, delay, stateId: id, ms, dueAt: ms === null ? null : at + ms },
            enteredAt: at,
            from: step,
            to: step,
            firedStep: null,
          };
          instances.push(instance);
          next.set(eventType, instance);
        }
      }
      if (targeted) {
        const fired = open.get(row.eventType);
        if (fired) {
          fired.firedStep = step;
          // a timer fires at its due time: the trail states it exactly
          fired.view.dueAt = row.at;
          fired.view.ms = row.at - fired.enteredAt;
        }
      }
      open = next;
    }
    for (const instance of open.values()) {
      const row = stored.find((d) => d.actorPath === timeline.path.join('/') && d.eventType === instance.view.eventType);
      if (row) {
        instance.view.dueAt = row.dueAt;
        instance.view.ms = row.dueAt - instance.enteredAt;
      }
    }
    const perStep = Array.from({ length: steps }, () => ({ pending: [] as DeadlineView[], fired: [] as DeadlineView[] }));
    for (const instance of instances) {
      for (let step = instance.from; step <= instance.to; step += 1) perStep[step]!.pending.push(instance.view);
      if (instance.firedStep !== null) perStep[instance.firedStep]!.fired.push({ ...instance.view, firedAt: instance.view.dueAt ?? 0 });
    }
    result.set(timeline.sessionId, perStep);
  }
  return result;
}
