import type { AnyStateMachine } from 'xstate';
import { computeCoverage, type MachineCoverage } from './coverage.js';
import { generatePaths, type GenerateOptions, type PathSet } from './paths.js';
import { replayPath, type ReplayOptions, type ReplayResult } from './replay.js';
import type { EventVariant, EventVariants } from './traverse.js';

export interface RunOptions extends GenerateOptions {
  /** Extra assertions during replay. */
  onStep?: ReplayOptions['onStep'];
}

/** What {@link runCoverage} returns: the paths, their replays and the coverage they reach. */
export interface CoverageRun {
  pathSet: PathSet;
  replays: ReplayResult[];
  coverage: MachineCoverage;
}

/** Generate, replay every path on a real actor, and count: the whole pipeline for one machine. */
export function runCoverage(machine: AnyStateMachine, options: RunOptions = {}): CoverageRun {
  const pathSet = generatePaths(machine, options);
  const replays = pathSet.paths.map((path) => replayPath(machine, path, replayOptionsOf(options)));
  return { pathSet, replays, coverage: computeCoverage(pathSet, replays) };
}

/** Replay options matching generation options (same key, context projection, stamp, time resolution, ignored events, system mode). */
export function replayOptionsOf(options: RunOptions): ReplayOptions {
  return {
    ...(options.key ? { key: options.key } : {}),
    ...(options.projectContext ? { projectContext: options.projectContext } : {}),
    ...(options.projectOutput ? { projectOutput: options.projectOutput } : {}),
    ...(options.ignoreEvents ? { ignoreEvents: options.ignoreEvents } : {}),
    ...(options.stamp ? { stamp: options.stamp } : {}),
    ...(options.timeResolution ? { timeResolution: options.timeResolution } : {}),
    ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
    ...(options.system ? { system: true } : {}),
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.events && typeof options.events !== 'function' ? { variants: variantsOf(options.events) } : {}),
  };
}

/** Every variant of an event variants record, in a stable order. */
export function variantsOf(events: EventVariants): EventVariant[] {
  return Object.values(events).flat();
}
