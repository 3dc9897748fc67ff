/**
 * A change measured against the code it replaces: two copies of the package (say `git archive HEAD`
 * before the change and the working tree after it, each with node_modules linked) loaded into ONE
 * process and run in alternating samples (ABBA, `compareRatesAsync`), so load hits both alike.
 *
 *   node --import tsx bench/compare-trees.ts <before-dir> <after-dir> durable|sweep|pg|pg64 [pairs]
 *
 * - durable: the concurrent workload of `durable.sqliteVsBareActor` (64 orders per sample, 64 in
 *   flight, six commands each) on a SQLite file per tree.
 * - sweep: a copy of a seeded file with 1,000 overdue D7 windows per sample, fired and their
 *   notifications delivered by `runtime.tick()` until nothing is left (the overdue sweep's work).
 * - pg: one order at a time (open and five commands) on PostgreSQL, one schema per tree (as one
 *   worker of `durable.postgres1VsRawUpsert.sequential`).
 * - pg64: the same orders, 64 in flight (128 orders per sample; one worker of
 *   `durable.postgres1VsRawUpsert`).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareRatesAsync, round, roundSpread } from './harness.js';

const [beforeDir, afterDir, mode = 'durable', pairsArg] = process.argv.slice(2);
if (!beforeDir || !afterDir) throw new Error('usage: compare-trees.ts <before-dir> <after-dir> durable|sweep|pg|pg64 [pairs]');
const pairs = Number(pairsArg ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'bench-trees-'));
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const SWEEP_AT = T0 + 50 * 3_600_000;
type Durable = typeof import('./metrics/durable.js');
type Runtime = typeof import('../src/runtime/index.js');
type Postgres = typeof import('../src/runtime/postgres.js');

async function tree(root: string) {
  const base = resolve(root);
  return {
    durable: (await import(join(base, 'bench/metrics/durable.ts'))) as Durable,
    runtime: (await import(join(base, 'src/runtime/index.ts'))) as Runtime,
    postgres: (await import(join(base, 'src/runtime/postgres.ts'))) as Postgres,
  };
}
const trees = { before: await tree(beforeDir), after: await tree(afterDir) };

async function durableSide(name: 'before' | 'after') {
  const { durable } = trees[name];
  const runtime = await durable.sqliteRuntime(join(dir, `${name}.db`));
  let next = 0;
  return {
    run: (orders: number) => durable.concurrently(orders, 64, () => durable.runOrder(runtime, `${name}${next++}`)),
    close: () => runtime.close(),
  };
}

async function sweepSide(name: 'before' | 'after', seeded: string) {
  const { runtime: lib } = trees[name];
  let sample = 0;
  return {
    run: async (_: number) => {
      const file = join(dir, `${name}-${sample++}.db`);
      copyFileSync(seeded, file);
      const store = lib.createSqliteStore({ filename: file });
      await store.migrate();
      const runtime = lib.createWorkflowRuntime({
        store,
        clock: { now: () => SWEEP_AT },
        payments: lib.createSandboxPayments(),
        logistics: lib.createSandboxLogistics(),
        notifications: { notify: async () => {} },
        workerId: 'sweeper',
        onError: () => {},
      });
      for (;;) {
        const tick = await runtime.tick();
        if (tick.deadlinesFired + tick.effectsDelivered === 0) break;
      }
      await runtime.close();
      rmSync(file, { force: true });
    },
    close: async () => {},
  };
}

async function pgSide(name: 'before' | 'after', inFlight: number) {
  const { runtime: lib, postgres, durable } = trees[name];
  const schema = `bench_trees_${name}`;
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  const store = postgres.createPostgresStore({
    connectionString: 'postgres://postgres@127.0.0.1:5432/test',
    schema,
    maxConnections: inFlight > 1 ? 4 : 2,
  });
  await store.migrate();
  const runtime = lib.createWorkflowRuntime({
    store,
    clock: { now: () => T0 },
    payments: lib.createSandboxPayments(),
    logistics: lib.createSandboxLogistics(),
    notifications: { notify: async () => {} },
    workerId: `bench-${name}`,
    onError: () => {},
  });
  let next = 0;
  return {
    run: (orders: number) => durable.concurrently(orders, inFlight, () => durable.runOrder(runtime, `${name}${next++}`)),
    close: () => runtime.close(),
  };
}

try {
  let seeded = '';
  if (mode === 'sweep') {
    seeded = join(dir, 'seeded.db');
    execFileSync(process.execPath, ['--import', 'tsx', join(resolve(beforeDir), 'bench/metrics/timers-worker.ts'), 'seed', seeded, '1000']);
  }
  const make = (name: 'before' | 'after') =>
    mode === 'sweep' ? sweepSide(name, seeded) : mode === 'pg' ? pgSide(name, 1) : mode === 'pg64' ? pgSide(name, 64) : durableSide(name);
  const before = await make('before');
  const after = await make('after');
  const perSample = mode === 'sweep' ? 1 : mode === 'pg' ? 10 : mode === 'pg64' ? 128 : 64;
  const result = await compareRatesAsync(after.run, before.run, { candidate: perSample, baseline: perSample }, pairs * 2);
  await before.close();
  await after.close();
  const unitsPerOp = mode === 'sweep' ? 1000 : 6;
  console.log(
    JSON.stringify({
      mode,
      pairs,
      ratio: round(result.ratio),
      ratioSpread: roundSpread(result.ratioSpread),
      cpuRatio: round(result.cpuRatio),
      cpuRatioSpread: roundSpread(result.cpuRatioSpread),
      after: round(result.candidate.opsPerSecond * unitsPerOp, 0),
      before: round(result.baseline.opsPerSecond * unitsPerOp, 0),
      unit: mode === 'sweep' ? 'deadlines/s (fired and notified)' : 'commands/s',
      loadAverage: (await import('node:os')).loadavg().map((value) => round(value, 2)),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
