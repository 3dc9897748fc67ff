import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { CUSTOMER, host, HOUR, LOGISTICS, ManualClock, MERCHANT, MINUTE, orderInput, PLATFORM, T0, tempDir, type Host } from './helpers.js';
import type { OrderEventInput, Plan } from '../../src/index.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function memoryHost(extra: Parameters<typeof host>[0] = {}): Promise<Host> {
  const h = await host(extra);
  cleanups.push(() => h.close());
  return h;
}

const opened = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' } satisfies OrderEventInput;
const plan = (p: Plan) => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p }) satisfies OrderEventInput;
const DIRECT = 'dispute-1:direct-refund';
/** The key of the cancel order's n-th refund request: the cancel order, scoped by its order, and n. */
const directKey = (n: number) => `order-1/${DIRECT}/${n}`;
const DIRECT_KEY = directKey(1);
const INTERCEPT = 'dispute-1:intercept-48h';

async function directRefund(h: Host) {
  await h.runtime.openOrder({ input: orderInput('order-1') });
  await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
  await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('DIRECT_REFUND') });
}

const paymentEvents = async (store: WorkflowStore) =>
  (await store.listAudit('order-1')).filter((row) => row.eventType.startsWith('payment.')).map((row) => row.eventType);
const refunds = async (store: WorkflowStore) =>
  (await store.listOutbox('order-1'))
    .filter((row) => row.kind === 'refund')
    .map((row) => ({
      key: row.idempotencyKey,
      attempt: (row.payload as { attempt: number }).attempt,
      status: row.status,
      attempts: row.attempts,
    }));

describe('outbox: delivery retries (the dispatcher)', () => {
  it('C4/INV1: an adapter that throws is retried with backoff under the same key; the workflow sees one result', async () => {
    const h = await memoryHost();
    await directRefund(h);
    h.payments.failNextCalls(2);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 1 }); // (and the D3 notification went out)
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 0, effectsDelivered: 0 }); // backing off (1 s)
    h.clock.advance(1_000);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 1 });
    h.clock.advance(1_999);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 0, effectsDelivered: 0 }); // 2 s now
    h.clock.advance(1);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 0, effectsDelivered: 1 });
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [DIRECT_KEY, 'threw'],
      [DIRECT_KEY, 'threw'],
      [DIRECT_KEY, 'executed'],
    ]);
    expect(await refunds(h.store)).toEqual([{ key: DIRECT_KEY, attempt: 1, status: 'done', attempts: 2 }]);
    expect(await paymentEvents(h.store)).toEqual(['payment.refundSucceeded']);
  });

  it('C4: an adapter that does not answer in time counts as a delivery failure: retried under the same key', async () => {
    const h = await memoryHost({ delivery: { timeoutMs: 20 } });
    await directRefund(h);
    h.payments.hangNextCalls(1);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 1 });
    expect((await h.store.listOutbox('order-1')).find((row) => row.kind === 'refund')?.lastError).toMatch(/DeliveryTimeoutError/);
    h.clock.advance(1_000);
    expect(await h.runtime.tick()).toMatchObject({ effectsDelivered: 1 });
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [DIRECT_KEY, 'hung'],
      [DIRECT_KEY, 'executed'],
    ]);
    expect(h.payments.executionCount()).toBe(1);
  });

  it('C4/INV1: a refund whose outcome stays unknown is never given up nor turned into a decline: same key, at the longest backoff', async () => {
    const h = await memoryHost({ delivery: { maxAttempts: 2, maxBackoffMs: 5 * MINUTE } });
    await directRefund(h);
    h.payments.failNextCalls(3);
    await h.runtime.tick();
    h.clock.advance(1_000);
    expect(await h.runtime.tick()).toMatchObject({ effectsGaveUp: 0, effectsRetrying: 1, effectsDelivered: 0 });
    expect(await refunds(h.store)).toEqual([{ key: DIRECT_KEY, attempt: 1, status: 'pending', attempts: 2 }]);
    expect((await h.store.listOutbox('order-1')).find((row) => row.kind === 'refund')?.availableAt).toBe(h.clock.now() + 5 * MINUTE);
    expect(await paymentEvents(h.store)).toEqual([]);
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).state.cancellation).toEqual({ refunding: 'requesting' });
    h.clock.advance(5 * MINUTE);
    expect(await h.runtime.tick()).toMatchObject({ effectsGaveUp: 0, effectsRetrying: 1 }); // the third throw
    h.clock.advance(5 * MINUTE);
    expect(await h.runtime.tick()).toMatchObject({ effectsDelivered: 1 });
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [DIRECT_KEY, 'threw'],
      [DIRECT_KEY, 'threw'],
      [DIRECT_KEY, 'threw'],
      [DIRECT_KEY, 'executed'],
    ]);
    expect(await refunds(h.store)).toEqual([{ key: DIRECT_KEY, attempt: 1, status: 'done', attempts: 3 }]);
    expect(await paymentEvents(h.store)).toEqual(['payment.refundSucceeded']);
    expect(h.payments.executionCount()).toBe(1);
  });
});

