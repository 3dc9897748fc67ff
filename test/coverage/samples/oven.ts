/**
 * An actor system: the oven invokes a countdown machine whose `after` ends the baking. The countdown
 * records no due time in its context (no convention): `system: true` takes due times from the delays
 * XState resolves. Opening the door stops the countdown; its timer goes with it.
 *
 * Hand count (system; default key: values, contexts and children)
 * - states 8: oven, idle, baking, paused, done; countdown, counting, finished
 * - transitions 5: oven start (S), door.opened (O), onDone timer (D), door.closed (C); countdown after
 *   bakeTime (T)
 * - vertices 4: idle; baking with the countdown pending 1 s; paused (no child, no timer); done
 * - pairs 6: T→D (one step), S→O, S→T, O→C, C→O, C→T
 */
import { assign, setup } from 'xstate';

export const countdownMachine = setup({ delays: { bakeTime: 1_000 } }).createMachine({
  id: 'countdown',
  output: ({ event }) => event.output,
  initial: 'counting',
  states: {
    counting: { after: { bakeTime: 'finished' } },
    finished: { type: 'final', output: { rang: true } },
  },
});

export const ovenMachine = setup({
  types: { context: {} as { baked: boolean }, events: {} as { type: 'start' } | { type: 'door.opened' } | { type: 'door.closed' } },
  actors: { countdown: countdownMachine },
  actions: { recordBaked: assign({ baked: ({ event }) => (event as unknown as { output: { rang: boolean } }).output.rang }) },
}).createMachine({
  id: 'oven',
  context: { baked: false },
  output: ({ event }) => event.output,
  initial: 'idle',
  states: {
    idle: { on: { start: 'baking' } },
    baking: {
      invoke: { id: 'timer', src: 'countdown', onDone: { target: 'done', actions: 'recordBaked' } },
      on: { 'door.opened': 'paused' },
    },
    paused: { on: { 'door.closed': 'baking' } },
    done: { type: 'final', output: ({ context }) => ({ baked: context.baked }) },
  },
});
