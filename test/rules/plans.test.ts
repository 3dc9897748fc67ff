import { describe, expect, it } from 'vitest';
import { FinalStateError } from '../../src/errors.js';
import {
  CUSTOMER,
  DIRECT_REFUND_ID,
  HOUR,
  INTERCEPT_ID,
  LOGISTICS,
  MERCHANT,
  SYSTEM,
  openDispute,
  refundSucceeded,
  submitPlan,
  world,
} from '../support/world.js';

describe('plans as executed', () => {
  it('P1: direct refund refunds at once with no review, recorded as 直接退款纠纷方案 / 退款成功', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    expect(w.cancellation(DIRECT_REFUND_ID)).toBe('refunding');
    expect(w.refundRequests()).toEqual([{ cancellationId: DIRECT_REFUND_ID, attempt: 1 }]);
    refundSucceeded(w, DIRECT_REFUND_ID);
    const [row] = w.workflow.cancelOrders();
    expect(row).toMatchObject({
      cancellationId: DIRECT_REFUND_ID,
      reason: 'DIRECT_REFUND_DISPUTE_PLAN',
      reasonLabel: { 'zh-CN': '直接退款纠纷方案' },
      status: 'refunded',
      statusLabel: { 'zh-CN': '退款成功' },
      refundTrigger: { kind: 'disputePlan', by: MERCHANT },
    });
    expect(w.workflow.audit.some((entry) => entry.eventType === 'merchant.cancellationApproved')).toBe(false);
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
  });

  it('P2: negotiated reject refunds nothing and leaves the pending customer cancel order for the merchant', () => {
    const w = world();
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' });
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    expect(w.cancellation('cancel-1')).toBe('pendingReview');
    expect(w.refundRequests()).toEqual([]);
    expect(w.workflow.followUps()).toEqual([{ kind: 'REJECT_PENDING_CANCELLATION', cancellationId: 'cancel-1', disputeId: 'dispute-1', at: 0 }]);
    expect(w.workflow.effects).toContainEqual(
      expect.objectContaining({ kind: 'REJECT_PENDING_CANCELLATION', recipient: 'merchant', subjectId: 'cancel-1' }),
    );
    expect(w.workflow.allowedActions('merchant')).toContainEqual({
      type: 'merchant.cancellationRejected',
      cancellationId: 'cancel-1',
    });
  });

  it('P2: the follow-up clears once the merchant rejects the cancel order by hand', () => {
    const w = world();
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' });
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.send({ type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'cancel-1' });
    expect(w.cancellation('cancel-1')).toBe('rejected');
    expect(w.workflow.followUps()).toEqual([]);
  });

  it('P2: without a customer cancel order, negotiated reject needs no follow-up', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    expect(w.workflow.followUps()).toEqual([]);
    expect(w.cancelOrderIds()).toEqual([]);
  });

  it('P3: the 48H plan creates a 48H物流拦截退款纠纷方案 cancel order in 物流待跟进 with a due time', () => {
    const w = world();
    openDispute(w);
    w.advance(HOUR);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    const [row] = w.workflow.cancelOrders();
    expect(row).toMatchObject({
      reason: 'INTERCEPT_48H_DISPUTE_PLAN',
      reasonLabel: { 'zh-CN': '48H物流拦截退款纠纷方案' },
      status: 'logisticsFollowUp',
      statusLabel: { 'zh-CN': '物流待跟进' },
    });
    const child = { context: w.cancellationContext()! };
    expect(child.context.deadlines).toEqual({ interceptWindow: 49 * HOUR });
  });

  it('P3a: at 48H a merchant-delivered order is refunded automatically', () => {
    const w = world({ deliveredBy: 'MERCHANT' });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    expect(w.cancellation(INTERCEPT_ID)).toBe('refunding');
    expect(w.refundRequests()).toEqual([{ cancellationId: INTERCEPT_ID, attempt: 1 }]);
    refundSucceeded(w, INTERCEPT_ID);
    expect(w.workflow.cancelOrders()[0]).toMatchObject({ status: 'refunded', refundTrigger: { kind: 'timer' } });
  });

  it('P3b: at 48H a JD-delivered order is approved and intercepted, then refunded when interception succeeds', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    expect(w.cancellation(INTERCEPT_ID)).toBe('intercepting');
    expect(w.workflow.cancelOrders()[0]?.statusLabel['zh-CN']).toBe('通过并拦截');
    expect(w.workflow.effects).toContainEqual(expect.objectContaining({ type: 'effect.interceptionRequested', cancellationId: INTERCEPT_ID }));
    expect(w.refundRequests()).toEqual([]);
    w.send({ type: 'logistics.interceptSucceeded', by: LOGISTICS, cancellationId: INTERCEPT_ID });
    expect(w.refundRequests()).toEqual([{ cancellationId: INTERCEPT_ID, attempt: 1 }]);
    refundSucceeded(w, INTERCEPT_ID);
    expect(w.workflow.cancelOrders()[0]).toMatchObject({
      status: 'refunded',
      refundTrigger: { kind: 'logisticsCallback', by: LOGISTICS },
    });
  });

  it.each([
    ['approves', 'merchant.cancellationApproved'],
    ['forces a refund', 'merchant.refundForced'],
  ] as const)('P3c: within the 48H the merchant %s: refunded, and the countdown ends', (_label, type) => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(10 * HOUR);
    w.send({ type, by: MERCHANT, cancellationId: INTERCEPT_ID });
    expect(w.cancellation(INTERCEPT_ID)).toBe('refunding');
    const child = { context: w.cancellationContext()! };
    expect(child.context.deadlines).toEqual({ refundReconcileWindow: expect.any(Number) });
    refundSucceeded(w, INTERCEPT_ID);
    w.advance(48 * HOUR);
    expect(w.refundRequests()).toHaveLength(1);
    expect(w.workflow.cancelOrders()[0]).toMatchObject({ status: 'refunded', refundTrigger: { kind: 'merchant' } });
  });

  it.each(['MERCHANT', 'JD'] as const)(
    'P3d: no auto refund when the %s-delivered order completed before 48H and the merchant did nothing',
    (deliveredBy) => {
      const w = world({ deliveredBy, shipped: true });
      openDispute(w);
      submitPlan(w, 'WAIT_48H_INTERCEPT');
      w.advance(20 * HOUR);
      w.send({ type: 'order.completed', by: SYSTEM });
      w.advance(28 * HOUR);
      expect(w.cancellation(INTERCEPT_ID)).toBe('closedWithoutRefund');
      expect(w.refundRequests()).toEqual([]);
      expect(w.workflow.effects.some((effect) => effect.type === 'effect.interceptionRequested')).toBe(false);
    },
  );

  it('P3e: interception failed: nothing refunded; the cancel order waits in interceptFailed', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.send({ type: 'logistics.interceptFailed', by: LOGISTICS, cancellationId: INTERCEPT_ID });
    expect(w.cancellation(INTERCEPT_ID)).toBe('interceptFailed');
    expect(w.refundRequests()).toEqual([]);
  });

  it('P3e: no interception result within the wait counts as failed', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.advance(72 * HOUR);
    expect(w.cancellation(INTERCEPT_ID)).toBe('interceptFailed');
    expect(w.refundRequests()).toEqual([]);
  });

  it('P3e: after a failed interception the merchant may still force a refund', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.send({ type: 'logistics.interceptFailed', by: LOGISTICS, cancellationId: INTERCEPT_ID });
    w.send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: INTERCEPT_ID });
    refundSucceeded(w, INTERCEPT_ID);
    expect(w.cancellation(INTERCEPT_ID)).toBe('refunded');
  });

  it('P3e: after a failed interception the merchant may close without refund; it is then final', () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.send({ type: 'logistics.interceptFailed', by: LOGISTICS, cancellationId: INTERCEPT_ID });
    w.send({ type: 'merchant.closedWithoutRefund', by: MERCHANT, cancellationId: INTERCEPT_ID });
    expect(w.cancellation(INTERCEPT_ID)).toBe('closedWithoutRefund');
    expect(() => w.send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: INTERCEPT_ID })).toThrow(FinalStateError);
  });
});
