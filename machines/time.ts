import type { TimerName } from '../src/schemas/timers.js';

export type Deadlines = Partial<Record<TimerName, number>>;

/** Context every machine keeps so that it never reads a clock. */
export interface Clocked {
  /** Time of the last event this machine took. */
  now: number;
  /** Absolute due time of every pending delayed transition, by delay name. */
  deadlines: Deadlines;
}

const AFTER_EVENT = /^xstate\.after\.([A-Za-z0-9]+)\./;

/** The time an event happened: its `at`, or for a delayed event, the deadline that fired. */
export function timeOf(context: Clocked, event: { type: string }): number {
  const at = (event as { at?: unknown }).at;
  if (typeof at === 'number') return at;
  return deadlineOf(context.deadlines, delayNameOf(event.type)) ?? context.now;
}

/** The deadline recorded under a delay name; none for a name that is no delay, or for no name. */
function deadlineOf(deadlines: Deadlines, delay: string | undefined): number | undefined {
  return Object.entries(deadlines).find(([name]) => name === delay)?.[1];
}

/** The delay name of an `xstate.after.<delay>.<stateId>` event. */
export function delayNameOf(eventType: string): string | undefined {
  return AFTER_EVENT.exec(eventType)?.[1];
}

export const TIMER_SENDER = { role: 'system', id: 'timer' } as const;
