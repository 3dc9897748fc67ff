/**
 * The order machine on its own (orderMachine, machines/order.ts), where the boundary (src/commands.ts)
 * would refuse first: what the machine itself does with an event for a dispute that is not open, and A4
 * under D1 several, where the overturn is forwarded with where the customer's refund stands.
 */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import {
  type ClosedCancelOrder,
  type CurrentCancelOrder,
  customerRefundOf,
  isAdoptable,
  type OrderContext,
  orderMachine,
  planConflict,
} from '../../machines/order.js';
import {
  CUSTOMER,
  HOUR,
  MERCHANT,
  MERCHANT_APPEAL_EVIDENCE,
  PAYMENTS,
  PLATFORM,
  refundSucceeded,
  VALID_EVIDENCE,
  world,
} from '../support/world.js';

const SEVERAL_INPUT = {
  orderId: 'order-1',
  merchantId: MERCHANT.id,
  customerId: CUSTOMER.id,
  deliveredBy: 'MERCHANT' as const,
  at: 0,
  policy: { disputesPerOrder: 'several' as const },
};

describe('the order machine without the boundary', () => {
  it('D1 (disputesPerOrder several): an event naming a dispute that is not open is not taken; the open one is unchanged', () => {
    const actor = createActor(orderMachine, { input: SEVERAL_INPUT, clock: new SimulatedClock() }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'a' });
    const before = actor.getSnapshot();
    actor.send({ type: 'merchant.planSubmitted', at: 1, by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'nope' });
    const after = actor.getSnapshot();
    expect(after.status).toBe('active');
    expect(after.context).toEqual(before.context);
    expect((after.children as Record<string, { getSnapshot(): { value: unknown } }>)['dispute:a']!.getSnapshot().value).toBe(
      'awaitingMerchantChoice',
    );
  });
});

describe('A4 under D1 several (appeals on)', () => {
  const severalWithAppeals = () => {
    const w = world({ policy: { disputesPerOrder: 'several', appeals: 'on' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId: 'a' });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'a' });
    return w;
  };
  const status = (w: ReturnType<typeof world>, disputeId: string) => w.workflow.disputes().find((d) => d.disputeId === disputeId)?.status;

  it("A4/D1 (disputesPerOrder several): the merchant's win after the refund compensates it, naming the cancel order that refunded", () => {
    const w = severalWithAppeals();
    refundSucceeded(w, 'a:ruling-refund');
    w.advance(HOUR);
    w.send({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId: 'a' });
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    expect(status(w, 'a')).toBe('compensating');
    expect(status(w, 'b')).toBe('awaitingMerchantChoice');
    expect(w.workflow.effects.filter((effect) => effect.type === 'effect.compensationRequested')).toEqual([
      expect.objectContaining({ disputeId: 'a', refundedBy: 'a:ruling-refund', idempotencyKey: 'order-1/a/compensation' }),
    ]);
    w.send({
      type: 'payment.compensationSucceeded',
      by: PAYMENTS,
      disputeId: 'a',
      idempotencyKey: 'order-1/a/compensation',
      paymentRef: 'comp-1',
    });
    expect(status(w, 'a')).toBe('resolved');
  });

  it("A4/INV1 (disputesPerOrder several): before the refund the merchant's win is not taken; the dispute stays under appeal", () => {
    const w = severalWithAppeals();
    w.send({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId: 'a' });
    expect(() => w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' })).toThrow(/A4\/INV1/);
    expect(status(w, 'a')).toBe('underAppeal');
    expect(w.workflow.effects.filter((effect) => effect.type === 'effect.compensationRequested')).toEqual([]);
  });
});

