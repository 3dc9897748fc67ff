/**
 * Path generation, replay and coverage for any XState v5 machine (package subpath `./coverage`).
 * `generatePaths` explores a machine (or, with `system: true`, a machine and the children it invokes
 * or spawns) with xstate/graph; invoked actors are stand-ins that end as `invokes` declares;
 * `replayPath` runs a path on a real actor with a `SimulatedClock`; `computeCoverage` counts states,
 * transitions, transition pairs and history restores against the definitions; `renderCoverageMarkdown`
 * and `toMermaid` write the report.
 *
 * @module jd-dispute-statecharts/coverage
 */
export { done, fail, prepareMachine, stubLogic, SETTLE_EVENT } from './actors.js';
export type { InvokeOutcome, InvokeOutcomes, StubMode } from './actors.js';
export {
  describeMachine,
  transitionIdOf,
  transitionKey,
  guardName,
  delayOf,
  activeStateIds,
  activeStateNodes,
  enterableStates,
  historyDefaultTargets,
  invokeIdOf,
} from './model.js';
export type { MachineModel, StateInfo, TransitionInfo, TransitionKind } from './model.js';
export { machineLogic, systemLogic, defaultStamp, CoverageError, sortTimers, timerLabel } from './traverse.js';
export type {
  ActorPath,
  ContextProjection,
  CoverageLogic,
  Effect,
  EventVariant,
  EventVariants,
  GraphEvent,
  KeyFunction,
  KeySource,
  LogicOptions,
  PendingTimer,
  Projection,
  SettledChild,
  TakenTransition,
  Vertex,
} from './traverse.js';
export type { History } from './snapshots.js';
export { generatePaths, explore, feasiblePairs, machinesOf, pathName, pairsOf, formatValue, createLogic } from './paths.js';
export type {
  Criterion,
  Edge,
  Exploration,
  GenerateOptions,
  GeneratedPath,
  InputVariant,
  MachineFailure,
  PairWitness,
  PathSet,
  PathStep,
} from './paths.js';
export { replayPath, formatMismatches } from './replay.js';
export type { HistoryEntry, Mismatch, ObservedStep, ReplayOptions, ReplayResult, ReplayStepContext } from './replay.js';
export { computeCoverage, coverageProblems, excludeFromCoverage, formatFailure, uncoveredKey } from './coverage.js';
export type { Counter, GateOptions, MachineCoverage, RegionCoverage, UncoveredItem } from './coverage.js';
export { toMermaid, renderCoverageMarkdown } from './render.js';
export type { MarkdownOptions, MermaidOptions, ReportEntry } from './render.js';
export { runCoverage, replayOptionsOf, variantsOf } from './run.js';
export type { CoverageRun, RunOptions } from './run.js';
