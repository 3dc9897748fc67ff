/**
 * Durable command throughput on PostgreSQL, with 1, 2 and 4 worker processes, each against the rate
 * of raw single-row upserts into a table as wide as the workflow row (same server, same run, phases
 * interleaved). A durable command is the whole pipeline: command lookup, load, catch-up, validation,
 * step, and one commit (workflow row, audit, deadlines, outbox, X2 rows, command row).
 *
 * Two workloads, as issue 14 asks: concurrent (64 commands in flight in all, for distinct orders, spread
 * over the workers as a load balancer spreads an HTTP host's requests; the goals hold for it) and
 * sequential (each worker one command at a time, reported as `….sequential`).
 *
 * The same file is the worker process (`--worker <json>`): it waits for phases on stdin and answers with
 * the operations it completed.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
/** Commands in flight in all in the concurrent workload, as in the SQLite suite. */
const IN_FLIGHT = 64;

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
  /** Orders a worker runs at once (each one command at a time); 1 is the sequential workload. */
  lanes: number;
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
  const pool = new pg.Pool({ connectionString: setup.url, max: 4 });
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
    let order = 0;
    const lane = async () => {
      while (Date.now() < until) {
        const workflowId = `${phase.tag}-w${setup.index}-${order++}`;
        for (const [step, command] of orderCommands(workflowId).entries()) {
          if ('open' in command) await runtime.openOrder({ workflowId, input: command.open });
          else await runtime.dispatch({ workflowId, commandId: `${workflowId}:${step}`, event: command.event });
          ops += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: phase.lanes }, lane));
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

/** Linux's unit of the CPU times in /proc/stat (USER_HZ, 100 on every mainstream architecture). */
const USER_HZ = 100;

/**
 * CPU seconds the whole machine spent busy so far (every process: the bench workers, PostgreSQL's
 * backends, anything else running), from /proc/stat; null where there is none.
 */
function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / USER_HZ;
  } catch {
    return null;
  }
}

const CPU_IS =
  'operations per busy CPU second of the whole machine (bench workers, PostgreSQL and anything else running), from /proc/stat, against the same for the raw upserts';

