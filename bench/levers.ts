/**
 * Issue 14's levers measured one by one, each against the code path it replaces, in one process, in
 * alternating samples (ABBA, `compareRates`): the ratio is the median of per-pair ratios, on wall-clock
 * and on CPU time. The whole-suite figures (`npm run bench`) move with the machine's load far more than
 * these levers move them; this isolates each.
 *
 *   node --import tsx bench/levers.ts [--quick]
 *
 * - restoreOwned: a stored workflow restored for a unit of work from the record `load` just parsed, in
 *   place (after) against from a copy (before). Both parse the stored JSON, as `load` does.
 * - persistedText: a commit's JSON fields checked and serialised by the store (`assertCommitShape`) when
 *   the snapshot comes from `LiveSystem.persist` (its text known, after) against the same snapshot as a
 *   plain object (serialised again, before).
 * - completeEffects: the 8 effects of one outbox pass completed on a SQLite file in one transaction
 *   (after) against one transaction each (before); both first put the 8 rows back to pending in one
 *   transaction, so each sample does the same work apart from the completion.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { orderMachine } from '../machines/order.js';
import { LiveSystem } from '../src/engine/step.js';
import { createSqliteStore } from '../src/runtime/sqlite-store.js';
import { assertCommitShape } from '../src/runtime/store-common.js';
import { ORDER_WORKFLOW, restoreWorkflow } from '../src/runtime/unit-of-work.js';
import type { Commit, OutboxRow } from '../src/runtime/store.js';
import { compareRates, compareRatesAsync, round, roundSpread, type Comparison } from './harness.js';
import { orderCommands } from './metrics/durable.js';

const quick = process.argv.includes('--quick');
const samples = quick ? 10 : 30;
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function report(name: string, result: Comparison, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const line = {
    ratio: round(result.ratio),
    ratioSpread: roundSpread(result.ratioSpread),
    cpuRatio: round(result.cpuRatio),
    cpuRatioSpread: roundSpread(result.cpuRatioSpread),
    after: round(result.candidate.opsPerSecond, 0),
    before: round(result.baseline.opsPerSecond, 0),
    ...extra,
  };
  console.log(name, JSON.stringify(line));
  return line;
}

/** The order of the durable workload after its 48H plan (dispute, plan, cancel order in flight): its largest snapshot. */
function planned(): LiveSystem {
  const system = new LiveSystem(orderMachine, { input: { orderId: 'o', merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: T0 } });
  for (const event of orderCommands('o').slice(0, 2)) system.deliver({ event: event as never });
  return system;
}

const system = planned();
const text = JSON.stringify(system.persist());
const record = { workflowId: 'o', machineVersion: ORDER_WORKFLOW.version };

const restoreOwned = compareRates(
  (n) => {
    for (let i = 0; i < n; i++) restoreWorkflow(ORDER_WORKFLOW, { ...record, snapshot: JSON.parse(text) }, undefined, true).stop();
  },
  (n) => {
    for (let i = 0; i < n; i++) restoreWorkflow(ORDER_WORKFLOW, { ...record, snapshot: JSON.parse(text) }).stop();
  },
  { candidate: 400, baseline: 400 },
  samples,
);

const commitWith = (snapshot: unknown): Commit =>
  ({
    workflow: {
      workflowId: 'o',
      orderId: 'o',
      merchantId: 'm',
      version: 3,
      machineVersion: ORDER_WORKFLOW.version,
      auditSeq: 2,
      snapshot,
      status: 'active',
      lastEventAt: T0,
      createdAt: T0,
      updatedAt: T0,
    },
    expectedVersion: 2,
    audit: [
      {
        workflowId: 'o',
        seq: 2,
        at: T0,
        role: 'merchant',
        actorId: 'm',
        eventType: 'merchant.planSubmitted',
        event: { type: 'merchant.planSubmitted' },
        resultingState: { order: 'x' },
        commandId: 'c',
      },
    ],
    deadlines: [],
    outbox: [],
    cancelOrders: [],
    disputes: [],
    command: null,
    completesEffectId: null,
    observedAt: T0,
  }) as Commit;
const persistedCommits = Array.from({ length: 64 }, () => commitWith(system.persist()));
const plainCommits = persistedCommits.map((commit) => commitWith(JSON.parse(JSON.stringify(commit.workflow.snapshot))));
const persistedText = compareRates(
  (n) => {
    for (let i = 0; i < n; i++) assertCommitShape(persistedCommits[i % 64]!);
  },
  (n) => {
    for (let i = 0; i < n; i++) assertCommitShape(plainCommits[i % 64]!);
  },
  { candidate: 4000, baseline: 4000 },
  samples,
);
system.stop();

// completeEffects on a SQLite file
const dir = mkdtempSync(join(tmpdir(), 'bench-levers-'));
const file = join(dir, 'levers.db');
const store = createSqliteStore({ filename: file });
await store.migrate();
const PASS = 8;
const effects: OutboxRow[] = Array.from({ length: PASS * 16 }, (_, i) => ({
  effectId: `w${i}|notification|k${i}`,
  workflowId: `w${i}`,
  kind: 'notification',
  idempotencyKey: `k${i}`,
  payload: { type: 'effect.notificationRequested', kind: 'x' },
  status: 'pending',
  attempts: 0,
  availableAt: T0,
  lastError: null,
  createdAt: T0,
}));
for (const [i, effect] of effects.entries()) {
  await store.commit({
    workflow: {
      workflowId: effect.workflowId,
      orderId: effect.workflowId,
      merchantId: 'm',
      version: 1,
      machineVersion: 1,
      auditSeq: 0,
      snapshot: {},
      status: 'active',
      lastEventAt: T0,
      createdAt: T0,
      updatedAt: T0,
    },
    expectedVersion: null,
    audit: [],
    deadlines: [],
    outbox: [effect],
    cancelOrders: [],
    command: null,
    completesEffectId: null,
    observedAt: T0 + i,
  } as Commit);
}
const raw = new Database(file);
const reset = raw.prepare(`UPDATE outbox SET status = 'pending' WHERE effect_id = ?`);
const resetPass = raw.transaction((ids: string[]) => {
  for (const id of ids) reset.run(id);
});
let pass = 0;
const nextPass = () => effects.slice((pass++ % 16) * PASS, (pass % 16 || 16) * PASS).map((effect) => effect.effectId);
const completions = await compareRatesAsync(
  async (n) => {
    for (let i = 0; i < n; i++) {
      const ids = nextPass();
      resetPass(ids);
      await store.completeEffects(ids);
    }
  },
  async (n) => {
    for (let i = 0; i < n; i++) {
      const ids = nextPass();
      resetPass(ids);
      for (const id of ids) await store.completeEffect(id);
    }
  },
  { candidate: 200, baseline: 200 },
  samples,
);
raw.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

const results = {
  restoreOwned: report('restoreOwned', restoreOwned, { unit: 'restores/s', snapshotBytes: text.length }),
  persistedText: report('persistedText', persistedText, { unit: 'commits checked/s' }),
  completeEffects: report('completeEffects', completions, { unit: 'passes of 8 effects/s' }),
};
console.log(JSON.stringify(results));
