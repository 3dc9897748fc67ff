import { mkdirSync, writeFileSync } from 'node:fs';
import { machineInfo, round, type BenchContext, type Metric } from './harness.js';
import { sendMetrics } from './metrics/send.js';

type Suite = (ctx: BenchContext) => Promise<Record<string, Metric>>;

/** Each suite measures its figures and its own baseline in this process, in this run. */
const suites: Array<[name: string, load: () => Promise<Suite>]> = [
  ['send', async () => sendMetrics],
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
  const ctx: BenchContext = { quick, log: (line) => console.log(`  ${line}`) };
  const started = Date.now();
  const metrics: Record<string, Metric> = {};
  for (const [name, load] of suites) {
    if (only && !only.includes(name)) continue;
    console.log(`${name}…`);
    Object.assign(metrics, await (await load())(ctx));
  }
  const report = { ...machineInfo(), quick, seconds: round((Date.now() - started) / 1000, 1), metrics };
  mkdirSync('reports', { recursive: true });
  writeFileSync('reports/bench.json', `${JSON.stringify(report, null, 2)}\n`);
  console.table(
    Object.fromEntries(
      Object.entries(metrics).map(([name, metric]) => [name, { ratio: metric.ratio ?? '', value: metric.value ?? '', unit: metric.unit ?? '', baseline: metric.baseline ?? '' }]),
    ),
  );
  console.log(`wrote reports/bench.json in ${report.seconds}s`);
}

await main();
