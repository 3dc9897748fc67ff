// Typed commands (issue 13), compiled against the published declarations (dist/*.d.ts): `send` and
// `dispatch` take the events' input type, so a wrong payload fails to compile here, in the user's
// project; `sendRaw`, `dispatchRaw` and `openOrderRaw` take JSON nobody has typed. An unused
// `@ts-expect-error` fails tsc too, so each line below proves its error. Compiled, never run.
import type { OrderEventInput, OrderWorkflow, OrderWorkflowInput } from 'jd-dispute-statecharts';
import type { DispatchRequest, OpenOrderRequest, WorkflowRuntime } from 'jd-dispute-statecharts/runtime';

const merchant = { role: 'merchant', id: 'm-1' } as const;
const customer = { role: 'customer', id: 'c-1' } as const;

// What the typed entries take: plain assignability, `at` optional, readonly (`as const`) literals accepted.
export const opened: Parameters<OrderWorkflow['send']>[0] = { type: 'dispute.opened', by: customer, disputeId: 'd-1' };
export const planned: Parameters<WorkflowRuntime['dispatch']>[0] = {
  workflowId: 'o-1',
  commandId: 'cmd-1',
  event: { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H_INTERCEPT' },
};
export const stamped: OrderEventInput = { type: 'order.shipped', at: 1_000, by: { role: 'system', id: 'oms' } };
export const evidencePlan: OrderEventInput = {
  type: 'merchant.planSubmitted',
  by: merchant,
  plan: 'PLATFORM_RULING',
  evidence: {
    reason: 'GOODS_ALREADY_SHIPPED',
    proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'r.jpg', sizeBytes: 1 }],
    explanation: 'The parcel left our warehouse before the cancellation request.',
  },
} as const;
export const sameEvent: DispatchRequest['event'] = opened;
export const openRequest: Parameters<WorkflowRuntime['openOrder']>[0] = {
  input: { orderId: 'o-1', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'JD' },
};
export const workflowInput: OrderWorkflowInput = { orderId: 'o-1', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'MERCHANT' };
// The Raw entries take anything: what came off the network, unparsed.
export const fromNetwork: Parameters<WorkflowRuntime['dispatchRaw']>[0] = JSON.parse('{"event":{"type":"not.an.event"}}') as unknown;
export const rawOpen: Parameters<WorkflowRuntime['openOrderRaw']>[0] = 'anything';
export const rawSend: Parameters<OrderWorkflow['sendRaw']>[0] = 42;

// A parameter type that were `unknown` again would leave every `@ts-expect-error` below unused.
export function wrongPayloads(workflow: OrderWorkflow, runtime: WorkflowRuntime, request: OpenOrderRequest): void {
  // @ts-expect-error: WAIT_48H is not a plan (WAIT_48H_INTERCEPT is)
  workflow.send({ type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H' });
  // @ts-expect-error: no such event type
  workflow.send({ type: 'not.an.event', by: merchant });
  // @ts-expect-error: a dispute needs its id
  workflow.send({ type: 'dispute.opened', by: customer });
  // @ts-expect-error: `admin` is not a role
  workflow.send({ type: 'order.shipped', by: { role: 'admin', id: 'root' } });
  // @ts-expect-error: `at` is epoch milliseconds
  workflow.send({ type: 'order.shipped', by: { role: 'system', id: 'oms' }, at: '2026-12-01' });

  // @ts-expect-error: WAIT_48H is not a plan
  void runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H' } });
  // @ts-expect-error: no such event type
  void runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'not.an.event', by: merchant } });
  // @ts-expect-error: a dispute needs its id
  void runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'dispute.opened', by: customer } });
  // @ts-expect-error: `admin` is not a role
  void runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: { type: 'order.shipped', by: { role: 'admin', id: 'root' } } });
  // @ts-expect-error: an event as loose JSON (a string `type`) is not a typed event: it goes to dispatchRaw
  void runtime.dispatch({ workflowId: 'o-1', commandId: 'c', event: JSON.parse('{}') as Record<string, unknown> });

  // @ts-expect-error: the order input needs who delivers it
  void runtime.openOrder({ input: { orderId: 'o-2', merchantId: 'm-1', customerId: 'c-1' } });

  // the untyped entries compile with anything, and validate at run time
  workflow.sendRaw({ type: 'not.an.event' });
  void runtime.dispatchRaw({ workflowId: 'o-1', commandId: 'c', event: { type: 'merchant.planSubmitted', plan: 'WAIT_48H' } });
  void runtime.openOrderRaw(request);
}
