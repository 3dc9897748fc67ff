import { describe, expect, it } from 'vitest';
import { InvalidTimeError, WorkflowExistsError } from '../../src/errors.js';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  RuntimeClosedError,
} from '../../src/runtime/index.js';
import type { Commit } from '../../src/runtime/store.js';
import type { PaymentService, RefundOutcome } from '../../src/runtime/adapters.js';
import { CUSTOMER, HOUR, ManualClock, MERCHANT, MINUTE, PLATFORM, T0, host, orderInput, type Host } from './helpers.js';

/** Opens order `id` and makes its merchant choose DIRECT_REFUND (one refund request in the outbox). */
async function directRefund(h: Host, id: string) {
  await h.runtime.openOrder({ input: orderInput(id) });
  await h.runtime.dispatch({ workflowId: id, commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
  await h.runtime.dispatch({ workflowId: id, commandId: 'p', event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' } });
  const [refund] = (await h.store.listOutbox(id)).filter((row) => row.kind === 'refund');
  return refund!;
}

const cancelOrderOf = async (h: Host, id: string) => (await h.runtime.getWorkflow(PLATFORM, id)).cancelOrders[0];

/** A payment service that answers whatever the test says, counting calls per key. */
function scriptedPayments(answer: () => unknown): PaymentService & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async refund(request) {
      calls.push(request.idempotencyKey);
      return answer() as RefundOutcome;
    },
  };
}

describe('issue 12: the money boundary', () => {
  it("INV6: a client command id that names another workflow's effect record cannot strand that workflow's refund", async () => {
    const h = await host();
    const refund = await directRefund(h, 'B');
    await h.runtime.openOrder({ input: orderInput('A') });
    // The attack of the issue: the runtime's own record names, sent as client command ids, in A and in B.
    await h.runtime.dispatch({
      workflowId: 'A',
      commandId: `effect:${refund.effectId}`,
      event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'x' },
    });
    await h.runtime.dispatch({
      workflowId: 'B',
      commandId: `effect:${refund.effectId}`,
      event: { type: 'order.shipped', by: { role: 'system', id: 'oms' } },
    });
    await h.runtime.dispatch({ workflowId: 'A', commandId: 'open', event: { type: 'order.shipped', by: { role: 'system', id: 'oms' } } });
    await h.runtime.tick();
    expect(await cancelOrderOf(h, 'B')).toMatchObject({ status: 'refunded' });
    expect(h.payments.executionCount()).toBe(1);
    await expect(h.runtime.openOrder({ input: orderInput('Z') })).resolves.toMatchObject({ workflowId: 'Z', version: 1 });
    await h.close();
  });

  it.each([
    ['an empty reference', ''],
    ['a 200-character reference', 'r'.repeat(200)],
    ['a numeric reference', 42],
    ['a reference with NUL', 'pay\0-1'],
  ])('INV6: a payment answering succeeded with %s is recorded as a success, flagged, never dead', async (_name, paymentRef) => {
    const payments = scriptedPayments(() => ({ status: 'succeeded', paymentRef }));
    const h = await host({ payments } as never);
    await directRefund(h, 'o-1');
    await h.runtime.tick();
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunded' });
    const recorded = (await h.runtime.getAuditTrail(PLATFORM, 'o-1')).find((row) => row.eventType === 'payment.refundSucceeded');
    expect(recorded?.event).toMatchObject({ referenceMalformed: true });
    expect((recorded!.event as { paymentRef: string }).paymentRef.length).toBeLessThanOrEqual(128);
    expect((await h.store.listOutbox('o-1')).filter((row) => row.status === 'dead')).toEqual([]);
    expect(payments.calls).toHaveLength(1);
    await h.close();
  });

  it.each([
    ['undefined', undefined],
    ['an unknown status', { status: 'maybe' }],
    ['a string', 'ok'],
    ['null', null],
  ])('INV6: an answer of %s is an unknown outcome: retried under the same key, never dead, never a decline', async (_name, raw) => {
    let answer: unknown = raw;
    const payments = scriptedPayments(() => answer);
    const h = await host({ payments } as never);
    const refund = await directRefund(h, 'o-1');
    await h.runtime.tick();
    const [row] = await h.store.listOutbox('o-1').then((rows) => rows.filter((r) => r.kind === 'refund'));
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.lastError).toMatch(/unreadable payment answer/);
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunding' });
    answer = { status: 'succeeded', paymentRef: 'pay-1' };
    h.clock.advance(MINUTE);
    await h.runtime.tick();
    expect(payments.calls).toEqual([refund.idempotencyKey, refund.idempotencyKey]);
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunded' });
    await h.close();
  });

  it('C4: a decline without an error text, or with NUL in it, is a decline with a storable reason: backoff, a new key', async () => {
    let answer: unknown = { status: 'failed' };
    const payments = scriptedPayments(() => answer);
    const h = await host({ payments } as never);
    await directRefund(h, 'o-1');
    await h.runtime.tick();
    answer = { status: 'failed', error: 'card\0closed' };
    h.clock.advance(MINUTE);
    await h.runtime.tick();
    const errors = (await h.runtime.getAuditTrail(PLATFORM, 'o-1'))
      .filter((row) => row.eventType === 'payment.refundFailed')
      .map((row) => (row.event as { error: string }).error);
    expect(errors).toEqual(['declined without a reason', 'card\uFFFDclosed']);
    expect(new Set(payments.calls).size).toBe(2);
    await h.close();
  });

  it('INV1: reconciliation: after an executed-then-crashed call the runtime asks status(key) and records the success without a second refund call', async () => {
    const h = await host({ delivery: { backoffMs: 1000, maxBackoffMs: 1000 } });
    await directRefund(h, 'o-1');
    h.payments.crashAfterExecuting(1);
    await h.runtime.tick();
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunding' });
    h.clock.advance(1000);
    await h.runtime.tick();
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunded' });
    expect(h.payments.statusCalls).toHaveLength(1);
    expect(h.payments.calls.map((call) => call.result)).toEqual(['crashed']);
    expect(h.payments.executionCount()).toBe(1);
    await h.close();
  });

  it('INV5: a back-dated at gets the same answer whether or not the scheduler ran (the window that closed fired first)', async () => {
    const outcome = async (schedulerRan: boolean) => {
      const h = await host({ acceptHistory: true });
      await h.runtime.openOrder({ input: orderInput('o-1') });
      await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
      await h.runtime.dispatch({
        workflowId: 'o-1',
        commandId: 'p',
        event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' },
      });
      h.clock.advance(80 * HOUR);
      if (schedulerRan) await h.runtime.tick();
      const objection = h.runtime.dispatch({
        workflowId: 'o-1',
        commandId: 'late',
        event: { type: 'customer.settlementObjected', by: CUSTOMER, at: T0 + 71 * HOUR },
      });
      const error = await objection.then(
        () => null,
        (e: unknown) => e,
      );
      await h.runtime.tick();
      const view = await h.runtime.getWorkflow(PLATFORM, 'o-1');
      await h.close();
      return { error: (error as { code?: string } | null)?.code, disputes: view.disputes.map((d) => d.status) };
    };
    const ran = await outcome(true);
    expect(ran).toEqual({ error: 'INVALID_TIME', disputes: ['resolved'] });
    expect(await outcome(false)).toEqual(ran);
  });

  it('INV5: by default a caller-supplied at before the runtime clock is refused with a typed error', async () => {
    const h = await host();
    await h.runtime.openOrder({ input: orderInput('o-1') });
    h.clock.advance(HOUR);
    await expect(
      h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd', at: T0 } }),
    ).rejects.toThrow(InvalidTimeError);
    await h.close();
  });

  it('INV5: a fractional clock is floored; a clock set back a little is clamped to the latest time used; far back, commands wait', async () => {
    const h = await host();
    h.clock.time = T0 + 0.75;
    const opened = await h.runtime.openOrder({ input: orderInput('o-1') });
    expect(opened.version).toBe(1);
    h.clock.time = T0 + 10 * MINUTE;
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    h.clock.time = T0 + 8 * MINUTE;
    const clamped = await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' },
    });
    expect(clamped.event?.at).toBe(T0 + 10 * MINUTE);
    h.clock.time = T0 - HOUR;
    await expect(
      h.runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'customer.settlementConfirmed', by: CUSTOMER } }),
    ).rejects.toThrow(InvalidTimeError);
    h.clock.time = T0 + 11 * MINUTE;
    await expect(
      h.runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'customer.settlementConfirmed', by: CUSTOMER } }),
    ).resolves.toMatchObject({ event: { at: T0 + 11 * MINUTE } });
    await h.close();
  });

  it('a restarted runtime never stamps before the store high-water mark, even with its clock set back', async () => {
    const h = await host();
    await h.runtime.openOrder({ input: orderInput('o-1') });
    h.clock.time = T0 + HOUR;
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    await h.restart();
    h.clock.time = T0 + HOUR - MINUTE;
    const result = await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' },
    });
    expect(result.event?.at).toBe(T0 + HOUR);
    await h.close();
  });

  it('openOrder is idempotent under concurrency; another input for the same workflow is WorkflowExistsError', async () => {
    const h = await host();
    const results = await Promise.all([1, 2, 3].map(() => h.runtime.openOrder({ input: orderInput('o-1') })));
    expect(new Set(results.map((result) => JSON.stringify({ ...result, commandId: '' }))).size).toBe(1);
    await expect(h.runtime.openOrder({ input: { ...orderInput('o-1'), deliveredBy: 'JD' } })).rejects.toThrow(WorkflowExistsError);
    await expect(h.runtime.openOrder({ commandId: 'another-id', input: orderInput('o-1') })).resolves.toMatchObject({ version: 1 });
    await h.close();
  });

  it('close() lets commands in flight finish, then refuses new ones with RuntimeClosedError', async () => {
    const h = await host();
    await h.runtime.openOrder({ input: orderInput('o-1') });
    const racing = h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    const closing = h.runtime.close();
    await expect(racing).resolves.toMatchObject({ version: 2 });
    await closing;
    await expect(
      h.runtime.dispatch({ workflowId: 'o-1', commandId: 'p', event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' } }),
    ).rejects.toThrow(RuntimeClosedError);
    await expect(h.runtime.openOrder({ input: orderInput('o-2') })).rejects.toThrow(RuntimeClosedError);
  });

  it('leases: hanging refunds are delivered at once (one timeout, not one per row), and a deadline fires meanwhile', async () => {
    const h = await host({ delivery: { timeoutMs: 250 }, effectConcurrency: 20 });
    for (let n = 0; n < 20; n += 1) await directRefund(h, `o-${n}`);
    await h.runtime.openOrder({ input: orderInput('w') });
    await h.runtime.dispatch({ workflowId: 'w', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    h.payments.hangNextCalls(20);
    h.clock.advance(48 * HOUR);
    const started = Date.now();
    const round = h.runtime.tick();
    const result = await round;
    // 20 hanging calls share one timeout: the round takes about 250 ms, not 20 × 250 ms.
    expect(Date.now() - started).toBeLessThan(20 * 250);
    expect(result.effectsRetrying).toBe(20);
    expect((await h.runtime.getWorkflow(PLATFORM, 'w')).disputes[0]?.status).toBe('awaitingPlatformRuling');
    await h.close();
  });

  it('leases: a delivery slower than the lease keeps its row (heartbeat): another worker claims nothing meanwhile', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const payments: PaymentService = {
      async refund(request) {
        calls.push(request.idempotencyKey);
        await slow;
        return { status: 'succeeded', paymentRef: 'pay-slow' };
      },
    };
    // Real time, so that the lease really runs out unless the heartbeat extends it.
    const clock = new ManualClock(Date.now());
    clock.now = () => Date.now();
    const h = await host({ payments, leaseMs: 300, clock } as never);
    await directRefund(h, 'o-1');
    const delivering = h.runtime.tick();
    // Another worker, well after the first lease would have expired.
    await new Promise((resolve) => setTimeout(resolve, 750));
    const stolen = await h.store.claimOutbox({ workerId: 'other', now: Date.now(), leaseMs: 300, limit: 10 });
    expect(stolen).toEqual([]);
    release();
    await delivering;
    expect(calls).toHaveLength(1);
    expect(await cancelOrderOf(h, 'o-1')).toMatchObject({ status: 'refunded' });
    await h.close();
  });

  it('INV1 leases: the heartbeat holds the row until the result is recorded: a record slower than the lease lets no other worker deliver the key', async () => {
    const calls: string[] = [];
    const payments: PaymentService = {
      async refund(request) {
        calls.push(request.idempotencyKey);
        return { status: 'succeeded', paymentRef: 'pay-1' };
      },
    };
    const memory = createMemoryStore();
    await memory.migrate();
    let recording!: () => void;
    const recordStarted = new Promise<void>((resolve) => (recording = resolve));
    let finishRecord!: () => void;
    const recordGate = new Promise<void>((resolve) => (finishRecord = resolve));
    // The result's commit (it completes the effect row) stalls as a slow database would.
    const store = new Proxy(memory, {
      get(target, name, receiver) {
        if (name !== 'commit') return Reflect.get(target, name, receiver);
        return async (commit: Commit) => {
          if (commit.completesEffectId?.includes('|refund|')) {
            recording();
            await recordGate;
          }
          return target.commit(commit);
        };
      },
    });
    const runtime = createWorkflowRuntime({
      store,
      clock: { now: () => Date.now() },
      payments,
      logistics: createSandboxLogistics(),
      workerId: 'slow-recorder',
      leaseMs: 300,
      onError: () => {},
    });
    await runtime.openOrder({ input: orderInput('o-1') });
    await runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    await runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' },
    });
    const delivering = runtime.tick();
    await recordStarted;
    // Well past the lease the claim was made with: without the heartbeat the row would be free again.
    await new Promise((resolve) => setTimeout(resolve, 750));
    const stolen = await memory.claimOutbox({ workerId: 'other', now: Date.now(), leaseMs: 300, limit: 10 });
    expect(stolen.filter((row) => row.kind === 'refund')).toEqual([]);
    finishRecord();
    await delivering;
    expect(calls).toHaveLength(1);
    expect((await runtime.getWorkflow(PLATFORM, 'o-1')).cancelOrders[0]).toMatchObject({ status: 'refunded' });
    await runtime.close();
  });

  it('INV1 leases: a worker whose lease another took over (the clock jumped during its call) records no failure: the new holder keeps the row, nobody else delivers the key', async () => {
    let called!: () => void;
    const firstCall = new Promise<void>((resolve) => (called = resolve));
    const sandbox = createSandboxPayments();
    const payments: PaymentService = {
      refund(request, call) {
        called();
        return sandbox.refund(request, call);
      },
    };
    const memory = createMemoryStore();
    await memory.migrate();
    const clock = new ManualClock();
    const worker = (workerId: string, timeoutMs: number) =>
      createWorkflowRuntime({
        store: memory,
        clock,
        payments,
        logistics: createSandboxLogistics(),
        workerId,
        leaseMs: 30_000,
        delivery: { timeoutMs, maxAttempts: 8 },
        onError: () => {},
      });
    const slow = worker('slow', 100);
    const other = worker('other', 400);
    await slow.openOrder({ input: orderInput('o-1') });
    await slow.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    await slow.dispatch({ workflowId: 'o-1', commandId: 'p', event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' } });
    sandbox.hangNextCalls(2);

    const slowRound = slow.tick();
    await firstCall;
    clock.advance(30_001); // past the slow worker's lease, during its call
    const otherRound = other.tick(); // claims the row and calls (hangs, 400 ms)
    expect((await slowRound).effectsRetrying).toBe(1); // the slow worker timed out first (100 ms)
    // Past the backoff a failure would have set, inside the other worker's lease: the row is still its.
    clock.advance(5_000);
    expect(
      (await memory.claimOutbox({ workerId: 'probe', now: clock.now(), leaseMs: 30_000, limit: 10 })).filter((r) => r.kind === 'refund'),
    ).toEqual([]);
    await otherRound;
    const [row] = (await memory.listOutbox('o-1')).filter((r) => r.kind === 'refund');
    expect(row).toMatchObject({ status: 'pending', attempts: 1 }); // the other worker's failure only
    expect(sandbox.calls.map((c) => c.result)).toEqual(['hung', 'hung']);
    clock.advance(HOUR);
    await slow.tick();
    expect(sandbox.executions().map((e) => e.idempotencyKey)).toEqual([row!.idempotencyKey]);
    expect((await slow.getWorkflow(PLATFORM, 'o-1')).cancelOrders[0]).toMatchObject({ status: 'refunded' });
    await Promise.all([slow.close(), other.close()]);
  });

  it('start-up refuses option combinations that cannot keep the lease rule', async () => {
    await expect(host({ leaseMs: 10 })).rejects.toThrow(RangeError);
    await expect(host({ effectConcurrency: 0 })).rejects.toThrow(RangeError);
    await expect(host({ delivery: { backoffMs: 10_000, maxBackoffMs: 1_000 } })).rejects.toThrow(RangeError);
  });
});

describe('INV6: the operator query for stranded workflows', () => {
  it('INV6: lists nothing while every open part can move, and finds a refund whose deadline and effect rows were lost', async () => {
    const h = await host();
    await directRefund(h, 'ok');
    await directRefund(h, 'lost');
    await h.runtime.openOrder({ input: orderInput('customer') });
    await h.runtime.dispatch({
      workflowId: 'customer',
      commandId: 'c',
      event: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c-1' },
    });
    expect((await h.runtime.findStrandedWorkflows()).items).toEqual([]);

    // Damage the store as a broken host could: the refund's effect dead, its deadline rows gone.
    const [refund] = (await h.store.listOutbox('lost')).filter((row) => row.kind === 'refund');
    await h.store.recordEffectFailure(refund!.effectId, { error: 'dropped', availableAt: T0, dead: true });
    const record = (await h.store.load('lost'))!;
    await h.store.commit({
      workflow: { ...record, version: record.version + 1 },
      expectedVersion: record.version,
      audit: [],
      deadlines: (await h.store.listDeadlines('lost')).filter((row) => row.actorPath !== 'cancellation'),
      outbox: [],
      cancelOrders: [],
      command: null,
      completesEffectId: null,
      observedAt: T0,
    });
    expect((await h.runtime.findStrandedWorkflows()).items).toEqual([
      { workflowId: 'lost', parts: [{ actor: 'cancellation', id: 'd:direct-refund', status: 'refunding' }] },
    ]);
    await h.close();
  });
});
