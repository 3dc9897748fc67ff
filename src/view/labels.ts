import { CANCELLATION_STATUS_LABELS, DISPUTE_STATUS_LABELS, type Label } from '../labels.js';
import { DEFAULT_TIMERS } from '../schemas/timers.js';

/** The package's status labels by machine id; a key found in no table of its machine is looked up in all of them. */
const TABLES: Record<string, Record<string, Label>> = {
  cancellation: CANCELLATION_STATUS_LABELS,
  dispute: DISPUTE_STATUS_LABELS,
};

/** The default `StateLabeler`: src/labels.ts, where the notice's own words live. */
export function defaultStateLabels(machineId: string, stateKey: string): Label | undefined {
  const own = TABLES[machineId];
  if (own && Object.hasOwn(own, stateKey)) return own[stateKey];
  if (own) return undefined;
  for (const table of Object.values(TABLES)) if (Object.hasOwn(table, stateKey)) return table[stateKey];
  return undefined;
}

/** The default `DelayDurations`: the actor's `context.timers` (a deployment's settings), else the policy's defaults. */
export function defaultDurations(delay: string, context: unknown): number | undefined {
  const timers = (context as { timers?: Record<string, unknown> } | undefined)?.timers;
  const configured = timers && typeof timers === 'object' ? timers[delay] : undefined;
  if (typeof configured === 'number') return configured;
  const fallback: unknown = (DEFAULT_TIMERS as Record<string, unknown>)[delay];
  return typeof fallback === 'number' ? fallback : undefined;
}
