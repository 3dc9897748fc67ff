/**
 * Fetch with invoke and retry, as XState users write it: a promise actor invoked in `loading`,
 * `onDone` / `onError`, and a guarded retry that gives up after two retries.
 *
 * Hand count (key: value and context)
 * - states 6: fetch, idle, loading, failure, success, gaveUp
 * - transitions 5: idle fetch, loading onDone, loading onError, failure retry [canRetry], failure retry
 * - vertices 11: idle; loading, success, failure at 0 retries; loading, success, failure at 1 and at 2;
 *   gaveUp
 * - pairs 6: fetch→onDone, fetch→onError, onError→retry[canRetry], onError→retry(give up),
 *   retry[canRetry]→onDone, retry[canRetry]→onError
 */
import { assign, fromPromise, setup } from 'xstate';
import { done, fail, type GenerateOptions } from '../../../src/coverage/index.js';

export interface User {
  name: string;
}

export const fetchMachine = setup({
  types: {
    context: {} as { retries: number; user: User | null; error: string | null },
    events: {} as { type: 'fetch' } | { type: 'retry' },
  },
  actors: {
    fetchUser: fromPromise<User>(async () => {
      throw new Error('the sample never reaches the network');
    }),
  },
  guards: { canRetry: ({ context }) => context.retries < 2 },
  actions: {
    storeUser: assign({ user: ({ event }) => (event as unknown as { output: User }).output }),
    storeError: assign({ error: ({ event }) => String((event as unknown as { error: Error }).error.message) }),
    countRetry: assign({ retries: ({ context }) => context.retries + 1 }),
  },
}).createMachine({
  id: 'fetch',
  initial: 'idle',
  context: { retries: 0, user: null, error: null },
  output: ({ event }) => event.output,
  states: {
    idle: { on: { fetch: 'loading' } },
    loading: {
      invoke: {
        id: 'fetchUser',
        src: 'fetchUser',
        onDone: { target: 'success', actions: 'storeUser' },
        onError: { target: 'failure', actions: 'storeError' },
      },
    },
    failure: {
      on: {
        retry: [{ guard: 'canRetry', target: 'loading', actions: 'countRetry' }, { target: 'gaveUp' }],
      },
    },
    success: { type: 'final', output: ({ context }) => ({ user: context.user, retries: context.retries }) },
    gaveUp: { type: 'final', output: ({ context }) => ({ error: context.error, retries: context.retries }) },
  },
});

export const fetchCoverage: GenerateOptions = {
  invokes: { fetchUser: [done({ name: 'Ada' }, 'ada'), fail(new Error('offline'), 'offline')] },
};
