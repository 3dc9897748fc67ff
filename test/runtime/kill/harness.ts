import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type RefundExecution,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../../src/runtime/index.js';
import { orderMachine, type OrderSnapshot } from '../../../machines/order.js';
import { describeValue } from '../../../src/commands.js';
import { restoreSystem } from '../../../src/engine/step.js';
import { applyOp, buildRound, LEASE_MS, random, type Op, type Reply, type World } from './workload.js';

/**
 * The kill test's driver. A worker process runs the runtime on a SQLite file; the driver streams the
 * workload to it and SIGKILLs it at random points, restarts it and resends every operation it has no
 * answer for (same command ids). At the end, the file must hold exactly what an uninterrupted run
 * holds, every answered command must be in it with the answer given, and the payment sandbox's ledger
 * (a file, like a real payment service's) must show at most one executed refund per order.
 */

export interface SoakOptions {
  /** Kills by the driver (SIGKILL at a random point) to reach at least. */
  kills: number;
  seed?: number;
  /** Working directory for the SQLite file and the ledger (must exist). */
  dir: string;
  ordersPerRound?: number;
  /** Issue 12: share of refund keys (0..1) whose execution kills the worker before the result is recorded. */
  killAfterExecuteRate?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  kills: number;
  /** Deaths of the worker right after a refund executed and before its answer was recorded. */
  crashesAfterRefund: number;
  lives: number;
  ops: number;
  orders: number;
  acceptedCommands: number;
  refundsExecuted: number;
  timersFired: number;
  /** INV1: refunds executed for an order that another key had already refunded (from the ledger). */
  secondRefunds: number;
  /** INV6: workflows the recovered runtime's findStrandedWorkflows lists after the drain. */
  strandedWorkflows: number;
  durationMs: number;
  problems: string[];
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const WINDOW = 6;
// A guard against a hung worker, not a speed limit: on a loaded 2-core machine a life (tsx start-up included) took over 30 s.
const LIFE_TIMEOUT_MS = 120_000;

export async function runKillSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const rand = random(options.seed ?? 20260105);
  const ordersPerRound = options.ordersPerRound ?? 16;
  const log = options.log ?? (() => {});
  const filename = join(options.dir, 'soak.db');
  const ledgerFile = join(options.dir, 'ledger.jsonl');
  const worldFile = join(options.dir, 'world.json');
  const world: World = {
    declines: {},
    crashKeys: [],
    ...(options.killAfterExecuteRate ? { killAfterExecuteRate: options.killAfterExecuteRate, killSeed: options.seed ?? 0 } : {}),
  };
  const ops: Op[] = [];
  let rounds = 0;
  const addRound = () => {
    for (const op of buildRound(rounds, ordersPerRound, world)) ops.push({ ...op, seq: ops.length } as Op);
    rounds += 1;
    writeFileSync(worldFile, JSON.stringify(world));
  };

  const replies = new Map<number, Reply>();
  let next = 0;
  let kills = 0;
  let crashesAfterRefund = 0;
  let lives = 0;

  for (;;) {
    if (next === ops.length) {
      if (kills >= options.kills) break;
      // A new round starts with a new worker: it reads the world (declines, crash keys) at start.
      addRound();
    }
    lives += 1;
    const killAfterReplies = kills < options.kills ? Math.floor(rand() * 6) : Infinity;
    const killDelayMs = Math.floor(rand() * 4);
    const outcome = await life(killAfterReplies, killDelayMs);
    if (outcome === 'killed') kills += 1;
    if (outcome === 'crashed') crashesAfterRefund += 1;
    if (lives % 10 === 0) log(`life ${lives}: ${next}/${ops.length} ops answered, ${kills} kills, ${crashesAfterRefund} crashes after refund`);
  }

