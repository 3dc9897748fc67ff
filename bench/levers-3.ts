/**
 * Issue 14, third round: each lever against the code path it replaces, in one process, in alternating
 * samples (ABBA, 30 pairs; `compareRates`/`compareRatesAsync`), on wall-clock and CPU time.
 *
 *   node --import tsx bench/levers-3.ts [--quick] [--no-postgres]
 *
 * - lookupSqlite: what a durable command reads before it steps, on a SQLite file, when the live cache
 *   holds the workflow: `lookup` (the command row and the workflow without its snapshot, one call; after)
 *   against `getCommand` then `load` (the snapshot read and parsed; before).
 * - lookupPostgres: the same on PostgreSQL: one round trip (after) against two (before).
 * - snapshotText: a commit's workflow row and the store's check of it (`assertCommitShape`), with the
 *   snapshot given as its JSON text (`persistText` + `withSnapshotText`; after) against the snapshot
 *   persisted as an object (`persist`: serialised, parsed back, text kept; before).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { orderMachine } from '../machines/order.js';
import { LiveSystem } from '../src/engine/step.js';
import { createPostgresStore } from '../src/runtime/postgres-store.js';
import { createSqliteStore } from '../src/runtime/sqlite-store.js';
import { assertCommitShape, withSnapshotText } from '../src/runtime/store-common.js';
import type { Commit, LookupStore, WorkflowStore } from '../src/runtime/store.js';
import { ORDER_WORKFLOW } from '../src/runtime/unit-of-work.js';
import { compareRates, compareRatesAsync, round, roundSpread, type Comparison } from './harness.js';
import { orderCommands } from './metrics/durable.js';

const quick = process.argv.includes('--quick');
const withPostgres = !process.argv.includes('--no-postgres');
const samples = quick ? 20 : 60; // pairs: half of this
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const PG_URL = process.env.JD_DISPUTE_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const os = await import('node:os');

function report(name: string, result: Comparison, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const line = {
    ratio: round(result.ratio),
    ratioSpread: roundSpread(result.ratioSpread),
    cpuRatio: round(result.cpuRatio),
    cpuRatioSpread: roundSpread(result.cpuRatioSpread),
    after: round(result.candidate.opsPerSecond, 0),
    before: round(result.baseline.opsPerSecond, 0),
    loadAverage: round(os.loadavg()[0] ?? 0, 2),
    ...extra,
  };
  console.log(name, JSON.stringify(line));
  return line;
}

/** The durable workload's order after its 48H plan (dispute, plan, cancel order in flight). */
function planned(): LiveSystem {
  const system = new LiveSystem(orderMachine, { input: { orderId: 'o', merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: T0 } });
  for (const event of orderCommands('o').slice(0, 2)) system.deliver({ event: event as never });
  return system;
}
const system = planned();

const commitOf = (workflowId: string, version: number, snapshotText: string): Commit =>
  ({
    workflow: withSnapshotText(
      {
        workflowId,
        orderId: workflowId,
        merchantId: 'm',
        version,
        machineVersion: ORDER_WORKFLOW.version,
        auditSeq: 0,
        status: 'active',
        lastEventAt: T0,
        createdAt: T0,
        updatedAt: T0,
      },
      snapshotText,
    ),
    expectedVersion: version === 1 ? null : version - 1,
    audit: [],
    deadlines: [],
    outbox: [],
    cancelOrders: [],
    disputes: [],
    command:
      version === 1
        ? null
        : { commandId: `c${version}`, scope: 'client', workflowId, payloadHash: 'h', result: { version, state: { order: 'x' } }, at: T0 },
    completesEffectId: null,
    observedAt: T0,
  }) as Commit;

/** 64 workflows at version 2 (each with its command row), read as a cache hit would (version 2 live). */
async function lookups(store: WorkflowStore & LookupStore, iterations: number) {
  const text = system.persistText();
  const ids = Array.from({ length: 64 }, (_, i) => `w${i}`);
  for (const id of ids) {
    await store.commit(commitOf(id, 1, text));
    await store.commit(commitOf(id, 2, text));
  }
  const command = { scope: 'client' as const, commandId: 'c2' };
  return compareRatesAsync(
    async (n) => {
      for (let i = 0; i < n; i++) await store.lookup(ids[i % 64]!, { command, liveVersion: 2 });
    },
    async (n) => {
      for (let i = 0; i < n; i++) {
        await store.getCommand(ids[i % 64]!, 'client', 'c2');
        await store.load(ids[i % 64]!);
      }
    },
    { candidate: iterations, baseline: iterations },
    samples,
  );
}

const results: Record<string, unknown> = {};

const snapshotText = compareRates(
  (n) => {
    for (let i = 0; i < n; i++) assertCommitShape(commitOf('o', 3, system.persistText()));
  },
  (n) => {
    for (let i = 0; i < n; i++) {
      const commit = commitOf('o', 3, '{}');
      (commit.workflow as { snapshot: unknown }).snapshot = system.persist();
      assertCommitShape(commit);
    }
  },
  { candidate: 1000, baseline: 1000 },
  samples,
);
results.snapshotText = report('snapshotText', snapshotText, { unit: 'commits built and checked/s', snapshotBytes: system.persistText().length });

const dir = mkdtempSync(join(tmpdir(), 'bench-levers3-'));
try {
  const sqlite = createSqliteStore({ filename: join(dir, 'lookup.db') });
  await sqlite.migrate();
  results.lookupSqlite = report('lookupSqlite', await lookups(sqlite, 1000), { unit: 'command reads/s' });
  await sqlite.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (withPostgres) {
  const schema = `bench_levers3_${process.pid}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const store = createPostgresStore({ connectionString: PG_URL, schema, maxConnections: 2 });
  try {
    await store.migrate();
    results.lookupPostgres = report('lookupPostgres', await lookups(store, 100), { unit: 'command reads/s' });
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}
system.stop();
console.log(JSON.stringify(results));
