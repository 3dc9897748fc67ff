/**
 * A runtime process for the kill test: reads operations (JSON lines) on stdin, runs them one at a time
 * on a SQLite file, answers each on stdout after it is committed. It may be SIGKILLed at any moment.
 *
 *   node --import tsx test/runtime/kill/worker.ts <db file> <ledger file> <world file>
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
} from '../../../src/runtime/index.js';
import { applyOp, killsAfterExecuting, LEASE_MS, type Op, type World } from './workload.js';

const [filename, ledgerFile, worldFile] = process.argv.slice(2);
if (!filename || !ledgerFile || !worldFile) throw new Error('usage: worker.ts <db> <ledger> <world>');
const world = JSON.parse(readFileSync(worldFile, 'utf8')) as World;

const clock = { time: 0 };
const store = createSqliteStore({ filename });
await store.migrate();
const payments = createSandboxPayments({
  ledgerFile,
  // The money moved and is in the ledger; the process dies before anyone records the answer.
  crashWhen: (execution) => killsAfterExecuting(world, execution.idempotencyKey),
  onCrash: () => {
    process.kill(process.pid, 'SIGKILL');
    // SIGKILL may land on another thread a moment later: write nothing more meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  },
});
for (const [cancellationId, attempts] of Object.entries(world.declines)) payments.declineAttempts(attempts, cancellationId);
const runtime = createWorkflowRuntime({
  store,
  clock: { now: () => clock.time },
  payments,
  logistics: createSandboxLogistics(),
  notifications: createSandboxNotifications(),
  // A new process, a new worker: what the dead one had claimed comes back when its lease expires.
  workerId: `kill-worker-${process.pid}`,
  leaseMs: LEASE_MS,
  onError: (error, context) => process.stderr.write(`worker: ${context}: ${String(error)}\n`),
});

const queue: Op[] = [];
let draining = false;
let ended = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  while (queue.length > 0) {
    const reply = await applyOp(runtime, clock, queue.shift()!);
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  }
  draining = false;
  if (ended) {
    await runtime.close();
    process.exit(0);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  queue.push(JSON.parse(line) as Op);
  void drain();
});
lines.on('close', () => {
  ended = true;
  void drain();
});
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
