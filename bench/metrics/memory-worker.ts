/**
 * Child process of the `memory` suite (needs `--expose-gc`): opens `count` workflows and prints, as one
 * JSON line, the heap and RSS they leave behind once garbage is collected.
 *
 *   node --import tsx --expose-gc bench/metrics/memory-worker.ts runtime <dir> <count> [cache]
 *   node --import tsx --expose-gc bench/metrics/memory-worker.ts host <count>
 *
 * `runtime`: the durable runtime on a SQLite file; each workflow gets three commands (open, dispute,
 * 48H plan) and is left waiting for its deadlines; without `cache` the live cache is off, with it the
 * runtime keeps up to its default number of live systems. `host`: the in-memory OrderWorkflow, the same three
 * steps, every workflow kept (a host that holds open workflows in memory, for comparison).
 */
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { createSandboxLogistics, createSandboxPayments, createSqliteStore, createWorkflowRuntime } from '../../src/runtime/index.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';
import { round } from '../harness.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const customer = { role: 'customer', id: 'c' } as const;
const merchant = { role: 'merchant', id: 'm' } as const;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function settled(): { heap: number; rss: number } {
  for (let i = 0; i < 4; i++) gc!();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

const events = (id: string) =>
  [
    { type: 'dispute.opened', at: T0, by: customer, disputeId: `${id}-d` },
    { type: 'merchant.planSubmitted', at: T0 + 1, by: merchant, plan: 'WAIT_48H_INTERCEPT' },
  ] satisfies OrderEventInput[];
const input = (id: string) => ({ orderId: id, merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT' as const, at: T0 });

async function runtimeMode(dir: string, count: number, cache: boolean) {
  const store = createSqliteStore({ filename: join(dir, cache ? 'memory-cache.db' : 'memory.db') });
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    // the commands carry their own `at` (T0 …): the clock stands at their start, never ahead of them
    clock: { now: () => T0 },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: { notify: async () => {} },
    workerId: 'memory',
    onError: () => {},
    liveCache: cache ? {} : false,
  });
  const cached = () => (runtime as unknown as { liveCacheStats(): { size: number } }).liveCacheStats().size;
  const open = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = `wf-${i}`;
      await runtime.openOrder({ input: input(id) });
      let n = 0;
      for (const event of events(id)) await runtime.dispatch({ workflowId: id, commandId: `${id}:${n++}`, event });
    }
  };
  // Warm-up: code, statement caches and SQLite's page cache are not per workflow.
  await open(0, 200);
  const before = settled();
  const cachedBefore = cached();
  await open(200, 200 + count);
  const after = settled();
  const cachedAfter = cached();
  // Every workflow is still there, and still answers (restored from the store on demand).
  const view = await runtime.getWorkflow({ role: 'platform', id: 'bench' }, `wf-${200 + count - 1}`);
  await runtime.close();
  return { count, before, after, lastVersion: view.version, deadlines: view.deadlines.length, cachedWorkflows: cachedAfter - cachedBefore };
}

/** The host's clock at the events' time, with real timers (a process's default clock). */
const hostClock = {
  now: () => T0,
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
  clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
};

function hostMode(count: number) {
  const kept: OrderWorkflow[] = [];
  const open = (from: number, to: number, keep: boolean) => {
    for (let i = from; i < to; i++) {
      const id = `wf-${i}`;
      const workflow = createOrderWorkflow(input(id), { clock: hostClock });
      for (const event of events(id)) workflow.send(event);
      if (keep) kept.push(workflow);
      else workflow.stop();
    }
  };
  open(0, 200, false);
  const before = settled();
  open(200, 200 + count, true);
  const after = settled();
  const alive = kept.filter((workflow) => workflow.getSnapshot().status === 'active').length;
  // Their 48H timers are real timers here: stop them, or the process would wait for them.
  for (const workflow of kept) workflow.stop();
  return { count, before, after, alive };
}

const [mode, ...args] = process.argv.slice(2);
const result = mode === 'runtime' ? await runtimeMode(args[0]!, Number(args[1]), args[2] === 'cache') : hostMode(Number(args[0]));
const perWorkflow = (key: 'heap' | 'rss') => round((result.after[key] - result.before[key]) / result.count, 0);
writeSync(1, `${JSON.stringify({ ...result, heapBytesPerWorkflow: perWorkflow('heap'), rssBytesPerWorkflow: perWorkflow('rss') })}\n`);
process.exit(0);
