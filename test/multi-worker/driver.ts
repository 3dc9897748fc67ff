/**
 * The multi-worker driver: N worker processes run the durable runtime on one PostgreSQL schema. The
 * driver streams the orders' seeding commands to them (each order to one worker, the least busy), keeps
 * every accepted command id, and resends the orders a killed worker left unanswered to the others (same
 * command ids). When every order is seeded and nothing is left to do (no due deadline, no pending effect),
 * it stops the workers and reads back what happened, to compare with an in-memory reference run.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { paymentTables } from './payments.js';
import type { WorkerConfig, WorkerMessage } from './worker.js';
import { cancellationIdOf, kindOf, REFUNDED_KINDS, seedCommands, workflowIdOf, type OrderKind } from './workload.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface MultiWorkerOptions {
  url: string;
  schema: string;
  orders: number;
  workers: number;
  leaseMs: number;
  batchSize: number;
  /** Orders a worker works on at once (the driver keeps twice as many queued at it). */
  concurrency?: number;
  pollIntervalMs?: number;
  /**
   * Once `afterOrders` orders are seeded, this worker is told to SIGKILL itself right after the next
   * refund it executes: mid-run, with orders in flight, holding leases, a refund executed and unrecorded.
   */
  victim?: { worker: number; afterOrders: number };
  /** Longest wait for the workers to finish everything once all orders are seeded. */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What one order kind comes to when nothing is interrupted (memory store, one process). */
export interface KindOutcome {
  status: string;
  events: string;
  effects: string;
  cancelOrder: string;
}

export interface MultiWorkerReport {
  orders: number;
  byKind: Record<OrderKind, number>;
  /** Orders whose final state, audit sequence, effects or cancel order differ from the reference. */
  mismatches: string[];
  acceptedCommands: number;
  refusedCommands: string[];
  /** Accepted command ids without their row (commands table) or, for dispatched ones, their audit row. */
  lostCommands: string[];
  /** Audit rows carrying a driver command id the driver never saw accepted. */
  unknownAuditCommands: string[];
  workflowsByStatus: Record<string, number>;
  timerEvents: number;
  /** Timer events per event type. */
  timersByType: Record<string, number>;
  /** Pending deadlines per timer at the end, and how many of them were due (must be none). */
  deadlinesLeft: Record<string, number>;
  dueDeadlinesLeft: number;
  outbox: Record<string, number>;
  refundExecutions: number;
  ordersRefunded: number;
  /** Orders with more than one executed refund (INV1). */
  refundedTwice: string[];
  refundCalls: { executed: number; deduplicated: number };
  refundSucceededEvents: number;
  /** X2 rows paged through the store: per status, and distinct workflows. */
  cancelOrders: { rows: number; distinctWorkflows: number; byStatusAndId: Record<string, number> };
  workerErrors: string[];
  kill?: {
    worker: string;
    signal: string | null;
    /** Orders in flight at the killed worker, resent to the others. */
    ordersResent: number;
    /** Rows the dead worker held under a live lease when it died. */
    leasedAtDeath: { deadlines: number; outbox: number };
    /** The refund that moved money just before the kill: its calls, oldest first. */
    lastRefundCalls: Array<{ worker: string; result: string }>;
    /** Leased rows of the dead worker still pending at the end (must be 0). */
    leasedLeft: number;
  };
  durationMs: number;
}

interface Worker {
  id: string;
  child: ChildProcessWithoutNullStreams;
  outstanding: Set<number>;
  alive: boolean;
  stopped: Promise<string[]>;
}

