import { mkdirSync, writeFileSync } from 'node:fs';
import { machineInfo, round, type BenchContext, type Metric, type Suite } from './harness.js';

/**
 * `npm run bench [-- --quick] [-- --only=send,durable]`: every suite measures its figures and its own
 * baseline in this run (see harness.ts), then reports/bench.json and a table are written.
 * To add a suite: one line below, `[name, async () => (await import('./metrics/x.js')).xMetrics]`.
 */
const suites: Array<[name: string, load: () => Promise<Suite>]> = [
  ['send', async () => (await import('./metrics/send.js')).sendMetrics],
  ['durable', async () => (await import('./metrics/durable.js')).durableMetrics],
  ['timers', async () => (await import('./metrics/timers.js')).timerMetrics],
  ['memory', async () => (await import('./metrics/memory.js')).memoryMetrics],
  ['paths', async () => (await import('./metrics/paths.js')).pathMetrics],
  ['postgres', async () => (await import('./metrics/postgres.js')).postgresMetrics],
  ['queues', async () => (await import('./metrics/queues.js')).queueMetrics],
  ['jobqueue', async () => (await import('./metrics/jobqueue.js')).jobQueueMetrics],
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const ctx: BenchContext = { quick, log: (line) => console.log(`  ${line}`) };
  const machine = machineInfo();
  const started = Date.now();
  const metrics: Record<string, Metric> = {};
  const suiteSeconds: Record<string, number> = {};
  for (const [name, load] of suites) {
    if (only && !only.includes(name)) continue;
    console.log(`${name}…`);
    const suiteStarted = Date.now();
    try {
      Object.assign(metrics, await (await load())(ctx));
    } catch (error) {
      // One broken suite must not cost the others' figures: it is reported as failed.
      const message = error instanceof Error ? error.message : String(error);
      console.log(`  ${name} failed: ${message}`);
      metrics[`${name}.failed`] = { error: message.slice(0, 2000) };
    }
    suiteSeconds[name] = round((Date.now() - suiteStarted) / 1000, 1);
  }
  const report = {
    ...machine,
    quick,
    seconds: round((Date.now() - started) / 1000, 1),
    /** 1-minute load average at the end: compare with `loadAverage` (start) and `cores`. */
    loadAverageAtEnd: machineInfo().loadAverage,
    suiteSeconds,
    metrics,
  };
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/bench.json', `${JSON.stringify(report, null, 2)}\n`);
  console.table(
    Object.fromEntries(
      Object.entries(metrics).map(([name, metric]) => [
        name,
        {
          ratio: metric.ratio ?? '',
          cpuRatio: (metric.cpuRatio as number | undefined) ?? '',
          value: metric.value ?? (metric.skipped ? 'skipped' : ''),
          unit: metric.unit ?? '',
          baseline: metric.baseline ?? '',
          target: (metric.target as number | undefined) ?? '',
        },
      ]),
    ),
  );
  console.log(
    `wrote reports/bench.json in ${report.seconds}s (load average ${machine.loadAverage} → ${report.loadAverageAtEnd} on ${machine.cores} cores)`,
  );
}

await main();
