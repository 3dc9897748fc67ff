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
    const runtime = runWorker<Measured & { lastVersion: number; deadlines: number }>(WORKER, ['runtime', dir, count], {
      nodeFlags: ['--expose-gc'],
    });
    const cached = runWorker<Measured & { cachedWorkflows: number }>(WORKER, ['runtime', dir, count, 'cache'], { nodeFlags: ['--expose-gc'] });
    const host = runWorker<Measured & { alive: number }>(WORKER, ['host', count], { nodeFlags: ['--expose-gc'] });
    ctx.log(
      `memory: runtime ${runtime.heapBytesPerWorkflow} B heap / ${runtime.rssBytesPerWorkflow} B RSS per open workflow; ` +
        `in-memory host ${host.heapBytesPerWorkflow} B heap / ${host.rssBytesPerWorkflow} B RSS`,
    );
    // What one live system in the runtime's cache costs: the same run with the cache on, minus off.
    const perCached =
      cached.cachedWorkflows > 0 ? round(((cached.heapBytesPerWorkflow - runtime.heapBytesPerWorkflow) * count) / cached.cachedWorkflows, 0) : 0;
    ctx.log(`memory.perCachedWorkflow: ${perCached} B heap (${cached.cachedWorkflows} workflows kept live by the cache)`);
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
        note: 'measured with the live cache off: the runtime then keeps nothing per workflow (it restores a workflow from the store for each command and drops it)',
      },
      'memory.perCachedWorkflow': {
        ratio: round(perCached / host.heapBytesPerWorkflow),
        value: perCached,
        baseline: host.heapBytesPerWorkflow,
        unit: 'heap B/cached workflow',
        baselineIs: 'the in-memory host keeping the same workflow live, same run',
        cachedWorkflows: cached.cachedWorkflows,
        rssBytesPerWorkflowWithCache: cached.rssBytesPerWorkflow,
        note: 'runtime with its default live cache (1,000 workflows, 60 s idle) minus the same run with the cache off, per workflow the cache holds',
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
