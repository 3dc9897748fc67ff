import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createActor } from 'xstate';
import { orderMachine } from '../../machines/order.js';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type Commit,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import {
  compareRatesAsync,
  comparisonOf,
  measureRotation,
  round,
  roundSpread,
  median,
  quantile,
  type BenchContext,
  type Comparison,
  type Metric,
  type Sample,
} from '../harness.js';
import { withSnapshotText } from '../../src/runtime/store-common.js';
import type { OrderEvent } from '../../src/schemas/events.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const merchant = { role: 'merchant', id: 'm' } as const;
const customer = { role: 'customer', id: 'c' } as const;
const payments = { role: 'system', id: 'payments' } as const;

/** One order's durable life after it is opened: 48H plan, forced refund, the payment's answer, confirmation. */
export function orderCommands(orderId: string): OrderEvent[] {
  const disputeId = `${orderId}-d`;
  const cancellationId = `${disputeId}:intercept-48h`;
  return [
    { type: 'dispute.opened', at: T0, by: customer, disputeId },
    { type: 'merchant.planSubmitted', at: T0 + 1, by: merchant, plan: 'WAIT_48H_INTERCEPT' },
    { type: 'merchant.refundForced', at: T0 + 2, by: merchant, cancellationId },
    { type: 'payment.refundSucceeded', at: T0 + 3, by: payments, cancellationId, paymentRef: `p-${orderId}` },
    { type: 'customer.settlementConfirmed', at: T0 + 4, by: customer },
  ];
}
/** Commands per order: the open plus the events. */
export const COMMANDS_PER_ORDER = 1 + orderCommands('x').length;

type RuntimeLevers = { liveCache?: false; groupCommit?: false };

/** A runtime on a SQLite file (WAL, synchronous NORMAL, as shipped) with sandbox adapters and a fixed clock. */
export async function sqliteRuntime(
  filename: string,
  onCommit?: (commit: Commit) => void,
  levers: RuntimeLevers = {},
  given?: WorkflowStore,
): Promise<WorkflowRuntime> {
  const sqlite = given ?? createSqliteStore({ filename });
  await sqlite.migrate();
  const store: WorkflowStore = onCommit
    ? {
        ...sqlite,
        commit: (commit) => {
          onCommit(structuredClone(commit));
          return sqlite.commit(commit);
        },
      }
    : sqlite;
  return createWorkflowRuntime({
    store,
    // the commands carry their own `at` (T0 …): the clock stands at their start, never ahead of them
    clock: { now: () => T0 },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: { notify: async () => {} },
    workerId: 'bench',
    onError: () => {},
    ...levers,
  });
}

