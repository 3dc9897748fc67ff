import type { AnyActorRef, AnyStateMachine, InspectionEvent } from 'xstate';
import { activeStateNodes } from '../coverage/model.js';
import { chartOf, delaysOf, isStateMachine, resolveDelay, type DelayDurations, type StateLabeler } from './chart.js';
import type { ChartDefinition, DeadlineView, ViewMessage, ViewMessageOf } from './protocol.js';

/** Options of {@link createViewRecorder}. */
export interface RecorderOptions {
  /** The host's clock (epoch ms): a `SimulatedClock`'s time plus its start, the durable runtime's clock. Default `Date.now`. */
  now?: () => number;
  labels?: StateLabeler;
  durations?: DelayDurations;
  /** Messages kept for pages that connect later (older ones are compacted). Default 10,000. */
  maxMessages?: number;
}

/** Records XState's inspection stream for the statechart view. */
export interface ViewRecorder {
  /** An XState `inspect` option: `createActor(machine, { inspect })`, `createOrderWorkflow(input, { inspect })`. */
  readonly inspect: (event: InspectionEvent) => void;
  /** Everything a page needs to catch up, oldest first. */
  backlog(): ViewMessage[];
  /** Called with every new message; returns the unsubscribe function. */
  subscribe(listener: (message: ViewMessage) => void): () => void;
  /** Sends the clock when it moved (call it on a timer, or after advancing a simulated clock). */
  tickClock(): void;
  /** The recorder's clock (epoch ms). */
  now(): number;
}

interface ActorInfo {
  machine: AnyStateMachine | null;
  activeIds: Set<string>;
  deadlines: DeadlineView[];
}

/** What an inspection event's actor ref exposes beyond `ActorRefLike`. */
interface RefFields {
  id?: string;
  sessionId: string;
  _parent?: RefFields;
  logic?: unknown;
}

/**
 * Turns XState's standard inspection stream into the view's messages: any machine (its definition is
 * sent once), any actor tree (spawned or invoked), with deadlines derived from the active states' `after`
 * transitions. A due time is the machine's own record when its context keeps one (`context.deadlines`),
 * otherwise the time the state was entered plus the delay.
 */
