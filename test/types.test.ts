import { describe, expectTypeOf, it, expect } from 'vitest';
import { createActor, type SnapshotFrom } from 'xstate';
import {
  orderMachine,
  type CancellationOutput,
  type OrderEvent,
  type OrderOutput,
  type PlanSubmitted,
  type WorkflowEffect,
} from '../src/index.js';

// Checked by `tsc --noEmit` (npm run typecheck, run by CI); the runtime asserts keep vitest honest.
describe('type-level API', () => {
  it('machine events are the zod-inferred union', () => {
    expectTypeOf<PlanSubmitted['plan']>().toEqualTypeOf<
      'DIRECT_REFUND' | 'NEGOTIATED_REJECT' | 'WAIT_48H_INTERCEPT' | 'PLATFORM_RULING'
    >();
    expectTypeOf<Extract<OrderEvent, { type: 'payment.refundSucceeded' }>>().toHaveProperty('paymentRef');
    expectTypeOf<OrderOutput['refundedBy']>().toEqualTypeOf<string | null>();
    expectTypeOf<CancellationOutput['status']>().toEqualTypeOf<'refunded' | 'rejected' | 'withdrawn' | 'closedWithoutRefund'>();
    expectTypeOf<WorkflowEffect['type']>().toEqualTypeOf<
      'effect.refundRequested' | 'effect.interceptionRequested' | 'effect.notificationRequested'
    >();
  });

  it('a wrong event payload does not compile', () => {
    const actor = createActor(orderMachine, {
      input: { orderId: 'o', merchantId: 'm', customerId: 'c', deliveredBy: 'JD', at: 0 },
    });
    const by = { role: 'merchant', id: 'm' } as const;
    const send = (event: OrderEvent) => actor.send(event);
    // @ts-expect-error: not a plan
    const badPlan: OrderEvent = { type: 'merchant.planSubmitted', at: 0, by, plan: 'FREE_MONEY' };
    // @ts-expect-error: `at` is a number of milliseconds
    const badTime: OrderEvent = { type: 'merchant.planSubmitted', at: '2026-11-26', by, plan: 'DIRECT_REFUND' };
    // @ts-expect-error: a refund callback needs its cancel order id
    const missingId: OrderEvent = { type: 'payment.refundSucceeded', at: 0, by, paymentRef: 'p' };
    // @ts-expect-error: unknown event type
    const unknown: OrderEvent = { type: 'merchant.bribed', at: 0, by };
    // @ts-expect-error: the sender is required
    send({ type: 'order.completed', at: 0 });
    // @ts-expect-error: input needs who delivers the order
    createActor(orderMachine, { input: { orderId: 'o', merchantId: 'm', customerId: 'c', at: 0 } });
    expect([badPlan, badTime, missingId, unknown]).toHaveLength(4);
  });

  it('snapshots expose typed context', () => {
    expectTypeOf<SnapshotFrom<typeof orderMachine>['context']['refundedBy']>().toEqualTypeOf<string | null>();
    expectTypeOf<SnapshotFrom<typeof orderMachine>['context']['conflictPolicy']>().toEqualTypeOf<'fail' | 'adopt'>();
    expect(orderMachine.id).toBe('order');
  });
});
