/**
 * A machine with a bug of the kind found in XState's own examples: the final state's output reduces
 * the scores without an initial value, so closing an empty board throws. The traversal reports the
 * failure with its path, state and event, and goes on.
 *
 * Hand count (variant score.added(5); context projected to the best score)
 * - states 3: scoreboard, open, closed
 * - transitions 2: open score.added, open board.closed
 * - vertices 3: open with no score, open with best 5, closed (best 5)
 * - pairs 2: score.added→score.added, score.added→board.closed
 * - failure 1: start → board.closed, in open, "Reduce of empty array with no initial value"
 */
import { assign, setup } from 'xstate';

export const scoreboardMachine = setup({
  types: {
    context: {} as { scores: number[] },
    events: {} as { type: 'score.added'; score: number } | { type: 'board.closed' },
  },
  actions: { addScore: assign({ scores: ({ context, event }) => [...context.scores, (event as { score: number }).score] }) },
}).createMachine({
  id: 'scoreboard',
  context: { scores: [] },
  output: ({ event }) => event.output,
  initial: 'open',
  states: {
    open: { on: { 'score.added': { actions: 'addScore' }, 'board.closed': 'closed' } },
    closed: { type: 'final', output: ({ context }) => ({ best: context.scores.reduce((a, b) => Math.max(a, b)) }) },
  },
});

export const scoreboardCoverage = {
  events: { 'score.added': [{ label: 'score.added(5)', event: { type: 'score.added', score: 5 } }] },
  projectContext: ({ scores }: { scores: number[] }) => (scores.length ? { best: Math.max(...scores) } : {}),
};
