import os from 'node:os';

/**
 * Benchmark harness. The machine is shared (2 cores, other engineers' tests), so absolute rates drift
 * by 2–3× within minutes: every figure that matters is a ratio against a baseline measured in the same
 * process, in the same run, in alternating samples.
 */

export interface Metric {
  ratio?: number;
  value?: number;
  unit?: string;
  baseline?: number;
  [figure: string]: unknown;
}

export interface BenchContext {
  quick: boolean;
  log(line: string): void;
}

/** A suite measures its figures and their baselines itself, in this process, in this run. */
export type Suite = (ctx: BenchContext) => Promise<Record<string, Metric>>;

export interface Rate {
  /** Median operations per second over the samples. */
  opsPerSecond: number;
  samples: number[];
}

export interface Comparison {
  candidate: Rate;
  baseline: Rate;
  /**
   * Median over the pairs of (candidate sample / baseline sample taken right next to it). Pairs are
   * taken in ABBA order, so a load change during a pair hits both sides alike.
   */
  ratio: number;
  /** Interquartile range of the pair ratios: how much the shared machine moved the figure. */
  ratioSpread: [number, number];
  /**
   * The same ratio on process CPU time (user + system, all threads) instead of wall-clock time: time
   * spent waiting for a core on a busy machine does not count, so it moves less with load. It leaves
   * out waits the work itself causes (fsync at a WAL checkpoint), which `ratio` includes.
   */
  cpuRatio: number;
  cpuRatioSpread: [number, number];
}

export interface Sample {
  /** Operations per wall-clock second. */
  wall: number;
  /** Operations per CPU second of this process. */
  cpu: number;
}

/** Operations per second of `run(n)`, measured in samples after a warm-up. */
export function rate(run: (iterations: number) => void, iterations: number, samples: number): Rate {
  run(Math.max(1, Math.floor(iterations / 4)));
  const rates: number[] = [];
  for (let sample = 0; sample < samples; sample++) rates.push(sampleRate(run, iterations));
  return { opsPerSecond: median(rates), samples: rates };
}

/**
 * Two rates measured in alternating samples (ABBA), so drift on a shared machine hits both alike;
 * the ratio is the median of the per-pair ratios candidate / baseline.
 */
export function compareRates(
  candidate: (iterations: number) => void,
  baseline: (iterations: number) => void,
  iterations: { candidate: number; baseline: number },
  samples: number,
): Comparison {
  candidate(Math.max(1, Math.floor(iterations.candidate / 4)));
  baseline(Math.max(1, Math.floor(iterations.baseline / 4)));
  const a: Sample[] = [];
  const b: Sample[] = [];
  const measure = (run: (iterations: number) => void, iterations: number): Sample => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    run(iterations);
    return rates(iterations, start, cpu);
  };
  for (let sample = 0; sample < samples; sample++) {
    if (sample % 2 === 0) {
      a.push(measure(candidate, iterations.candidate));
      b.push(measure(baseline, iterations.baseline));
    } else {
      b.push(measure(baseline, iterations.baseline));
      a.push(measure(candidate, iterations.candidate));
    }
  }
  return comparison(a, b);
}

export async function compareRatesAsync(
  candidate: (iterations: number) => Promise<void>,
  baseline: (iterations: number) => Promise<void>,
  iterations: { candidate: number; baseline: number },
  samples: number,
): Promise<Comparison> {
  await candidate(Math.max(1, Math.floor(iterations.candidate / 4)));
  await baseline(Math.max(1, Math.floor(iterations.baseline / 4)));
  const a: Sample[] = [];
  const b: Sample[] = [];
  const measure = async (run: (iterations: number) => Promise<void>, iterations: number): Promise<Sample> => {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await run(iterations);
    return rates(iterations, start, cpu);
  };
  for (let sample = 0; sample < samples; sample++) {
    if (sample % 2 === 0) {
      a.push(await measure(candidate, iterations.candidate));
      b.push(await measure(baseline, iterations.baseline));
    } else {
      b.push(await measure(baseline, iterations.baseline));
      a.push(await measure(candidate, iterations.candidate));
    }
  }
  return comparison(a, b);
}

/**
 * Several workloads measured in rotation (A B C …, then … C B A, and so on) in one process: every pair
 * of them can be compared as `compareRatesAsync` would (`comparisonOf`), from samples taken side by side.
 */
export async function measureRotation(
  runs: Record<string, { run: (iterations: number) => Promise<void>; iterations: number }>,
  rounds: number,
): Promise<Record<string, Sample[]>> {
  const names = Object.keys(runs);
  for (const name of names) await runs[name]!.run(Math.max(1, Math.floor(runs[name]!.iterations / 4)));
  const samples: Record<string, Sample[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const { run, iterations } = runs[name]!;
      const cpu = process.cpuUsage();
      const start = process.hrtime.bigint();
      await run(iterations);
      samples[name]!.push(rates(iterations, start, cpu));
    }
  }
  return samples;
}

/** The comparison of two workloads of one rotation (candidate / baseline per round). */
export function comparisonOf(samples: Record<string, Sample[]>, candidate: string, baseline: string): Comparison {
  return comparison(samples[candidate]!, samples[baseline]!);
}

function rates(iterations: number, start: bigint, cpu: NodeJS.CpuUsage): Sample {
  const wall = seconds(start);
  const used = process.cpuUsage(cpu);
  return { wall: iterations / wall, cpu: iterations / Math.max(1e-6, (used.user + used.system) / 1e6) };
}

function comparison(a: Sample[], b: Sample[]): Comparison {
  const pairs = a.map((value, index) => value.wall / b[index]!.wall);
  const cpuPairs = a.map((value, index) => value.cpu / b[index]!.cpu);
  const wallOf = (samples: Sample[]) => samples.map((sample) => sample.wall);
  return {
    candidate: { opsPerSecond: median(wallOf(a)), samples: wallOf(a) },
    baseline: { opsPerSecond: median(wallOf(b)), samples: wallOf(b) },
    ratio: median(pairs),
    ratioSpread: [quantile(pairs, 0.25), quantile(pairs, 0.75)],
    cpuRatio: median(cpuPairs),
    cpuRatioSpread: [quantile(cpuPairs, 0.25), quantile(cpuPairs, 0.75)],
  };
}

function sampleRate(run: (iterations: number) => void, iterations: number): number {
  const start = process.hrtime.bigint();
  run(iterations);
  return iterations / seconds(start);
}

export const seconds = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Linear-interpolated quantile (q in 0..1). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** A spread rounded for the report. */
export const roundSpread = (spread: [number, number], digits = 3): [number, number] => [round(spread[0], digits), round(spread[1], digits)];

export const MiB = 2 ** 20;

export function machineInfo() {
  return {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    /** 1-minute load average when the run started: above `cores`, other work shared the machine. */
    loadAverage: round(os.loadavg()[0] ?? 0, 2),
  };
}
