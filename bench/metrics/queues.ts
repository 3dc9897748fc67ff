/**
 * The work queues (issue 17): a merchant's queue ("disputes waiting for my plan, soonest deadline
 * first") of 50 among 1,000,000 stored disputes, read through `runtime.queryDisputes` (caller check,
 * query parsing, labels), against the raw indexed select it runs, on the same store in the same run.
 * Each store's query plan is recorded: one index range scan, no sort. `--quick` stores 100,000.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { postgresDisputeSelect } from '../../src/runtime/postgres-store.js';
import { sqliteDisputeSelect } from '../../src/runtime/sqlite-store.js';
import { NO_DEADLINE, parseDisputeQuery } from '../../src/runtime/store-common.js';
import type { WorkflowStore } from '../../src/runtime/store.js';
import { compareRatesAsync, median, round, roundSpread, seconds, type BenchContext, type Metric } from '../harness.js';

const LOCAL_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** 100 disputes per merchant, half of them waiting on it: every merchant's queue holds 50. */
const MERCHANTS_PER_100 = 100;
const MERCHANT = { role: 'merchant', id: 'm-42' } as const;
const T0 = 1_800_000_000_000;

/** The query of a merchant's queue, parsed as the stores parse it: their select is the raw baseline. */
const queueQuery = (merchantId: string) => parseDisputeQuery({ merchantId, waitingOn: ['merchant'] });

/**
 * Row n: merchant m-(n mod merchants); the first half of each merchant's rows waits on the merchant
 * (awaitingMerchantChoice, a deadline), the rest on the customer, the platform, or is resolved.
 */
const rowSql = (n: string, merchants: number) => ({
  merchant: `'m-' || (${n} % ${merchants})`,
  waiting: `CASE (${n} / ${merchants}) % 2 WHEN 0 THEN 'merchant' ELSE (CASE ${n} % 3 WHEN 0 THEN 'customer' WHEN 1 THEN 'platform' END) END`,
  status: `CASE (${n} / ${merchants}) % 2 WHEN 0 THEN 'awaitingMerchantChoice' ELSE (CASE ${n} % 3 WHEN 0 THEN 'awaitingCustomerConfirmation' WHEN 1 THEN 'awaitingPlatformRuling' ELSE 'resolved' END) END`,
  due: `CASE WHEN (${n} / ${merchants}) % 2 = 0 OR ${n} % 3 = 0 THEN ${T0} + (${n} * 7919) % 172800000 END`,
});

interface Setup {
  store: WorkflowStore;
  raw: () => Promise<unknown[]>;
  /** The plan of the 50-dispute queue, and of a queue of 5,000 (a merchant far behind): no sort either way. */
  plan: string;
  longQueuePlan: string;
  close(): Promise<void>;
}

/** A merchant 5,000 disputes behind: the page is the first 51 of one index range, in index order. */
const LONG_QUEUE = { merchantId: 'm-behind', rows: 5_000 };

async function measure(ctx: BenchContext, name: string, rows: number, setup: Setup): Promise<Metric> {
  const runtime: WorkflowRuntime = createWorkflowRuntime({
    store: setup.store,
    clock: { now: () => T0 },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
  });
  try {
    const page = await runtime.queryDisputes(MERCHANT, { waitingOn: ['merchant'] });
    const raw = await setup.raw();
    if (page.items.length !== 50 || raw.length !== 50 || page.nextCursor !== null) {
      throw new Error(`${name}: the queue should hold 50 disputes (runtime ${page.items.length}, raw ${raw.length})`);
    }
    const iterations = ctx.quick ? 100 : 400;
    const comparison = await compareRatesAsync(
      async (n) => {
        for (let i = 0; i < n; i += 1) await runtime.queryDisputes(MERCHANT, { waitingOn: ['merchant'] });
      },
      async (n) => {
        for (let i = 0; i < n; i += 1) await setup.raw();
      },
      { candidate: iterations, baseline: iterations },
      ctx.quick ? 4 : 8,
    );
    // Dashboard counts read the projection only: one merchant's range, or every dispute.
    const latency = async (read: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const started = process.hrtime.bigint();
        await read();
        times.push(seconds(started) * 1000);
      }
      return round(median(times), 1);
    };
    const countMerchantMs = await latency(() => runtime.countDisputes(MERCHANT));
    const countAllMs = await latency(() => runtime.countDisputes({ role: 'platform', id: 'bench' }));
    ctx.log(`${name}: countDisputes ${countMerchantMs} ms for one merchant, ${countAllMs} ms for all ${rows} disputes`);
    ctx.log(
      `${name}: ${round(comparison.candidate.opsPerSecond, 0)} queues/s through the runtime, ${round(comparison.baseline.opsPerSecond, 0)}/s raw; plan: ${setup.plan}`,
    );
    return {
      ratio: round(comparison.ratio),
      ratioSpread: roundSpread(comparison.ratioSpread),
      cpuRatio: round(comparison.cpuRatio),
      value: round(comparison.candidate.opsPerSecond, 0),
      unit: 'merchant queues (50 of the stored disputes) per second through runtime.queryDisputes',
      baseline: round(comparison.baseline.opsPerSecond, 0),
      baselineIs: 'the same indexed select, run raw on the same connection kind',
      storedDisputes: rows + LONG_QUEUE.rows,
      plan: setup.plan,
      longQueuePlan: setup.longQueuePlan,
      countMerchantMs,
      countAllMs,
    };
  } finally {
    await runtime.stop();
  }
}

