/**
 * A parallel machine of two invoked promises: nothing but their completions moves it, so its initial
 * configuration has no outgoing host event.
 *
 * Hand count (default outcomes: each promise completes or fails, since each has onDone and onError)
 * - states 9: dashboard, profile, profile.loading, profile.loaded, profile.failed, feed,
 *   feed.loading, feed.loaded, feed.failed
 * - transitions 4: profile onDone (PD), profile onError (PE), feed onDone (FD), feed onError (FE)
 * - vertices 9: both loading; one settled (4); both settled, the machine done (4)
 * - pairs 8: PD→FD, PD→FE, PE→FD, PE→FE, FD→PD, FD→PE, FE→PD, FE→PE
 * - regions: profile and feed 4 states / 2 transitions each
 * - with no outcome declared (`invokes: { loadProfile: [], loadFeed: [] }`): one empty path, states
 *   5/9 (the initial configuration), transitions 0/4
 */
import { fromPromise, setup } from 'xstate';

const neverCalled = fromPromise<string>(async () => {
  throw new Error('the sample never runs its promises');
});

const loadingRegion = (id: 'loadProfile' | 'loadFeed') => ({
  initial: 'loading' as const,
  states: {
    loading: { invoke: { id, src: id, onDone: 'loaded', onError: 'failed' } },
    loaded: { type: 'final' as const },
    failed: { type: 'final' as const },
  },
});

export const dashboardMachine = setup({
  actors: { loadProfile: neverCalled, loadFeed: neverCalled },
}).createMachine({
  id: 'dashboard',
  type: 'parallel',
  states: { profile: loadingRegion('loadProfile'), feed: loadingRegion('loadFeed') },
  output: { ready: true },
});
