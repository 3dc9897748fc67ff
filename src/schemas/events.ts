import * as z from 'zod';
import {
  CancellationId,
  ClientId,
  Plan,
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
export const DisputeOpened = z.strictObject({ type: z.literal('dispute.opened'), ...base, disputeId: ClientId });
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
const cancellation = { ...base, cancellationId: CancellationId };

export const CancellationSubmitted = z.strictObject({
  type: z.literal('cancellation.submitted'),
  ...base,
  cancellationId: ClientId,
});
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
  /**
   * INV6: the provider said `succeeded` but its reference was unreadable (empty, too long, not text):
   * money moved, so the success is recorded with what could be kept of the reference, flagged for
   * reconciliation.
   */
  referenceMalformed: z.literal(true).optional(),
  /** The request this success answers (money moved under this key). */
  idempotencyKey: Text.min(1).max(400).optional(),
});
export type RefundSucceeded = z.infer<typeof RefundSucceeded>;

export const RefundFailed = z.strictObject({
  type: z.literal('payment.refundFailed'),
  ...cancellation,
  error: Text.min(1).max(500),
  /**
   * INV1: the request this decline answers (the runtime always names it; a webhook should). A decline
   * of an earlier request, delivered again, is then refused instead of counting for the current one.
   */
  idempotencyKey: Text.min(1).max(400).optional(),
});
export type RefundFailed = z.infer<typeof RefundFailed>;

/**
 * INV6: the platform records the outcome of a refund whose answer never came (after reconciling with
 * the payment provider): it succeeded (with the provider's reference) or it did not.
 */
export const RefundOutcomeRecorded = z
  .strictObject({
    type: z.literal('platform.refundOutcomeRecorded'),
    ...cancellation,
    outcome: z.enum(['succeeded', 'failed']),
    paymentRef: z.string().min(1).max(128).optional(),
    error: z.string().min(1).max(500).optional(),
  })
  .refine((event) => (event.outcome === 'succeeded') === (event.paymentRef !== undefined && event.error === undefined), {
    message: "a 'succeeded' outcome names the paymentRef (and no error); a 'failed' one the error",
    path: ['outcome'],
  });
export type RefundOutcomeRecorded = z.infer<typeof RefundOutcomeRecorded>;

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
  RefundOutcomeRecorded,
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

/** P2: the dispute settled on NEGOTIATED_REJECT while this customer cancel order is pending. */
export const RejectFollowUpRequested = z.strictObject({
  type: z.literal('order.rejectFollowUpRequested'),
  ...base,
  disputeId: ClientId,
});
export type RejectFollowUpRequested = z.infer<typeof RejectFollowUpRequested>;

/** D2: the dispute took a plan (announced to whoever hosts it). */
export const PlanAccepted = z.strictObject({
  type: z.literal('dispute.planAccepted'),
  ...base,
  disputeId: ClientId,
  plan: Plan,
});
export type PlanAccepted = z.infer<typeof PlanAccepted>;

/** D6: the platform ruled (announced to whoever hosts the dispute). */
export const DisputeRuled = z.strictObject({
  type: z.literal('dispute.ruled'),
  ...base,
  disputeId: ClientId,
  ruling: Ruling,
});
export type DisputeRuled = z.infer<typeof DisputeRuled>;

/** What a dispute announces to its host besides effects. */
export type DisputeAnnouncement = PlanAccepted | DisputeRuled;

export type CancellationEvent =
  | CancellationCommandEvent
  | OrderShipped
  | OrderCompleted
  | PlanAdopted
  | RefundOrdered
  | RejectFollowUpRequested;

export { SettlementPlan };