async function postgresSetup(ctx: BenchContext, rows: number): Promise<Setup | null> {
  const url = process.env.JD_DISPUTE_PG_URL ?? LOCAL_URL;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
  } catch {
    return null;
  }
  const schema = `bench_queue_${process.pid}`;
  const s = `"${schema}"`;
  await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  const store = createPostgresStore({ connectionString: url, schema, maxConnections: 2 });
  await store.migrate();
  const started = process.hrtime.bigint();
  const merchants = rows / MERCHANTS_PER_100;
  const r = rowSql('n', merchants);
  // Bulk generation on the server: workflows (the disputes refer to them), then the disputes, indexed.
  await admin.query(`INSERT INTO ${s}.workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq,
      snapshot, status, last_event_at, created_at, updated_at, observed_at)
    SELECT 'w-' || n, 'o-' || n, ${r.merchant}, 1, 2, 0, '{}'::jsonb, 'active', ${T0}, ${T0}, ${T0}, ${T0}
    FROM generate_series(0::bigint, ${rows - 1}) AS n`);
  await admin.query(`INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan,
      waiting_on, next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT 'w-' || n, 'd-' || n, 'o-' || n, ${r.merchant}, 'c-' || (n % 77777), ${r.status}, NULL, ${r.waiting},
      ${r.due}, CASE WHEN ${r.due} IS NULL THEN NULL ELSE 'merchantResponseWindow' END, coalesce(${r.due}, ${NO_DEADLINE}),
      ${T0}, ${T0}
    FROM generate_series(0::bigint, ${rows - 1}) AS n`);
  await admin.query(`INSERT INTO ${s}.workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq,
      snapshot, status, last_event_at, created_at, updated_at, observed_at)
    SELECT 'lw-' || n, 'lo-' || n, '${LONG_QUEUE.merchantId}', 1, 2, 0, '{}'::jsonb, 'active', ${T0}, ${T0}, ${T0}, ${T0}
    FROM generate_series(0::bigint, ${LONG_QUEUE.rows - 1}) AS n`);
  await admin.query(`INSERT INTO ${s}.disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan,
      waiting_on, next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT 'lw-' || n, 'd-' || n, 'lo-' || n, '${LONG_QUEUE.merchantId}', 'c-1', 'awaitingMerchantChoice', NULL, 'merchant',
      ${T0} + (n * 7919) % 172800000, 'merchantResponseWindow', ${T0} + (n * 7919) % 172800000, ${T0}, ${T0}
    FROM generate_series(0::bigint, ${LONG_QUEUE.rows - 1}) AS n`);
  await admin.query(`ANALYZE ${s}.disputes`);
  ctx.log(`postgres: ${rows + LONG_QUEUE.rows} disputes generated in ${round(seconds(started), 1)} s`);
  const explain = async (merchantId: string) => {
    const select = postgresDisputeSelect(s, queueQuery(merchantId));
    const answer = await admin.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, COSTS OFF) ${select.text}`,
      select.values,
    );
    const lines = answer.rows.map((row) => row['QUERY PLAN']);
    ctx.log(`postgres plan, queue of ${merchantId}:\n    ${lines.join('\n    ')}`);
    const planned = lines.findIndex((line) => /^(Planning|Execution)/.test(line.trim()));
    return lines
      .slice(0, planned < 0 ? undefined : planned)
      .map((line) => line.trim())
      .join(' / ');
  };
  const plan = await explain(MERCHANT.id);
  const longQueuePlan = await explain(LONG_QUEUE.merchantId);
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  const select = postgresDisputeSelect(s, queueQuery(MERCHANT.id));
  const query: pg.QueryConfig = { name: 'bench_raw_queue', text: select.text, values: select.values };
  return {
    store,
    raw: async () => (await raw.query(query)).rows,
    plan,
    longQueuePlan,
    async close() {
      await raw.end();
      await store.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      await admin.end();
    },
  };
}

async function sqliteSetup(ctx: BenchContext, rows: number): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-queues-'));
  const filename = join(dir, 'queues.db');
  const store = createSqliteStore({ filename });
  await store.migrate();
  const started = process.hrtime.bigint();
  const merchants = rows / MERCHANTS_PER_100;
  const r = rowSql('n', merchants);
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.exec(`BEGIN;
    WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${rows - 1})
    INSERT INTO workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status,
      last_event_at, created_at, updated_at, observed_at)
    SELECT 'w-' || n, 'o-' || n, ${r.merchant}, 1, 2, 0, '{}', 'active', ${T0}, ${T0}, ${T0}, ${T0} FROM seq;
    WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${rows - 1})
    INSERT INTO disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
      next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT 'w-' || n, 'd-' || n, 'o-' || n, ${r.merchant}, 'c-' || (n % 77777), ${r.status}, NULL, ${r.waiting}, ${r.due},
      CASE WHEN ${r.due} IS NULL THEN NULL ELSE 'merchantResponseWindow' END, coalesce(${r.due}, ${NO_DEADLINE}), ${T0}, ${T0}
    FROM seq;
    WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${LONG_QUEUE.rows - 1})
    INSERT INTO workflows (workflow_id, order_id, merchant_id, version, machine_version, audit_seq, snapshot, status,
      last_event_at, created_at, updated_at, observed_at)
    SELECT 'lw-' || n, 'lo-' || n, '${LONG_QUEUE.merchantId}', 1, 2, 0, '{}', 'active', ${T0}, ${T0}, ${T0}, ${T0} FROM seq;
    WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ${LONG_QUEUE.rows - 1})
    INSERT INTO disputes (workflow_id, dispute_id, order_id, merchant_id, customer_id, status, plan, waiting_on,
      next_due_at, next_timer, due_sort, opened_at, updated_at)
    SELECT 'lw-' || n, 'd-' || n, 'lo-' || n, '${LONG_QUEUE.merchantId}', 'c-1', 'awaitingMerchantChoice', NULL, 'merchant',
      ${T0} + (n * 7919) % 172800000, 'merchantResponseWindow', ${T0} + (n * 7919) % 172800000, ${T0}, ${T0}
    FROM seq;
    COMMIT; ANALYZE;`);
  ctx.log(`sqlite: ${rows + LONG_QUEUE.rows} disputes generated in ${round(seconds(started), 1)} s`);
  const explain = (merchantId: string) => {
    const { sql, params } = sqliteDisputeSelect(queueQuery(merchantId));
    return db
      .prepare<[Record<string, unknown>], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((row) => row.detail)
      .join(' / ');
  };
  const plan = explain(MERCHANT.id);
  const longQueuePlan = explain(LONG_QUEUE.merchantId);
  const queue = sqliteDisputeSelect(queueQuery(MERCHANT.id));
  const select = db.prepare(queue.sql);
  return {
    store,
    raw: async () => select.all(queue.params),
    plan,
    longQueuePlan,
    async close() {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function queueMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const rows = ctx.quick ? 100_000 : 1_000_000;
  const metrics: Record<string, Metric> = {};
  const sqlite = await sqliteSetup(ctx, rows);
  try {
    metrics['queues.sqliteMerchantQueueVsRawSelect'] = await measure(ctx, 'sqlite', rows, sqlite);
  } finally {
    await sqlite.close();
  }
  const postgres = await postgresSetup(ctx, rows);
  if (!postgres) {
    metrics['queues.postgresMerchantQueueVsRawSelect'] = { skipped: 'no PostgreSQL at JD_DISPUTE_PG_URL or 127.0.0.1:5432' };
    return metrics;
  }
  try {
    metrics['queues.postgresMerchantQueueVsRawSelect'] = await measure(ctx, 'postgres', rows, postgres);
  } finally {
    await postgres.close();
  }
  return metrics;
}
