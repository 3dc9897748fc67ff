import { afterAll, describe, expect, it } from 'vitest';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import { runMultiWorker, type MultiWorkerReport } from './driver.js';

/**
 * Four worker processes share one PostgreSQL schema (one schema per test). 5,000 orders, mostly the
 * 48H plan on merchant-delivered orders (P3a), with P3b, P3d and P1 mixed in, are seeded through the
 * workers with their 48H deadline already due, so seeding, firing, refunding and, in the second test,
 * the takeover after a SIGKILL overlap. Counts are exact.
 */
const ORDERS = 5_000;
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const drop of drops) await drop();
});

if (!pgUrl && !requirePg) {
  console.warn('PostgreSQL not reachable: set JD_DISPUTE_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test); skipping 2 multi-worker tests');
}
if (!pgUrl && requirePg) {
  it('PostgreSQL is reachable (JD_DISPUTE_REQUIRE_PG=1)', () => {
    expect.fail('JD_DISPUTE_REQUIRE_PG=1 but no PostgreSQL answered: set JD_DISPUTE_PG_URL');
  });
}

async function run(options: Partial<Parameters<typeof runMultiWorker>[0]>): Promise<MultiWorkerReport> {
  const { schema, drop } = await freshSchema();
  drops.push(drop);
  return runMultiWorker({
    url: pgUrl!,
    schema,
    orders: ORDERS,
    workers: 4,
    leaseMs: 30_000,
    batchSize: 50,
    log: process.env.JD_DISPUTE_MW_LOG === '1' ? (line) => console.log(line) : undefined,
    ...options,
  });
}

/** What every run must come to, killed worker or not. */
function expectExactOutcome(report: MultiWorkerReport): void {
  const { P3a, P3b, P3d, P1 } = report.byKind;
  expect({ P3a, P3b, P3d, P1 }).toEqual({ P3a: 4_000, P3b: 500, P3d: 250, P1: 250 });
  const refunded = P3a + P3b + P1;
  const intercept48h = P3a + P3b + P3d;

  // Every order ends exactly as the uninterrupted single-process reference of its kind.
  expect(report.mismatches).toEqual([]);
  // The customer's confirmation window (D5, 72 h) is still open in every order.
  expect(report.workflowsByStatus).toEqual({ active: ORDERS });

  // No accepted command is lost: open + dispute + plan of every order, each stored and audited once.
  expect(report.refusedCommands).toEqual([]);
  expect(report.acceptedCommands).toBe(3 * ORDERS);
  expect(report.lostCommands).toEqual([]);
  expect(report.unknownAuditCommands).toEqual([]);

  // Each due deadline fired exactly once (the 48H of every 48H order); the D5 window of every order is
  // pending, once, and fired nowhere.
  expect(report.timersByType).toEqual({ 'xstate.after.interceptWindow.cancellation.logisticsFollowUp': intercept48h });
  expect(report.timerEvents).toBe(intercept48h);
  expect(report.deadlinesLeft).toEqual({ customerConfirmationWindow: ORDERS });
  expect(report.dueDeadlinesLeft).toBe(0);

  // INV1: one refund effect, one executed refund and one recorded success per refunded order.
  expect(report.outbox).toEqual({
    'notification:done': ORDERS,
    'interception:done': P3b,
    'refund:done': refunded,
  });
  expect(report.refundExecutions).toBe(refunded);
  expect(report.ordersRefunded).toBe(refunded);
  expect(report.refundedTwice).toEqual([]);
  expect(report.refundCalls.executed).toBe(refunded);
  expect(report.refundSucceededEvents).toBe(refunded);

  // X2: one row per order although every 48H cancel order has the same id, all paged through.
  expect(report.cancelOrders).toEqual({
    rows: ORDERS,
    distinctWorkflows: ORDERS,
    byStatusAndId: {
      'dispute-1:intercept-48h:refunded': P3a + P3b,
      'dispute-1:intercept-48h:closedWithoutRefund': P3d,
      'dispute-1:direct-refund:refunded': P1,
    },
  });
}

describe.skipIf(!pgUrl)('multi-worker: 4 processes on one PostgreSQL schema', () => {
  it('INV1/INV5/D9/X2: 5,000 orders, 4 workers: every deadline fires once, every refund is requested and executed once, no accepted command is lost', async () => {
    const report = await run({});
    expectExactOutcome(report);
    // Nobody died, no lease expired: every refund was requested exactly once.
    expect(report.refundCalls).toEqual({ executed: report.refundExecutions, deduplicated: 0 });
    expect(report.workerErrors).toEqual([]);
  }, 240_000);

  it('INV1/INV5: a worker SIGKILLed right after a refund moved money: its orders are resent, its leased rows are taken over after the lease, nothing is lost or done twice', async () => {
    const report = await run({ leaseMs: 2_000, batchSize: 20, victim: { worker: 1, afterOrders: ORDERS / 4 } });
    expectExactOutcome(report);
    expect(report.kill).toMatchObject({ worker: 'worker-1', signal: 'SIGKILL', leasedLeft: 0 });
    // It died mid-seeding: orders it had not answered went to the others, under the same command ids.
    expect(report.kill!.ordersResent).toBeGreaterThanOrEqual(1);
    // It died holding leases (the refund it was answering, at least), and they were taken over.
    expect(report.kill!.leasedAtDeath.outbox).toBeGreaterThanOrEqual(1);
    // The refund it executed was delivered again by another worker and answered from the ledger.
    const [first, ...again] = report.kill!.lastRefundCalls;
    expect(first).toEqual({ worker: 'worker-1', result: 'executed' });
    expect(again.length).toBeGreaterThanOrEqual(1);
    expect(again.every((call) => call.worker !== 'worker-1' && call.result === 'deduplicated')).toBe(true);
    expect(report.refundCalls.deduplicated).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
