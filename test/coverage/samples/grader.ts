/**
 * `always` chains: grading decides in one macrostep, through a second eventless check for honours;
 * three of the four inputs end in a final state before any event (their initial configuration is a
 * path of its own).
 *
 * Hand count (inputs 95, 85, 60, 30; event score.revised(75), score.revised(20))
 * - states 7: grader, grading, checkingHonours, excellent, honours, passed, failed
 * - transitions 6: grading always #0 [isExcellent], #1 [isPassing], #2; checkingHonours always #0
 *   [isHonours], #1; failed score.revised
 * - vertices 1 + 1 + 1 (final at start) and 3 for input 30: failed(30), failed(20), passed(75)
 * - pairs 5: grading#1→checkingHonours#0 (85), grading#1→checkingHonours#1 (60), revised→grading#1,
 *   revised→grading#2, grading#2→revised
 * - paths: one empty path each for 95, 85 and 60
 */
import { assign, setup } from 'xstate';

export const graderMachine = setup({
  types: {
    context: {} as { score: number },
    input: {} as { score: number },
    events: {} as { type: 'score.revised'; score: number },
  },
  guards: {
    isExcellent: ({ context }) => context.score >= 90,
    isPassing: ({ context }) => context.score >= 50,
    isHonours: ({ context }) => context.score >= 80,
  },
  actions: { reviseScore: assign({ score: ({ event }) => event.score }) },
}).createMachine({
  id: 'grader',
  context: ({ input }) => ({ score: input.score }),
  output: ({ event }) => event.output,
  initial: 'grading',
  states: {
    grading: {
      always: [{ guard: 'isExcellent', target: 'excellent' }, { guard: 'isPassing', target: 'checkingHonours' }, { target: 'failed' }],
    },
    checkingHonours: { always: [{ guard: 'isHonours', target: 'honours' }, { target: 'passed' }] },
    excellent: { type: 'final', output: ({ context }) => ({ grade: 'excellent', score: context.score }) },
    honours: { type: 'final', output: ({ context }) => ({ grade: 'honours', score: context.score }) },
    passed: { type: 'final', output: ({ context }) => ({ grade: 'passed', score: context.score }) },
    failed: { on: { 'score.revised': { target: 'grading', actions: 'reviseScore' } } },
  },
});

export const graderCoverage = {
  inputs: [95, 85, 60, 30].map((score) => ({ label: String(score), input: { score } })),
  events: {
    'score.revised': [75, 20].map((score) => ({ label: `score.revised(${score})`, event: { type: 'score.revised', score } })),
  },
};
