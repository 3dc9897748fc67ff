import { describe, expectTypeOf, it, expect } from 'vitest';
import { createActor, SimulatedClock, type SnapshotFrom } from 'xstate';
import {
  createOrderWorkflow,
  InvalidPayloadError,
  InvalidTimeError,
  orderMachine,
  type OrderEventInput,
  type OrderEventType,
  type OrderWorkflowInput,
  type Plan,
  type Role,
  type Sender,
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
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type DispatchRequest,
  type OpenOrderRequest,
  type WorkflowRuntime,
} from '../src/runtime/index.js';

// Checked by `tsc --noEmit` (npm run typecheck, run by CI); the runtime asserts keep vitest honest.
describe('type-level API', () => {
  it('machine events are the zod-inferred union', () => {
    expectTypeOf<PlanSubmitted['plan']>().toEqualTypeOf<'DIRECT_REFUND' | 'NEGOTIATED_REJECT' | 'WAIT_48H_INTERCEPT' | 'PLATFORM_RULING'>();
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

// Issue 13: `send` and `dispatch` take the events' input type; `sendRaw`, `dispatchRaw` and `openOrderRaw`
// take JSON nobody has typed. Both go through one validation, so a payload the types refuse is refused
// at run time too, with the same typed error. The consumer check repeats this against dist/.
describe('typed commands', () => {
  const merchant = { role: 'merchant', id: 'merchant-1' } as const;
  const customer = { role: 'customer', id: 'customer-1' } as const;
  const input = { orderId: 'order-1', merchantId: merchant.id, customerId: customer.id, deliveredBy: 'MERCHANT' } as const;

  it('the command signatures: typed entries take the input types, Raw entries take unknown', () => {
    expectTypeOf<OrderWorkflow['send']>().parameters.toEqualTypeOf<[event: OrderEventInput]>();
    expectTypeOf<OrderWorkflow['sendRaw']>().parameters.toEqualTypeOf<[raw: unknown]>();
    expectTypeOf<OrderWorkflow['sendRaw']>().returns.toEqualTypeOf<OrderSnapshot>();
    expectTypeOf<WorkflowRuntime['dispatch']>().parameters.toEqualTypeOf<[request: DispatchRequest]>();
    expectTypeOf<DispatchRequest['event']>().toEqualTypeOf<OrderEventInput>();
    expectTypeOf<WorkflowRuntime['dispatchRaw']>().parameters.toEqualTypeOf<[request: unknown]>();
    expectTypeOf<WorkflowRuntime['openOrder']>().parameters.toEqualTypeOf<[request: OpenOrderRequest]>();
    expectTypeOf<WorkflowRuntime['openOrderRaw']>().parameters.toEqualTypeOf<[request: unknown]>();
    expectTypeOf<WorkflowRuntime['dispatchRaw']>().returns.toEqualTypeOf<ReturnType<WorkflowRuntime['dispatch']>>();
    expectTypeOf<Parameters<typeof createOrderWorkflow>[0]>().toEqualTypeOf<OrderWorkflowInput>();
    expect(createWorkflowRuntime).toBeTypeOf('function');
  });

  it('OrderEventInput is the zod input union: `at` optional, one member per event type, readonly arrays accepted', () => {
    expectTypeOf<OrderEventInput['type']>().toEqualTypeOf<OrderEventType>();
    expectTypeOf<Extract<OrderEventInput, { type: 'merchant.planSubmitted' }>['plan']>().toEqualTypeOf<Plan>();
    expectTypeOf<Extract<OrderEventInput, { type: 'order.shipped' }>['at']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Extract<OrderEventInput, { type: 'dispute.opened' }>['by']['role']>().toEqualTypeOf<Role>();
    // every parsed event is a valid input (a stored event can be sent again)
    expectTypeOf<OrderEvent>().toExtend<OrderEventInput>();
    expectTypeOf({ type: 'order.shipped', by: { role: 'system', id: 'oms' } } as const).toExtend<OrderEventInput>();
    const evidence = {
      reason: 'GOODS_ALREADY_SHIPPED',
      proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'r.jpg', sizeBytes: 1 }],
      explanation: 'The parcel left our warehouse before the cancellation request.',
    } as const;
    expectTypeOf({ type: 'merchant.planSubmitted', by: merchant, plan: 'PLATFORM_RULING', evidence } as const).toExtend<OrderEventInput>();
    expectTypeOf<{ type: 'order.shipped'; by: Sender; at: string }>().not.toExtend<OrderEventInput>();
    expectTypeOf<Record<string, unknown>>().not.toExtend<OrderEventInput>();
  });

  it('INV4: a wrong payload does not compile for send, and sent anyway it is refused with InvalidPayloadError', () => {
    const workflow = createOrderWorkflow({ ...input, at: 0 }, { clock: new SimulatedClock() });
    // @ts-expect-error: WAIT_48H is not a plan (WAIT_48H_INTERCEPT is)
    expect(() => workflow.send({ type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H' })).toThrow(InvalidPayloadError);
    // @ts-expect-error: no such event type
    expect(() => workflow.send({ type: 'not.an.event', by: merchant })).toThrow(InvalidPayloadError);
    // @ts-expect-error: a dispute needs its id
    expect(() => workflow.send({ type: 'dispute.opened', by: customer })).toThrow(InvalidPayloadError);
    // @ts-expect-error: `admin` is not a role
    expect(() => workflow.send({ type: 'order.shipped', by: { role: 'admin', id: 'root' } })).toThrow(InvalidPayloadError);
    // @ts-expect-error: `at` is epoch milliseconds
    expect(() => workflow.send({ type: 'order.shipped', by: { role: 'system', id: 'oms' }, at: '2026-12-01' })).toThrow(InvalidPayloadError);
    // @ts-expect-error: an extra field (an amount) on an approval
    expect(() => workflow.send({ type: 'merchant.cancellationApproved', by: merchant, cancellationId: 'c-1', amount: 1 })).toThrow(
      InvalidPayloadError,
    );
    // the same JSON through the untyped entry: compiles, refused alike
    expect(() =>
      workflow.sendRaw(JSON.parse('{"type":"merchant.planSubmitted","by":{"role":"merchant","id":"merchant-1"},"plan":"WAIT_48H"}')),
    ).toThrow(InvalidPayloadError);
    expect(workflow.version).toBe(1);
    // typed and accepted
    workflow.send({ type: 'dispute.opened', by: customer, disputeId: 'd-1' });
    workflow.send({ type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H_INTERCEPT' });
    expect(workflow.disputes()).toMatchObject([{ disputeId: 'd-1', plan: 'WAIT_48H_INTERCEPT' }]);
    workflow.stop();
  });

  it('INV4: a wrong payload does not compile for dispatch, and sent anyway it is refused with InvalidPayloadError', async () => {
    const runtime = createWorkflowRuntime({
      store: createMemoryStore(),
      clock: { now: () => 0 },
      payments: createSandboxPayments(),
      logistics: createSandboxLogistics(),
    });
    await runtime.openOrder({ input });
    const request = { workflowId: 'order-1', commandId: 'c-1' };
    // @ts-expect-error: WAIT_48H is not a plan
    await expect(runtime.dispatch({ ...request, event: { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H' } })).rejects.toThrow(
      InvalidPayloadError,
    );
    // @ts-expect-error: no such event type
    await expect(runtime.dispatch({ ...request, event: { type: 'not.an.event', by: merchant } })).rejects.toThrow(InvalidPayloadError);
    // @ts-expect-error: a dispute needs its id
    await expect(runtime.dispatch({ ...request, event: { type: 'dispute.opened', by: customer } })).rejects.toThrow(InvalidPayloadError);
    // @ts-expect-error: `admin` is not a role
    await expect(runtime.dispatch({ ...request, event: { type: 'order.shipped', by: { role: 'admin', id: 'root' } } })).rejects.toThrow(
      InvalidPayloadError,
    );
    await expect(
      // @ts-expect-error: the request needs its command id
      runtime.dispatch({ workflowId: 'order-1', event: { type: 'order.shipped', by: { role: 'system', id: 'oms' } } }),
    ).rejects.toThrow(InvalidPayloadError);
    // @ts-expect-error: the order input needs who delivers it
    await expect(runtime.openOrder({ input: { orderId: 'order-2', merchantId: 'm', customerId: 'c' } })).rejects.toThrow(InvalidPayloadError);
    // the same JSON through the untyped entries: compiles, refused alike
    await expect(runtime.dispatchRaw(JSON.parse('{"workflowId":"order-1","commandId":"c-1","event":{"type":"not.an.event"}}'))).rejects.toThrow(
      InvalidPayloadError,
    );
    await expect(runtime.openOrderRaw({ input: { orderId: 'order-2' } })).rejects.toThrow(InvalidPayloadError);
    // typed and accepted: `at` is stamped from the clock
    const opened = await runtime.dispatch({ ...request, event: { type: 'dispute.opened', by: customer, disputeId: 'd-1' } });
    expect(opened).toMatchObject({ version: 2, event: { type: 'dispute.opened', at: 0 } });
    await runtime.close();
  });
});
