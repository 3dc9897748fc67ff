/**
 * One worker process of the multi-worker test: the durable runtime on a PostgreSQL schema shared with
 * the other workers, its background loop started (deadlines and outbox, SKIP LOCKED claims under
 * leases), plus the commands the driver streams to it on stdin (JSON lines). Answers on stdout, each
 * after the command is committed. It may be SIGKILLed at any moment.
 *
 *   node --import tsx test/multi-worker/worker.ts '<json WorkerConfig>'
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { isWorkflowError } from '../../src/errors.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { createSandboxLogistics, createWorkflowRuntime } from '../../src/runtime/index.js';
import { createSharedPayments } from './payments.js';
import type { Command } from './workload.js';

export interface WorkerConfig {
  url: string;
  schema: string;
  workerId: string;
  leaseMs: number;
  batchSize: number;
  pollIntervalMs: number;
  /** Orders worked on at once. */
  concurrency: number;
  poolSize: number;
}

/** Driver → worker. */
export type WorkerRequest =
  | { op: 'order'; seq: number; commands: Command[] }
  /** SIGKILL yourself right after the next refund moved money (before its answer is recorded). */
  | { op: 'die-after-next-refund' }
  | { op: 'stop' };

/** Worker → driver. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'accepted'; seq: number; commandId: string }
  | { type: 'refused'; seq: number; commandId: string; error: string }
  | { type: 'done'; seq: number }
  | { type: 'stopped'; errors: string[] };

const config = JSON.parse(process.argv[2] ?? '') as WorkerConfig;
const write = (message: WorkerMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);

const pool = new pg.Pool({ connectionString: config.url, max: config.poolSize });
pool.on('error', () => {});
const store = createPostgresStore({ pool, schema: config.schema });
await store.migrate();

const errors: string[] = [];
let dieAfterNextRefund = false;
const runtime = createWorkflowRuntime({
  store,
  // Every process reads the same (real) clock: the seeded orders' deadlines are in the past.
  clock: { now: () => Date.now() },
  // The seed imports orders whose events happened days ago (issue 12: an `at` before the clock is history).
  acceptHistory: true,
  payments: createSharedPayments({
    pool,
    schema: config.schema,
    workerId: config.workerId,
    afterExecuting: () => {
      if (!dieAfterNextRefund) return;
      // The money moved and is committed; the answer is never recorded by this process.
      process.kill(process.pid, 'SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
    },
  }),
  logistics: createSandboxLogistics(),
  workerId: config.workerId,
  leaseMs: config.leaseMs,
  batchSize: config.batchSize,
  pollIntervalMs: config.pollIntervalMs,
  delivery: { timeoutMs: Math.floor(config.leaseMs / 2) },
  onError: (error, context) => {
    const line = `${config.workerId}: ${context}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    errors.push(line);
    process.stderr.write(`${line}\n`);
  },
});
runtime.start();

async function run(command: Command): Promise<void> {
  if (command.kind === 'open') {
    await runtime.openOrderRaw({ workflowId: command.workflowId, commandId: command.commandId, input: command.input });
  } else {
    await runtime.dispatchRaw({ workflowId: command.workflowId, commandId: command.commandId, event: command.event });
  }
}

const queue: Array<Extract<WorkerRequest, { op: 'order' }>> = [];
let active = 0;
let stopping = false;

function pump(): void {
  while (active < config.concurrency && queue.length > 0) {
    const order = queue.shift()!;
    active += 1;
    void (async () => {
      for (const command of order.commands) {
        try {
          await run(command);
          write({ type: 'accepted', seq: order.seq, commandId: command.commandId });
        } catch (error) {
          if (!isWorkflowError(error)) throw error;
          write({ type: 'refused', seq: order.seq, commandId: command.commandId, error: error.name });
        }
      }
      write({ type: 'done', seq: order.seq });
      active -= 1;
      pump();
      if (stopping && active === 0 && queue.length === 0) await stop();
    })();
  }
}

async function stop(): Promise<void> {
  await runtime.close();
  await pool.end();
  write({ type: 'stopped', errors });
  process.exit(0);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line) as WorkerRequest;
  if (request.op === 'die-after-next-refund') {
    dieAfterNextRefund = true;
    return;
  }
  if (request.op === 'stop') {
    stopping = true;
    if (active === 0 && queue.length === 0) void stop();
    return;
  }
  queue.push(request);
  pump();
});
write({ type: 'ready' });
