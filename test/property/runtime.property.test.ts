import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../runtime/helpers.js';
import { emptyStats, runtimeProperty, type WorldStats } from './runtime-driven.js';

/**
 * Issue 6: model-based property tests over the DURABLE runtime (memory store and SQLite file).
 * Random sequences of every event kind from every role (valid and invalid, stale versions, hostile
 * times), payment/logistics callbacks again and out of order, replayed command ids, clock moves just
 * before / at / after every deadline with and without a tick, restarts (with time passing while down),
 * sandbox adapters that decline, throw or crash after executing. Issue 12's adversarial participants:
 * adapters that hang past the delivery timeout, are slow past the lease while a second worker takes the
 * row over, answer malformed or unreadable after the money moved, or answer twice (a webhook during the
 * call); clients that reuse command ids on another workflow and send back-dated or future `at`.
 * INV1–INV6 and the rule-level checks run after every step (see runtime-driven.ts).
 *
 * The default run is short (the gate for `npm test`: 30 + 10 sequences, about 0.3–1 s each on the
 * 2-core machine, more under load; the timeouts are guards, not speed limits); `npm run soak` runs the
 * same property for 10,000 sequences.
 *
 * A failure is shrunk to a minimal sequence; fast-check prints it with `seed` and `path`. To replay:
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property/runtime.property.test.ts
 * FC_RUNS scales the run counts (e.g. FC_RUNS=5 for five times as many).
 */

const tmp = tempDir('runtime-property-');
afterAll(() => tmp.cleanup());

const scale = Number(process.env.FC_RUNS ?? 1);
const replay = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), ...(process.env.FC_PATH ? { path: process.env.FC_PATH } : {}) } : {};
/** Run count; a replay path needs at least as many runs as its first index. */
const runs = (n: number) => {
  const scaled = Math.max(1, Math.round(n * scale));
  const first = process.env.FC_PATH ? Number(process.env.FC_PATH.split(':')[0]) + 1 : 0;
  return Math.max(scaled, first);
};
// fast-check's default report already prints `seed`, `path` and the shrunk counterexample; `verbose: 1`
// would add every failing sequence met while shrinking (long). FC_VERBOSE=1 turns it on.
const verbose = Number(process.env.FC_VERBOSE ?? 0) as 0 | 1 | 2;

function report(name: string, stats: WorldStats, ms: number) {
  // One line per property, so `npm test` output shows what was exercised.
  console.log(
    `${name}: ${stats.sequences} sequences, ${stats.steps} steps, ${stats.checks} checks, ${stats.restarts} restarts, ` +
      `${stats.deadlinesFired} deadlines fired, ${stats.replays} replays, ${stats.differentialReplays} differential replays, ` +
      `${stats.adversarialCalls} adversarial adapter moods, ${stats.reusedIds} ids reused across workflows, ${stats.strandedChecks} INV6 checks, ${(ms / 1000).toFixed(1)} s`,
  );
}

describe('model-based properties (durable runtime)', () => {
  it('INV1–INV6, D9, X2, P2, P3d, C4 hold on the memory store across restarts, callbacks, replays, clock moves and adversarial adapters and clients', async () => {
    const stats = emptyStats();
    const started = Date.now();
    await fc.assert(runtimeProperty({ store: 'memory', maxCommands: 30, stats, differential: true }), {
      numRuns: runs(30),
      verbose,
      ...replay,
    });
    report('runtime/memory', stats, Date.now() - started);
    expect(stats.restarts).toBeGreaterThan(0);
    expect(stats.deadlinesFired).toBeGreaterThan(0);
    expect(stats.checks).toBeGreaterThan(2_000);
    expect(stats.adversarialCalls).toBeGreaterThan(0);
    expect(stats.strandedChecks).toBeGreaterThan(0);
  }, 600_000);

  it('INV1–INV6 hold on a SQLite file closed and reopened at random points', async () => {
    const stats = emptyStats();
    const started = Date.now();
    await fc.assert(runtimeProperty({ store: 'sqlite', dir: tmp.dir, maxCommands: 25, restartWeight: 4, stats, differential: true }), {
      numRuns: runs(10),
      verbose,
      ...replay,
    });
    report('runtime/sqlite', stats, Date.now() - started);
    expect(stats.restarts).toBeGreaterThan(0);
    expect(stats.differentialReplays).toBeGreaterThan(0);
  }, 600_000);
});
