/**
 * Path generation, replay and coverage for any XState v5 machine (package subpath `./coverage`).
 * `generatePaths` explores a machine (or, with `system: true`, a machine and the children it spawns,
 * through src/engine/step.ts) with xstate/graph; `replayPath` runs a path on a real actor with a
 * `SimulatedClock`; `computeCoverage` counts states, transitions and transition pairs against the
 * definitions; `renderCoverageMarkdown` and `toMermaid` write the report.
 */
export { describeMachine, transitionIdOf, transitionKey, guardName, delayOf, activeStateIds } from './model.js';
export type { MachineModel, StateInfo, TransitionInfo, TransitionKind } from './model.js';
export { machineLogic, systemLogic, defaultStamp, CoverageError, sortTimers, timerLabel } from './traverse.js';
export type {
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
  TakenTransition,
  Vertex,
} from './traverse.js';
export { generatePaths, explore, feasiblePairs, machinesOf, pathName, pairsOf, formatValue, createLogic } from './paths.js';
export type { Criterion, Edge, Exploration, GenerateOptions, GeneratedPath, InputVariant, PathSet, PathStep } from './paths.js';
export { replayPath, formatMismatches } from './replay.js';
export type { Mismatch, ObservedStep, ReplayOptions, ReplayResult, ReplayStepContext } from './replay.js';
export { computeCoverage, coverageProblems } from './coverage.js';
export type { Counter, GateOptions, MachineCoverage, UncoveredItem } from './coverage.js';
export { toMermaid, renderCoverageMarkdown } from './render.js';
export type { MarkdownOptions, MermaidOptions, ReportEntry } from './render.js';
export { runCoverage, replayOptionsOf, variantsOf } from './run.js';
export type { CoverageRun, RunOptions } from './run.js';
