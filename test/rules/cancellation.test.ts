import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { cancellationMachine } from '../../machines/cancellation.js';
import { FinalStateError, NotAllowedInStateError } from '../../src/errors.js';
import type { CancellationInput } from '../../src/schemas/inputs.js';
import {
  CUSTOMER,
  DIRECT_REFUND_ID,
  HOUR,
  MERCHANT,
  PLATFORM,
  PAYMENTS,
  SYSTEM,
  openDispute,
  refundFailed,
  refundSucceeded,
  submitPlan,
  world,
} from '../support/world.js';

const submit = (w: ReturnType<typeof world>, cancellationId = 'cancel-1') =>
  w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId });

describe('cancel order lifecycle', () => {
  it('C1: a customer cancel order starts in pendingReview', () => {
    const w = world();
    submit(w);
    expect(w.workflow.cancelOrders()[0]).toMatchObject({
      cancellationId: 'cancel-1',
      origin: 'customer',
      reason: 'CUSTOMER_REQUEST',
      status: 'pendingReview',
    });
  });

  it('C1: a dispute plan creates its own cancel order (no customer submission)', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    expect(w.workflow.cancelOrders()[0]).toMatchObject({ origin: 'dispute', status: 'refunding' });
  });

  it('C1: a customer cannot submit a second cancel order while one is in flight', () => {
    const w = world();
    submit(w);
    expect(() => submit(w, 'cancel-2')).toThrow(NotAllowedInStateError);
  });

  it('C2: approving an unshipped order refunds it', () => {
    const w = world({ deliveredBy: 'JD', shipped: false });
    submit(w);
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
    expect(w.cancellation('cancel-1')).toBe('refunding');
    expect(w.refundRequests()).toEqual([{ cancellationId: 'cancel-1', attempt: 1 }]);
  });

  it('C2: approving a shipped merchant-delivered order refunds it', () => {
    const w = world({ deliveredBy: 'MERCHANT', shipped: true });
    submit(w);
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
    expect(w.cancellation('cancel-1')).toBe('refunding');
  });

  it('C2: approving a shipped JD-delivered order intercepts it first', () => {
    const w = world({ deliveredBy: 'JD' });
    submit(w);
    w.send({ type: 'order.shipped', by: SYSTEM });
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
    expect(w.cancellation('cancel-1')).toBe('intercepting');
    expect(w.refundRequests()).toEqual([]);
  });

  it('C2: the merchant rejects a pending cancel order', () => {
    const w = world();
    submit(w);
    w.send({ type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'cancel-1', note: 'already packed' });
    expect(w.cancellation('cancel-1')).toBe('rejected');
  });

  it.each([
    [
      'refunded',
      (w: ReturnType<typeof world>) => {
        w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
        refundSucceeded(w, 'cancel-1');
      },
    ],
    ['rejected', (w: ReturnType<typeof world>) => w.send({ type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'cancel-1' })],
    ['withdrawn', (w: ReturnType<typeof world>) => w.send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'cancel-1' })],
  ] as const)('C3: the final state %s accepts no event', (status, arrange) => {
    const w = world();
    submit(w);
    arrange(w);
    expect(w.cancellation('cancel-1')).toBe(status);
    const before = w.workflow.getSnapshot();
    for (const type of ['merchant.cancellationApproved', 'merchant.refundForced', 'customer.cancellationWithdrawn'] as const) {
      expect(() => w.send({ type, by: type.startsWith('customer') ? CUSTOMER : MERCHANT, cancellationId: 'cancel-1' })).toThrow(FinalStateError);
    }
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('C4: a refund never reaches refunded without the payment service confirmation', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    w.advance(24 * HOUR - 1);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunding');
    w.advance(1000 * HOUR);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refundOutcomeUnknown');
    refundSucceeded(w, DIRECT_REFUND_ID, 'pay-77');
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunded');
    expect(w.closedCancelOrder(DIRECT_REFUND_ID)).toMatchObject({ status: 'refunded', refunded: true, paymentRef: 'pay-77' });
  });

  it('C4: a failed refund is retried with doubling backoff, then reported after the last try', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    const minute = 60_000;
    for (let failure = 1; failure <= 5; failure++) {
      refundFailed(w, DIRECT_REFUND_ID);
      const backoff = minute * 2 ** (failure - 1);
      w.advance(backoff - 1);
      expect(w.refundRequests()).toHaveLength(failure);
      w.advance(1);
      expect(w.refundRequests()).toHaveLength(failure + 1);
    }
    refundFailed(w, DIRECT_REFUND_ID);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refundFailed');
    expect(w.refundRequests().map((request) => request.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(w.workflow.effects).toContainEqual(expect.objectContaining({ kind: 'REFUND_FAILED', subjectId: DIRECT_REFUND_ID }));
  });

  it('C4: a refund that failed for good can be forced again by the merchant', () => {
    const w = world({ timers: { refundMaxAttempts: 1 } });
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundFailed(w, DIRECT_REFUND_ID);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refundFailed');
    w.send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: DIRECT_REFUND_ID });
    refundSucceeded(w, DIRECT_REFUND_ID);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunded');
  });

  it('C4: a late success during the backoff still completes the refund, without another request', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundFailed(w, DIRECT_REFUND_ID);
    refundSucceeded(w, DIRECT_REFUND_ID);
    w.advance(HOUR);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunded');
    expect(w.refundRequests()).toHaveLength(1);
  });

  it('C5: the customer withdraws a pending cancel order: closed without refund', () => {
    const w = world();
    submit(w);
    w.send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'cancel-1' });
    expect(w.cancellation('cancel-1')).toBe('withdrawn');
    expect(w.workflow.cancelOrders()[0]?.statusLabel['zh-CN']).toBe('用户撤销');
    expect(w.refundRequests()).toEqual([]);
  });

  it('C5: a cancel order no longer pending review cannot be withdrawn', () => {
    const w = world();
    submit(w);
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
    expect(() => w.send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'cancel-1' })).toThrow(NotAllowedInStateError);
  });

  it('C1: the cancellation machine runs standalone, without a parent', () => {
    const input: CancellationInput = {
      cancellationId: 'solo-1',
      orderId: 'order-9',
      merchantId: 'merchant-1',
      customerId: 'customer-1',
      reason: 'INTERCEPT_48H_DISPUTE_PLAN',
      facts: { deliveredBy: 'MERCHANT', shipped: true, completed: false },
      start: { state: 'logisticsFollowUp' },
      createdBy: MERCHANT,
      at: 0,
    };
    const clock = new SimulatedClock();
    const actor = createActor(cancellationMachine, { input, clock }).start();
    clock.increment(48 * HOUR);
    expect(actor.getSnapshot().value).toEqual({ refunding: 'requesting' });
    actor.send({ type: 'payment.refundSucceeded', at: 48 * HOUR, by: PAYMENTS, cancellationId: 'solo-1', paymentRef: 'p' });
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().output).toMatchObject({ status: 'refunded', refundTrigger: { kind: 'timer', at: 48 * HOUR } });
  });
});

