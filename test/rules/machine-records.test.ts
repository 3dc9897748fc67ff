/**
 * What the machines record about themselves, checked where the boundary (src/commands.ts) would not
 * show it: the order's own clock, the error of the last declined refund, a decline for an earlier
 * request sent to the machine directly, and the D6 ruling the order stops waiting for once refunded.
 */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { orderMachine } from '../../machines/order.js';
import { cancellationChild } from '../../src/queries.js';
import type { OrderEventInput } from '../../src/schemas/events.js';
import {
  CUSTOMER,
  MERCHANT,
  MERCHANT_APPEAL_EVIDENCE,
  PAYMENTS,
  PLATFORM,
  SYSTEM,
  VALID_EVIDENCE,
  world,
  type World,
} from '../support/world.js';

const MINUTE = 60_000;

/** Sends each event a minute after the last and checks the order's clock moved to it. */
function expectClockFollows(w: World, events: OrderEventInput[]): void {
  for (const event of events) {
    w.advance(MINUTE);
    w.send(event);
    expect({ type: event.type, now: w.workflow.getSnapshot().context.now }).toEqual({ type: event.type, now: w.clock.now() });
  }
}

describe("the order's clock (context.now: the time of the last event it took)", () => {
  it('INV5: every event the order takes moves its clock to the event time: facts, disputes, appeals, the compensation', () => {
    const w = world({ deliveredBy: 'MERCHANT', policy: { appeals: 'on' } });
    expectClockFollows(w, [
      { type: 'order.shipped', by: SYSTEM },
      { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' },
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' },
      { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE },
      { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' },
      { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'c', paymentRef: 'p-1' },
      { type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE },
      { type: 'platform.appealOverturned', by: PLATFORM },
      { type: 'payment.compensationFailed', by: PAYMENTS, disputeId: 'd', idempotencyKey: 'order-1/d/compensation', error: 'declined' },
    ]);
  });

  it('INV5: the clock follows a settlement objected to, a succeeded compensation and the order completed', () => {
    const w = world({ deliveredBy: 'MERCHANT', policy: { appeals: 'on' } });
    expectClockFollows(w, [
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' },
      { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' },
      { type: 'customer.settlementObjected', by: CUSTOMER, note: 'Not what we agreed.' },
      { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' },
      { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'd:ruling-refund', paymentRef: 'p-1' },
      { type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE },
      { type: 'platform.appealOverturned', by: PLATFORM },
      { type: 'payment.compensationSucceeded', by: PAYMENTS, disputeId: 'd', idempotencyKey: 'order-1/d/compensation', paymentRef: 'comp-1' },
    ]);
    const open = world({ deliveredBy: 'MERCHANT' });
    expectClockFollows(open, [{ type: 'order.completed', by: SYSTEM }]);
  });

  it('D1 (disputesPerOrder several): opening another dispute moves the clock too', () => {
    const w = world({ policy: { disputesPerOrder: 'several' } });
    expectClockFollows(w, [
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' },
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' },
    ]);
  });
});

describe('C4: declined refunds', () => {
  it('C4: the decline of the last allowed attempt is recorded on the cancel order (lastRefundError), which waits in refundFailed', () => {
    const w = world({ deliveredBy: 'MERCHANT', timers: { refundMaxAttempts: 1 } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    w.send({ type: 'payment.refundFailed', by: PAYMENTS, cancellationId: 'c', error: 'card expired', idempotencyKey: 'order-1/c/1' });
    expect(w.cancellation('c')).toBe('refundFailed');
    expect(w.cancellationContext()?.lastRefundError).toBe('card expired');
  });

  it('C4/INV1: sent to the machine directly, a decline for an earlier request is not taken for the one in flight', () => {
    const clock = new SimulatedClock();
    const input = { orderId: 'order-1', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT' as const, at: 0 };
    const actor = createActor(orderMachine, { input: { ...input, timers: { refundRetryBackoff: MINUTE } }, clock }).start();
    actor.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c' });
    actor.send({ type: 'merchant.cancellationApproved', at: 0, by: MERCHANT, cancellationId: 'c' });
    actor.send({ type: 'payment.refundFailed', at: 0, by: PAYMENTS, cancellationId: 'c', error: 'busy', idempotencyKey: 'order-1/c/1' });
    clock.increment(MINUTE);
    const child = () => cancellationChild(actor.getSnapshot())!;
    expect([child().value, child().context.refundAttempts]).toEqual([{ refunding: 'requesting' }, 2]);
    const before = child().context;
    actor.send({ type: 'payment.refundFailed', at: MINUTE, by: PAYMENTS, cancellationId: 'c', error: 'late', idempotencyKey: 'order-1/c/1' });
    expect(child().value).toEqual({ refunding: 'requesting' });
    expect(child().context).toEqual(before);
    actor.send({ type: 'payment.refundFailed', at: MINUTE, by: PAYMENTS, cancellationId: 'c', error: 'busy', idempotencyKey: 'order-1/c/2' });
    expect([child().value, child().context.lastRefundError]).toEqual([{ refunding: 'backingOff' }, 'busy']);
    actor.stop();
  });
});

describe('D6 rulingRefundRoute ownCancelOrder: the pending ruling', () => {
  it('D6 ownCancelOrder: a refund already under way carries the ruling; once refunded the order waits for no ruling refund', () => {
    const w = world({ deliveredBy: 'MERCHANT', policy: { rulingRefundRoute: 'ownCancelOrder' } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    expect(w.workflow.getSnapshot().context.pendingRulingRefund).toMatchObject({ disputeId: 'd' });
    w.send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'c', paymentRef: 'p-1' });
    expect(w.refundedBy()).toBe('c');
    expect(w.workflow.getSnapshot().context.pendingRulingRefund).toBeNull();
    expect(w.cancelOrderIds()).toEqual(['c']);
  });
});
