import { describe, expectTypeOf, it, expect } from 'vitest';
import { createActor, type SimulatedClock, type SnapshotFrom } from 'xstate';
import {
  InvalidTimeError,
  orderMachine,
  type AuditEntry,
  type CancellationOutput,
  type CurrentCancelOrder,
  type OpenDispute,
  type OrderEvent,
  type OrderOutput,
  type OrderSnapshot,
  type OrderWorkflow,
  type PlanSubmitted,
  type WorkflowClock,
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
      'effect.refundRequested' | 'effect.interceptionRequested' | 'effect.notificationRequested' | 'effect.compensationRequested'
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

  it('snapshots expose typed context: identities and the history of finished children, no copied status', () => {
    type Context = SnapshotFrom<typeof orderMachine>['context'];
    expectTypeOf<Context['conflictPolicy']>().toEqualTypeOf<'fail' | 'adopt'>();
    expectTypeOf<Context['cancellation']>().toEqualTypeOf<CurrentCancelOrder | null>();
    expectTypeOf<Context['dispute']>().toEqualTypeOf<OpenDispute | null>();
    expectTypeOf<Context['closedCancelOrders'][number]['status']>().toEqualTypeOf<CancellationOutput['status']>();
    expectTypeOf<Context>().not.toHaveProperty('refundedBy');
    expectTypeOf<CurrentCancelOrder>().not.toHaveProperty('status');
    expect(orderMachine.id).toBe('order');
  });

  it('the in-memory host: a synchronous send, the runtime’s audit rows, a clock with optional timers', () => {
    expectTypeOf<OrderWorkflow['send']>().returns.toEqualTypeOf<OrderSnapshot>();
    expectTypeOf<AuditEntry>().toHaveProperty('role').toEqualTypeOf<string>();
    expectTypeOf<AuditEntry>().toHaveProperty('actorId').toEqualTypeOf<string>();
    expectTypeOf<WorkflowClock['setTimeout']>().toEqualTypeOf<((fn: () => void, timeout: number) => unknown) | undefined>();
    expectTypeOf<SimulatedClock>().toMatchTypeOf<WorkflowClock>();
    expect(new InvalidTimeError(1, 'is late').code).toBe('INVALID_TIME');
  });
});
