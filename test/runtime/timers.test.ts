import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { CUSTOMER, host, HOUR, ManualClock, MERCHANT, orderInput, PLATFORM, T0, tempDir, type Host } from './helpers.js';
import type { OrderEventInput, Plan } from '../../src/index.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function sqliteHost(): Promise<Host> {
  const tmp = tempDir();
  const h = await host({ filename: join(tmp.dir, 'runtime.db') });
  cleanups.push(tmp.cleanup, () => h.close());
  return h;
}

const opened = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' } satisfies OrderEventInput;
const plan = (p: Plan) => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p }) satisfies OrderEventInput;
const INTERCEPT_WINDOW = 'xstate.after.interceptWindow.cancellation.logisticsFollowUp';

/** Opens a merchant-delivered order and chooses the 48H plan at T0 (the countdown starts at T0). */
async function wait48h(h: Host, orderId = 'order-1') {
  h.clock.time = T0;
  await h.runtime.openOrder({ input: orderInput(orderId) });
  await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:open`, event: { ...opened, disputeId: `${orderId}-d` } });
  await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:plan`, event: plan('WAIT_48H_INTERCEPT') });
}

const timerRows = async (store: WorkflowStore, workflowId = 'order-1') =>
  (await store.listAudit(workflowId)).filter((row) => row.actorId === 'timer').map((row) => [row.eventType, row.at - T0]);

