import { SimulatedClock } from 'xstate';
import type { CancellationStatus, Plan, Sender } from '../../src/schemas/common.js';
import type { OrderEventInput } from '../../src/schemas/events.js';
import type { OrderInput } from '../../src/schemas/inputs.js';
import type { CancellationContext } from '../../machines/cancellation.js';
import type { DisputeContext } from '../../machines/dispute.js';
import { refundedBy, type ClosedCancelOrder, type ClosedDispute } from '../../machines/order.js';
import { cancellationChild, disputeChild } from '../../src/queries.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';

export const HOUR = 3_600_000;
export const ORDER = 'order-1';
export const MERCHANT: Sender = { role: 'merchant', id: 'merchant-1' };
export const CUSTOMER: Sender = { role: 'customer', id: 'customer-1' };
export const PLATFORM: Sender = { role: 'platform', id: 'cs-1' };
export const SYSTEM: Sender = { role: 'system', id: 'order-system' };
export const PAYMENTS: Sender = { role: 'system', id: 'payments' };
export const LOGISTICS: Sender = { role: 'system', id: 'jd-logistics' };

export const VALID_EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1.jpg', sizeBytes: 120_000 }],
  explanation: 'The parcel left our warehouse before the cancellation request.',
} as const;

/** A1: new evidence the merchant did not give with its evidence plan (VALID_EVIDENCE). */
export const MERCHANT_APPEAL_EVIDENCE = {
  reason: 'GOODS_ALREADY_DELIVERED',
  proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1.jpg', sizeBytes: 90_000 }],
  explanation: 'The customer signed for the parcel the day before the cancellation.',
} as const;

/** A1: an appeal by the customer, with a reason the catalogue lists for the customer. */
export const CUSTOMER_APPEAL_EVIDENCE = {
  reason: 'MERCHANT_AGREED_TO_CANCEL',
  proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat-7.png', sizeBytes: 40_000 }],
  explanation: 'The shop agreed in chat to cancel the order before it was shipped.',
} as const;

/** One order hosted in memory on a simulated clock; events are stamped with the clock's time. */
export interface World {
  workflow: OrderWorkflow;
  clock: SimulatedClock;
  send(event: OrderEventInput): ReturnType<OrderWorkflow['send']>;
  /** `send` through `sendRaw`: for events the types refuse (hostile or malformed input). */
  sendRaw(event: Record<string, unknown>): ReturnType<OrderWorkflow['send']>;
  advance(ms: number): void;
  /** Status of a cancel order by id. */
  cancellation(id: string): CancellationStatus | undefined;
  /** Value of the open (or last) dispute. */
  disputeState(): unknown;
  refundRequests(): Array<{ cancellationId: string; attempt: number }>;
  cancelOrderIds(): string[];
  openDisputeId(): string | null;
  /** The open dispute's context (its child actor). */
  disputeContext(): DisputeContext | undefined;
  /** A finished dispute's output, from the order's history. */
  closedDispute(id: string): ClosedDispute | undefined;
  /** The context of the cancel order in flight (its child actor). */
  cancellationContext(): CancellationContext | undefined;
  closedCancelOrder(id: string): ClosedCancelOrder | undefined;
  refundedBy(): string | null;
}

export function world(input: Partial<OrderInput> = {}): World {
  const clock = new SimulatedClock();
  const workflow = createOrderWorkflow(
    { orderId: ORDER, merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT', at: 0, ...input },
    { clock },
  );
  return {
    workflow,
    clock,
    send: (event) => workflow.send({ at: clock.now(), ...event }),
    sendRaw: (event) => workflow.sendRaw({ at: clock.now(), ...event }),
    advance: (ms) => clock.increment(ms),
    cancellation: (id) => workflow.cancelOrders().find((order) => order.cancellationId === id)?.status,
    disputeState: () => {
      const live = disputeChild(workflow.getSnapshot());
      return live ? live.value : workflow.getSnapshot().context.closedDisputes.at(-1)?.status;
    },
    refundRequests: () =>
      workflow.effects
        .filter((effect) => effect.type === 'effect.refundRequested')
        .map((effect) => ({ cancellationId: effect.cancellationId, attempt: effect.attempt })),
    cancelOrderIds: () => workflow.cancelOrders().map((order) => order.cancellationId),
    openDisputeId: () => workflow.getSnapshot().context.dispute?.disputeId ?? null,
    disputeContext: () => disputeChild(workflow.getSnapshot())?.context,
    closedDispute: (id) => workflow.getSnapshot().context.closedDisputes.find((dispute) => dispute.disputeId === id),
    cancellationContext: () => cancellationChild(workflow.getSnapshot())?.context,
    closedCancelOrder: (id) => workflow.getSnapshot().context.closedCancelOrders.find((order) => order.cancellationId === id),
    refundedBy: () => refundedBy(workflow.getSnapshot().context)?.cancellationId ?? null,
  };
}

export const openDispute = (w: World, disputeId = 'dispute-1') => w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId });

export const submitPlan = (w: World, plan: Plan, extra: Pick<Extract<OrderEventInput, { type: 'merchant.planSubmitted' }>, 'evidence'> = {}) =>
  w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan, ...extra });

export const refundSucceeded = (w: World, cancellationId: string, paymentRef = 'pay-1') =>
  w.send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef });

export const refundFailed = (w: World, cancellationId: string, error = 'gateway timeout') =>
  w.send({ type: 'payment.refundFailed', by: PAYMENTS, cancellationId, error });

export const DIRECT_REFUND_ID = 'dispute-1:direct-refund';
export const INTERCEPT_ID = 'dispute-1:intercept-48h';
export const RULING_REFUND_ID = 'dispute-1:ruling-refund';