describe('outbox: business retries (the machines)', () => {
  it('C4: declined refunds back off (1 min, 2 min) as durable deadlines and retry under a new key each, against a provider that replays declines', async () => {
    const h = await memoryHost();
    await directRefund(h);
    h.payments.declineAttempts(2);
    await h.runtime.tick();
    expect((await h.store.listDeadlines('order-1')).map((row) => [row.timer, row.dueAt - T0])).toContainEqual(['refundRetryBackoff', MINUTE]);
    h.clock.advance(MINUTE);
    await h.runtime.tick();
    h.clock.advance(2 * MINUTE - 1);
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0 });
    h.clock.advance(1);
    await h.runtime.tick();
    expect(await refunds(h.store)).toEqual([
      { key: directKey(1), attempt: 1, status: 'done', attempts: 0 },
      { key: directKey(2), attempt: 2, status: 'done', attempts: 0 },
      { key: directKey(3), attempt: 3, status: 'done', attempts: 0 },
    ]);
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [directKey(1), 'declined'],
      [directKey(2), 'declined'],
      [directKey(3), 'executed'],
    ]);
    expect(await paymentEvents(h.store)).toEqual(['payment.refundFailed', 'payment.refundFailed', 'payment.refundSucceeded']);
    expect(h.payments.executionCount()).toBe(1);
    expect(h.payments.executionCount(directKey(3))).toBe(1);
  });

  it('C4: a decline followed by an unknown outcome: the new key is kept through the delivery retries, one execution', async () => {
    const h = await memoryHost();
    await directRefund(h);
    h.payments.declineAttempts(1);
    await h.runtime.tick(); // attempt 1 declined
    h.clock.advance(MINUTE);
    h.payments.failNextCalls(1);
    await h.runtime.tick(); // attempt 2 (new key) throws: outcome unknown
    h.clock.advance(1_000);
    await h.runtime.tick(); // redelivered under the same key
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.request.attempt, call.result])).toEqual([
      [directKey(1), 1, 'declined'],
      [directKey(2), 2, 'threw'],
      [directKey(2), 2, 'executed'],
    ]);
    expect(await paymentEvents(h.store)).toEqual(['payment.refundFailed', 'payment.refundSucceeded']);
    expect(h.payments.executionCount()).toBe(1);
  });

  it('C4: a refund forced after every attempt failed is a new outbox row, not swallowed as a duplicate', async () => {
    const h = await memoryHost({ delivery: { maxAttempts: 1 } });
    await h.runtime.openOrder({ input: orderInput('order-1', { timers: { refundMaxAttempts: 1 } }) });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('DIRECT_REFUND') });
    h.payments.declineAttempts(1);
    await h.runtime.tick();
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).state.cancellation).toBe('refundFailed');
    h.payments.declineAttempts(0);
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'force',
      event: { type: 'merchant.refundForced', by: MERCHANT, cancellationId: DIRECT },
    });
    await h.runtime.tick();
    expect((await refunds(h.store)).map((row) => [row.key, row.attempt, row.status])).toEqual([
      [directKey(1), 1, 'done'],
      [directKey(2), 1, 'done'],
    ]);
    const view = await h.runtime.getWorkflow(PLATFORM, 'order-1');
    expect(view.state.order).toMatchObject({ cancellation: 'refunded' });
    expect(view.cancelOrders).toMatchObject([{ cancellationId: DIRECT, status: 'refunded', refundTrigger: { kind: 'merchant' } }]);
    expect(h.notifications.sent.map((n) => n.kind)).toContain('REFUND_FAILED');
  });
});

