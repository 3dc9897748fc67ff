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
  const delay = AFTER_EVENT.exec(event.type)?.[1];
  const due = delay === undefined ? undefined : context.deadlines[delay as TimerName];
  return due ?? context.now;
}

/** The delay name of an `xstate.after.<delay>.<stateId>` event. */
export function delayNameOf(eventType: string): string | undefined {
  return AFTER_EVENT.exec(eventType)?.[1];
}

export const TIMER_SENDER = { role: 'system', id: 'timer' } as const;