const orderInput = (orderId: string) => ({ orderId, merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT' as const, at: T0 });

/** Runs `total` jobs with at most `inFlight` of them at once (an HTTP host's concurrent requests). */
export async function concurrently(total: number, inFlight: number, job: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < total) await job(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
}

/** The same order workload on a bare `createActor(orderMachine)` in memory: no store, no checks. */
function bareOrders(n: number, prefix: string, counter: { next: number }): void {
  for (let i = 0; i < n; i++) {
    const orderId = `${prefix}${counter.next++}`;
    const actor = createActor(orderMachine, { input: orderInput(orderId) }).start();
    for (const event of orderCommands(orderId)) actor.send(event as never);
    if (actor.getSnapshot().status !== 'done') throw new Error('bare order did not finish');
    actor.stop();
  }
}

/**
 * XState's documented persistence pattern, as a user would write it instead of the runtime, on the same
 * SQLite settings: per command one transaction that loads the JSON, restores the actor, sends, takes
 * `getPersistedSnapshot()` and upserts it. No durable timers, audit, outbox, idempotency or projection.
 */
export function naivePersistence(filename: string) {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS workflows (id TEXT PRIMARY KEY, snapshot TEXT NOT NULL) STRICT`);
  const select = db.prepare<[string], string>(`SELECT snapshot FROM workflows WHERE id = ?`).pluck();
  const upsert = db.prepare(`INSERT INTO workflows (id, snapshot) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot`);
  const open = db.transaction((orderId: string) => {
    const actor = createActor(orderMachine, { input: orderInput(orderId) }).start();
    upsert.run(orderId, JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
  });
  const send = db.transaction((orderId: string, event: Record<string, unknown>) => {
    const json = select.get(orderId);
    if (json === undefined) throw new Error(`no workflow ${orderId}`);
    const actor = createActor(orderMachine, { snapshot: JSON.parse(json) } as never).start();
    actor.send(event as never);
    upsert.run(orderId, JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
  });
  return {
    runOrder(orderId: string): void {
      open.immediate(orderId);
      for (const event of orderCommands(orderId)) send.immediate(orderId, event);
    },
    close: () => db.close(),
  };
}

const IN_FLIGHT = 64;

function ratioMetric(result: Comparison, extra: Record<string, unknown>): Metric {
  return {
    ratio: round(result.ratio),
    ratioSpread: roundSpread(result.ratioSpread),
    cpuRatio: round(result.cpuRatio),
    cpuRatioSpread: roundSpread(result.cpuRatioSpread),
    value: round(result.candidate.opsPerSecond * COMMANDS_PER_ORDER, 0),
    baseline: round(result.baseline.opsPerSecond * COMMANDS_PER_ORDER, 0),
    unit: 'commands/s',
    ...extra,
  };
}

/** The template order's commits under `orders` fresh ids (`<prefix><i>`), each passed through `prepare`. */
function replayedOrders(
  template: Commit[],
  templateId: string,
  prefix: string,
  orders: number,
  prepare = (commit: Commit) => commit,
): Commit[][] {
  const json = template.map((commit) => JSON.stringify(commit).split(templateId));
  return Array.from({ length: orders }, (_, i) => json.map((parts) => prepare(JSON.parse(parts.join(`${prefix}${i}`)) as Commit)));
}

/** A commit whose snapshot travels as text, as the runtime hands it over. */
function withTextSnapshot(commit: Commit): Commit {
  const { snapshot, ...header } = commit.workflow;
  return { ...commit, workflow: withSnapshotText(header, JSON.stringify(snapshot)) } as Commit;
}

/**
 * The store alone as the concurrent workload drives it: the commits the runtime wrote for one order,
 * under `orders` fresh ids (snapshots as text, as the runtime hands them over), `IN_FLIGHT` orders at a
 * time, each step of theirs one `commitAll` (one group commit). The commits are prepared once, before
 * timing, and each run writes them into a store of its own (`runs` of them, opened ahead), so the
 * rotation's heap holds one run's commits, not one per run.
 */
async function groupedReplayer(dir: string, template: Commit[], templateId: string, orders: number, runs: number) {
  const stores: Array<ReturnType<typeof createSqliteStore>> = [];
  for (let i = 0; i < runs; i++) {
    const store = createSqliteStore({ filename: join(dir, `store-alone-${i}.db`) });
    await store.migrate();
    stores.push(store);
  }
  const pool = replayedOrders(template, templateId, 'g', orders, withTextSnapshot);
  let used = 0;
  return {
    async run(n: number): Promise<void> {
      const store = stores[used++];
      if (!store || n > pool.length) throw new Error('replay stores exhausted');
      for (let first = 0; first < n; first += IN_FLIGHT) {
        const group = pool.slice(first, Math.min(n, first + IN_FLIGHT));
        for (let step = 0; step < COMMANDS_PER_ORDER; step++) {
          const outcomes = await store.commitAll(group.map((commits) => commits[step]!));
          if (outcomes.some((outcome) => outcome !== null)) throw new Error('a replayed commit was refused');
        }
      }
    },
    close: () => Promise.all(stores.map((store) => store.close())),
  };
}

/**
 * How far `durable.sqliteVsBareActor` could go: the store alone (the same commits, grouped as the
 * concurrent workload groups them) against the bare actor. A durable command costs at least a bare
 * step plus its share of the store's writes, so with everything else free the runtime would reach
 * store ÷ (store + bare) of the bare actor's rate: the `ceiling`, per sample pair, median.
 */
function storeAloneMetric(samples: Record<string, Sample[]>): Metric {
  const result = comparisonOf(samples, 'storeAlone', 'bare');
  const ceilings = samples.storeAlone!.map((store, i) => store.wall / (store.wall + samples.bare![i]!.wall));
  return {
    ...ratioMetric(result, {
      workload: `the commits of the runtime's orders (${COMMANDS_PER_ORDER} per order), replayed by the SQLite store alone, ${IN_FLIGHT} orders at a time, one commitAll per step; baseline: createActor(orderMachine) in memory, same orders`,
    }),
    unit: 'commits/s',
    ceiling: round(median(ceilings)),
    ceilingSpread: roundSpread([quantile(ceilings, 0.25), quantile(ceilings, 0.75)]),
    ceilingIs: 'store ÷ (store + bare): the sqliteVsBareActor ratio a runtime would reach whose only costs were the bare step and these writes',
  };
}

