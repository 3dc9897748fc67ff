import * as z from 'zod';
import {
  CancellationReason,
  CancellationStatus,
  DisputeStatus,
  EntityId,
  Plan,
  RefundTrigger,
  Ruling,
  Sender,
  SettlementPlan,
  Timestamp,
} from './common.js';
import { Evidence } from './evidence.js';
import { Text } from './text.js';

const base = { at: Timestamp, by: Sender };
const Note = Text.max(500);

// Dispute lifecycle (D1–D8)
export const DisputeOpened = z.strictObject({ type: z.literal('dispute.opened'), ...base, disputeId: EntityId });
export type DisputeOpened = z.infer<typeof DisputeOpened>;

export const PlanSubmitted = z.strictObject({
  type: z.literal('merchant.planSubmitted'),
  ...base,
  plan: Plan,
  evidence: Evidence.optional(),
});
export type PlanSubmitted = z.infer<typeof PlanSubmitted>;

export const SettlementConfirmed = z.strictObject({ type: z.literal('customer.settlementConfirmed'), ...base });
export type SettlementConfirmed = z.infer<typeof SettlementConfirmed>;

export const SettlementObjected = z.strictObject({
  type: z.literal('customer.settlementObjected'),
  ...base,
  note: Note.optional(),
});
export type SettlementObjected = z.infer<typeof SettlementObjected>;

export const PlatformRuled = z.strictObject({
  type: z.literal('platform.ruled'),
  ...base,
  ruling: Ruling,
  note: Note.optional(),
});
export type PlatformRuled = z.infer<typeof PlatformRuled>;

export const DisputeWithdrawn = z.strictObject({ type: z.literal('customer.disputeWithdrawn'), ...base });
export type DisputeWithdrawn = z.infer<typeof DisputeWithdrawn>;

// Cancel order lifecycle (C1–C5, P3)
const cancellation = { ...base, cancellationId: EntityId };

export const CancellationSubmitted = z.strictObject({ type: z.literal('cancellation.submitted'), ...cancellation });
export type CancellationSubmitted = z.infer<typeof CancellationSubmitted>;

export const CancellationApproved = z.strictObject({ type: z.literal('merchant.cancellationApproved'), ...cancellation });
export type CancellationApproved = z.infer<typeof CancellationApproved>;

export const CancellationRejected = z.strictObject({
  type: z.literal('merchant.cancellationRejected'),
  ...cancellation,
  note: Note.optional(),
});
export type CancellationRejected = z.infer<typeof CancellationRejected>;

export const RefundForced = z.strictObject({ type: z.literal('merchant.refundForced'), ...cancellation });
export type RefundForced = z.infer<typeof RefundForced>;

export const ClosedWithoutRefund = z.strictObject({ type: z.literal('merchant.closedWithoutRefund'), ...cancellation });
export type ClosedWithoutRefund = z.infer<typeof ClosedWithoutRefund>;

export const CancellationWithdrawn = z.strictObject({ type: z.literal('customer.cancellationWithdrawn'), ...cancellation });
export type CancellationWithdrawn = z.infer<typeof CancellationWithdrawn>;

export const InterceptSucceeded = z.strictObject({ type: z.literal('logistics.interceptSucceeded'), ...cancellation });
export type InterceptSucceeded = z.infer<typeof InterceptSucceeded>;

export const InterceptFailed = z.strictObject({
  type: z.literal('logistics.interceptFailed'),
  ...cancellation,
  note: Note.optional(),
});
export type InterceptFailed = z.infer<typeof InterceptFailed>;

export const RefundSucceeded = z.strictObject({
  type: z.literal('payment.refundSucceeded'),
  ...cancellation,
  paymentRef: Text.min(1).max(128),
});
export type RefundSucceeded = z.infer<typeof RefundSucceeded>;

export const RefundFailed = z.strictObject({
  type: z.literal('payment.refundFailed'),
  ...cancellation,
  error: Text.min(1).max(500),
});
export type RefundFailed = z.infer<typeof RefundFailed>;

// Order facts reported by the host's order system
export const OrderShipped = z.strictObject({ type: z.literal('order.shipped'), ...base });
export type OrderShipped = z.infer<typeof OrderShipped>;

export const OrderCompleted = z.strictObject({ type: z.literal('order.completed'), ...base });
export type OrderCompleted = z.infer<typeof OrderCompleted>;

/** Events the dispute machine handles. */
export const DisputeEvent = z.discriminatedUnion('type', [
  PlanSubmitted,
  SettlementConfirmed,
  SettlementObjected,
  PlatformRuled,
  DisputeWithdrawn,
]);
export type DisputeEvent = z.infer<typeof DisputeEvent>;

/** Events a host sends to one cancel order. */
export const CancellationCommandEvent = z.discriminatedUnion('type', [
  CancellationApproved,
  CancellationRejected,
  RefundForced,
  ClosedWithoutRefund,
  CancellationWithdrawn,
  InterceptSucceeded,
  InterceptFailed,
  RefundSucceeded,
  RefundFailed,
]);
export type CancellationCommandEvent = z.infer<typeof CancellationCommandEvent>;

/** Everything a host may send to an order workflow: the public boundary. */
export const OrderEvent = z.discriminatedUnion('type', [
  DisputeOpened,
  CancellationSubmitted,
  OrderShipped,
  OrderCompleted,
  ...DisputeEvent.options,
  ...CancellationCommandEvent.options,
]);
export type OrderEvent = z.infer<typeof OrderEvent>;
export type OrderEventType = OrderEvent['type'];

export const ORDER_EVENT_TYPES = OrderEvent.options.map((option) => option.shape.type.value) as OrderEventType[];

// Messages between the order machine and its children (sent by the machines, never by a host)
export const PlanAdopted = z.strictObject({
  type: z.literal('order.planAdopted'),
  ...base,
  plan: z.enum(['DIRECT_REFUND', 'WAIT_48H_INTERCEPT']),
});
export type PlanAdopted = z.infer<typeof PlanAdopted>;

export const RefundOrdered = z.strictObject({ type: z.literal('order.refundOrdered'), ...base });
export type RefundOrdered = z.infer<typeof RefundOrdered>;

export const CancellationStatusChanged = z.strictObject({
  type: z.literal('cancellation.statusChanged'),
  at: Timestamp,
  cancellationId: EntityId,
  status: CancellationStatus,
  reason: CancellationReason,
  refundTrigger: RefundTrigger.nullable(),
});
export type CancellationStatusChanged = z.infer<typeof CancellationStatusChanged>;

export const DisputeStatusChanged = z.strictObject({
  type: z.literal('dispute.statusChanged'),
  at: Timestamp,
  disputeId: EntityId,
  status: DisputeStatus,
  plan: Plan.nullable(),
});
export type DisputeStatusChanged = z.infer<typeof DisputeStatusChanged>;

export type CancellationEvent =
  | CancellationCommandEvent
  | OrderShipped
  | OrderCompleted
  | PlanAdopted
  | RefundOrdered;

export { SettlementPlan };