export function createViewRecorder(options: RecorderOptions = {}): ViewRecorder {
  const now = options.now ?? Date.now;
  const maxMessages = options.maxMessages ?? 10_000;
  let messages: ViewMessage[] = [];
  const listeners = new Set<(message: ViewMessage) => void>();
  const charts = new WeakMap<object, { key: string; chart: ChartDefinition }>();
  const sentCharts = new Map<string, string>();
  const actors = new Map<string, ActorInfo>();
  let lastClock = Number.NaN;

  const emit = (message: ViewMessage) => {
    messages.push(message);
    if (messages.length > maxMessages) messages = compact(messages, Math.floor(maxMessages / 2));
    for (const listener of listeners) listener(message);
  };

  const machineKeyOf = (machine: AnyStateMachine): string => {
    let entry = charts.get(machine);
    if (!entry) {
      const chart = chartOf(machine, {
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.durations ? { durations: options.durations } : {}),
      });
      const json = JSON.stringify(chart);
      // machines with equal definitions share one chart (a restored system brings new machine objects only after `provide`)
      let key = [...sentCharts.entries()].find(([, sent]) => sent === json)?.[0];
      if (!key) {
        key = `${machine.id}#${sentCharts.size + 1}`;
        sentCharts.set(key, json);
        emit({ type: 'machine', machineKey: key, chart });
      }
      entry = { key, chart };
      charts.set(machine, entry);
    }
    return entry.key;
  };

  const rootOf = (ref: RefFields): RefFields => (ref._parent ? rootOf(ref._parent) : ref);

  const onActor = (ref: RefFields) => {
    const logic = ref.logic;
    const machine = isStateMachine(logic) ? logic : null;
    actors.set(ref.sessionId, { machine, activeIds: new Set(), deadlines: [] });
    emit({
      type: 'actor',
      sessionId: ref.sessionId,
      actorId: ref.id ?? ref.sessionId,
      parentId: ref._parent?.sessionId ?? null,
      rootId: rootOf(ref).sessionId,
      machineKey: machine ? machineKeyOf(machine) : null,
      at: now(),
    });
  };

  const onSnapshot = (ref: RefFields, snapshot: unknown, eventType: string, event: unknown) => {
    let info = actors.get(ref.sessionId);
    if (!info) {
      onActor(ref);
      info = actors.get(ref.sessionId)!;
    }
    const at = now();
    const s = (snapshot ?? {}) as { status?: string; value?: unknown; context?: unknown; machine?: AnyStateMachine; tags?: Set<string> };
    const nodes = s.machine && s.value !== undefined ? activeStateNodes({ machine: s.machine, value: s.value }) : [];
    const activeIds = nodes.map((node) => node.id);
    const pending: DeadlineView[] = [];
    const active = s.status === undefined || s.status === 'active';
    if (info.machine && active) {
      const recorded = recordedDeadlines(s.context);
      const seen = new Set<string>();
      for (const node of nodes) {
        for (const transition of node.after ?? []) {
          if (seen.has(transition.eventType)) continue;
          seen.add(transition.eventType);
          const delay = (transition as { delay?: string | number }).delay ?? delayName(transition.eventType);
          const ms =
            (typeof delay === 'string' ? options.durations?.(delay, s.context) : undefined) ??
            resolveDelay(info.machine, delay, s.context, event);
          const previous = info.deadlines.find((d) => d.eventType === transition.eventType);
          const stillActive = info.activeIds.has(node.id) && eventType !== transition.eventType;
          const dueAt = recorded[String(delay)] ?? (stillActive && previous ? previous.dueAt : ms === null ? null : at + ms);
          pending.push({ sessionId: ref.sessionId, eventType: transition.eventType, delay: String(delay), stateId: node.id, ms, dueAt });
        }
      }
    }
    const fired = info.deadlines.filter((d) => d.eventType === eventType).map((d) => ({ ...d, firedAt: at }));
    info.activeIds = new Set(activeIds);
    info.deadlines = pending;
    emit({
      type: 'snapshot',
      sessionId: ref.sessionId,
      eventType,
      status: s.status ?? 'active',
      value: toJson(s.value),
      context: toJson(s.context),
      activeIds,
      tags: s.tags ? [...s.tags] : [],
      delays: info.machine ? delaysOf(info.machine, s.context, options.durations) : {},
      deadlines: pending,
      fired,
      at,
    });
    lastClock = at;
  };

  const inspect = (inspection: InspectionEvent) => {
    const ref = inspection.actorRef as unknown as RefFields;
    if (inspection.type === '@xstate.actor') {
      onActor(ref);
      return;
    }
    if (inspection.type === '@xstate.event') {
      if (!actors.has(ref.sessionId)) onActor(ref);
      const source = inspection.sourceRef as unknown as RefFields | undefined;
      emit({
        type: 'event',
        sessionId: ref.sessionId,
        sourceId: source?.sessionId ?? null,
        eventType: inspection.event.type,
        event: toJson(inspection.event),
        at: now(),
      });
      return;
    }
    if (inspection.type === '@xstate.snapshot') {
      onSnapshot(ref, inspection.snapshot, inspection.event.type, inspection.event);
    }
  };

  return {
    inspect,
    backlog: () => [...messages],
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    tickClock() {
      const time = now();
      if (time === lastClock) return;
      lastClock = time;
      const message: ViewMessage = { type: 'clock', now: time };
      for (const listener of listeners) listener(message);
    },
    now,
  };
}

/** `context.deadlines` when a machine records its own due times (this package's machines do). */
function recordedDeadlines(context: unknown): Record<string, number> {
  const deadlines = (context as { deadlines?: unknown } | undefined)?.deadlines;
  if (!deadlines || typeof deadlines !== 'object') return {};
  return Object.fromEntries(Object.entries(deadlines).filter((entry): entry is [string, number] => typeof entry[1] === 'number'));
}

function delayName(eventType: string): string {
  const rest = eventType.slice('xstate.after.'.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? rest : rest.slice(0, dot);
}

/**
 * Keeps what a late page needs: every chart and actor, each actor's latest snapshot, and the most
 * recent `keep` messages for the log.
 */
export function compact(messages: readonly ViewMessage[], keep: number): ViewMessage[] {
  const tail = messages.slice(-keep);
  const head = messages.slice(0, -keep);
  const latest = new Map<string, ViewMessageOf<'snapshot'>>();
  const kept: ViewMessage[] = [];
  for (const message of head) {
    if (message.type === 'machine' || message.type === 'actor' || message.type === 'hello') kept.push(message);
    if (message.type === 'snapshot') latest.set(message.sessionId, message);
  }
  return [...kept, ...latest.values(), ...tail];
}

/**
 * JSON-safe copy of a value from an actor: actor refs become `{ actor: id }`, Sets and Maps arrays and
 * objects, functions are dropped, cycles and very deep nesting are cut.
 */
export function toJson(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (depth > 12 || seen.has(value)) return '…';
  if (isActorRef(value)) return { actor: (value as { id?: string }).id ?? value.sessionId };
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => toJson(item, depth + 1, seen) ?? null);
    if (value instanceof Set) return [...value].map((item) => toJson(item, depth + 1, seen) ?? null);
    if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v, depth + 1, seen)]));
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Error) return { name: value.name, message: value.message };
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const json = toJson(item, depth + 1, seen);
      if (json !== undefined) out[key] = json;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

const isActorRef = (value: object): value is AnyActorRef =>
  typeof (value as { sessionId?: unknown }).sessionId === 'string' && typeof (value as { send?: unknown }).send === 'function';
