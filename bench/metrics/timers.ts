import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorker } from '../child.js';
import { round, type BenchContext, type Metric } from '../harness.js';

const WORKER = 'bench/metrics/timers-worker.ts';

interface Seeded {
  seeded: number;
  seconds: number;
  snapshotBytes: number;
  eventType: string;
}

interface Swept {
  due: number;
  fired: number;
  notified: number;
  errors: number;
  seconds: number;
  firedPerSecond: number;
  engineStepsPerSecond: number;
  ratio: number;
  ratioSpread: [number, number];
  cpuRatio: number;
  firedPerCpuSecond: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  maxRssMiB: number;
}

interface Scaled {
  ratio: number;
  ratioSpread: [number, number];
  cpuRatio: number;
  rounds: number;
  sweep1PerSecond: number;
  sweep2PerSecond: number;
  engine1PerSecond: number;
  engine2PerSecond: number;
  sweepScaling: number;
  engineScaling: number;
  dueBefore: number;
  dueAfter: number;
}

/**
 * D7 merchant-response windows, all overdue when the runtime starts: N workflows seeded from one real
 * template (one prepared statement per table, in large transactions), then the real scheduler
 * (`runtime.start()`, batch 100, one store transaction per batch) for a fixed budget, in a fresh
 * process. Run for two backlogs to show that memory does not grow with the number of due deadlines.
 * Then `timers.sweepScaling2` on what is left of the large backlog: two sweeper threads (each its own
 * connection and runtime, leases splitting the backlog by workflow) against one, divided by how the
 * engine alone scales from one thread to two in the same process and run.
 */
export async function timerMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const [small, large] = ctx.quick ? [10_000, 100_000] : [100_000, 1_000_000];
  const budgetMs = ctx.quick ? 5_000 : 20_000;
  const runs: Array<{ seeded: Seeded; swept: Swept }> = [];
  let scaled: Scaled | undefined;
  for (const count of [small, large]) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-timers-'));
    try {
      const file = join(dir, 'timers.db');
      const seeded = runWorker<Seeded>(WORKER, ['seed', file, count]);
      const swept = runWorker<Swept>(WORKER, ['sweep', file, budgetMs], { nodeFlags: ['--expose-gc'] });
      ctx.log(
        `timers: ${count} due (seeded in ${seeded.seconds}s): ${swept.firedPerSecond} fired/s over ${swept.seconds}s, ` +
          `${swept.ratio} of the engine alone (${swept.engineStepsPerSecond}/s), peak RSS ${swept.peakRssMiB} MiB (max ${swept.maxRssMiB})`,
      );
      runs.push({ seeded, swept });
      // Both cores: two sweeper threads on what is left of the large backlog (still overdue).
      if (count === large) {
        scaled = runWorker<Scaled>(WORKER, ['scaling', file, ctx.quick ? 3 : 6]);
        ctx.log(
          `timers: sweep with 2 threads ${scaled.sweepScaling}x of 1 (${scaled.sweep1PerSecond} -> ${scaled.sweep2PerSecond}/s), ` +
            `engine alone ${scaled.engineScaling}x (${scaled.engine1PerSecond} -> ${scaled.engine2PerSecond}/s): ratio ${scaled.ratio}` +
            (scaled.engineScaling < 1.5 ? ' (no second core was free: the ratio says nothing)' : ''),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const scaling = scaled!;
  return {
    'timers.overdueSweep': {
      ratio: b.swept.ratio,
      ratioSpread: b.swept.ratioSpread,
      cpuRatio: b.swept.cpuRatio,
      value: b.swept.firedPerSecond,
      baseline: b.swept.engineStepsPerSecond,
      unit: 'deadlines/s',
      target: 50_000,
      baselineIs:
        'the same deadline fired by the engine alone (restore, deliver, persist; no store), in windows alternating with the sweep, same process',
      due: b.swept.due,
      fired: b.swept.fired,
      notificationsDelivered: b.swept.notified,
      errors: b.swept.errors,
      budgetSeconds: b.swept.seconds,
      smallBacklog: {
        due: a.swept.due,
        ratio: a.swept.ratio,
        firedPerSecond: a.swept.firedPerSecond,
        engineStepsPerSecond: a.swept.engineStepsPerSecond,
      },
      seedSeconds: { [small]: a.seeded.seconds, [large]: b.seeded.seconds },
      snapshotBytes: b.seeded.snapshotBytes,
      deadline: b.seeded.eventType,
    },
    'timers.sweepScaling2': {
      ratio: scaling.ratio,
      ratioSpread: scaling.ratioSpread,
      // The same ratio on rates per CPU second of the process (both threads): 1 when a second thread does
      // as much work per CPU second as one, relative to the engine alone.
      cpuRatio: scaling.cpuRatio,
      value: scaling.sweepScaling,
      baseline: scaling.engineScaling,
      unit: 'x (2 threads / 1)',
      target: 0.8,
      baselineIs:
        'the engine alone (restore, deliver, persist of the same deadline, no store) with 2 threads / with 1, in windows alternating with the sweep (ABBA), same process; ratio is the median per round of (sweep x2 / x1) / (engine x2 / x1)',
      // With no second core free (other work on the machine) the engine cannot scale either, and the
      // ratio says nothing: it is meaningful only when the engine alone got well over 1x from 2 threads.
      secondCoreFree: scaling.engineScaling >= 1.5,
      rounds: scaling.rounds,
      sweepPerSecond: { threads1: scaling.sweep1PerSecond, threads2: scaling.sweep2PerSecond },
      enginePerSecond: { threads1: scaling.engine1PerSecond, threads2: scaling.engine2PerSecond },
      due: { before: scaling.dueBefore, after: scaling.dueAfter },
    },
    'timers.peakRss': {
      ratio: round(b.swept.peakRssMiB / a.swept.peakRssMiB),
      // CPU per fired deadline with the large backlog ÷ with the small one (as `ratio`: 1 when it does not grow).
      cpuRatio: round(a.swept.firedPerCpuSecond / b.swept.firedPerCpuSecond),
      firedPerCpuSecond: { [small]: a.swept.firedPerCpuSecond, [large]: b.swept.firedPerCpuSecond },
      value: b.swept.peakRssMiB,
      baseline: a.swept.peakRssMiB,
      unit: 'MiB',
      baselineIs: `peak RSS of the same sweep with ${small} due (value: ${large} due)`,
      rssBeforeMiB: { [small]: a.swept.rssBeforeMiB, [large]: b.swept.rssBeforeMiB },
      peakHeapMiB: { [small]: a.swept.peakHeapMiB, [large]: b.swept.peakHeapMiB },
      maxRssMiB: { [small]: a.swept.maxRssMiB, [large]: b.swept.maxRssMiB },
    },
  };
}
