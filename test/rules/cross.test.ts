import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { orderMachine } from '../../machines/order.js';
import { startSystem, stepSystem } from '../../src/engine/step.js';
import { ConflictingCancellationError, FinalStateError, InvalidPayloadError, WrongRoleError } from '../../src/errors.js';
import { cancelOrderViews, disputeChild, queryCancelOrders } from '../../src/queries.js';
import type { OrderEvent } from '../../src/schemas/events.js';
import {
  CUSTOMER,
  DIRECT_REFUND_ID,
  HOUR,
  INTERCEPT_ID,
  MERCHANT,
  PAYMENTS,
  PLATFORM,
  RULING_REFUND_ID,
  VALID_EVIDENCE,
  openDispute,
  refundSucceeded,
  submitPlan,
  world,
} from '../support/world.js';

const submitCustomerCancellation = (w: ReturnType<typeof world>) =>
  w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' });

describe('across the dispute and its cancel orders', () => {
  it.each(['DIRECT_REFUND', 'WAIT_48H_INTERCEPT'] as const)(
    'X1: under the default fail policy, %s fails while a customer cancel order is pending',
    (plan) => {
      const w = world();
      openDispute(w);
      submitCustomerCancellation(w);
      const before = w.workflow.getSnapshot();
      expect(() => submitPlan(w, plan)).toThrow(ConflictingCancellationError);
      expect(() => submitPlan(w, plan)).toThrow(/approve it directly/);
      expect(w.workflow.getSnapshot()).toBe(before);
      expect(w.disputeState()).toBe('awaitingMerchantChoice');
      w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' });
      refundSucceeded(w, 'cancel-1');
      expect(w.refundedBy()).toBe('cancel-1');
    },
  );

  it('X1: a bare order actor (no boundary) takes no transition for the conflicting plan: the dispute keeps waiting', () => {
    const actor = createActor(orderMachine, {
      input: { orderId: 'o', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT', at: 0 },
    }).start();
    const effects: string[] = [];
    actor.on('*', (effect) => effects.push(effect.type));
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    actor.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c' });
    const before = actor.getSnapshot();
    actor.send({ type: 'merchant.planSubmitted', at: 0, by: MERCHANT, plan: 'DIRECT_REFUND' });
    expect(actor.getSnapshot()).toBe(before);
    expect(effects).toEqual([]);
    expect(disputeChild(actor.getSnapshot())?.value).toBe('awaitingMerchantChoice');
    expect(cancelOrderViews(actor.getSnapshot()).map((order) => [order.cancellationId, order.status])).toEqual([['c', 'pendingReview']]);
    actor.stop();
  });

  it("X1: under the adopt policy the direct-refund plan runs on the customer's cancel order", () => {
    const w = world({ conflictPolicy: 'adopt' });
    openDispute(w);
    submitCustomerCancellation(w);
    submitPlan(w, 'DIRECT_REFUND');
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
    expect(w.workflow.cancelOrders()).toEqual([
      expect.objectContaining({ cancellationId: 'cancel-1', status: 'refunding', reason: 'DIRECT_REFUND_DISPUTE_PLAN' }),
    ]);
    expect(w.refundRequests()).toEqual([{ cancellationId: 'cancel-1', attempt: 1 }]);
  });

  it("X1: under the adopt policy the 48H plan runs on the customer's cancel order", () => {
    const w = world({ conflictPolicy: 'adopt' });
    openDispute(w);
    submitCustomerCancellation(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    expect(w.cancellation('cancel-1')).toBe('logisticsFollowUp');
    w.advance(48 * HOUR);
    expect(w.cancellation('cancel-1')).toBe('refunding');
  });

  it('X2: cancel orders from dispute plans can be listed and filtered by status and reason', () => {
    const refunded = world();
    openDispute(refunded);
    submitPlan(refunded, 'DIRECT_REFUND');
    refundSucceeded(refunded, DIRECT_REFUND_ID);
    const waiting = world({ orderId: 'order-2' });
    openDispute(waiting);
    submitPlan(waiting, 'WAIT_48H_INTERCEPT');
    const customer = world({ orderId: 'order-3' });
    submitCustomerCancellation(customer);
    const snapshots = [refunded, waiting, customer].map((w) => w.workflow.getSnapshot());

    const disputePlans = queryCancelOrders(snapshots, {
      reason: ['DIRECT_REFUND_DISPUTE_PLAN', 'INTERCEPT_48H_DISPUTE_PLAN'],
    });
    expect(disputePlans.map((row) => [row.orderId, row.status, row.reasonLabel['zh-CN']])).toEqual([
      ['order-1', 'refunded', '直接退款纠纷方案'],
      ['order-2', 'logisticsFollowUp', '48H物流拦截退款纠纷方案'],
    ]);
    expect(queryCancelOrders(snapshots, { status: ['refunded'] }).map((row) => row.cancellationId)).toEqual([DIRECT_REFUND_ID]);
    expect(queryCancelOrders(snapshots, { merchantId: 'someone-else' })).toEqual([]);
  });

  it('INV1: a ruling against the merchant does not refund an order that is already refunded', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundSucceeded(w, DIRECT_REFUND_ID);
    w.send({ type: 'customer.settlementObjected', by: CUSTOMER });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    expect(w.refundRequests()).toEqual([{ cancellationId: DIRECT_REFUND_ID, attempt: 1 }]);
    expect(w.cancelOrderIds()).toEqual([DIRECT_REFUND_ID]);
  });

  it('INV1: a ruling against the merchant drives the in-flight cancel order instead of opening a second one', () => {
    const w = world();
    submitCustomerCancellation(w);
    openDispute(w);
    submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    expect(w.cancellation('cancel-1')).toBe('refunding');
    expect(w.workflow.cancelOrders()[0]?.refundTrigger).toMatchObject({ kind: 'platformRuling', by: PLATFORM });
    expect(w.workflow.cancelOrders().find((order) => order.cancellationId === RULING_REFUND_ID)).toBeUndefined();
  });

  it('INV1: no customer cancel order after the order is refunded, and the order closes', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundSucceeded(w, DIRECT_REFUND_ID);
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    expect(w.workflow.getSnapshot().status).toBe('done');
    expect(w.workflow.getSnapshot().output).toEqual({
      orderId: 'order-1',
      refunded: true,
      refundedBy: DIRECT_REFUND_ID,
      refundReason: 'DIRECT_REFUND_DISPUTE_PLAN',
      disputes: [{ disputeId: 'dispute-1', status: 'resolved', plan: 'DIRECT_REFUND' }],
    });
    expect(() => w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'late' })).toThrow(FinalStateError);
  });

  it('INV2: every refund request names its cancel order, reason and trigger', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.send({ type: 'logistics.interceptSucceeded', by: { role: 'system', id: 'jd-logistics' }, cancellationId: INTERCEPT_ID });
    const refunds = w.workflow.effects.filter((effect) => effect.type === 'effect.refundRequested');
    expect(refunds).toEqual([
      expect.objectContaining({
        cancellationId: INTERCEPT_ID,
        idempotencyKey: `order-1/${INTERCEPT_ID}/1`,
        reason: 'INTERCEPT_48H_DISPUTE_PLAN',
        trigger: { kind: 'logisticsCallback', by: { role: 'system', id: 'jd-logistics' }, at: 48 * HOUR },
      }),
    ]);
  });

  it('INV3: a final order accepts nothing and stays as it is', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundSucceeded(w, DIRECT_REFUND_ID);
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    const final = w.workflow.getSnapshot();
    expect(() => w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'again' })).toThrow(FinalStateError);
    expect(() => refundSucceeded(w, DIRECT_REFUND_ID)).toThrow(FinalStateError);
    expect(w.workflow.getSnapshot()).toBe(final);
  });

  it('INV4: bad input gets a typed error and changes nothing', () => {
    const w = world();
    openDispute(w);
    const before = w.workflow.getSnapshot();
    expect(() => w.sendRaw({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'FREE_MONEY' })).toThrow(InvalidPayloadError);
    expect(() => w.send({ type: 'merchant.planSubmitted', by: CUSTOMER, plan: 'DIRECT_REFUND' })).toThrow(WrongRoleError);
    expect(() => w.send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'nope', paymentRef: 'x' })).toThrow(
      /no cancel order nope/,
    );
    expect(w.workflow.getSnapshot()).toBe(before);
    expect(w.workflow.effects).toEqual([]);
  });

  it('INV5: a system persisted mid-window and restored fires its 48H deadline once, at the original due time', () => {
    const input = { orderId: 'o', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT', at: 0 };
    let step = startSystem(orderMachine, input);
    const dispute: OrderEvent = { type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' };
    step = stepSystem(orderMachine, step.persisted, { event: dispute });
    const plan: OrderEvent = { type: 'merchant.planSubmitted', at: HOUR, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' };
    step = stepSystem(orderMachine, step.persisted, { event: plan });
    const stored = JSON.parse(JSON.stringify(step.persisted));
    const deadline = step.deadlines.find((pending) => pending.timer === 'interceptWindow');
    expect(deadline).toMatchObject({ actorPath: ['cancellation'], dueAt: 49 * HOUR });

    const fired = stepSystem(orderMachine, stored, { event: { type: deadline!.eventType }, target: deadline!.actorPath });
    expect(fired.emitted.map((effect) => effect.event)).toEqual([
      expect.objectContaining({ type: 'effect.refundRequested', at: 49 * HOUR, trigger: expect.objectContaining({ kind: 'timer' }) }),
    ]);
    expect(fired.deadlines.some((pending) => pending.timer === 'interceptWindow')).toBe(false);
    const again = stepSystem(orderMachine, fired.persisted, { event: { type: deadline!.eventType }, target: deadline!.actorPath });
    expect(again.emitted).toEqual([]);
    expect(again.persisted).toEqual(fired.persisted);
  });
});