const METRIC_NAMES = ['postgres1VsRawUpsert', 'postgres2VsRawUpsert', 'postgres4VsRawUpsert', 'postgresScaling4'].flatMap((name) => [
  `durable.${name}`,
  `durable.${name}.sequential`,
]);
const SKIPPED = Object.fromEntries(METRIC_NAMES.map((name) => [name, { skipped: 'no PostgreSQL' }]));

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
    /** Operations per second of wall-clock time and per busy CPU second of the machine (workers and server). */
    const phase = async (mode: Mode, count: number, lanes: number, ms = durationMs): Promise<{ wall: number; cpu: number | null }> => {
      const tag = `p${(phaseNo += 1)}`;
      const busyBefore = machineBusySeconds();
      const started = process.hrtime.bigint();
      for (const worker of workers.slice(0, count)) worker.child.stdin.write(`${JSON.stringify({ mode, durationMs: ms, tag, lanes })}\n`);
      const replies = await Promise.all(workers.slice(0, count).map((worker) => worker.next()));
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const busyAfter = machineBusySeconds();
      const failed = replies.find((reply) => reply.error);
      if (failed) throw new Error(`bench worker failed: ${failed.error}`);
      const ops = replies.reduce((sum, reply) => sum + (reply.ops ?? 0), 0);
      const busy = busyBefore === null || busyAfter === null ? null : busyAfter - busyBefore;
      return { wall: ops / seconds, cpu: busy === null || busy <= 0 ? null : ops / busy };
    };

    // Warm-up: prepared statements, JIT, caches.
    for (const mode of ['durable', 'raw'] as const) await phase(mode, WORKERS, IN_FLIGHT / WORKERS, ctx.quick ? 300 : 800);

    const counts = [1, 2, WORKERS] as const;
    type Workload = 'concurrent' | 'sequential' | 'raw';
    const rates = new Map<string, Array<{ wall: number; cpu: number | null }>>();
    const key = (workload: Workload, count: number) => `${workload}${count}`;
    for (let sample = 0; sample < samples; sample += 1) {
      // Interleaved (the order reversed every other sample), so drift on a shared machine hits every
      // phase alike; the raw phases write the same rows (same width, 1 insert + 3 updates per key) at
      // every client count, so raw scaling is measured as carefully as the workers'.
      const order = counts.flatMap((count) => (['concurrent', 'sequential', 'raw'] as const).map((workload) => [workload, count] as const));
      for (const [workload, count] of sample % 2 === 0 ? order : order.reverse()) {
        const rate = await phase(workload === 'raw' ? 'raw' : 'durable', count, workload === 'concurrent' ? IN_FLIGHT / count : 1);
        rates.set(key(workload, count), [...(rates.get(key(workload, count)) ?? []), rate]);
      }
    }
    const wall = (name: string) => rates.get(name)!.map((rate) => rate.wall);
    /** A workload's operations per busy CPU second of the machine, per sample; null without /proc/stat. */
    const cpu = (name: string): number[] | null => {
      const perSample = rates.get(name)!.map((rate) => rate.cpu);
      return perSample.every((rate) => rate !== null) ? (perSample as number[]) : null;
    };
    const rawWorkload = `autocommit INSERT … ON CONFLICT DO UPDATE of one ${snapshot.length}-byte-snapshot row (1 insert + 3 updates per key), one client per worker`;
    const lanesOf = (workload: 'concurrent' | 'sequential', workers: number) =>
      workload === 'concurrent' ? `${IN_FLIGHT} commands in flight in all (${IN_FLIGHT / workers} per worker)` : 'one command at a time each';
    const metric = (workload: 'concurrent' | 'sequential', workers: number): Metric => {
      const durable = wall(key(workload, workers));
      const raw = wall(key('raw', workers));
      const [candidate, baseline] = [median(durable), median(raw)];
      const [durableCpu, rawCpu] = [cpu(key(workload, workers)), cpu(key('raw', workers))];
      return {
        ratio: round(candidate / baseline),
        ...(durableCpu && rawCpu ? { cpuRatio: round(median(durableCpu) / median(rawCpu)), cpuIs: CPU_IS } : {}),
        value: round(candidate, 0),
        baseline: round(baseline, 0),
        unit: 'commands/s',
        baselineUnit: 'upserts/s',
        workers,
        samples: { durable: durable.map((rate) => round(rate, 0)), rawUpsert: raw.map((rate) => round(rate, 0)) },
        workload: `${workers} worker process(es), ${lanesOf(workload, workers)}, distinct orders: open, dispute.opened, WAIT_48H_INTERCEPT, merchant.refundForced per order; baseline: ${rawWorkload}`,
      };
    };
    // Scaling per sample (each sample's phases ran next to each other), then the median.
    const scaling = (workload: 'concurrent' | 'sequential'): Metric => {
      const phases = [key(workload, WORKERS), key(workload, 1), key('raw', WORKERS), key('raw', 1)];
      const scalingOf = ([workers4, workers1, raw4, raw1]: number[][]) =>
        workers1!.map((one, i) => {
          const workers = workers4![i]! / one;
          const raw = raw4![i]! / raw1![i]!;
          return { workers, raw, ratio: workers / raw };
        });
      const perSample = scalingOf(phases.map(wall));
      const cpus = phases.map(cpu);
      const onCpu = cpus.every((rates) => rates !== null) ? scalingOf(cpus as number[][]) : null;
      return {
        ratio: round(median(perSample.map((s) => s.ratio))),
        ...(onCpu ? { cpuRatio: round(median(onCpu.map((s) => s.ratio))), cpuIs: CPU_IS } : {}),
        value: round(median(perSample.map((s) => s.workers))),
        baseline: round(median(perSample.map((s) => s.raw))),
        unit: '4 workers ÷ 1 worker',
        baselineUnit: 'raw upserts, 4 clients ÷ 1 client',
        samples: perSample.map((s) => ({ workers: round(s.workers), raw: round(s.raw) })),
        workload: `(4 workers' command rate ÷ 1 worker's) ÷ (raw upserts with 4 clients ÷ with 1), per interleaved sample, median; ${lanesOf(workload, WORKERS).replace(/ \(.*\)/, '')}`,
      };
    };
    const metrics: Record<string, Metric> = {};
    for (const workload of ['concurrent', 'sequential'] as const) {
      const suffix = workload === 'concurrent' ? '' : '.sequential';
      const target = (value: number) => (workload === 'concurrent' ? { target: value } : {});
      for (const count of counts) metrics[`durable.postgres${count}VsRawUpsert${suffix}`] = { ...metric(workload, count), ...target(0.5) };
      metrics[`durable.postgresScaling4${suffix}`] = { ...scaling(workload), ...target(0.9) };
    }
    for (const [name, m] of Object.entries(metrics)) {
      ctx.log(`${name}: ${m.ratio} (cpu ${m.cpuRatio ?? '—'}; ${m.value} ${m.unit} vs ${m.baseline} ${m.baselineUnit})`);
    }
    return metrics;
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