  /** One worker process: stream operations, collect answers, maybe kill it. */
  function life(killAfterReplies: number, killDelayMs: number): Promise<'killed' | 'crashed' | 'done'> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, filename, ledgerFile, worldFile], {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let sent = next;
      let answered = 0;
      let killedByUs = false;
      const fail = (error: Error) => {
        child.kill('SIGKILL');
        reject(error);
      };
      const guard = setTimeout(() => fail(new Error(`worker life timed out at op ${next}`)), LIFE_TIMEOUT_MS);
      const kill = () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        killedByUs = true;
        child.kill('SIGKILL');
      };
      const pump = () => {
        while (sent < ops.length && sent < next + WINDOW) child.stdin.write(`${JSON.stringify(ops[sent++])}\n`);
        if (next === ops.length) child.stdin.end();
      };
      child.stdin.on('error', () => {}); // writes to a killed worker
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Reply | { ready: true };
        if ('ready' in message) {
          if (killAfterReplies === 0) setTimeout(kill, killDelayMs);
          pump();
          return;
        }
        if (message.seq !== next) return fail(new Error(`answer for op ${message.seq}, expected ${next}`));
        replies.set(message.seq, message);
        next += 1;
        answered += 1;
        if (answered === killAfterReplies) setTimeout(kill, killDelayMs);
        if (!killedByUs) pump();
      });
      let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let closed = false;
      const finish = () => {
        if (!exited || !closed) return;
        clearTimeout(guard);
        const { code, signal } = exited;
        if (signal === 'SIGKILL') resolve(killedByUs ? 'killed' : 'crashed');
        else if (code === 0 && next === ops.length) resolve('done');
        else reject(new Error(`worker exited with ${code ?? signal} at op ${next}`));
      };
      lines.on('close', () => {
        closed = true;
        finish();
      });
      child.on('exit', (code, signal) => {
        exited = { code, signal };
        finish();
      });
    });
  }

  log(`workload done: ${ops.length} ops in ${lives} lives; checking against an uninterrupted run`);
  const problems: string[] = [];
  const drainAt = ops.at(-1)!.now + 2 * LEASE_MS;
  const reference = await runReference(ops, world, drainAt);

  // Recovery after the last kill: a new process takes over what the dead one had claimed.
  const store = createSqliteStore({ filename });
  await store.migrate();
  const recovery = createWorkflowRuntime({
    store,
    clock: { now: () => drainAt },
    payments: createSandboxPayments({ ledgerFile }),
    logistics: createSandboxLogistics(),
    notifications: createSandboxNotifications(),
    workerId: 'recovery',
  });
  await drain(recovery);

  // No accepted command is lost: each is stored with the answer given; refusals match the uninterrupted run.
  let acceptedCommands = 0;
  for (const op of ops) {
    const reply = replies.get(op.seq);
    if (!reply) {
      problems.push(`op ${op.seq} was never answered`);
      continue;
    }
    if (op.op === 'tick') continue;
    const expected = reference.replies.get(op.seq)!;
    if (reply.ok !== expected.ok || (!reply.ok && !expected.ok && reply.error !== expected.error)) {
      problems.push(`op ${op.seq} (${op.op} ${op.workflowId}) answered ${JSON.stringify(reply)}, uninterrupted ${JSON.stringify(expected)}`);
    }
    if (reply.ok) {
      acceptedCommands += 1;
      // The runtime records an opening under its own scope and id; a client's command under the client's.
      const [scope, commandId] = op.op === 'open' ? (['runtime', 'open'] as const) : (['client', op.commandId] as const);
      const stored = await store.getCommand(op.workflowId, scope, commandId);
      if (!stored || JSON.stringify(stored.result) !== JSON.stringify(reply.result)) {
        problems.push(`accepted command ${scope}/${commandId} of ${op.workflowId} is not stored as answered`);
      }
    }
  }

  // Per workflow: deadlines fired once each and none left due; every effect delivered; the same outcome
  // as the uninterrupted run. (Effect results may come later after a kill, when the dead worker's lease
  // expires, so times of results and what follows from them may differ; outcomes may not.)
  const workflowIds = [...new Set(ops.flatMap((op) => (op.op === 'open' ? [op.workflowId] : [])))];
  let timersFired = 0;
  for (const workflowId of workflowIds) {
    const [actual, expected] = [await outcomeOf(store, workflowId), await outcomeOf(reference.store, workflowId)];
    for (const key of Object.keys(expected) as Array<keyof typeof expected>) {
      if (key !== 'timers' && JSON.stringify(actual[key]) !== JSON.stringify(expected[key])) {
        problems.push(`${workflowId}: ${key} ${JSON.stringify(actual[key])}, uninterrupted ${JSON.stringify(expected[key])}`);
      }
    }
    timersFired += actual.timers.length;
    if (new Set(actual.timers).size !== actual.timers.length) problems.push(`${workflowId}: a deadline fired twice`);
    const deadlines = await store.listDeadlines(workflowId);
    if (deadlines.some((row) => row.dueAt <= drainAt)) problems.push(`${workflowId}: a due deadline never fired`);
  }
  // INV6: after recovery no workflow is stranded (the operator's query, every page).
  let strandedWorkflows = 0;
  for (let cursor: string | null = null; ; ) {
    const page = await recovery.findStrandedWorkflows({ limit: 100, cursor });
    for (const item of page.items) problems.push(`INV6: ${item.workflowId} is stranded: ${JSON.stringify(item.parts)}`);
    strandedWorkflows += page.items.length;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  await recovery.close();

  // INV1: the payment service executed at most one refund per order, and the same ones as without kills.
  const executions = readLedger(ledgerFile);
  const perOrder = new Map<string, number>();
  for (const execution of executions) perOrder.set(execution.orderId, (perOrder.get(execution.orderId) ?? 0) + 1);
  for (const [orderId, count] of perOrder) if (count > 1) problems.push(`INV1: order ${orderId} refunded ${count} times`);
  // A second refund under a different key: the same order refunded again by another request.
  const keysPerOrder = new Map<string, Set<string>>();
  for (const execution of executions)
    keysPerOrder.set(execution.orderId, (keysPerOrder.get(execution.orderId) ?? new Set()).add(execution.idempotencyKey));
  const secondRefunds = [...keysPerOrder.values()].reduce((extra, keys) => extra + Math.max(0, keys.size - 1), 0);
  const keys = (list: RefundExecution[]) => list.map((e) => e.idempotencyKey).sort();
  if (JSON.stringify(keys(executions)) !== JSON.stringify(keys(reference.executions))) {
    problems.push('the executed refunds differ from the uninterrupted run');
  }

  return {
    kills,
    crashesAfterRefund,
    lives,
    ops: ops.length,
    orders: workflowIds.length,
    acceptedCommands,
    refundsExecuted: executions.length,
    timersFired,
    secondRefunds,
    strandedWorkflows,
    durationMs: Date.now() - started,
    problems,
  };
}

