/**
 * What the statechart view's server sends its page: plain JSON, built from XState's standard inspection
 * events (`@xstate.actor`, `@xstate.event`, `@xstate.snapshot`) or from a durable workflow's audit trail.
 * Shared by the server (src/view/*.ts) and the page (src/view/client), which imports types only.
 */

export interface Label {
  'zh-CN': string;
  en: string;
}

/** A state of a chart as the view draws it. */
export interface ChartState {
  id: string;
  key: string;
  /** Keys from the root; [] for the root. */
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  parent: string | null;
  description: string | null;
  /** The initial child of its (non-parallel) parent. */
  initial: boolean;
  tags: string[];
  history: 'shallow' | 'deep' | null;
  label?: Label;
}

/** A transition of a chart as the view draws it. */
export interface ChartTransition {
  /** The coverage engine's id: `${source}|${eventType or 'always'}|${index}`. */
  id: string;
  machineId: string;
  source: string;
  /** '' for eventless transitions. */
  eventType: string;
  index: number;
  kind: 'event' | 'always' | 'after' | 'done' | 'invoke';
  guard: string | null;
  targets: string[];
  /** Delay of an `after` transition: its name or milliseconds. */
  delay: string | number | null;
  /** The delay in milliseconds when the definition alone says it. */
  delayMs: number | null;
  description: string | null;
}

/** A machine as the view draws it: states, transitions, description. */
export interface ChartDefinition {
  machineId: string;
  description: string | null;
  states: ChartState[];
  transitions: ChartTransition[];
}

/** A pending (or just fired) delayed transition of an actor. */
export interface DeadlineView {
  sessionId: string;
  /** `xstate.after.<delay>.<stateId>` */
  eventType: string;
  delay: string;
  stateId: string;
  ms: number | null;
  /** Absolute due time (epoch ms) when known. */
  dueAt: number | null;
  /** Set when the deadline fired. */
  firedAt?: number;
}

/** A message from the view's server to the page (live updates, replay frames, coverage). */
export type ViewMessage =
  | { type: 'hello'; mode: 'live' | 'replay'; title: string; now: number; workflowId?: string }
  | { type: 'machine'; machineKey: string; chart: ChartDefinition }
  | {
      type: 'actor';
      sessionId: string;
      actorId: string;
      parentId: string | null;
      rootId: string;
      machineKey: string | null;
      at: number;
    }
  | { type: 'event'; sessionId: string; sourceId: string | null; eventType: string; event: unknown; at: number }
  | {
      type: 'snapshot';
      sessionId: string;
      eventType: string;
      status: string;
      value: unknown;
      context: unknown;
      activeIds: string[];
      tags: string[];
      /** Delay names resolved to milliseconds for this actor's context. */
      delays: Record<string, number>;
      deadlines: DeadlineView[];
      fired: DeadlineView[];
      at: number;
    }
  | { type: 'clock'; now: number }
  /** Replay only: a step boundary; the messages after it up to the next belong to the step. */
  | { type: 'step'; index: number; seq: number | null; at: number; title: string; detail: unknown };

export type ViewMessageOf<T extends ViewMessage['type']> = Extract<ViewMessage, { type: T }>;

export interface CoverageCounter {
  covered: number;
  total: number;
}

/** What the coverage page draws: one entry per traversal (a machine, or a machine and its children). */
export interface CoveragePageData {
  title: string;
  entries: CoverageEntryData[];
}

export interface CoverageEntryData {
  machineId: string;
  states: CoverageCounter;
  transitions: CoverageCounter;
  transitionPairs: CoverageCounter;
  pinnedPairs: number | null;
  paths: Array<{ id: string; name: string; tags: string[] }>;
  machines: Array<{ machineId: string; chart: ChartDefinition; states: CoverageCounter; transitions: CoverageCounter }>;
  /** By `${machineId} ${transitionId}`: covered by the replayed paths, and the indexes of the paths that take it. */
  coverage: Record<string, { covered: boolean; paths: number[] }>;
  uncovered: Array<{ kind: string; machineId: string; id: string; reason: string }>;
}
