import { assign, createMachine, setup, type AnyStateMachine } from 'xstate';

/**
 * A machine with what the view must draw for any definition: nested and parallel states, a history
 * state, named and numeric `after` delays, guarded alternatives, a targetless transition, tags.
 */
export const toyMachine = setup({
  types: {
    context: {} as { tries: number },
    events: {} as { type: 'start' } | { type: 'pay' } | { type: 'pause' } | { type: 'resume' } | { type: 'ping' },
  },
  guards: { hasTriedBefore: ({ context }) => context.tries > 0, isFirstTry: ({ context }) => context.tries === 0 },
  actions: { countTry: assign({ tries: ({ context }) => context.tries + 1 }) },
  delays: { window: 5_000 },
}).createMachine({
  id: 'toy',
  context: { tries: 0 },
  initial: 'idle',
  states: {
    idle: { tags: ['customer'], description: 'R1: waiting', on: { start: 'working' } },
    working: {
      type: 'parallel',
      onDone: 'finished',
      on: { pause: 'paused', ping: { guard: 'isFirstTry', actions: 'countTry', description: 'R4: a ping counts as a try' } },
      states: {
        timer: { initial: 'running', states: { running: { after: { window: 'expired' } }, expired: { type: 'final' } } },
        payment: {
          initial: 'unpaid',
          states: {
            unpaid: {
              on: {
                pay: [
                  { guard: 'hasTriedBefore', target: 'paid', description: 'R2: the second try pays' },
                  { actions: 'countTry', description: 'R3: the first try only counts' },
                ],
              },
            },
            paid: { type: 'final' },
          },
        },
        hist: { type: 'history', history: 'deep' },
      },
    },
    paused: { after: { 60000: 'idle' }, on: { resume: '#toy.working.hist' } },
    finished: { type: 'final' },
  },
});

type Config = { states: Record<string, Record<string, unknown>> } & Record<string, unknown>;

/** The toy with an unreachable state and its transition, as the coverage gate tests mutate machines. */
export function withUnreachableState(machine: AnyStateMachine): AnyStateMachine {
  const config = machine.config as unknown as Config;
  return createMachine({ ...config, states: { ...config.states, limbo: { on: { start: 'idle' } } } } as never).provide(
    machine.implementations as never,
  );
}
