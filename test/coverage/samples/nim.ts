/**
 * A payload-guarded game: Nim with 4 stones, each player takes 1 or 2, whoever takes the last one
 * wins. `take` carries its count; without payload variants its guard never passes. The move log grows
 * with every move: the context projection keeps what the future depends on (stones, whose turn).
 *
 * Hand count (variants take(1), take(2); context projected to stones and turn)
 * - states 4: nim, playing, checking, won
 * - transitions 3: playing take [canTake] (T), checking always [isEmpty] (E), checking always (P)
 * - vertices 8: playing at (4, alice), (3, bob), (2, bob), (2, alice), (1, alice), (1, bob); won by
 *   alice, won by bob. Without the projection the move log tells apart 7 playing vertices and 5 won
 *   ones (every sequence of 1s and 2s summing to 4): 12.
 * - pairs 3: T→E, T→P (one step), P→T
 */
import { assign, setup } from 'xstate';

type Player = 'alice' | 'bob';

export const nimMachine = setup({
  types: {
    context: {} as { stones: number; turn: Player; moves: number[] },
    events: {} as { type: 'take'; count: number },
  },
  guards: {
    canTake: ({ context, event }) => event.count >= 1 && event.count <= 2 && event.count <= context.stones,
    isEmpty: ({ context }) => context.stones === 0,
  },
  actions: {
    takeStones: assign(({ context, event }) => ({ stones: context.stones - event.count, moves: [...context.moves, event.count] })),
    passTurn: assign({ turn: ({ context }) => (context.turn === 'alice' ? 'bob' : 'alice') }),
  },
}).createMachine({
  id: 'nim',
  context: { stones: 4, turn: 'alice', moves: [] },
  output: ({ event }) => event.output,
  initial: 'playing',
  states: {
    playing: { on: { take: { guard: 'canTake', target: 'checking', actions: 'takeStones' } } },
    checking: {
      always: [
        { guard: 'isEmpty', target: 'won' },
        { target: 'playing', actions: 'passTurn' },
      ],
    },
    won: { type: 'final', output: ({ context }) => ({ winner: context.turn }) },
  },
});

export const nimEvents = {
  take: [1, 2].map((count) => ({ label: `take(${count})`, event: { type: 'take', count } })),
};

export const nimCoverage = {
  events: nimEvents,
  projectContext: ({ stones, turn }: { stones: number; turn: Player }) => ({ stones, turn }),
};
