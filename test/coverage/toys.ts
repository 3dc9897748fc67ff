/** Small machines for the coverage engine's own tests: nothing here is domain code. */
import { assign, sendParent, sendTo, setup } from 'xstate';

type DoorEvent = { type: 'unlock'; code: number } | { type: 'open' } | { type: 'close' } | { type: 'lock' };

/** A door: a guarded unlock, an auto-lock `after`, a final state. */
export const doorMachine = setup({
  types: { events: {} as DoorEvent, context: {} as { opened: number } },
  guards: { isRightCode: ({ event }) => event.type === 'unlock' && event.code === 42 },
  delays: { autoLock: 1_000 },
  actions: { countOpening: assign(({ context }) => ({ opened: context.opened + 1 })) },
}).createMachine({
  id: 'door',
  initial: 'locked',
  context: { opened: 0 },
  states: {
    locked: {
      on: { unlock: { guard: 'isRightCode', target: 'unlocked' }, open: { target: 'broken', description: 'T1: forcing the door breaks it.' } },
    },
    unlocked: {
      after: { autoLock: { target: 'locked', description: 'T2: it locks itself after a second.' } },
      on: { open: { target: 'opened', actions: 'countOpening' }, lock: 'locked' },
    },
    opened: { on: { close: 'unlocked' } },
    broken: { type: 'final' },
  },
});

export const doorEvents = {
  unlock: [
    { label: 'unlock(42)', event: { type: 'unlock', code: 42 } },
    { label: 'unlock(7)', event: { type: 'unlock', code: 7 } },
  ],
};

/** Only the value matters to the door's guards: `opened` grows and must stay out of the key. */
export const doorKey = (state: { value: unknown }) => state.value;

/** A child with a timer that records its due time in `context.deadlines` (the convention of step.ts). */
export const kettleMachine = setup({
  types: {
    context: {} as { now: number; deadlines: Record<string, number> },
    input: {} as { at: number },
    events: {} as { type: 'heat'; at: number },
  },
  delays: { boil: 5_000 },
  actions: {
    startBoil: assign(({ event }) => ({ now: event.at, deadlines: { boil: event.at + 5_000 } })),
    clearBoil: assign({ deadlines: {} }),
    report: sendParent({ type: 'kettle.boiled' }),
  },
}).createMachine({
  id: 'kettle',
  initial: 'cold',
  context: ({ input }) => ({ now: input.at, deadlines: {} }),
  states: {
    cold: { on: { heat: { target: 'heating', actions: 'startBoil' } } },
    heating: { exit: 'clearBoil', after: { boil: { target: 'boiled' } } },
    boiled: { type: 'final', entry: 'report' },
  },
});

type KitchenEvent = { type: 'kettle.add'; at: number } | { type: 'heat'; at: number } | { type: 'kettle.boiled' };

/** A parent that spawns the kettle, forwards `heat` and hears back. */
export const kitchenMachine = setup({
  types: { context: {} as { kettle: any; boiled: boolean }, events: {} as KitchenEvent, input: {} as { at: number } },
  actors: { kettle: kettleMachine },
  guards: { hasKettle: ({ context }) => context.kettle !== null },
  actions: {
    addKettle: assign(({ spawn, event }) => ({ kettle: spawn('kettle', { id: 'k1', input: { at: (event as { at: number }).at } }) })),
    forward: sendTo(
      ({ context }) => context.kettle,
      ({ event }) => event,
    ),
    markBoiled: assign({ boiled: true }),
  },
}).createMachine({
  id: 'kitchen',
  context: { kettle: null, boiled: false },
  initial: 'idle',
  states: {
    idle: {
      on: {
        'kettle.add': { guard: ({ context }) => context.kettle === null, target: 'ready', actions: 'addKettle' },
      },
    },
    ready: {
      on: {
        heat: { guard: 'hasKettle', actions: 'forward' },
        'kettle.boiled': { target: 'done', actions: 'markBoiled' },
      },
    },
    done: {},
  },
});

/** What `--options doorCoverage` gives the CLI. */
export const doorCoverage = { events: doorEvents, key: doorKey };
