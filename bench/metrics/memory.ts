import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorker } from '../child.js';
import { round, type BenchContext, type Metric } from '../harness.js';

const WORKER = 'bench/metrics/memory-worker.ts';

interface Measured {
  count: number;
  heapBytesPerWorkflow: number;
  rssBytesPerWorkflow: number;
}

/**
 * Memory the durable runtime keeps per open workflow, against an in-memory host (OrderWorkflow) that
 * keeps each workflow live: both after the same three commands per workflow, in fresh processes with
 * `--expose-gc`, heap and RSS deltas after full collections.
 */
export async function memoryMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const count = ctx.quick ? 1_000 : 3_000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
  try {
    const runtime = runWorker<Measured & { lastVersion: number; deadlines: number }>(WORKER, ['runtime', dir, count], { nodeFlags: ['--expose-gc'] });
    const host = runWorker<Measured & { alive: number }>(WORKER, ['host', count], { nodeFlags: ['--expose-gc'] });
    ctx.log(
      `memory: runtime ${runtime.heapBytesPerWorkflow} B heap / ${runtime.rssBytesPerWorkflow} B RSS per open workflow; ` +
        `in-memory host ${host.heapBytesPerWorkflow} B heap / ${host.rssBytesPerWorkflow} B RSS`,
    );
    return {
      'memory.perOpenWorkflow': {
        ratio: round(runtime.heapBytesPerWorkflow / host.heapBytesPerWorkflow),
        value: runtime.heapBytesPerWorkflow,
        baseline: host.heapBytesPerWorkflow,
        unit: 'heap B/workflow',
        baselineIs: 'the in-memory host (OrderWorkflow) keeping the same workflows live, same run',
        workflows: count,
        rssBytesPerWorkflow: runtime.rssBytesPerWorkflow,
        hostRssBytesPerWorkflow: host.rssBytesPerWorkflow,
        keepsIdleWorkflows: false,
        note: 'the runtime keeps nothing per workflow: it restores a workflow from the store for each command and drops it, and the last audit sequence lives on the workflow record',
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
