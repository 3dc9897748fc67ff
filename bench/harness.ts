import os from 'node:os';

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

export interface Rate {
  /** Median operations per second over the samples. */
  opsPerSecond: number;
  samples: number[];
}

/** Operations per second of `run(n)`, measured in samples after a warm-up. */
export function rate(run: (iterations: number) => void, iterations: number, samples: number): Rate {
  run(Math.max(1, Math.floor(iterations / 4)));
  const rates: number[] = [];
  for (let sample = 0; sample < samples; sample++) rates.push(sampleRate(run, iterations));
  return { opsPerSecond: median(rates), samples: rates };
}

/**
 * Two rates measured in alternating samples, so drift on a shared machine hits both alike;
 * the ratio is candidate / baseline of the medians.
 */
export function compareRates(
  candidate: (iterations: number) => void,
  baseline: (iterations: number) => void,
  iterations: { candidate: number; baseline: number },
  samples: number,
): { candidate: Rate; baseline: Rate; ratio: number } {
  candidate(Math.max(1, Math.floor(iterations.candidate / 4)));
  baseline(Math.max(1, Math.floor(iterations.baseline / 4)));
  const a: number[] = [];
  const b: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    a.push(sampleRate(candidate, iterations.candidate));
    b.push(sampleRate(baseline, iterations.baseline));
  }
  const result = { candidate: { opsPerSecond: median(a), samples: a }, baseline: { opsPerSecond: median(b), samples: b } };
  return { ...result, ratio: result.candidate.opsPerSecond / result.baseline.opsPerSecond };
}

export async function compareRatesAsync(
  candidate: (iterations: number) => Promise<void>,
  baseline: (iterations: number) => Promise<void>,
  iterations: { candidate: number; baseline: number },
  samples: number,
): Promise<{ candidate: Rate; baseline: Rate; ratio: number }> {
  await candidate(Math.max(1, Math.floor(iterations.candidate / 4)));
  await baseline(Math.max(1, Math.floor(iterations.baseline / 4)));
  const a: number[] = [];
  const b: number[] = [];
  for (let sample = 0; sample < samples; sample++) {
    let start = process.hrtime.bigint();
    await candidate(iterations.candidate);
    a.push(iterations.candidate / seconds(start));
    start = process.hrtime.bigint();
    await baseline(iterations.baseline);
    b.push(iterations.baseline / seconds(start));
  }
  const ratio = median(a) / median(b);
  return { candidate: { opsPerSecond: median(a), samples: a }, baseline: { opsPerSecond: median(b), samples: b }, ratio };
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

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

export function machineInfo() {
  return { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: round(os.totalmem() / 2 ** 30, 1) };
}
