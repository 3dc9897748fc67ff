/**
 * Child process of the `paths` suite: times `generatePaths` (src/coverage) for the models the path
 * tests use (test/paths/models.ts) and prints one JSON line. A separate process keeps the generator's
 * memory (the composition's state graph) out of the benchmark process.
 *
 *   node --import tsx bench/metrics/paths-worker.ts dispute,cancellation,order
 */
import { writeSync } from 'node:fs';
import { round, seconds } from '../harness.js';

interface Model {
  machine: unknown;
  options: unknown;
}

const names = (process.argv[2] ?? '').split(',').filter(Boolean);
const result: Record<string, unknown> = {};
try {
  const coverage = (await import('../../src/coverage/index.js')) as {
    generatePaths?: (machine: never, options: never) => { paths: unknown[] };
  };
  const { MODELS } = (await import('../../test/paths/models.js')) as { MODELS?: Record<string, Model> };
  if (typeof coverage.generatePaths !== 'function' || !MODELS)
    throw new Error('src/coverage has no generatePaths, or test/paths/models.ts no MODELS');
  for (const name of names) {
    const model = MODELS[name];
    if (!model) {
      result[name] = { skipped: `no model ${name} in test/paths/models.ts` };
      continue;
    }
    const started = process.hrtime.bigint();
    const set = coverage.generatePaths(model.machine as never, model.options as never);
    result[name] = {
      seconds: round(seconds(started), 2),
      paths: set.paths.length,
      steps: set.paths.reduce<number>((sum, path) => sum + ((path as { steps?: unknown[] }).steps?.length ?? 0), 0),
    };
  }
} catch (error) {
  result.error = error instanceof Error ? error.message : String(error);
}
writeSync(1, `${JSON.stringify(result)}\n`);
process.exit(0);
