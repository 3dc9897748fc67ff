/**
 * One worker process of the slow-payments test (slow-payments.test.ts): the durable runtime's background
 * loops on a PostgreSQL schema shared with the other workers, and nothing else. Its payment service is
 * the shared ledger of payments.ts behind a delay longer than the effect lease: half of the delay before
 * the money moves, half after, so a second worker that took the row over while the call runs would call
 * the same key again and be counted (refund_calls). Only the heartbeat keeps the lease.
 *
 *   node --import tsx test/multi-worker/slow-payments-worker.ts '<json SlowWorkerConfig>'
 *
 * stdout: `{"type":"ready"}` once started; on the line `stop` on stdin it closes the runtime and writes
 * `{"type":"stopped","errors":[...]}`.
 */
import { createInterface } from 'node:readline';
import pg from 'pg';
import { createSandboxLogistics, createWorkflowRuntime, type PaymentService } from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { createSharedPayments } from './payments.js';

export interface SlowWorkerConfig {
  url: string;
  schema: string;
  workerId: string;
  leaseMs: number;
  /** Every refund call takes between these two (a fixed spread by key). */
  paymentMs: [number, number];
  effectConcurrency: number;
  pollIntervalMs: number;
}

export type SlowWorkerMessage = { type: 'ready' } | { type: 'stopped'; errors: string[] };

const config = JSON.parse(process.argv[2] ?? '') as SlowWorkerConfig;
const write = (message: SlowWorkerMessage) => process.stdout.write(`${JSON.stringify(message)}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same duration for a key in every process: between paymentMs[0] and paymentMs[1]. */
function durationOf(key: string): number {
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const [low, high] = config.paymentMs;
  return low + (hash % (high - low + 1));
}

const pool = new pg.Pool({ connectionString: config.url, max: config.effectConcurrency + 4 });
pool.on('error', () => {});
const store = createPostgresStore({ pool, schema: config.schema });
await store.migrate();

const ledger = createSharedPayments({ pool, schema: config.schema, workerId: config.workerId });
const slowPayments: PaymentService = {
  async refund(request, call) {
    const total = durationOf(request.idempotencyKey);
    await sleep(Math.floor(total / 2));
    const outcome = await ledger.refund(request, call);
    await sleep(total - Math.floor(total / 2));
    return outcome;
  },
};

const errors: string[] = [];
const runtime = createWorkflowRuntime({
  store,
  clock: { now: () => Date.now() },
  payments: slowPayments,
  logistics: createSandboxLogistics(),
  workerId: config.workerId,
  leaseMs: config.leaseMs,
  effectConcurrency: config.effectConcurrency,
  pollIntervalMs: config.pollIntervalMs,
  // Far longer than a payment: every call answers, none is an unknown outcome by timeout.
  delivery: { timeoutMs: 20 * config.paymentMs[1] },
  onError: (error, context) => {
    const line = `${config.workerId}: ${context}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    errors.push(line);
    process.stderr.write(`${line}\n`);
  },
});
runtime.start();

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stop') return;
  void (async () => {
    await runtime.close();
    await pool.end();
    write({ type: 'stopped', errors });
    process.exit(0);
  })();
});
write({ type: 'ready' });
