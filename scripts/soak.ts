/**
 * Soak of the invariants (issue 6).
 *
 *   npm run soak [-- --runs 10000] [--seconds 540] [--seed 42] [--runtime-share 0.4] [--sqlite-share 0.03]
 *   npm run soak -- --crash [--kills 100] [--seed 7] [--orders 16] [--kill-after-execute 0.5] [--keep]
 *
 * Default: the model-based property tests (test/property) for `--runs` sequences within `--seconds`:
 * a share on the durable runtime over the memory store (restarts, callbacks, replays, adapter failures,
 * INV1–INV5 after every step, runs with restarts replayed without them), a small share on SQLite files,
 * the rest on the in-memory host (INV1–INV4, P2, P3d, C4). The durable runtime's sequences include issue
 * 12's adversarial participants (adapters that hang, are slow past the lease while a second worker takes
 * over, answer malformed or twice, throw after executing; clients that reuse ids across workflows and
 * send back-dated or future `at`) and check INV1–INV6 after every step. Prints sequences, steps,
 * invariant checks, violations and the seed; a violation prints the shrunk sequence with its seed and
 * path, exit code 1.
 *
 * `--crash`: the SIGKILL crash soak (test/runtime/kill/harness.ts): a worker process runs the runtime on
 * a SQLite file and is killed at random points while the driver replays a workload; afterwards the
 * result is compared with an uninterrupted run. Besides the driver's kills, a share of all refunds
 * (`--kill-after-execute`, default 0.5) kills the worker between the payment executing (the ledger write)
 * and the runtime recording its result. Prints lost commands, lost or duplicated deadlines, double
 * refunds, second refunds of an order under a different key and stranded workflows after recovery (all 0
 * expected; exit code 1 otherwise), counted from the harness's findings and recounted from the files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { memoryProperty, type SequenceStats } from '../test/property/model.js';
import { emptyStats, runtimeProperty, type WorldStats } from '../test/property/runtime-driven.js';
import { runKillSoak } from '../test/runtime/kill/harness.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '540' },
    seed: { type: 'string' },
    'runtime-share': { type: 'string', default: '0.4' },
    'sqlite-share': { type: 'string', default: '0.03' },
    crash: { type: 'boolean', default: false },
    kills: { type: 'string', default: '100' },
    orders: { type: 'string', default: '16' },
    'kill-after-execute': { type: 'string', default: '0.5' },
    keep: { type: 'boolean', default: false },
  },
});

const seed = values.seed === undefined ? Date.now() % 2_147_483_647 : Number(values.seed);
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);

if (values.crash) await crashSoak();
else await propertySoak();

// ---------------------------------------------------------------------------------------------

async function propertySoak(): Promise<void> {
  const runs = Number(values.runs);
  const budgetMs = Number(values.seconds) * 1000;
  const runtimeRuns = Math.round(runs * Number(values['runtime-share']));
  const sqliteRuns = Math.round(runs * Number(values['sqlite-share']));
  const hostRuns = Math.max(0, runs - runtimeRuns - sqliteRuns);
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  console.log(
    `soak: ${runs} sequences (${runtimeRuns} durable runtime/memory store, ${sqliteRuns} durable runtime/SQLite, ${hostRuns} in-memory host), budget ${values.seconds} s, seed ${seed}`,
  );

  const runtimeStats = emptyStats();
  const sqliteStats = emptyStats();
  const hostStats: SequenceStats = { sequences: 0, steps: 0, checks: 0 };
  // Measured on the 2-core machine: ~30–50 ms a runtime sequence (memory), ~80 ms on SQLite, ~4 ms in memory.
  const weights = { runtime: runtimeRuns * 45, sqlite: sqliteRuns * 90, host: hostRuns * 4 };
  const totalWeight = weights.runtime + weights.sqlite + weights.host || 1;
  // biome-ignore lint/suspicious/noExplicitAny: each phase has its own value type
  const phases: Array<{ name: string; numRuns: number; weight: number; run: (limit: number) => Promise<fc.RunDetails<any>> }> = [
    {
      name: 'durable runtime, memory store',
      numRuns: runtimeRuns,
      weight: weights.runtime,
      run: (limit) =>
        fc.check(runtimeProperty({ store: 'memory', maxCommands: 30, stats: runtimeStats, differential: true }), {
          numRuns: runtimeRuns,
          seed,
          interruptAfterTimeLimit: limit,
        }),
    },
    {
      name: 'durable runtime, SQLite file',
      numRuns: sqliteRuns,
      weight: weights.sqlite,
      run: (limit) =>
        fc.check(runtimeProperty({ store: 'sqlite', dir, maxCommands: 25, restartWeight: 4, stats: sqliteStats, differential: true }), {
          numRuns: sqliteRuns,
          seed: seed + 1,
          interruptAfterTimeLimit: limit,
        }),
    },
    {
      name: 'in-memory host',
      numRuns: hostRuns,
      weight: weights.host,
      run: (limit) =>
        Promise.resolve(fc.check(memoryProperty(hostStats), { numRuns: hostRuns, seed: seed + 2, interruptAfterTimeLimit: limit })),
    },
  ];

  // On a loaded machine a run takes long: the counters so far, every minute (the final figures come at the end).
  const progress = setInterval(() => {
    const done = runtimeStats.sequences + sqliteStats.sequences + hostStats.sequences;
    const checks = runtimeStats.checks + sqliteStats.checks + hostStats.checks;
    console.log(
      `  … ${seconds()} s: ${done} sequences, ${checks} checks (runtime ${runtimeStats.sequences}, SQLite ${sqliteStats.sequences}, host ${hostStats.sequences})`,
    );
  }, 60_000);
  progress.unref();
  let violations = 0;
  let interrupted = false;
  const failures: string[] = [];
  let spentWeight = 0;
  try {
    for (const phase of phases) {
      if (phase.numRuns === 0) continue;
      // Each phase gets the remaining time in proportion to its expected cost.
      const remaining = budgetMs - (Date.now() - started);
      const share = phase.weight / Math.max(1, totalWeight - spentWeight);
      const limit = Math.max(1_000, Math.floor(remaining * share));
      spentWeight += phase.weight;
      const phaseStart = Date.now();
      const details = await phase.run(limit);
      console.log(
        `  ${phase.name}: ${details.numRuns} sequences in ${((Date.now() - phaseStart) / 1000).toFixed(1)} s${details.interrupted ? ' (time budget reached)' : ''}`,
      );
      if (details.interrupted) interrupted = true;
      if (details.failed) {
        violations += 1;
        failures.push(`${phase.name}:\n${fc.defaultReportMessage(details) ?? ''}`);
      }
    }
  } finally {
    clearInterval(progress);
    rmSync(dir, { recursive: true, force: true });
  }

  const sum = (key: 'sequences' | 'steps' | 'checks') => runtimeStats[key] + sqliteStats[key] + hostStats[key];
  const both = (key: keyof WorldStats) => runtimeStats[key] + sqliteStats[key];
  console.log(
    [
      '',
      `sequences            ${sum('sequences')}${interrupted ? ` (of ${runs}: the time budget ran out)` : ''}`,
      `steps                ${sum('steps')}`,
      `invariant checks     ${sum('checks')}`,
      `violations           ${violations}`,
      `seed                 ${seed}`,
      `durable runtime      ${both('sequences')} sequences, ${both('commands')} commands (${both('accepted')} accepted, ${both('refused')} refused), ` +
        `${both('restarts')} restarts, ${both('ticks')} ticks, ${both('deadlinesFired')} deadlines fired, ${both('refundsExecuted')} refunds executed, ` +
        `${both('replays')} replayed commands, ${both('differentialReplays')} runs replayed without their restarts`,
      `adversarial          ${both('adversarialCalls')} adversarial adapter moods (hang, slow past the lease with a second worker, malformed, unreadable, twice), ` +
        `${both('reusedIds')} command ids reused on another workflow, ${both('strandedChecks')} INV6 checks`,
      `time                 ${seconds()} s`,
      '',
    ].join('\n'),
  );
  if (failures.length > 0) {
    console.log('VIOLATION (shrunk; replay with the seed and path below):');
    for (const failure of failures) console.log(failure);
    process.exit(1);
  }
  console.log('no violation');
}

// ---------------------------------------------------------------------------------------------

async function crashSoak(): Promise<void> {
  const kills = Number(values.kills);
  const killAfterExecuteRate = Number(values['kill-after-execute']);
  const dir = mkdtempSync(join(tmpdir(), 'crash-soak-'));
  console.log(`crash soak: ${kills} SIGKILLs, ${killAfterExecuteRate} of refunds killed after executing, seed ${seed}, files in ${dir}`);
  const report = await runKillSoak({
    kills,
    seed,
    dir,
    ordersPerRound: Number(values.orders),
    killAfterExecuteRate,
    log: (line) => console.log(`  ${line}`),
  });

  // The harness's findings, by kind.
  const count = (pattern: RegExp) => report.problems.filter((problem) => pattern.test(problem)).length;
  const lostCommands = count(/never answered|is not stored as answered/);
  const lostDeadlines = count(/a due deadline never fired/);
  const duplicatedDeadlines = count(/a deadline fired twice/);
  let doubleRefunds = 0;
  for (const problem of report.problems) {
    const match = /INV1: order .* refunded (\d+) times/.exec(problem);
    if (match) doubleRefunds += Number(match[1]) - 1;
  }
  const known = lostCommands + lostDeadlines + duplicatedDeadlines + count(/INV1: order/) + count(/INV6: .* is stranded/);
  const other = report.problems.length - known;

  // Recounted from the files the run left: the payment ledger and the SQLite file.
  const recount = recountFiles(dir);

  console.log(
    [
      '',
      `kills                    ${report.kills} (+ ${report.crashesAfterRefund} crashes right after a refund executed)`,
      `worker lives             ${report.lives}`,
      `operations               ${report.ops} (${report.orders} orders, ${report.acceptedCommands} accepted commands)`,
      `deadlines fired          ${report.timersFired}`,
      `refunds executed         ${report.refundsExecuted}`,
      `lost commands            ${lostCommands}`,
      `lost deadlines           ${lostDeadlines} (recount: ${recount.lostDeadlines} pending deadlines due before their workflow's last event)`,
      `duplicated deadlines     ${duplicatedDeadlines} (recount: ${recount.duplicatedDeadlines} timer audit rows fired twice)`,
      `double refunds           ${doubleRefunds} (recount: ${recount.doubleRefunds} extra executions in the payment ledger)`,
      `second refunds, new key  ${report.secondRefunds} (recount: ${recount.secondRefunds} orders' executions under a second key)`,
      `stranded workflows       ${report.strandedWorkflows} (findStrandedWorkflows after recovery)`,
      `other differences        ${other} (vs the uninterrupted run)`,
      `seed                     ${seed}`,
      `time                     ${seconds()} s`,
      '',
    ].join('\n'),
  );
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  const bad =
    report.problems.length +
    recount.lostDeadlines +
    recount.duplicatedDeadlines +
    recount.doubleRefunds +
    report.secondRefunds +
    recount.secondRefunds +
    report.strandedWorkflows;
  if (bad > 0) {
    console.log(`${report.problems.length} problem(s) reported by the harness:`);
    for (const problem of report.problems) console.log(`  - ${problem}`);
    process.exit(1);
  }
  console.log(
    'no problem: every accepted command kept, every deadline fired once, at most one refund per order (no second key), no stranded workflow',
  );
}

function recountFiles(dir: string) {
  const ledgerFile = join(dir, 'ledger.jsonl');
  const perOrder = new Map<string, number>();
  const keysPerOrder = new Map<string, Set<string>>();
  if (existsSync(ledgerFile)) {
    for (const line of readFileSync(ledgerFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const { orderId, idempotencyKey } = JSON.parse(line) as { orderId: string; idempotencyKey: string };
        perOrder.set(orderId, (perOrder.get(orderId) ?? 0) + 1);
        keysPerOrder.set(orderId, (keysPerOrder.get(orderId) ?? new Set()).add(idempotencyKey));
      } catch {
        // a torn last line executed nothing (see the sandbox)
      }
    }
  }
  const doubleRefunds = [...perOrder.values()].reduce((extra, n) => extra + Math.max(0, n - 1), 0);
  const secondRefunds = [...keysPerOrder.values()].reduce((extra, keys) => extra + Math.max(0, keys.size - 1), 0);
  const db = new Database(join(dir, 'soak.db'), { readonly: true });
  try {
    const duplicatedDeadlines = db
      .prepare<[], { n: number }>(
        `SELECT COALESCE(SUM(n - 1), 0) AS n FROM (
           SELECT COUNT(*) AS n FROM audit WHERE actor_id = 'timer' GROUP BY workflow_id, event, at HAVING COUNT(*) > 1)`,
      )
      .get()!.n;
    const lostDeadlines = db
      .prepare<[], { n: number }>(
        `SELECT COUNT(*) AS n FROM deadlines d JOIN workflows w ON w.workflow_id = d.workflow_id WHERE d.due_at <= w.last_event_at`,
      )
      .get()!.n;
    return { doubleRefunds, secondRefunds, duplicatedDeadlines, lostDeadlines };
  } finally {
    db.close();
  }
}