/** Ticks until a round finds nothing to do. */
async function drain(runtime: WorkflowRuntime): Promise<void> {
  for (let round = 0; round < 20; round += 1) {
    const result = await runtime.tick();
    if (result.deadlinesFired + result.effectsDelivered + result.effectsRetrying + result.errors === 0) return;
  }
}

export async function runReference(ops: Op[], world: World, drainAt: number) {
  const clock = { time: 0 };
  const store = createMemoryStore();
  const payments = createSandboxPayments();
  for (const [cancellationId, attempts] of Object.entries(world.declines)) payments.declineAttempts(attempts, cancellationId);
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => clock.time },
    payments,
    logistics: createSandboxLogistics(),
    notifications: createSandboxNotifications(),
    workerId: 'reference',
  });
  const replies = new Map<number, Reply>();
  for (const op of ops) replies.set(op.seq, await applyOp(runtime, clock, op));
  clock.time = drainAt;
  await drain(runtime);
  await runtime.stop();
  return { store, replies, executions: payments.executions() };
}

/** What a workflow came to, leaving out the times at which effect results arrived. */
export async function outcomeOf(store: WorkflowStore, workflowId: string) {
  const record = await store.load(workflowId);
  const audit = await store.listAudit(workflowId);
  const view = record && restoreSystem(orderMachine, record.snapshot);
  const snapshot = view?.getSnapshot() as OrderSnapshot | undefined;
  view?.stop();
  return {
    status: record?.status,
    state: snapshot && describeValue(snapshot),
    cancelOrders: (await store.queryCancelOrders({ orderId: record?.orderId ?? '', limit: 500 })).items.map((row) => [
      row.cancellationId,
      row.status,
      row.reason,
      row.origin,
      row.refundTriggerKind,
    ]),
    events: audit.map((row) => `${row.role}:${row.eventType}`).sort(),
    timers: audit.filter((row) => row.actorId === 'timer').map((row) => `${JSON.stringify(row.event)}@${row.at}`),
    pendingDeadlines: (await store.listDeadlines(workflowId)).map((row) => row.timer),
    effects: (await store.listOutbox(workflowId)).map((row) => `${row.kind}:${row.idempotencyKey}:${row.status}`).sort(),
  };
}

function readLedger(file: string): RefundExecution[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as RefundExecution);
}