describe("the order's exported reads of its context (the boundary's refusals use them)", () => {
  const context = (extra: Partial<OrderContext> = {}): OrderContext => ({
    ...createActor(orderMachine, { input: SEVERAL_INPUT }).getSnapshot().context,
    conflictPolicy: 'adopt',
    ...extra,
  });
  const inFlight = (origin: CurrentCancelOrder['origin']): CurrentCancelOrder => ({
    cancellationId: 'c',
    origin,
    reason: 'CUSTOMER_REQUEST',
    start: { state: 'pendingReview' },
    createdBy: CUSTOMER,
    createdAt: 0,
  });
  const refunded: ClosedCancelOrder = {
    cancellationId: 'r',
    orderId: 'order-1',
    status: 'refunded',
    reason: 'CUSTOMER_REQUEST',
    refunded: true,
    refundTrigger: null,
    paymentRef: 'p',
    origin: 'customer',
    createdAt: 0,
  };

  it('X1/INV1: planConflict names the refunded cancel order, else the one in flight with its origin, else none', () => {
    expect(planConflict(context({ closedCancelOrders: [refunded], cancellation: inFlight('customer') }), 'DIRECT_REFUND')).toEqual({
      kind: 'refunded',
      cancellationId: 'r',
    });
    expect(planConflict(context({ cancellation: inFlight('dispute') }), 'WAIT_48H_INTERCEPT')).toEqual({
      kind: 'inFlight',
      cancellationId: 'c',
      origin: 'dispute',
    });
    expect(planConflict(context(), 'DIRECT_REFUND')).toBeNull();
    expect(planConflict(context({ closedCancelOrders: [refunded] }), 'NEGOTIATED_REJECT')).toBeNull();
  });

  it("X1 adopt: only a refund plan, only under adopt, only onto the customer's own cancel order in flight", () => {
    expect(isAdoptable(context({ cancellation: inFlight('customer') }), 'DIRECT_REFUND')).toBe(true);
    expect(isAdoptable(context({ cancellation: inFlight('customer') }), 'WAIT_48H_INTERCEPT')).toBe(true);
    expect(isAdoptable(context({ cancellation: inFlight('customer') }), 'NEGOTIATED_REJECT')).toBe(false);
    expect(isAdoptable(context({ cancellation: inFlight('customer'), conflictPolicy: 'fail' }), 'DIRECT_REFUND')).toBe(false);
    expect(isAdoptable(context({ cancellation: inFlight('dispute') }), 'DIRECT_REFUND')).toBe(false);
    expect(isAdoptable(context({ cancellation: inFlight('platform') }), 'DIRECT_REFUND')).toBe(false);
    expect(isAdoptable(context(), 'DIRECT_REFUND')).toBe(false);
  });

  it('A4/INV1: customerRefundOf says whether the order is refunded, a cancel order is in flight, or neither', () => {
    const w = world({ policy: { appeals: 'on' } });
    expect(customerRefundOf(w.workflow.getSnapshot())).toBe('none');
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    expect(customerRefundOf(w.workflow.getSnapshot())).toBe('inFlight');
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    refundSucceeded(w, 'c');
    expect(customerRefundOf(w.workflow.getSnapshot())).toBe('refunded');
  });
});

describe('X1/INV1 under D1 several, in the order machine itself', () => {
  const twoOpen = (conflictPolicy: 'fail' | 'adopt' = 'fail') => {
    const actor = createActor(orderMachine, { input: { ...SEVERAL_INPUT, conflictPolicy }, clock: new SimulatedClock() }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'a' });
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'b' });
    return actor;
  };
  const disputeState = (actor: ReturnType<typeof twoOpen>, id: string) =>
    (actor.getSnapshot().children as Record<string, { getSnapshot(): { value: unknown } }>)[`dispute:${id}`]!.getSnapshot().value;
  const plan = (actor: ReturnType<typeof twoOpen>, disputeId: string, p: 'DIRECT_REFUND' | 'NEGOTIATED_REJECT') =>
    actor.send({ type: 'merchant.planSubmitted', at: 1, by: MERCHANT, plan: p, disputeId });

  it("X1/INV1 (disputesPerOrder several): a refund plan while another dispute's cancel order is in flight is not taken; other plans are", () => {
    const actor = twoOpen();
    plan(actor, 'a', 'DIRECT_REFUND');
    expect(actor.getSnapshot().context.cancellation?.cancellationId).toBe('a:direct-refund');
    plan(actor, 'b', 'DIRECT_REFUND');
    expect(disputeState(actor, 'b')).toBe('awaitingMerchantChoice');
    expect(actor.getSnapshot().context.cancellation?.cancellationId).toBe('a:direct-refund');
    plan(actor, 'b', 'NEGOTIATED_REJECT');
    expect(disputeState(actor, 'b')).toBe('awaitingCustomerConfirmation');
    actor.send({ type: 'customer.settlementConfirmed', at: 2, by: CUSTOMER, disputeId: 'b' });
    expect(actor.getSnapshot().context.closedDisputes.map((d) => [d.disputeId, d.status])).toEqual([['b', 'resolved']]);
  });

  it("X1 adopt (disputesPerOrder several): a refund plan goes onto the customer's own cancel order in flight", () => {
    const actor = twoOpen('adopt');
    actor.send({ type: 'cancellation.submitted', at: 1, by: CUSTOMER, cancellationId: 'c' });
    plan(actor, 'a', 'DIRECT_REFUND');
    expect(disputeState(actor, 'a')).toBe('awaitingCustomerConfirmation');
    expect(actor.getSnapshot().context.cancellation?.cancellationId).toBe('c');
  });
});

