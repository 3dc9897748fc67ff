/**
 * Kill soak: the runtime test's kill test, with as many SIGKILLs as you like.
 *
 *   npm run soak:kill -- --kills 500 [--seed 7] [--orders 16] [--keep]
 *
 * A worker process runs the durable runtime on a SQLite file while a driver replays a workload of
 * orders through every plan and SIGKILLs the worker at random points. Afterwards no accepted command
 * may be lost, no deadline lost or fired twice, and no order refunded twice (the payment sandbox's
 * ledger is a file, like a real payment service's). Exit code 1 when a problem is found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runKillSoak } from '../test/runtime/kill/harness.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '200' },
    seed: { type: 'string' },
    orders: { type: 'string', default: '16' },
    keep: { type: 'boolean', default: false },
  },
});

const dir = mkdtempSync(join(tmpdir(), 'kill-soak-'));
const kills = Number(values.kills);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
console.log(`kill soak: ${kills} kills, seed ${seed}, files in ${dir}`);

const report = await runKillSoak({
  kills,
  seed,
  dir,
  ordersPerRound: Number(values.orders),
  log: (line) => console.log(`  ${line}`),
});

console.log(
  [
    '',
    `kills by the driver       ${report.kills}`,
    `crashes after a refund    ${report.crashesAfterRefund}`,
    `worker lives              ${report.lives}`,
    `operations                ${report.ops} (${report.orders} orders, ${report.acceptedCommands} accepted commands)`,
    `deadlines fired           ${report.timersFired}`,
    `refunds executed          ${report.refundsExecuted}`,
    `second refunds, new key   ${report.secondRefunds}`,
    `stranded workflows        ${report.strandedWorkflows}`,
    `time                      ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
  ].join('\n'),
);
if (!values.keep) rmSync(dir, { recursive: true, force: true });
if (report.problems.length > 0) {
  console.log(`${report.problems.length} problem(s):`);
  for (const problem of report.problems) console.log(`  - ${problem}`);
  process.exit(1);
}
console.log('no problem found: every accepted command kept, every deadline fired once, at most one refund per order');