describe('outbox: crash between the adapter call and the record (INV1)', () => {
  it('INV1/INV6: a lost answer is reconciled under the same key (status, then the original result) and the payment service executes one refund', async () => {
    const h = await memoryHost();
    await directRefund(h);
    h.payments.crashAfterExecuting(1);
    expect(await h.runtime.tick()).toMatchObject({ effectsRetrying: 1 });
    h.clock.advance(1_000);
    await h.runtime.tick();
    expect(h.payments.calls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([[DIRECT_KEY, 'crashed']]);
    expect(h.payments.statusCalls).toEqual([DIRECT_KEY]);
    expect(h.payments.executionCount(DIRECT_KEY)).toBe(1);
    expect(await paymentEvents(h.store)).toEqual(['payment.refundSucceeded']);
  });

  it('INV1: the process dies after the refund executed; a new process takes the effect after the lease and records it once', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const filename = join(tmp.dir, 'runtime.db');
    const clock = new ManualClock();
    let dead = false;
    // The outside world outlives the process.
    const payments = createSandboxPayments({ onCrash: () => (dead = true) });
    const logistics = createSandboxLogistics();
    const notifications = createSandboxNotifications();
    const open = async (workerId: string, dying = false) => {
      const real = createSqliteStore({ filename });
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
      return {
        real,
        runtime: createWorkflowRuntime({ store, clock, payments, logistics, notifications, workerId, leaseMs: 30_000, onError: () => {} }),
      };
    };

    const first = await open('process-1', true);
    await first.runtime.openOrder({ input: orderInput('order-1') });
    await first.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await first.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('DIRECT_REFUND') });
    payments.crashAfterExecuting(1);
    await expect(first.runtime.tick()).rejects.toThrow('process is dead');
    expect(payments.executionCount(DIRECT_KEY)).toBe(1);
    await first.real.close();

    const second = await open('process-2');
    cleanups.push(() => second.runtime.close());
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
});