describe('durable timers', () => {
  it('INV5/P3a: restarted at t+30h, the 48H fires at t+48h (not at 48h − 1 ms), once', async () => {
    const h = await sqliteHost();
    await wait48h(h);
    h.clock.advance(30 * HOUR);
    await h.restart();
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0 });
    h.clock.time = T0 + 48 * HOUR - 1;
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0 });
    h.clock.time = T0 + 48 * HOUR;
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 1, effectsDelivered: 1 });
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0, effectsDelivered: 0 });
    expect(await timerRows(h.store, 'order-1')).toEqual([[INTERCEPT_WINDOW, 48 * HOUR]]);
    expect(h.payments.executionCount('order-1/order-1-d:intercept-48h/1')).toBe(1);
  });

  it('INV5: down from t+30h until t+50h, the 48H fires at once on start, at t+48h, exactly once', async () => {
    const h = await sqliteHost();
    await wait48h(h);
    h.clock.advance(30 * HOUR);
    await h.runtime.close();
    h.clock.time = T0 + 50 * HOUR;
    await h.restart();
    h.runtime.start();
    await waitFor(async () => (await h.store.listAudit('order-1')).some((row) => row.eventType === 'payment.refundSucceeded'));
    await h.runtime.stop();
    expect(await timerRows(h.store)).toEqual([[INTERCEPT_WINDOW, 48 * HOUR]]);
    const audit = await h.store.listAudit('order-1');
    expect(audit.at(-1)).toMatchObject({ eventType: 'payment.refundSucceeded', at: T0 + 50 * HOUR });
    expect(h.payments.executionCount()).toBe(1);
  });

  it('INV5: overdue deadlines of one workflow fire in due order, each at its own due time', async () => {
    const h = await sqliteHost();
    await wait48h(h);
    h.clock.time = T0 + 100 * HOUR;
    await h.restart();
    await h.runtime.tick();
    const fired = await timerRows(h.store);
    expect(fired.map(([, at]) => at)).toEqual([...fired.map(([, at]) => at)].sort((a, b) => Number(a) - Number(b)));
    const CONFIRMATION_WINDOW = 'xstate.after.customerConfirmationWindow.dispute.awaitingCustomerConfirmation';
    expect(fired.filter(([type]) => type === INTERCEPT_WINDOW || type === CONFIRMATION_WINDOW)).toEqual([
      [INTERCEPT_WINDOW, 48 * HOUR],
      [CONFIRMATION_WINDOW, 72 * HOUR],
    ]);
    const view = await h.runtime.getWorkflow(PLATFORM, 'order-1');
    expect(view.state).toEqual({ order: { dispute: 'closed', cancellation: 'refunded' } });
    expect(view.disputes.map((d) => [d.disputeId, d.status])).toEqual([['order-1-d', 'resolved']]);
    expect(view.cancelOrders.map((c) => [c.cancellationId, c.status])).toEqual([['order-1-d:intercept-48h', 'refunded']]);
  });

  it('INV5: a command after an overdue deadline gives the same audit as a scheduler that was on time (D7)', async () => {
    const run = async (onTime: boolean) => {
      const h = await host();
      cleanups.push(() => h.close());
      await h.runtime.openOrder({ input: orderInput('order-1') });
      await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
      h.clock.advance(48 * HOUR);
      if (onTime) await h.runtime.tick();
      h.clock.advance(5 * HOUR);
      await h.runtime.dispatch({
        workflowId: 'order-1',
        commandId: 'c2',
        event: { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' },
      });
      return h.store.listAudit('order-1');
    };
    const lagging = await run(false);
    expect(lagging).toEqual(await run(true));
    expect(lagging.map((row) => [row.eventType, row.at - T0])).toEqual([
      ['dispute.opened', 0],
      ['xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', 48 * HOUR],
      ['platform.ruled', 53 * HOUR],
    ]);
  });

  it('P3c: a deadline whose state was left early never fires', async () => {
    const h = await sqliteHost();
    await wait48h(h);
    h.clock.advance(HOUR);
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'approve',
      event: { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'order-1-d:intercept-48h' },
    });
    const pending = (await h.store.listDeadlines('order-1')).map((row) => row.timer);
    expect(pending).toContain('customerConfirmationWindow');
    expect(pending).not.toContain('interceptWindow');
    h.clock.advance(48 * HOUR);
    await h.runtime.tick();
    expect((await timerRows(h.store)).map(([type]) => type)).not.toContain(INTERCEPT_WINDOW);
    expect(h.payments.executionCount()).toBe(1);
  });

  it('a claimed deadline that another worker fired meanwhile is skipped, not fired twice', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore();
    const adapters = { payments: createSandboxPayments(), logistics: createSandboxLogistics(), onError: () => {} };
    const other = createWorkflowRuntime({ store, clock, workerId: 'b', ...adapters });
    let race = async () => {};
    const racing: WorkflowStore = {
      ...store,
      // between worker A's claim and its firing, worker B fires the same deadline through a command
      claimDueDeadlines: async (claim) => {
        const rows = await store.claimDueDeadlines(claim);
        await race();
        return rows;
      },
    };
    const runtime = createWorkflowRuntime({ store: racing, clock, workerId: 'a', ...adapters });
    await runtime.openOrder({ input: orderInput('order-1') });
    await runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    clock.advance(48 * HOUR);
    race = async () => {
      await other.dispatch({
        workflowId: 'order-1',
        commandId: 'c2',
        event: { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' },
      });
    };
    expect(await runtime.tick()).toMatchObject({ deadlinesFired: 0, deadlinesSkipped: 1 });
    expect(await timerRows(store)).toEqual([['xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', 48 * HOUR]]);
  });

  it('memory stays bounded: a tick claims at most batchSize deadlines, oldest first', async () => {
    const h = await host({ batchSize: 2 });
    cleanups.push(() => h.close());
    for (const [index, orderId] of ['a', 'b', 'c', 'd', 'e'].entries()) {
      h.clock.time = T0 + index * HOUR;
      await h.runtime.openOrder({ input: orderInput(orderId) });
      await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:1`, event: { ...opened, disputeId: `${orderId}-d` } });
    }
    h.clock.time = T0 + 100 * HOUR;
    const fired: string[] = [];
    for (let round = 0; round < 3; round += 1) {
      const result = await h.runtime.tick();
      expect(result.deadlinesFired).toBe(round < 2 ? 2 : 1);
      for (const orderId of ['a', 'b', 'c', 'd', 'e']) {
        if (!fired.includes(orderId) && (await timerRows(h.store, orderId)).length > 0) fired.push(orderId);
      }
    }
    expect(fired).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('background loop', () => {
  it('start() works through a backlog, stop() resolves when in-flight work ends and leaves no timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const baseline = timers();
    const h = await host({ batchSize: 1, pollIntervalMs: 5 });
    cleanups.push(() => h.close());
    for (const orderId of ['a', 'b', 'c']) {
      await h.runtime.openOrder({ input: orderInput(orderId) });
      await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}:1`, event: { ...opened, disputeId: `${orderId}-d` } });
    }
    h.clock.advance(49 * HOUR);
    h.runtime.start();
    h.runtime.start(); // idempotent
    await waitFor(async () => (await h.store.nextDueAt()) === null);
    await h.runtime.stop();
    expect(timers()).toBeLessThanOrEqual(baseline); // the framework may drop a timer of its own meanwhile
    for (const orderId of ['a', 'b', 'c']) expect(await timerRows(h.store, orderId)).toHaveLength(1);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