/**
 * The durable runtime against a bare actor and against XState's persistence pattern, concurrent (64
 * commands in flight, distinct workflows) and sequential, in one rotation; the runtime with its levers
 * (live cache, group commit) and without them in the same rotation: before and after side by side.
 * `template` (the commits of the order `templateId`) is what the store alone replays.
 */
async function engineComparisons(ctx: BenchContext, dir: string, template: Commit[], templateId: string): Promise<Record<string, Metric>> {
  const after = await sqliteRuntime(join(dir, 'after.db'));
  const before = await sqliteRuntime(join(dir, 'before.db'), undefined, { liveCache: false, groupCommit: false });
  const naive = naivePersistence(join(dir, 'naive.db'));
  const counter = { next: 0 };
  const id = (prefix: string) => `${prefix}${counter.next++}`;
  const concurrent = (runtime: WorkflowRuntime, prefix: string) => (n: number) =>
    concurrently(n, IN_FLIGHT, () => runOrder(runtime, id(prefix)));
  const sequential = (runtime: WorkflowRuntime, prefix: string) => async (n: number) => {
    for (let i = 0; i < n; i++) await runOrder(runtime, id(prefix));
  };
  const orders = ctx.quick ? 64 : 128;
  const rounds = ctx.quick ? 6 : 12;
  const storeAlone = await groupedReplayer(dir, template, templateId, orders, rounds + 1);
  const samples = await measureRotation(
    {
      runtimeConcurrent: { run: concurrent(after, 'ac'), iterations: orders },
      leversOffConcurrent: { run: concurrent(before, 'bc'), iterations: orders },
      runtimeSequential: { run: sequential(after, 'as'), iterations: orders },
      leversOffSequential: { run: sequential(before, 'bs'), iterations: orders },
      bare: { run: async (n) => bareOrders(n, 'x', counter), iterations: orders },
      naive: {
        run: async (n) => {
          for (let i = 0; i < n; i++) naive.runOrder(id('n'));
        },
        iterations: orders,
      },
      storeAlone: { run: (n) => storeAlone.run(n), iterations: orders },
    },
    rounds,
  );
  const stats = (after as unknown as { liveCacheStats(): Record<string, number> }).liveCacheStats();
  naive.close();
  await storeAlone.close();
  await after.close();
  await before.close();
  const workload = `${COMMANDS_PER_ORDER} commands per order (open, dispute, 48H plan, forced refund, payment answer, confirmation), distinct orders`;
  const c = (candidate: string, baseline: string) => comparisonOf(samples, candidate, baseline);
  const metrics: Record<string, Metric> = {
    'durable.sqliteVsBareActor': ratioMetric(c('runtimeConcurrent', 'bare'), {
      target: 0.5,
      workload: `${workload}, ${IN_FLIGHT} in flight; baseline: createActor(orderMachine) in memory, same events`,
    }),
    'durable.sqliteVsBareActor.sequential': ratioMetric(c('runtimeSequential', 'bare'), {
      workload: `${workload}, one command at a time; baseline: createActor(orderMachine) in memory, same events`,
    }),
    'durable.sqliteVsNaivePersistence': ratioMetric(c('runtimeConcurrent', 'naive'), {
      target: 1,
      workload: `${workload}, ${IN_FLIGHT} in flight; baseline: load JSON, restore, send, getPersistedSnapshot, upsert, one SQLite transaction per command (same pragmas)`,
    }),
    'durable.sqliteVsNaivePersistence.sequential': ratioMetric(c('runtimeSequential', 'naive'), {
      workload: `${workload}, one command at a time; baseline as above`,
    }),
    'durable.storeAloneVsBareActor': storeAloneMetric(samples),
    'durable.leversOnVsOff': ratioMetric(c('runtimeConcurrent', 'leversOffConcurrent'), {
      workload: `the runtime with live cache and group commit against the same runtime with both off, ${IN_FLIGHT} in flight`,
      sequential: (() => {
        const seq = c('runtimeSequential', 'leversOffSequential');
        return { ratio: round(seq.ratio), cpuRatio: round(seq.cpuRatio), ratioSpread: roundSpread(seq.ratioSpread) };
      })(),
      liveCache: stats,
      meanCommitGroup: round(stats.commits! / Math.max(1, stats.commitGroups!), 2),
    }),
  };
  for (const [name, metric] of Object.entries(metrics)) {
    const ceiling = metric.ceiling === undefined ? '' : `; ceiling for sqliteVsBareActor ${metric.ceiling}`;
    ctx.log(`${name}: ${metric.ratio} (cpu ${metric.cpuRatio}; ${metric.value} ${metric.unit} vs ${metric.baseline} commands/s${ceiling})`);
  }
  return metrics;
}