describe('INV6: a refund whose outcome is unknown is reconciled, never stranded', () => {
  it('INV6: no answer within refundReconcileWindow: 退款结果待确认, the platform is told, nobody may start another refund', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    w.advance(24 * HOUR);
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refundOutcomeUnknown');
    expect(w.workflow.cancelOrders()[0]?.statusLabel).toEqual({ 'zh-CN': '退款结果待确认', en: 'Refund outcome to be confirmed' });
    expect(w.workflow.effects.at(-1)).toMatchObject({
      type: 'effect.notificationRequested',
      kind: 'REFUND_OUTCOME_UNKNOWN',
      recipient: 'platform',
      subjectId: DIRECT_REFUND_ID,
    });
    expect(w.workflow.allowedActions('merchant')).not.toContainEqual(expect.objectContaining({ type: 'merchant.refundForced' }));
    expect(w.workflow.allowedActions('platform')).toContainEqual({
      type: 'platform.refundOutcomeRecorded',
      cancellationId: DIRECT_REFUND_ID,
    });
    expect(w.refundRequests()).toHaveLength(1);
  });

  it('INV6: the platform records that the money moved: refunded with the provider reference, no second request', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    w.advance(24 * HOUR);
    w.send({
      type: 'platform.refundOutcomeRecorded',
      by: PLATFORM,
      cancellationId: DIRECT_REFUND_ID,
      outcome: 'succeeded',
      paymentRef: 'pay-9',
    });
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunded');
    expect(w.closedCancelOrder(DIRECT_REFUND_ID)).toMatchObject({ refunded: true, paymentRef: 'pay-9' });
    expect(w.refundRequests()).toHaveLength(1);
  });

  it('INV6: the platform records that it did not happen: refundFailed, and a forced refund asks again under a new key', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    w.advance(24 * HOUR);
    w.send({
      type: 'platform.refundOutcomeRecorded',
      by: PLATFORM,
      cancellationId: DIRECT_REFUND_ID,
      outcome: 'failed',
      error: 'provider has no record',
    });
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refundFailed');
    w.send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: DIRECT_REFUND_ID });
    const keys = w.workflow.effects.flatMap((effect) => (effect.type === 'effect.refundRequested' ? [effect.idempotencyKey] : []));
    expect(keys).toEqual([`order-1/${DIRECT_REFUND_ID}/1`, `order-1/${DIRECT_REFUND_ID}/2`]);
  });

  it('INV6: a late payment answer still settles it, and a recorded outcome needs its reference (INV4)', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    w.advance(30 * HOUR);
    expect(() =>
      w.send({ type: 'platform.refundOutcomeRecorded', by: PLATFORM, cancellationId: DIRECT_REFUND_ID, outcome: 'succeeded' }),
    ).toThrow(/paymentRef/);
    expect(() =>
      w.send({ type: 'platform.refundOutcomeRecorded', by: MERCHANT, cancellationId: DIRECT_REFUND_ID, outcome: 'failed', error: 'x' }),
    ).toThrow(/platform/);
    refundSucceeded(w, DIRECT_REFUND_ID, 'pay-late');
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunded');
  });
});
