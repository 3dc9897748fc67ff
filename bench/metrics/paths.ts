import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorker, timeCommand } from '../child.js';
import { round, type BenchContext, type Metric } from '../harness.js';

type Generated = Record<string, { seconds?: number; paths?: number; steps?: number; skipped?: string } | string | undefined>;

const VITEST = 'node_modules/vitest/vitest.mjs';

/**
 * Path generation (src/coverage `generatePaths` on the models of test/paths/models.ts) and the replay
 * of the committed paths (`vitest run test/paths` in a child process). Absolute wall-clock times: there
 * is no baseline doing the same work; the vitest start-up time of the same run is given for scale.
 */
export async function pathMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const metrics: Record<string, Metric> = {};
  if (!existsSync('src/coverage/index.ts') || !existsSync('test/paths/models.ts')) {
    const skipped = { skipped: 'src/coverage or test/paths/models.ts does not exist yet' };
    ctx.log(`paths: ${skipped.skipped}`);
    return { 'paths.generationSeconds': skipped, 'paths.suiteSeconds': skipped };
  }

  // The composition (order) explores for tens of seconds: full runs only.
  const models = ctx.quick ? ['dispute', 'cancellation'] : ['dispute', 'cancellation', 'order'];
  try {
    const generated = runWorker<Generated>('bench/metrics/paths-worker.ts', [models.join(',')]);
    if (typeof generated.error === 'string') throw new Error(generated.error);
    let total = 0;
    let paths = 0;
    const perModel: Record<string, unknown> = {};
    for (const name of models) {
      const entry = generated[name];
      if (typeof entry !== 'object' || entry.seconds === undefined) {
        perModel[name] = entry ?? 'missing';
        continue;
      }
      total += entry.seconds;
      paths += entry.paths ?? 0;
      perModel[name] = entry;
    }
    ctx.log(`paths.generationSeconds: ${round(total, 2)} s for ${paths} paths (${models.join(', ')})`);
    metrics['paths.generationSeconds'] = {
      value: round(total, 2),
      unit: 's',
      paths,
      models: perModel,
      ...(ctx.quick ? { note: 'quick: the order composition is not generated (full runs only)' } : {}),
    };
  } catch (error) {
    metrics['paths.generationSeconds'] = { skipped: `generation failed: ${(error as Error).message.split('\n')[0]}` };
  }

  const dir = mkdtempSync(join(tmpdir(), 'bench-paths-'));
  try {
    const report = join(dir, 'paths.json');
    const startup = timeCommand(process.execPath, [VITEST, 'run', '--passWithNoTests', '__bench_no_such_test__']);
    const run = timeCommand(process.execPath, [VITEST, 'run', 'test/paths', '--reporter=json', `--outputFile=${report}`]);
    const summary = existsSync(report)
      ? (JSON.parse(readFileSync(report, 'utf8')) as {
          numTotalTests: number;
          numPassedTests: number;
          numFailedTests: number;
          numFailedTestSuites: number;
          success: boolean;
        })
      : undefined;
    ctx.log(
      `paths.suiteSeconds: ${round(run.seconds, 2)} s, ${summary?.numPassedTests ?? '?'}/${summary?.numTotalTests ?? '?'} passed (vitest start-up ${round(startup.seconds, 2)} s)`,
    );
    metrics['paths.suiteSeconds'] = {
      value: round(run.seconds, 2),
      unit: 's',
      tests: summary?.numTotalTests ?? null,
      passed: summary?.numPassedTests ?? null,
      failed: summary?.numFailedTests ?? null,
      failedFiles: summary?.numFailedTestSuites ?? null,
      success: summary?.success ?? false,
      exitCode: run.status,
      vitestStartupSeconds: round(startup.seconds, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return metrics;
}