/** Opens an order and runs its commands; `after` sees each command's end. */
export async function runOrder(runtime: WorkflowRuntime, orderId: string, after?: () => void): Promise<void> {
  await runtime.openOrder({ input: { orderId, merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: T0 } });
  after?.();
  let step = 0;
  for (const event of orderCommands(orderId)) {
    await runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:${step++}`, event });
    after?.();
  }
}

/**
 * Raw better-sqlite3 on the same pragmas: one upsert of a `bytes`-character row per transaction, in
 * the workload's pattern: each key is inserted, then updated `writesPerKey - 1` times.
 */
export function rawUpserter(filename: string, bytes: number, writesPerKey: number) {
  const db = new Database(filename);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE IF NOT EXISTS rows (id TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL) STRICT`);
  const upsert = db.prepare(
    `INSERT INTO rows (id, version, body) VALUES (?, 1, ?)
     ON CONFLICT (id) DO UPDATE SET version = version + 1, body = excluded.body`,
  );
  const bodies = ['a', 'b', 'c', 'd'].map((c) => c.repeat(bytes));
  const write = db.transaction((id: string, body: string) => upsert.run(id, body));
  let counter = 0;
  return {
    run(n: number): void {
      for (let i = 0; i < n; i++, counter++) {
        write.immediate(`wf-${Math.floor(counter / writesPerKey)}`, bodies[counter % bodies.length]!);
      }
    },
    close: () => db.close(),
  };
}

/**
 * The store alone: the commits the runtime wrote for one order, replayed under fresh ids into a
 * fresh SQLite store (no XState, no parsing, no hashing). Commits are prepared before timing.
 */
async function storeReplayer(filename: string, template: Commit[], templateId: string, orders: number) {
  const store = createSqliteStore({ filename });
  await store.migrate();
  const pool = replayedOrders(template, templateId, 'r', orders);
  let next = 0;
  return {
    async run(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        const commits = pool[next++];
        if (!commits) throw new Error('replay pool exhausted');
        for (const commit of commits) await store.commit(commit);
      }
    },
    close: () => store.close(),
  };
}

/** WAL frames (pages) a piece of work appends, measured with checkpoints off on a probe connection. */
function walPages(file: string, probe: Database.Database, work: () => Promise<void> | void): Promise<number> {
  const frames = () => {
    try {
      return statSync(`${file}-wal`).size / (4096 + 24);
    } catch {
      return 0;
    }
  };
  probe.pragma('wal_checkpoint(TRUNCATE)');
  const before = frames();
  return Promise.resolve(work()).then(() => frames() - before);
}

/**
 * Durable commands per second through `createWorkflowRuntime` on a SQLite file, against raw
 * better-sqlite3 upserts of rows the size of the stored snapshot, in alternating samples.
 */
