/**
 * Durable command throughput on PostgreSQL, with 1 and with 4 worker processes, each against the rate
 * of raw single-row upserts into a table as wide as the workflow row (same server, same run, phases
 * interleaved). A durable command is the whole pipeline: command lookup, load, catch-up, validation,
 * step, and one commit (workflow row, audit, deadlines, outbox, X2 rows, command row).
 *
 * The same file is the worker process (`--worker <json>`): it waits for phases on stdin and answers with
 * the operations it completed.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createSandboxLogistics, createSandboxPayments, createWorkflowRuntime } from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { median, round, type BenchContext, type Metric } from '../harness.js';

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';
const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKERS = 4;

type Mode = 'durable' | 'raw';
interface WorkerSetup {
  url: string;
  schema: string;
  index: number;
  /** A workflow snapshot as the runtime writes it: the raw upsert writes one as wide. */
  snapshot: string;
}
interface Phase {
  mode: Mode;
  durationMs: number;
  tag: string;
}

const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;

/** One order's commands: open, dispute, the 48H plan, a forced refund within the window (P3c). */
function orderCommands(workflowId: string) {
  return [
    { open: { orderId: workflowId, merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT' } },
    { event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } },
    { event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' } },
    { event: { type: 'merchant.refundForced', by: MERCHANT, cancellationId: 'd:intercept-48h' } },
  ] as const;
}

async function workerMain(setup: WorkerSetup): Promise<void> {
  const pool = new pg.Pool({ connectionString: setup.url, max: 2 });
  const store = createPostgresStore({ pool, schema: setup.schema });
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => Date.now() },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    workerId: `bench-${setup.index}`,
  });
  const s = `"${setup.schema}"`;
  const upsert: pg.QueryConfig = {
    name: 'raw_upsert',
    // the columns a store commit writes (machine version, audit sequence and clock mark included)
    text: `INSERT INTO ${s}.raw_workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot,
             status, last_event_at, created_at, updated_at, observed_at)
           VALUES ($1, $2, 'merchant-1', $3, 2, $3, $4::jsonb, 'active', $5, $5, $5, $5)
           ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, machine_version = excluded.machine_version,
             audit_seq = excluded.audit_seq, snapshot = excluded.snapshot, status = excluded.status,
             last_event_at = excluded.last_event_at, updated_at = excluded.updated_at, observed_at = excluded.observed_at`,
  };

  async function durable(phase: Phase): Promise<number> {
    const until = Date.now() + phase.durationMs;
    let ops = 0;
    for (let order = 0; Date.now() < until; order += 1) {
      const workflowId = `${phase.tag}-w${setup.index}-${order}`;
      for (const [step, command] of orderCommands(workflowId).entries()) {
        if ('open' in command) await runtime.openOrder({ workflowId, input: command.open });
        else await runtime.dispatch({ workflowId, commandId: `${workflowId}:${step}`, event: command.event });
        ops += 1;
      }
    }
    return ops;
  }

  async function raw(phase: Phase): Promise<number> {
    const until = Date.now() + phase.durationMs;
    let ops = 0;
    // As the durable path: one insert, then three updates of the same row, per order.
    for (; Date.now() < until; ops += 1) {
      const workflowId = `${phase.tag}-w${setup.index}-${Math.floor(ops / 4)}`;
      await pool.query({ ...upsert, values: [workflowId, workflowId, (ops % 4) + 1, setup.snapshot, Date.now()] });
    }
    return ops;
  }

  const write = (message: unknown) => process.stdout.write(`${JSON.stringify(message)}\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const phase = JSON.parse(line) as Phase;
    void (phase.mode === 'durable' ? durable(phase) : raw(phase)).then(
      (ops) => write({ ops }),
      (error: unknown) => write({ error: String(error) }),
    );
  });
  process.stdin.on('end', () => {
    void runtime
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  });
  write({ ready: true });
}

interface BenchWorker {
  child: ChildProcessByStdio<Writable, Readable, null>;
  next(): Promise<{ ops?: number; error?: string; ready?: boolean }>;
}

function startWorker(setup: WorkerSetup): BenchWorker {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--worker', JSON.stringify(setup)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting: Array<(message: never) => void> = [];
  const inbox: unknown[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as never;
    const resolve = waiting.shift();
    if (resolve) resolve(message);
    else inbox.push(message);
  });
  return {
    child,
    next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift() as never) : new Promise((resolve) => waiting.push(resolve as never))),
  };
}

async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const SKIPPED = {
  'durable.postgres1VsRawUpsert': { skipped: 'no PostgreSQL' },
  'durable.postgres2VsRawUpsert': { skipped: 'no PostgreSQL' },
  'durable.postgres4VsRawUpsert': { skipped: 'no PostgreSQL' },
  'durable.postgresScaling4': { skipped: 'no PostgreSQL' },
};

export async function postgresMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const url = process.env.JD_DISPUTE_PG_URL || LOCAL_URL;
  if (!(await reachable(url))) {
    ctx.log(`no PostgreSQL at ${url} (set JD_DISPUTE_PG_URL): skipped`);
    return SKIPPED;
  }
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const s = `"${schema}"`;
  const workers: BenchWorker[] = [];
  try {
    const store = createPostgresStore({ pool: admin, schema });
    await store.migrate();
    // As wide as the workflow row: same columns and types, a snapshot of the real size.
    await admin.query(`CREATE TABLE ${s}.raw_workflows (LIKE ${s}.workflows INCLUDING ALL)`);
    const snapshot = await sampleSnapshot(url, schema);

    for (let index = 0; index < WORKERS; index += 1) workers.push(startWorker({ url, schema, index, snapshot }));
    for (const worker of workers) await worker.next();

    const durationMs = ctx.quick ? 600 : 2_000;
    const samples = ctx.quick ? 3 : 5;
    let phaseNo = 0;
    const phase = async (mode: Mode, count: number, ms = durationMs): Promise<number> => {
      const tag = `p${(phaseNo += 1)}`;
      const started = process.hrtime.bigint();
      for (const worker of workers.slice(0, count)) worker.child.stdin.write(`${JSON.stringify({ mode, durationMs: ms, tag })}\n`);
      const replies = await Promise.all(workers.slice(0, count).map((worker) => worker.next()));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const failed = replies.find((reply) => reply.error);
      if (failed) throw new Error(`bench worker failed: ${failed.error}`);
      return replies.reduce((sum, reply) => sum + (reply.ops ?? 0), 0) / seconds;
    };

    // Warm-up: prepared statements, JIT, caches.
    for (const mode of ['durable', 'raw'] as const) await phase(mode, WORKERS, ctx.quick ? 300 : 800);

    const rates = {
      durable1: [] as number[],
      raw1: [] as number[],
      durable2: [] as number[],
      raw2: [] as number[],
      durable4: [] as number[],
      raw4: [] as number[],
    };
    for (let sample = 0; sample < samples; sample += 1) {
      // Interleaved (the order reversed every other sample), so drift on a shared machine hits every
      // phase alike; the raw phases write the same rows (same width, 1 insert + 3 updates per key) at
      // every client count, so raw scaling is measured as carefully as the workers'.
      const order: Array<[keyof typeof rates, Mode, number]> = [
        ['durable1', 'durable', 1],
        ['raw1', 'raw', 1],
        ['durable2', 'durable', 2],
        ['raw2', 'raw', 2],
        ['durable4', 'durable', WORKERS],
        ['raw4', 'raw', WORKERS],
      ];
      for (const [key, mode, count] of sample % 2 === 0 ? order : order.reverse()) rates[key].push(await phase(mode, count));
    }
    const metric = (workers: number, durable: number[], raw: number[]): Metric => {
      const [candidate, baseline] = [median(durable), median(raw)];
      return {
        ratio: round(candidate / baseline),
        value: round(candidate, 0),
        baseline: round(baseline, 0),
        unit: 'commands/s',
        baselineUnit: 'upserts/s',
        workers,
        samples: { durable: durable.map((rate) => round(rate, 0)), rawUpsert: raw.map((rate) => round(rate, 0)) },
        workload: `${workers} worker process(es), one command at a time each: open, dispute.opened, WAIT_48H_INTERCEPT, merchant.refundForced per order; baseline: autocommit INSERT … ON CONFLICT DO UPDATE of one ${snapshot.length}-byte-snapshot row (1 insert + 3 updates per key)`,
      };
    };
    const one = metric(1, rates.durable1, rates.raw1);
    const two = metric(2, rates.durable2, rates.raw2);
    const four = metric(WORKERS, rates.durable4, rates.raw4);
    // Scaling per sample (each sample's phases ran next to each other), then the median.
    const perSample = rates.durable1.map((_, i) => {
      const workers = rates.durable4[i]! / rates.durable1[i]!;
      const raw = rates.raw4[i]! / rates.raw1[i]!;
      return { workers, raw, ratio: workers / raw };
    });
    const scaling: Metric = {
      ratio: round(median(perSample.map((s) => s.ratio))),
      value: round(median(perSample.map((s) => s.workers))),
      baseline: round(median(perSample.map((s) => s.raw))),
      unit: '4 workers ÷ 1 worker',
      baselineUnit: 'raw upserts, 4 clients ÷ 1 client',
      target: 0.9,
      samples: perSample.map((s) => ({ workers: round(s.workers), raw: round(s.raw) })),
      workload: "(4 workers' command rate ÷ 1 worker's) ÷ (raw upserts with 4 clients ÷ with 1), per interleaved sample, median",
    };
    for (const [name, m] of [
      ['1', one],
      ['2', two],
      ['4', four],
    ] as const) {
      ctx.log(`durable.postgres${name}VsRawUpsert: ${m.ratio} (${m.value} commands/s vs ${m.baseline} upserts/s)`);
    }
    ctx.log(`durable.postgresScaling4: ${scaling.ratio} (workers ${scaling.value}×, raw ${scaling.baseline}×)`);
    return {
      'durable.postgres1VsRawUpsert': { ...one, target: 0.5 },
      'durable.postgres2VsRawUpsert': { ...two, target: 0.5 },
      'durable.postgres4VsRawUpsert': { ...four, target: 0.5 },
      'durable.postgresScaling4': scaling,
    };
  } finally {
    for (const worker of workers) worker.child.stdin.end();
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.child.once('exit', resolve))));
    await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch(() => {});
    await admin.end();
  }
}

/** The snapshot of an order after the 48H plan, as the runtime stores it. */
async function sampleSnapshot(url: string, schema: string): Promise<string> {
  const store = createPostgresStore({ connectionString: url, schema });
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => Date.now() },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    workerId: 'bench-sample',
  });
  try {
    const workflowId = 'sample';
    for (const [step, command] of orderCommands(workflowId).slice(0, 3).entries()) {
      if ('open' in command) await runtime.openOrder({ workflowId, input: command.open });
      else await runtime.dispatch({ workflowId, commandId: `${workflowId}:${step}`, event: command.event });
    }
    return JSON.stringify((await store.load(workflowId))!.snapshot);
  } finally {
    await runtime.close();
  }
}

if (process.argv[2] === '--worker') await workerMain(JSON.parse(process.argv[3]!) as WorkerSetup);
