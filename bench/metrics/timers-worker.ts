/**
 * Child process of the `timers` suite, so that seeding never counts in the sweep's memory and each
 * sweep starts from a fresh heap:
 *
 *   node --import tsx bench/metrics/timers-worker.ts seed  <file> <count>
 *   node --import tsx --expose-gc bench/metrics/timers-worker.ts sweep <file> <budgetMs>
 *   node --import tsx bench/metrics/timers-worker.ts scaling <file> <rounds>
 *
 * Both print one JSON line on stdout.
 */
import { writeSync } from 'node:fs';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { orderMachine } from '../../machines/order.js';
import { startTsxThread } from '../child.js';
import { stepSystem } from '../../src/engine/step.js';
import {
  createSandboxLogistics,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type NotificationService,
} from '../../src/runtime/index.js';
import { median, MiB, quantile, round, seconds } from '../harness.js';

/** The template's clock: the order is opened and the dispute raised at T0. */
export const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const HOUR = 3_600_000;
/** When the sweep runs: every D7 merchant-response window (48 h) is overdue, nothing else is due. */
export const SWEEP_AT = T0 + 50 * HOUR;
const customer = { role: 'customer', id: 'c' } as const;

/** A notification service that answers at once and keeps nothing (the sandbox keeps every message). */
const silentNotifications: NotificationService = { notify: async () => {} };

/**
 * Seeds `count` workflows waiting in D7 (dispute opened, merchant response window pending). The
 * template is a real workflow built by the runtime; its rows are then copied with one prepared
 * statement per table in large transactions (all rows share the template's snapshot JSON).
 */