export async function runMultiWorker(options: MultiWorkerOptions): Promise<MultiWorkerReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const concurrency = options.concurrency ?? 6;
  const s = `"${options.schema}"`;
  const admin = new pg.Pool({ connectionString: options.url, max: 2 });
  const store = createPostgresStore({ pool: admin, schema: options.schema });
  await store.migrate();
  await admin.query(paymentTables(options.schema));

  const accepted = new Set<string>();
  const refused: string[] = [];
  const done = new Set<number>();
  const queue = Array.from({ length: options.orders }, (_, seq) => seq);
  const seedAt = new Map<number, number>();
  let failure: Error | undefined;
  let kill: MultiWorkerReport['kill'];
  let resolveSeeded: () => void = () => {};
  const seeded = new Promise<void>((resolve) => (resolveSeeded = resolve));

  const workers: Worker[] = [];
  /** Every process started, so that none outlives a failed run. */
  const children: ChildProcessWithoutNullStreams[] = [];
  let progress: NodeJS.Timeout | undefined;
  try {
    for (let index = 0; index < options.workers; index += 1) workers.push(await spawnWorker(index));
    return await drive();
  } finally {
    clearInterval(progress);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await admin.end();
  }

  function spawnWorker(index: number): Promise<Worker> {
    const id = `worker-${index}`;
    const config: WorkerConfig = {
      url: options.url,
      schema: options.schema,
      workerId: id,
      leaseMs: options.leaseMs,
      batchSize: options.batchSize,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      concurrency,
      poolSize: concurrency + 2,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    child.stdin.on('error', () => {}); // writes to a killed worker
    child.stderr.on('data', (chunk: Buffer) => log(chunk.toString().trimEnd()));
    return new Promise((resolveReady, rejectReady) => {
      let resolveStopped: (errors: string[]) => void = () => {};
      const worker: Worker = {
        id,
        child,
        outstanding: new Set(),
        alive: true,
        stopped: new Promise((resolve) => (resolveStopped = resolve)),
      };
      createInterface({ input: child.stdout }).on('line', (line) => {
        const message = JSON.parse(line) as WorkerMessage;
        switch (message.type) {
          case 'ready':
            resolveReady(worker);
            return;
          case 'accepted':
            accepted.add(message.commandId);
            return;
          case 'refused':
            refused.push(`${message.commandId}: ${message.error}`);
            return;
          case 'done':
            worker.outstanding.delete(message.seq);
            done.add(message.seq);
            if (done.size === options.orders) resolveSeeded();
            if (options.victim && done.size === options.victim.afterOrders) {
              workers[options.victim.worker]?.child.stdin.write(`${JSON.stringify({ op: 'die-after-next-refund' })}\n`);
            }
            feed();
            return;
          case 'stopped':
            resolveStopped(message.errors);
        }
      });
      // 'close': after the last line the worker wrote has been read.
      child.on('close', (code, signal) => {
        const wasAlive = worker.alive;
        worker.alive = false;
        if (!wasAlive) return;
        if (signal === 'SIGKILL' && options.victim?.worker === index && !kill) {
          void onKilled(worker, signal);
          return;
        }
        if (code === 0) return;
        failure ??= new Error(`${id} exited with ${code ?? signal}`);
        rejectReady(failure);
        resolveSeeded();
        resolveStopped([`${id} exited with ${code ?? signal}`]);
      });
    });
  }

  /** Keeps every live worker busy: the least busy gets the next order. */
  function feed(): void {
    for (;;) {
      const next = queue[0];
      if (next === undefined) return;
      const target = workers
        .filter((worker) => worker.alive && worker.outstanding.size < 2 * concurrency)
        .sort((a, b) => a.outstanding.size - b.outstanding.size)[0];
      if (!target) return;
      queue.shift();
      target.outstanding.add(next);
      const now = seedAt.get(next) ?? Date.now();
      seedAt.set(next, now); // a resent order keeps its times: the same commands, the same payloads
      target.child.stdin.write(`${JSON.stringify({ op: 'order', seq: next, commands: seedCommands(next, now) })}\n`);
    }
  }

  async function onKilled(worker: Worker, signal: string): Promise<void> {
    const inFlight = [...worker.outstanding].filter((seq) => !done.has(seq));
    worker.outstanding.clear();
    const leased = async (table: string, extra = '') =>
      Number((await admin.query(`SELECT count(*) AS n FROM ${s}.${table} WHERE claimed_by = $1 ${extra}`, [worker.id])).rows[0].n);
    const leasedAtDeath = { deadlines: await leased('deadlines'), outbox: await leased('outbox', `AND status = 'pending'`) };
    kill = { worker: worker.id, signal, ordersResent: inFlight.length, leasedAtDeath, lastRefundCalls: [], leasedLeft: -1 };
    log(`${worker.id} killed (${signal}) with ${inFlight.length} orders in flight, leases on ${JSON.stringify(leasedAtDeath)}`);
    queue.unshift(...inFlight);
    feed();
  }

  async function drive(): Promise<MultiWorkerReport> {
    feed();
    progress = setInterval(() => {
      void admin
        .query(
          `SELECT (SELECT count(*) FROM ${s}.deadlines WHERE due_at <= $1) AS due,
                  (SELECT count(*) FROM ${s}.outbox WHERE status = 'pending') AS pending`,
          [Date.now()],
        )
        .then(({ rows }) =>
          log(`seeding: ${done.size}/${options.orders} orders, ${rows[0].due} due deadlines, ${rows[0].pending} pending effects`),
        )
        .catch(() => {});
    }, 2_000);
    await seeded;
    clearInterval(progress);
    if (failure) throw failure;
    log(`all ${options.orders} orders seeded after ${Date.now() - started} ms; waiting for the workers to settle`);

    // Settled: no due deadline left and no pending effect.
    const settleBy = Date.now() + (options.settleTimeoutMs ?? 90_000);
    let polls = 0;
    for (;;) {
      const { rows } = await admin.query(
        `SELECT (SELECT count(*) FROM ${s}.deadlines WHERE due_at <= $1) AS due,
                (SELECT count(*) FROM ${s}.outbox WHERE status = 'pending') AS pending`,
        [Date.now()],
      );
      if (Number(rows[0].due) === 0 && Number(rows[0].pending) === 0) break;
      if ((polls += 1) % 10 === 0) log(`settling: ${rows[0].due} due deadlines, ${rows[0].pending} pending effects`);
      if (failure) throw failure;
      if (Date.now() > settleBy) throw new Error(`workers did not settle: ${JSON.stringify(rows[0])}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const living = workers.filter((worker) => worker.alive);
    for (const worker of living) worker.child.stdin.write(`${JSON.stringify({ op: 'stop' })}\n`);
    const workerErrors = (await Promise.all(living.map((worker) => worker.stopped))).flat();
    log(`settled and stopped after ${Date.now() - started} ms`);

    const report = await readBack(admin, store, options, accepted, refused, workerErrors);
    if (kill) {
      const { rows } = await admin.query<{ idempotency_key: string }>(
        `SELECT idempotency_key FROM ${s}.refund_calls WHERE worker_id = $1 ORDER BY call_id DESC LIMIT 1`,
        [kill.worker],
      );
      const calls = await admin.query<{ worker_id: string; result: string }>(
        `SELECT worker_id, result FROM ${s}.refund_calls WHERE idempotency_key = $1 ORDER BY call_id`,
        [rows[0]?.idempotency_key],
      );
      kill.lastRefundCalls = calls.rows.map((row) => ({ worker: row.worker_id, result: row.result }));
      const left = await admin.query(
        `SELECT (SELECT count(*) FROM ${s}.deadlines WHERE claimed_by = $1)
              + (SELECT count(*) FROM ${s}.outbox WHERE claimed_by = $1 AND status = 'pending') AS n`,
        [kill.worker],
      );
      kill.leasedLeft = Number(left.rows[0].n);
    }
    return { ...report, ...(kill ? { kill } : {}), durationMs: Date.now() - started };
  }
}

async function readBack(
  admin: pg.Pool,
  store: WorkflowStore,
  options: MultiWorkerOptions,
  accepted: Set<string>,
  refused: string[],
  workerErrors: string[],
): Promise<Omit<MultiWorkerReport, 'durationMs' | 'kill'>> {
  const s = `"${options.schema}"`;
  const count = async (sql: string) => Number((await admin.query(sql)).rows[0].n);
  const reference = await referenceOutcomes();

  const outcomes = new Map<string, KindOutcome>();
  const rows = await admin.query<{ workflow_id: string; status: string; events: string | null; effects: string | null }>(
    `SELECT w.workflow_id, w.status,
       (SELECT string_agg(a.role || ':' || a.event_type, ' ' ORDER BY a.seq) FROM ${s}.audit a
        WHERE a.workflow_id = w.workflow_id) AS events,
       (SELECT string_agg(o.kind || ':' || o.status, ' ' ORDER BY o.kind, o.effect_id) FROM ${s}.outbox o
        WHERE o.workflow_id = w.workflow_id) AS effects
     FROM ${s}.workflows w`,
  );
  for (const row of rows.rows) {
    outcomes.set(row.workflow_id, { status: row.status, events: row.events ?? '', effects: row.effects ?? '', cancelOrder: '' });
  }

  // X2, through the store's keyset pages: every order's cancel order, although they share their id.
  const byStatusAndId: Record<string, number> = {};
  const workflowsWithCancelOrder = new Set<string>();
  let cancelOrderRows = 0;
  let cursor: string | null = null;
  do {
    const page = await store.queryCancelOrders({ limit: 500, cursor });
    for (const row of page.items) {
      cancelOrderRows += 1;
      workflowsWithCancelOrder.add(row.workflowId);
      const key = `${row.cancellationId}:${row.status}`;
      byStatusAndId[key] = (byStatusAndId[key] ?? 0) + 1;
      const outcome = outcomes.get(row.workflowId);
      if (outcome) outcome.cancelOrder += `${row.cancellationId}:${row.status}:${row.reason}`;
    }
    cursor = page.nextCursor;
  } while (cursor !== null);

  const byKind = { P3a: 0, P3b: 0, P3d: 0, P1: 0 } as Record<OrderKind, number>;
  const mismatches: string[] = [];
  for (let index = 0; index < options.orders; index += 1) {
    const kind = kindOf(index);
    byKind[kind] += 1;
    const workflowId = workflowIdOf(index);
    const actual = outcomes.get(workflowId);
    if (JSON.stringify(actual) !== JSON.stringify(reference[kind])) {
      mismatches.push(`${workflowId} (${kind}): ${JSON.stringify(actual)}, reference ${JSON.stringify(reference[kind])}`);
    }
  }

  const driverCommand = (id: string) => !id.startsWith('effect:');
  // The runtime records an opening under its own scope as `open` (the driver calls it `open:<workflow>`);
  // a client's command under the client's scope and its own id.
  const stored = new Set(
    (
      await admin.query<{ workflow_id: string; scope: string; command_id: string }>(`SELECT workflow_id, scope, command_id FROM ${s}.commands`)
    ).rows.map((row) => (row.scope === 'runtime' && row.command_id === 'open' ? `open:${row.workflow_id}` : row.command_id)),
  );
  const audited = new Set(
    (await admin.query<{ command_id: string }>(`SELECT command_id FROM ${s}.audit WHERE command_id IS NOT NULL`)).rows.map(
      (row) => row.command_id,
    ),
  );
  const lostCommands = [...accepted].filter((id) => !stored.has(id) || (!id.startsWith('open:') && !audited.has(id)));
  const unknownAuditCommands = [...audited].filter((id) => driverCommand(id) && !accepted.has(id));

  const group = async (sql: string) =>
    Object.fromEntries((await admin.query<{ k: string; n: string }>(sql)).rows.map((row) => [row.k, Number(row.n)]));
  const calls = await group(`SELECT result AS k, count(*) AS n FROM ${s}.refund_calls GROUP BY result`);
  return {
    orders: options.orders,
    byKind,
    mismatches: mismatches.slice(0, 20),
    acceptedCommands: accepted.size,
    refusedCommands: refused,
    lostCommands,
    unknownAuditCommands,
    workflowsByStatus: await group(`SELECT status AS k, count(*) AS n FROM ${s}.workflows GROUP BY status`),
    timerEvents: await count(`SELECT count(*) AS n FROM ${s}.audit WHERE actor_id = 'timer'`),
    timersByType: await group(`SELECT event_type AS k, count(*) AS n FROM ${s}.audit WHERE actor_id = 'timer' GROUP BY event_type`),
    deadlinesLeft: await group(`SELECT timer AS k, count(*) AS n FROM ${s}.deadlines GROUP BY timer`),
    dueDeadlinesLeft: await count(`SELECT count(*) AS n FROM ${s}.deadlines WHERE due_at <= ${Date.now()}`),
    outbox: await group(`SELECT kind || ':' || status AS k, count(*) AS n FROM ${s}.outbox GROUP BY 1`),
    refundExecutions: await count(`SELECT count(*) AS n FROM ${s}.refund_executions`),
    ordersRefunded: await count(`SELECT count(DISTINCT order_id) AS n FROM ${s}.refund_executions`),
    refundedTwice: (
      await admin.query<{ order_id: string }>(`SELECT order_id FROM ${s}.refund_executions GROUP BY order_id HAVING count(*) > 1`)
    ).rows.map((row) => row.order_id),
    refundCalls: { executed: calls.executed ?? 0, deduplicated: calls.deduplicated ?? 0 },
    refundSucceededEvents: await count(`SELECT count(*) AS n FROM ${s}.audit WHERE event_type = 'payment.refundSucceeded'`),
    cancelOrders: { rows: cancelOrderRows, distinctWorkflows: workflowsWithCancelOrder.size, byStatusAndId },
    workerErrors,
  };
}

/** One order of each kind, seeded and run to the end on the memory store in this process. */
export async function referenceOutcomes(): Promise<Record<OrderKind, KindOutcome>> {
  const store = createMemoryStore();
  const now = Date.now();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => now },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    workerId: 'reference',
    acceptHistory: true, // the same seed as the workers: history
  });
  const result = {} as Record<OrderKind, KindOutcome>;
  const firstOfKind = new Map<OrderKind, number>();
  for (let index = 0; firstOfKind.size < 4; index += 1) if (!firstOfKind.has(kindOf(index))) firstOfKind.set(kindOf(index), index);
  for (const index of firstOfKind.values()) {
    for (const command of seedCommands(index, now)) {
      if (command.kind === 'open') {
        await runtime.openOrderRaw({ workflowId: command.workflowId, commandId: command.commandId, input: command.input });
      } else {
        await runtime.dispatchRaw({ workflowId: command.workflowId, commandId: command.commandId, event: command.event });
      }
    }
  }
  for (let round = 0; round < 5; round += 1) await runtime.tick();
  for (const [kind, index] of firstOfKind) {
    const workflowId = workflowIdOf(index);
    const record = await store.load(workflowId);
    const effects = (await store.listOutbox(workflowId))
      .sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.effectId < b.effectId ? -1 : 1))
      .map((row) => `${row.kind}:${row.status}`);
    const cancelOrders = (await store.queryCancelOrders({ orderId: workflowId })).items;
    result[kind] = {
      status: record!.status,
      events: (await store.listAudit(workflowId)).map((row) => `${row.role}:${row.eventType}`).join(' '),
      effects: effects.join(' '),
      cancelOrder: cancelOrders.map((row) => `${row.cancellationId}:${row.status}:${row.reason}`).join(''),
    };
    if (cancelOrders[0]?.cancellationId !== cancellationIdOf(kind)) throw new Error(`unexpected cancel order for ${kind}`);
  }
  await runtime.close();
  if (REFUNDED_KINDS.some((kind) => !result[kind].events.includes('payment.refundSucceeded'))) {
    throw new Error('the reference run did not refund');
  }
  return result;
}
