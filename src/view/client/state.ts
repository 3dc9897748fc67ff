import type { ChartDefinition, ChartState, DeadlineView, Label, ViewMessage } from '../protocol.js';

/** The page's model, rebuilt from messages alone (no DOM): what the live and replay pages draw. */
export interface ActorState {
  sessionId: string;
  actorId: string;
  parentId: string | null;
  rootId: string;
  machineKey: string | null;
  status: string;
  value: unknown;
  context: unknown;
  activeIds: string[];
  tags: string[];
  delays: Record<string, number>;
  deadlines: DeadlineView[];
  startedAt: number;
  updatedAt: number;
}

export interface LogEntry {
  at: number;
  sessionId: string;
  actorId: string;
  eventType: string;
  sourceId: string | null;
  value: unknown;
  label: Label | null;
}

export interface ViewState {
  title: string;
  mode: 'live' | 'replay';
  now: number;
  charts: Map<string, ChartDefinition>;
  actors: Map<string, ActorState>;
  log: LogEntry[];
  fired: DeadlineView[];
  /** Who sent the event each actor is processing (from `event` messages). */
  pendingSource: Map<string, string | null>;
  step: { index: number; seq: number | null; at: number; title: string; detail: unknown } | null;
}

export const MAX_LOG = 500;

export function emptyState(): ViewState {
  return {
    title: '',
    mode: 'live',
    now: 0,
    charts: new Map(),
    actors: new Map(),
    log: [],
    fired: [],
    pendingSource: new Map(),
    step: null,
  };
}

export function apply(state: ViewState, message: ViewMessage): void {
  switch (message.type) {
    case 'hello':
      state.title = message.title;
      state.mode = message.mode;
      state.now = Math.max(state.now, message.now);
      return;
    case 'machine':
      state.charts.set(message.machineKey, message.chart);
      return;
    case 'clock':
      state.now = message.now;
      return;
    case 'step':
      state.step = { index: message.index, seq: message.seq, at: message.at, title: message.title, detail: message.detail };
      state.now = message.at;
      return;
    case 'actor': {
      if (state.actors.has(message.sessionId)) return;
      state.actors.set(message.sessionId, {
        sessionId: message.sessionId,
        actorId: message.actorId,
        parentId: message.parentId,
        rootId: message.rootId,
        machineKey: message.machineKey,
        status: 'active',
        value: null,
        context: null,
        activeIds: [],
        tags: [],
        delays: {},
        deadlines: [],
        startedAt: message.at,
        updatedAt: message.at,
      });
      state.now = Math.max(state.now, message.at);
      return;
    }
    case 'event':
      state.pendingSource.set(message.sessionId, message.sourceId);
      state.now = Math.max(state.now, message.at);
      return;
    case 'snapshot': {
      const actor = state.actors.get(message.sessionId);
      if (!actor) return;
      actor.status = message.status;
      actor.value = message.value;
      if (message.context !== null || state.mode === 'live') actor.context = message.context;
      actor.activeIds = message.activeIds;
      actor.tags = message.tags;
      actor.delays = message.delays;
      actor.deadlines = message.deadlines;
      actor.updatedAt = message.at;
      state.now = Math.max(state.now, message.at);
      for (const fired of message.fired) state.fired.push(fired);
      if (state.fired.length > MAX_LOG) state.fired.splice(0, state.fired.length - MAX_LOG);
      const chart = actor.machineKey ? state.charts.get(actor.machineKey) : undefined;
      state.log.push({
        at: message.at,
        sessionId: actor.sessionId,
        actorId: actor.actorId,
        eventType: message.eventType,
        sourceId: state.pendingSource.get(actor.sessionId) ?? null,
        value: message.value,
        label: chart ? statusLabel(chart, message.activeIds) : null,
      });
      state.pendingSource.delete(actor.sessionId);
      if (state.log.length > MAX_LOG) state.log.splice(0, state.log.length - MAX_LOG);
      return;
    }
  }
}

/** The label of the deepest active state that has one: an actor's status in people's words. */
export function statusLabel(chart: ChartDefinition, activeIds: readonly string[]): Label | null {
  const byId = new Map<string, ChartState>(chart.states.map((s) => [s.id, s]));
  let best: ChartState | null = null;
  for (const id of activeIds) {
    const node = byId.get(id);
    if (node?.label && (!best || node.path.length > best.path.length)) best = node;
  }
  return best?.label ?? null;
}

/** Roots (workflows) newest first. */
export function roots(state: ViewState): ActorState[] {
  return [...state.actors.values()].filter((a) => a.parentId === null).sort((a, b) => b.startedAt - a.startedAt);
}

/** An actor and its descendants, parents first. */
export function treeOf(state: ViewState, rootId: string): ActorState[] {
  const all = [...state.actors.values()];
  const out: ActorState[] = [];
  const visit = (id: string) => {
    const actor = state.actors.get(id);
    if (!actor) return;
    out.push(actor);
    for (const child of all.filter((a) => a.parentId === id)) visit(child.sessionId);
  };
  visit(rootId);
  return out;
}