export async function durableMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-durable-'));
  try {
    const file = join(dir, 'runtime.db');
    let recording: Commit[] | null = [];
    const runtime = await sqliteRuntime(file, (commit) => recording?.push(commit));
    const probe = new Database(file);
    const snapshotLength = probe.prepare<[string], number>(`SELECT LENGTH(snapshot) FROM workflows WHERE workflow_id = ?`).pluck();

    // The stored snapshot's size over one order's life: the baseline's rows have the average size.
    const sizes: number[] = [];
    await runOrder(runtime, 'template-order', () => sizes.push(snapshotLength.get('template-order') ?? 0));
    const snapshotBytes = Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length);
    const template = recording;
    recording = null;

    let orders = 0;
    const candidate = async (n: number) => {
      for (let i = 0; i < n; i++) await runOrder(runtime, `o${orders++}`);
    };
    const raw = rawUpserter(join(dir, 'raw.db'), snapshotBytes, COMMANDS_PER_ORDER);
    const ordersPerSample = ctx.quick ? 15 : 30;
    const samples = ctx.quick ? 7 : 21;
    const result = await compareRatesAsync(
      candidate,
      async (n) => raw.run(n),
      { candidate: ordersPerSample, baseline: ordersPerSample * COMMANDS_PER_ORDER },
      samples,
    );

    // Where the gap is: the same commits written by the store alone, against the same baseline.
    const replay = await storeReplayer(join(dir, 'replay.db'), template, 'template-order', ordersPerSample * (samples + 1));
    const storeOnly = await compareRatesAsync(
      (n) => replay.run(n),
      async (n) => raw.run(n),
      { candidate: ordersPerSample, baseline: ordersPerSample * COMMANDS_PER_ORDER },
      samples,
    );
    await replay.close();

    // Why: pages each commit appends to the WAL, against the baseline's upsert.
    const pagesPerCommand = (await walPages(file, probe, () => runOrder(runtime, 'pages'))) / COMMANDS_PER_ORDER;
    const rawProbe = new Database(join(dir, 'raw.db'));
    const pagesPerUpsert = (await walPages(join(dir, 'raw.db'), rawProbe, () => raw.run(COMMANDS_PER_ORDER * 10))) / (COMMANDS_PER_ORDER * 10);
    rawProbe.close();
    raw.close();
    probe.close();
    await runtime.close();

    const ratio = result.ratio * COMMANDS_PER_ORDER;
    const commandsPerSecond = result.candidate.opsPerSecond * COMMANDS_PER_ORDER;
    ctx.log(
      `durable.sqliteVsRawUpsert: ${round(ratio)} (${round(commandsPerSecond, 0)} commands/s vs ${round(result.baseline.opsPerSecond, 0)} ` +
        `upserts/s of ${snapshotBytes} B; store alone ${round(storeOnly.ratio * COMMANDS_PER_ORDER)}; ` +
        `${round(pagesPerCommand, 1)} vs ${round(pagesPerUpsert, 1)} WAL pages)`,
    );
    const engines = await engineComparisons(ctx, dir, template, 'template-order');
    return {
      ...engines,
      'durable.sqliteVsRawUpsert': {
        ratio: round(ratio),
        ratioSpread: roundSpread([result.ratioSpread[0] * COMMANDS_PER_ORDER, result.ratioSpread[1] * COMMANDS_PER_ORDER]),
        cpuRatio: round(result.cpuRatio * COMMANDS_PER_ORDER),
        value: round(commandsPerSecond, 0),
        baseline: round(result.baseline.opsPerSecond, 0),
        unit: 'commands/s',
        retiredTarget: 0.5,
        snapshotBytes,
        storeOnly: {
          ratio: round(storeOnly.ratio * COMMANDS_PER_ORDER),
          cpuRatio: round(storeOnly.cpuRatio * COMMANDS_PER_ORDER),
          commitsPerSecond: round(storeOnly.candidate.opsPerSecond * COMMANDS_PER_ORDER, 0),
          note: 'the same commits written by the SQLite store alone (no XState, parsing or hashing), against the same baseline',
        },
        walPagesPerCommand: round(pagesPerCommand, 2),
        walPagesPerUpsert: round(pagesPerUpsert, 2),
        workload: `${COMMANDS_PER_ORDER} commands per order (open, dispute, 48H plan, forced refund, payment answer, confirmation), one transaction each`,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