describe('outbox: interception and notifications', () => {
  async function intercept48h(h: Host) {
    await h.runtime.openOrder({ input: orderInput('order-1', { deliveredBy: 'JD', shipped: true }) });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('WAIT_48H_INTERCEPT') });
    h.clock.advance(48 * HOUR);
  }

  it('P3b: an asynchronous interception answer arrives later as a command and refunds', async () => {
    const h = await memoryHost();
    h.logistics.setOutcome('accepted');
    await intercept48h(h);
    await h.runtime.tick();
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).state.cancellation).toBe('intercepting');
    h.clock.advance(3 * HOUR);
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'jdl-callback-1',
      event: { type: 'logistics.interceptSucceeded', by: LOGISTICS, cancellationId: INTERCEPT },
    });
    await h.runtime.tick();
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).cancelOrders[0]).toMatchObject({
      status: 'refunded',
      refundTrigger: { kind: 'logisticsCallback' },
    });
  });

  it('P3e: a synchronous interception failure leaves the cancel order in interceptFailed, nothing refunded', async () => {
    const h = await memoryHost();
    h.logistics.setOutcome('failed');
    await intercept48h(h);
    await h.runtime.tick();
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).state.cancellation).toBe('interceptFailed');
    expect(h.payments.calls).toEqual([]);
  });

  it('P3e: an interception answer that comes after interceptResultWait is refused and the effect is dead', async () => {
    const h = await memoryHost();
    await intercept48h(h);
    h.logistics.failNextCalls(1);
    await h.runtime.tick();
    h.clock.advance(72 * HOUR);
    // interceptResultWait (and the D5 confirmation window) fire before the late answer is delivered
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 2, effectsGaveUp: 1 });
    const effect = (await h.store.listOutbox('order-1')).find((row) => row.kind === 'interception');
    expect(effect).toMatchObject({ status: 'dead', lastError: expect.stringMatching(/^result refused: NotAllowedInStateError/) });
    expect((await h.runtime.getWorkflow(PLATFORM, 'order-1')).state.cancellation).toBe('interceptFailed');
  });

  it('P2/D3: notifications are delivered once each and completed without touching the workflow', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c0',
      event: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' },
    });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('NEGOTIATED_REJECT') });
    h.notifications.failNextCalls(1);
    await h.runtime.tick();
    h.clock.advance(1_000);
    await h.runtime.tick();
    // the first one (D3, emitted first) failed once and went out on the retry
    expect(h.notifications.sent.map((n) => [n.kind, n.recipient, n.subjectId])).toEqual([
      ['REJECT_PENDING_CANCELLATION', 'merchant', 'cancel-1'],
      ['CUSTOMER_CONFIRMATION_REQUESTED', 'customer', 'dispute-1'],
    ]);
    expect((await h.store.listOutbox('order-1')).map((row) => [(row.payload as { kind: string }).kind, row.attempts])).toEqual([
      ['CUSTOMER_CONFIRMATION_REQUESTED', 1],
      ['REJECT_PENDING_CANCELLATION', 0],
    ]);
    expect((await h.store.listOutbox('order-1')).every((row) => row.status === 'done')).toBe(true);
    expect((await h.store.listAudit('order-1')).map((row) => row.eventType)).toEqual([
      'cancellation.submitted',
      'dispute.opened',
      'merchant.planSubmitted',
    ]);
  });
});

describe('outbox: answers name the request they answer', () => {
  // A decline of request n that arrives again (a provider's webhook is delivered at least once) while
  // request n + 1 is in flight must not count as request n + 1's decline, or the cancel order would make
  // request n + 2 under a new key while n + 1 has moved the money (INV1). Answers name their key.
  it('INV1/C4: a repeated decline of request 1 while request 2 is in flight is refused and leads to no second refund', async () => {
    const h = await memoryHost();
    await directRefund(h);
    h.payments.declineAttempts(1);
    await h.runtime.tick(); // request 1 declined: backing off
    h.clock.advance(MINUTE);
    h.payments.crashAfterExecuting(1);
    await h.runtime.tick(); // request 2 (key /2) moves the money; the answer is lost, so it is redelivered later
    expect(h.payments.executionCount(directKey(2))).toBe(1);
    // the provider's webhook for request 1's decline, delivered again
    await expect(
      h.runtime.dispatch({
        workflowId: 'order-1',
        commandId: 'webhook-decline-1-again',
        event: {
          type: 'payment.refundFailed',
          by: { role: 'system', id: 'payments' },
          cancellationId: DIRECT,
          error: 'sandbox declined attempt 1',
          idempotencyKey: directKey(1),
        },
      }),
    ).rejects.toMatchObject({ code: 'NOT_ALLOWED_IN_STATE' });
    h.clock.advance(2 * MINUTE);
    await h.runtime.tick();
    expect(h.payments.executions().map((execution) => execution.idempotencyKey)).toEqual([directKey(2)]);
  });
});