describe('D6 ownCancelOrder in the order machine itself', () => {
  it("D6 (rulingRefundRoute ownCancelOrder): the ruling's own cancel order is created at the order's time, never before it (a back-dated ruling)", () => {
    const input = { ...SEVERAL_INPUT, policy: { rulingRefundRoute: 'ownCancelOrder' as const } };
    const actor = createActor(orderMachine, { input, clock: new SimulatedClock() }).start();
    actor.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c' });
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    actor.send({
      type: 'merchant.planSubmitted',
      at: 0,
      by: MERCHANT,
      plan: 'PLATFORM_RULING',
      evidence: { ...VALID_EVIDENCE, proofs: [...VALID_EVIDENCE.proofs] },
    });
    actor.send({ type: 'order.shipped', at: 5 * HOUR, by: MERCHANT });
    actor.send({ type: 'platform.ruled', at: HOUR, by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    const { context } = actor.getSnapshot();
    expect(context.closedCancelOrders.map((order) => [order.cancellationId, order.status, order.createdAt])).toEqual([
      ['c', 'closedWithoutRefund', 0],
    ]);
    expect(context.cancellation).toMatchObject({ cancellationId: 'd:ruling-refund', origin: 'platform', createdAt: 5 * HOUR });
  });
});

describe('C2/INV4 in the order machine itself', () => {
  it('C2: an event naming another cancel order than the one in flight is not forwarded to it', () => {
    const input = { ...SEVERAL_INPUT, policy: {} };
    const actor = createActor(orderMachine, { input, clock: new SimulatedClock() }).start();
    actor.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c' });
    const cancellation = () =>
      (actor.getSnapshot().children as Record<string, { getSnapshot(): { value: unknown } }>).cancellation!.getSnapshot().value;
    actor.send({ type: 'merchant.cancellationApproved', at: 1, by: MERCHANT, cancellationId: 'other' });
    expect(cancellation()).toBe('pendingReview');
    expect(actor.getSnapshot().context.now).toBe(0);
    actor.send({ type: 'merchant.cancellationApproved', at: 1, by: MERCHANT, cancellationId: 'c' });
    expect(cancellation()).toEqual({ refunding: 'requesting' });
    expect(actor.getSnapshot().context.now).toBe(1);
  });
});

describe('C4/INV6: a decline after the outcome was unknown', () => {
  it('INV6/C4: a decline that reaches 退款结果待确认 with no attempt left records its error on refundFailed', () => {
    const w = world({ timers: { refundMaxAttempts: 1 } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    w.advance(24 * HOUR);
    expect(w.cancellation('c')).toBe('refundOutcomeUnknown');
    w.send({ type: 'payment.refundFailed', by: PAYMENTS, cancellationId: 'c', error: 'late decline' });
    expect(w.cancellation('c')).toBe('refundFailed');
    expect(w.cancellationContext()?.lastRefundError).toBe('late decline');
  });
});
