/**
 * The durable runtime on PostgreSQL behaves exactly as on SQLite: a representative subset of
 * test/runtime/** played on a PostgreSQL schema (INV5 restarts compared with the SQLite run, the outbox
 * crash takeover, the overdue 48H on start, two runtimes sharing due deadlines).
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { CUSTOMER, dumpWorkflow, host, HOUR, ManualClock, MERCHANT, orderInput, PLATFORM, T0, tempDir, type Host } from '../runtime/helpers.js';
import { PLAN_SCRIPTS, runStep, type Script } from '../runtime/scripts.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import { pgHost, truncate } from './support.js';
import type { OrderEventInput, Plan } from '../../src/index.js';

const TESTS = PLAN_SCRIPTS.length + 3;
if (!pgUrl && !requirePg) {
  console.warn(
    `PostgreSQL not reachable: set JD_DISPUTE_PG_URL (e.g. postgres://postgres@127.0.0.1:5432/test); skipping ${TESTS} runtime tests on PostgreSQL`,
  );
}
if (!pgUrl && requirePg) {
  it('PostgreSQL is reachable (JD_DISPUTE_REQUIRE_PG=1)', () => {
    expect.fail('JD_DISPUTE_REQUIRE_PG=1 but no PostgreSQL answered: set JD_DISPUTE_PG_URL');
  });
}

const opened = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' } satisfies OrderEventInput;
const plan = (p: Plan) => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p }) satisfies OrderEventInput;
const DIRECT_KEY = 'order-1/dispute-1:direct-refund/1'; // the cancel order's first refund request
const INTERCEPT_WINDOW = 'xstate.after.interceptWindow.cancellation.logisticsFollowUp';

describe.skipIf(!pgUrl)('the durable runtime on PostgreSQL', () => {
  let schema = '';
  let dropSchema: () => Promise<void> = async () => {};
  const tmp = tempDir('runtime-pg-');
  let cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    ({ schema, drop: dropSchema } = await freshSchema());
    const store = createPostgresStore({ connectionString: pgUrl, schema });
    await store.migrate();
    await store.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
    await truncate(schema);
  });
  afterAll(async () => {
    await dropSchema();
    tmp.cleanup();
  });

  /** Plays a script on SQLite (a file) or PostgreSQL (the emptied schema), restarting before some steps. */
  async function play(script: Script, on: 'sqlite' | 'postgres', restartBefore: (index: number) => boolean) {
    const h =
      on === 'sqlite'
        ? await host({ filename: join(tmp.dir, `${script.workflowId}-${Math.random().toString(36).slice(2)}.db`) })
        : await truncate(schema).then(() => pgHost({ schema }));
    try {
      script.world?.(h);
      const seen: unknown[] = [];
      for (const [index, step] of script.steps.entries()) {
        if (restartBefore(index)) await h.restart();
        seen.push(await runStep(h, script, step));
      }
      const stored = await dumpWorkflow(h.store, script.workflowId);
      const view = await h.runtime.getWorkflow(PLATFORM, script.workflowId);
      return { seen, stored, view, refunds: h.payments.executions() };
    } finally {
      await h.close();
    }
  }

  describe('INV5: a restart at any step boundary changes nothing, and PostgreSQL ends exactly where SQLite does', () => {
    for (const script of PLAN_SCRIPTS) {
      it(`INV5: ${script.workflowId} on PostgreSQL, uninterrupted, restarted before each of its ${script.steps.length - 1} later steps and before every step, equals the SQLite run`, async () => {
        const reference = await play(script, 'sqlite', () => false);
        expect(reference.stored.audit.length).toBeGreaterThan(2);
        expect(await play(script, 'postgres', () => false)).toEqual(reference);
        for (let boundary = 1; boundary < script.steps.length; boundary += 1) {
          expect(await play(script, 'postgres', (index) => index === boundary), `restart before step ${boundary}`).toEqual(reference);
        }
        expect(await play(script, 'postgres', (index) => index > 0)).toEqual(reference);
      });
    }
  });

  it('INV1: the process dies after the refund executed; a new process takes the effect after the lease and records it once', async () => {
    const clock = new ManualClock();
    let dead = false;
    // The outside world outlives the process.
    const payments = createSandboxPayments({ onCrash: () => (dead = true) });
    const logistics = createSandboxLogistics();
    const notifications = createSandboxNotifications();
    const open = async (workerId: string, dying = false) => {
      const real = createPostgresStore({ connectionString: pgUrl, schema });
      await real.migrate();
      // After the crash this process writes nothing more.
      const store: WorkflowStore = dying
        ? new Proxy(real, {
            get: (target, key: keyof WorkflowStore) =>
              key === 'close'
                ? target.close
                : async (...args: unknown[]) => {
                    if (dead) throw new Error('process is dead');
                    return (target[key] as (...a: unknown[]) => unknown)(...args);
                  },
          })
        : real;
      const runtime = createWorkflowRuntime({ store, clock, payments, logistics, notifications, workerId, leaseMs: 30_000, onError: () => {} });
      cleanups.push(() => runtime.close());
      return { real, runtime };
    };

    const first = await open('process-1', true);
    await first.runtime.openOrder({ input: orderInput('order-1') });
    await first.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await first.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('DIRECT_REFUND') });
    payments.crashAfterExecuting(1);
    await expect(first.runtime.tick()).rejects.toThrow('process is dead');
    expect(payments.executionCount(DIRECT_KEY)).toBe(1);

    const second = await open('process-2');
    expect(await second.runtime.tick()).toMatchObject({ effectsDelivered: 0 }); // still leased by process-1
    clock.advance(30_001);
    // the refund and the D3 notification, both claimed by the dead process and never completed by it
    expect(await second.runtime.tick()).toMatchObject({ effectsDelivered: 2, effectsRetrying: 0, errors: 0 });
    // process-1 could not record the failure, so nothing says the outcome is unknown: delivered again, same key
    expect(payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [DIRECT_KEY, 'crashed'],
      [DIRECT_KEY, 'deduplicated'],
    ]);
    expect(payments.executionCount(DIRECT_KEY)).toBe(1);
    const audit = await second.real.listAudit('order-1');
    expect(audit.filter((row) => row.eventType === 'payment.refundSucceeded')).toHaveLength(1);
    expect((await second.runtime.getWorkflow(PLATFORM, 'order-1')).cancelOrders[0]).toMatchObject({ status: 'refunded' });
  });

  it('INV5/P3a: down from t+30h until t+50h, the background loop fires the 48H at once on start, at t+48h, exactly once', async () => {
    const h: Host = await pgHost({ schema, pollIntervalMs: 5 });
    cleanups.push(() => h.close());
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: { ...opened, disputeId: 'order-1-d' } });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('WAIT_48H_INTERCEPT') });
    h.clock.advance(30 * HOUR);
    await h.runtime.close();
    h.clock.time = T0 + 50 * HOUR;
    await h.restart();
    h.runtime.start();
    await waitFor(async () => (await h.store.listAudit('order-1')).some((row) => row.eventType === 'payment.refundSucceeded'));
    await h.runtime.stop();
    const audit = await h.store.listAudit('order-1');
    expect(audit.filter((row) => row.actorId === 'timer').map((row) => [row.eventType, row.at - T0])).toEqual([[INTERCEPT_WINDOW, 48 * HOUR]]);
    expect(audit.at(-1)).toMatchObject({ eventType: 'payment.refundSucceeded', at: T0 + 50 * HOUR });
    expect(h.payments.executionCount()).toBe(1);
  });

  it('INV5: two runtimes on one schema tick at once over 30 due 48H deadlines: each fires exactly once, each order is refunded once', async () => {
    const clock = new ManualClock();
    const payments = createSandboxPayments();
    const make = (workerId: string) => {
      const runtime = createWorkflowRuntime({
        store: createPostgresStore({ connectionString: pgUrl, schema }),
        clock,
        payments,
        logistics: createSandboxLogistics(),
        workerId,
        batchSize: 4,
        onError: () => {},
      });
      cleanups.push(() => runtime.close());
      return runtime;
    };
    const [a, b] = [make('worker-a'), make('worker-b')];
    const orders = Array.from({ length: 30 }, (_, index) => `order-${index}`);
    for (const [index, orderId] of orders.entries()) {
      const runtime = index % 2 === 0 ? a : b;
      await runtime.openOrder({ input: orderInput(orderId) });
      await runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:1`, event: { ...opened, disputeId: `${orderId}-d` } });
      await runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:2`, event: plan('WAIT_48H_INTERCEPT') });
    }
    clock.advance(48 * HOUR);

    let fired = 0;
    for (let round = 0; round < 20; round += 1) {
      const results = await Promise.all([a.tick(), b.tick()]);
      fired += results.reduce((sum, result) => sum + result.deadlinesFired, 0);
      if (results.every((result) => result.deadlinesFired + result.deadlinesSkipped + result.effectsDelivered === 0)) break;
    }

    expect(fired).toBe(30);
    for (const orderId of orders) {
      const audit = await a.getAuditTrail(PLATFORM, orderId);
      expect(audit.filter((row) => row.actorId === 'timer').map((row) => row.eventType)).toEqual([INTERCEPT_WINDOW]);
      expect(audit.filter((row) => row.eventType === 'payment.refundSucceeded')).toHaveLength(1);
    }
    expect(payments.executionCount()).toBe(30);
    expect(new Set(payments.executions().map((execution) => execution.orderId)).size).toBe(30);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