async function seed(file: string, count: number): Promise<void> {
  const started = process.hrtime.bigint();
  const store = createSqliteStore({ filename: file });
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => T0 },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: silentNotifications,
    workerId: 'seed',
    onError: () => {},
  });
  await runtime.openOrder({
    workflowId: 'template',
    input: { orderId: 'template', merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: T0 },
  });
  await runtime.dispatch({
    workflowId: 'template',
    commandId: 'template:d',
    event: { type: 'dispute.opened', at: T0, by: customer, disputeId: 'd' },
  });
  await runtime.close();

  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const workflow = db.prepare(`SELECT * FROM workflows WHERE workflow_id = 'template'`).get() as Record<string, unknown>;
  const deadlines = db.prepare(`SELECT * FROM deadlines WHERE workflow_id = 'template'`).all() as Array<Record<string, unknown>>;
  if (deadlines.length !== 1) throw new Error(`the template should wait for one deadline, it waits for ${deadlines.length}`);
  const deadline = deadlines[0]!;
  // Only the seeded rows: the template's own rows go.
  for (const table of ['audit', 'commands', 'outbox', 'cancel_orders', 'disputes', 'deadlines', 'workflows']) {
    db.prepare(`DELETE FROM ${table} WHERE workflow_id = 'template'`).run();
  }
  // Every column of the template row (machine version, audit sequence, …), under a new id.
  const columns = Object.keys(workflow);
  const insertWorkflow = db.prepare(
    `INSERT INTO workflows (${columns.join(', ')}) VALUES (${columns.map((column) => `@${column}`).join(', ')})`,
  );
  const insertDeadline = db.prepare(
    `INSERT INTO deadlines (workflow_id, deadline_id, actor_path, timer, event_type, due_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const suffix = String(deadline.deadline_id).slice('template'.length);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = `wf-${String(i).padStart(7, '0')}`;
      insertWorkflow.run({ ...workflow, workflow_id: id, order_id: id });
      insertDeadline.run(id, `${id}${suffix}`, deadline.actor_path, deadline.timer, deadline.event_type, deadline.due_at);
    }
  });
  for (let from = 0; from < count; from += 20_000) batch(from, Math.min(count, from + 20_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  print({
    seeded: count,
    seconds: round(seconds(started), 1),
    snapshotBytes: String(workflow.snapshot).length,
    dueAt: deadline.due_at,
    eventType: deadline.event_type,
  });
}

/**
 * Runs the real scheduler (`runtime.start()`) for `budgetMs`, in windows of one second; after each
 * window the scheduler is stopped and the engine alone fires the same deadline on the template for a
 * quarter of a second (the baseline, alternating with the sweep so load changes hit both). Reports
 * the rates, their per-window ratio, and the peak RSS over the sweep.
 */
async function sweep(file: string, budgetMs: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const db = new Database(file, { readonly: true });
  const due = db.prepare<[number], number>(`SELECT COUNT(*) FROM deadlines WHERE due_at <= ?`).pluck().get(SWEEP_AT) ?? 0;
  const template = db.prepare<[], string>(`SELECT snapshot FROM workflows LIMIT 1`).pluck().get();
  const deadline = db.prepare<[], { actor_path: string; event_type: string }>(`SELECT actor_path, event_type FROM deadlines LIMIT 1`).get();
  // Every fired deadline adds one audit row (the seeded workflows have none).
  const audited = db.prepare<[], number>(`SELECT COUNT(*) FROM audit WHERE actor_id = 'timer'`).pluck();
  if (!template || !deadline) throw new Error('nothing seeded');

  const store = createSqliteStore({ filename: file });
  await store.migrate();
  let errors = 0;
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => SWEEP_AT },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: silentNotifications,
    workerId: 'sweeper',
    onError: () => (errors += 1),
  });

  // The baseline: the engine alone (restore, deliver, persist), no store, scheduler or outbox.
  const persisted = JSON.parse(template) as unknown;
  const delivery = { event: { type: deadline.event_type }, target: deadline.actor_path === '' ? [] : deadline.actor_path.split('/') };
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1e6;
  };
  const engine = (ms: number) => {
    let steps = 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    while (seconds(started) * 1000 < ms) {
      for (let i = 0; i < 20; i++, steps++) stepSystem(orderMachine, persisted, delivery);
    }
    return { wall: steps / seconds(started), cpu: steps / cpuSeconds(cpu) };
  };
  engine(100);

  gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakHeap = process.memoryUsage().heapUsed;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRss = Math.max(peakRss, usage.rss);
    peakHeap = Math.max(peakHeap, usage.heapUsed);
  };
  const sampler = setInterval(sample, 20);
  const sweepRates: number[] = [];
  const engineRates: number[] = [];
  const cpuRatios: number[] = [];
  const sweepCpuRates: number[] = [];
  let sweepSeconds = 0;
  const firedBefore = audited.get() ?? 0;
  for (let window = 0; window < Math.max(1, Math.round(budgetMs / 1000)); window++) {
    const before = audited.get() ?? 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    runtime.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await runtime.stop();
    const elapsed = seconds(started);
    const firedNow = (audited.get() ?? 0) - before;
    const sweepCpu = firedNow / cpuSeconds(cpu);
    sweepSeconds += elapsed;
    sample();
    sweepRates.push(firedNow / elapsed);
    const alone = engine(250);
    engineRates.push(alone.wall);
    cpuRatios.push(sweepCpu / alone.cpu);
    sweepCpuRates.push(sweepCpu);
  }
  clearInterval(sampler);
  sample();
  const fired = (audited.get() ?? 0) - firedBefore;
  const notified = db.prepare<[], number>(`SELECT COUNT(*) FROM outbox WHERE status = 'done'`).pluck().get() ?? 0;
  db.close();
  await runtime.close();

  const ratios = sweepRates.map((rate, i) => rate / engineRates[i]!);
  print({
    due,
    fired,
    notified,
    errors,
    seconds: round(sweepSeconds, 2),
    firedPerSecond: round(median(sweepRates), 0),
    engineStepsPerSecond: round(median(engineRates), 0),
    ratio: round(median(ratios)),
    ratioSpread: [round(quantile(ratios, 0.25)), round(quantile(ratios, 0.75))],
    cpuRatio: round(median(cpuRatios)),
    firedPerCpuSecond: round(median(sweepCpuRates), 0),
    rssBeforeMiB: round(rssBefore / MiB, 1),
    peakRssMiB: round(peakRss / MiB, 1),
    peakHeapMiB: round(peakHeap / MiB, 1),
    maxRssMiB: round((process.resourceUsage().maxRSS * 1024) / MiB, 1),
  });
}

/**
 * One sweeper thread of `scaling`: its own connection to the file and its own runtime (its own worker
 * id, so leases split the backlog by workflow between the threads, as between processes), and the
 * engine alone on the template. The coordinator asks for one window at a time.
 */
async function sweeperThread(file: string, index: number): Promise<void> {
  const port = parentPort!;
  const db = new Database(file, { readonly: true });
  const template = db.prepare<[], string>(`SELECT snapshot FROM workflows LIMIT 1`).pluck().get();
  const deadline = db.prepare<[], { actor_path: string; event_type: string }>(`SELECT actor_path, event_type FROM deadlines LIMIT 1`).get();
  db.close();
  if (!template || !deadline) throw new Error('nothing seeded');
  const store = createSqliteStore({ filename: file });
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    clock: { now: () => SWEEP_AT },
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    notifications: silentNotifications,
    workerId: `sweeper-${index}`,
    onError: () => {},
  });
  const persisted = JSON.parse(template) as unknown;
  const delivery = { event: { type: deadline.event_type }, target: deadline.actor_path === '' ? [] : deadline.actor_path.split('/') };
  for (let i = 0; i < 200; i++) stepSystem(orderMachine, persisted, delivery);
  port.on('message', (window: { kind: 'sweep' | 'engine' | 'close'; ms: number }) => {
    void (async () => {
      if (window.kind === 'close') {
        await runtime.close();
        port.postMessage({ closed: true });
        return;
      }
      const started = process.hrtime.bigint();
      let steps = 0;
      if (window.kind === 'sweep') {
        runtime.start();
        await new Promise((resolve) => setTimeout(resolve, window.ms));
        await runtime.stop();
      } else {
        while (seconds(started) * 1000 < window.ms) {
          for (let i = 0; i < 20; i++, steps++) stepSystem(orderMachine, persisted, delivery);
        }
      }
      port.postMessage({ steps, seconds: seconds(started) });
    })();
  });
  port.postMessage({ ready: true });
}

/**
 * `timers.sweepScaling2`: the sweep with two sweeper threads on one store against one, and the engine
 * alone with two threads against one, in the same process and run. Each round takes the four windows
 * (sweep ×1, sweep ×2, engine ×1, engine ×2) in ABBA order; a round's ratio is
 * (sweep ×2 ÷ ×1) ÷ (engine ×2 ÷ ×1), the metric is their median. Sweep rates count fired deadlines
 * (their audit rows); the 1-thread windows use thread 0, the 2-thread windows both.
 */
async function scaling(file: string, rounds: number): Promise<void> {
  const threads = [0, 1].map((index) => startTsxThread(import.meta.url, { file, index }));
  const next = (worker: Worker) =>
    new Promise<{ steps: number; seconds: number }>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      worker.once('error', fail);
      worker.once('message', (answer: { steps: number; seconds: number }) => {
        worker.off('error', fail);
        resolve(answer);
      });
    });
  await Promise.all(threads.map(next));
  const db = new Database(file, { readonly: true });
  const audited = db.prepare<[], number>(`SELECT COUNT(*) FROM audit WHERE actor_id = 'timer'`).pluck();
  const dueLeft = db.prepare<[number], number>(`SELECT COUNT(*) FROM deadlines WHERE due_at <= ?`).pluck();
  const dueBefore = dueLeft.get(SWEEP_AT) ?? 0;
  /** Deadlines fired (sweep) or steps (engine) per second of wall-clock time and per CPU second of the process (all threads). */
  const window = async (kind: 'sweep' | 'engine', count: 1 | 2, ms: number): Promise<{ wall: number; cpu: number }> => {
    const before = audited.get() ?? 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    const answers = await Promise.all(
      threads.slice(0, count).map((worker) => {
        const answer = next(worker);
        worker.postMessage({ kind, ms });
        return answer;
      }),
    );
    const elapsed = seconds(started);
    const used = process.cpuUsage(cpu);
    const work = kind === 'sweep' ? (audited.get() ?? 0) - before : answers.reduce((sum, { steps }) => sum + steps, 0);
    return { wall: work / elapsed, cpu: work / Math.max(1e-6, (used.user + used.system) / 1e6) };
  };
  const rates = { sweep1: [] as number[], sweep2: [] as number[], engine1: [] as number[], engine2: [] as number[] };
  const ratios: number[] = [];
  const cpuRatios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const order: Array<[keyof typeof rates, 'sweep' | 'engine', 1 | 2, number]> = [
      ['sweep1', 'sweep', 1, 1000],
      ['sweep2', 'sweep', 2, 1000],
      ['engine1', 'engine', 1, 300],
      ['engine2', 'engine', 2, 300],
    ];
    if (r % 2 === 1) order.reverse();
    const got: Partial<Record<keyof typeof rates, { wall: number; cpu: number }>> = {};
    for (const [name, kind, count, ms] of order) {
      const rate = await window(kind, count, ms);
      got[name] = rate;
      rates[name].push(rate.wall);
    }
    const { sweep1, sweep2, engine1, engine2 } = got as Record<keyof typeof rates, { wall: number; cpu: number }>;
    ratios.push(sweep2.wall / sweep1.wall / (engine2.wall / engine1.wall));
    cpuRatios.push(sweep2.cpu / sweep1.cpu / (engine2.cpu / engine1.cpu));
  }
  const dueAfter = dueLeft.get(SWEEP_AT) ?? 0;
  db.close();
  await Promise.all(
    threads.map((worker) => {
      const closed = next(worker);
      worker.postMessage({ kind: 'close', ms: 0 });
      return closed;
    }),
  );
  await Promise.all(threads.map((worker) => worker.terminate()));
  const med = (values: number[]) => round(median(values), 0);
  print({
    ratio: round(median(ratios)),
    ratioSpread: [round(quantile(ratios, 0.25)), round(quantile(ratios, 0.75))],
    cpuRatio: round(median(cpuRatios)),
    rounds,
    sweep1PerSecond: med(rates.sweep1),
    sweep2PerSecond: med(rates.sweep2),
    engine1PerSecond: med(rates.engine1),
    engine2PerSecond: med(rates.engine2),
    sweepScaling: round(median(rates.sweep2.map((rate, i) => rate / rates.sweep1[i]!))),
    engineScaling: round(median(rates.engine2.map((rate, i) => rate / rates.engine1[i]!))),
    dueBefore,
    dueAfter,
  });
}

function print(value: unknown): void {
  writeSync(1, `${JSON.stringify(value)}\n`);
}

if (!isMainThread) {
  const { file, index } = workerData as { file: string; index: number };
  await sweeperThread(file, index);
} else {
  const [command, file, arg] = process.argv.slice(2);
  if (command === 'seed' && file) await seed(file, Number(arg));
  else if (command === 'sweep' && file) await sweep(file, Number(arg));
  else if (command === 'scaling' && file) await scaling(file, Number(arg));
  else throw new Error('usage: timers-worker.ts seed|sweep|scaling <file> <count|budgetMs|rounds>');
  process.exit(0);
}
