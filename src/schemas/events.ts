import * as z from 'zod';
import { CancellationId, ClientId, Plan, Ruling, Sender, SettlementPlan, Timestamp } from './common.js';
import { Evidence } from './evidence.js';
import { Text } from './text.js';

const base = { at: Timestamp, by: Sender };
/**
 * D1: the dispute an event is for. Optional: left out, the event goes to the only open dispute; with
 * several open (disputesPerOrder several) it must name one of them.
 */
const toDispute = { ...base, disputeId: ClientId.optional() };
const Note = Text.max(500);

// Dispute lifecycle (D1–D8)
/** D1: the customer opens a dispute about the order. */
export const DisputeOpened = z.strictObject({ type: z.literal('dispute.opened'), ...base, disputeId: ClientId });
export type DisputeOpened = z.infer<typeof DisputeOpened>;

/** D2: the merchant chooses a plan (with evidence for a platform ruling, D4). */
export const PlanSubmitted = z.strictObject({
  type: z.literal('merchant.planSubmitted'),
  ...toDispute,
  plan: Plan,
  evidence: Evidence.optional(),
});
export type PlanSubmitted = z.infer<typeof PlanSubmitted>;

/** D5: the customer accepts the merchant's settlement plan. */
export const SettlementConfirmed = z.strictObject({ type: z.literal('customer.settlementConfirmed'), ...toDispute });
export type SettlementConfirmed = z.infer<typeof SettlementConfirmed>;

/** D5: the customer objects to the settlement plan; the dispute goes to the platform. */
export const SettlementObjected = z.strictObject({
  type: z.literal('customer.settlementObjected'),
  ...toDispute,
  note: Note.optional(),
});
export type SettlementObjected = z.infer<typeof SettlementObjected>;

/** D6: the platform rules on the dispute. */
export const PlatformRuled = z.strictObject({
  type: z.literal('platform.ruled'),
  ...toDispute,
  ruling: Ruling,
  note: Note.optional(),
});
export type PlatformRuled = z.infer<typeof PlatformRuled>;

/** D8: the customer withdraws the dispute. */
export const DisputeWithdrawn = z.strictObject({ type: z.literal('customer.disputeWithdrawn'), ...toDispute });
export type DisputeWithdrawn = z.infer<typeof DisputeWithdrawn>;

// Appeals (A1–A4, with `policy.appeals: 'on'`)
/** A1: the merchant appeals a MERCHANT_LIABLE ruling within the appeal window, with new evidence. */
export const MerchantAppealed = z.strictObject({ type: z.literal('merchant.rulingAppealed'), ...toDispute, evidence: Evidence });
export type MerchantAppealed = z.infer<typeof MerchantAppealed>;

/** A1: the customer appeals a MERCHANT_NOT_LIABLE ruling within the appeal window, with new evidence. */
export const CustomerAppealed = z.strictObject({ type: z.literal('customer.rulingAppealed'), ...toDispute, evidence: Evidence });
export type CustomerAppealed = z.infer<typeof CustomerAppealed>;

/** A2: the platform upholds the ruling under appeal; it stands. */
export const AppealUpheld = z.strictObject({ type: z.literal('platform.appealUpheld'), ...toDispute, note: Note.optional() });
export type AppealUpheld = z.infer<typeof AppealUpheld>;

/** A3/A4: the platform overturns the ruling under appeal in the appellant's favour. */
export const AppealOverturned = z.strictObject({ type: z.literal('platform.appealOverturned'), ...toDispute, note: Note.optional() });
export type AppealOverturned = z.infer<typeof AppealOverturned>;

const compensation = { ...base, disputeId: ClientId, idempotencyKey: Text.min(1).max(400) };

/** A4: the payment service compensated the merchant under this key (money moved). */
export const CompensationSucceeded = z.strictObject({
  type: z.literal('payment.compensationSucceeded'),
  ...compensation,
  paymentRef: Text.min(1).max(128),
  /** As for refunds: money moved but the reference was unreadable; kept truncated and flagged. */
  referenceMalformed: z.literal(true).optional(),
});
export type CompensationSucceeded = z.infer<typeof CompensationSucceeded>;

/** A4: the payment service declined the compensation under this key. */
export const CompensationFailed = z.strictObject({
  type: z.literal('payment.compensationFailed'),
  ...compensation,
  error: Text.min(1).max(500),
});
export type CompensationFailed = z.infer<typeof CompensationFailed>;

// Cancel order lifecycle (C1–C5, P3)
const cancellation = { ...base, cancellationId: CancellationId };

/** C1: the customer submits a cancel order of their own. */
export const CancellationSubmitted = z.strictObject({
  type: z.literal('cancellation.submitted'),
  ...base,
  cancellationId: ClientId,
});
export type CancellationSubmitted = z.infer<typeof CancellationSubmitted>;

/** C2/P3c: the merchant approves a cancel order. */
export const CancellationApproved = z.strictObject({ type: z.literal('merchant.cancellationApproved'), ...cancellation });
export type CancellationApproved = z.infer<typeof CancellationApproved>;

/** C2: the merchant rejects a pending cancel order. */
export const CancellationRejected = z.strictObject({
  type: z.literal('merchant.cancellationRejected'),
  ...cancellation,
  note: Note.optional(),
});
export type CancellationRejected = z.infer<typeof CancellationRejected>;

/** P3c: the merchant refunds within the 48H interception window. */
export const RefundForced = z.strictObject({ type: z.literal('merchant.refundForced'), ...cancellation });
export type RefundForced = z.infer<typeof RefundForced>;

/** P3e: the merchant closes a cancel order whose interception failed, without refund. */
export const ClosedWithoutRefund = z.strictObject({ type: z.literal('merchant.closedWithoutRefund'), ...cancellation });
export type ClosedWithoutRefund = z.infer<typeof ClosedWithoutRefund>;

/** C5: the customer withdraws a cancel order still pending review. */
export const CancellationWithdrawn = z.strictObject({ type: z.literal('customer.cancellationWithdrawn'), ...cancellation });
export type CancellationWithdrawn = z.infer<typeof CancellationWithdrawn>;

/** P3b: JD logistics reports that the parcel was intercepted. */
export const InterceptSucceeded = z.strictObject({ type: z.literal('logistics.interceptSucceeded'), ...cancellation });
export type InterceptSucceeded = z.infer<typeof InterceptSucceeded>;

/** P3e: JD logistics reports that the interception failed. */
export const InterceptFailed = z.strictObject({
  type: z.literal('logistics.interceptFailed'),
  ...cancellation,
  note: Note.optional(),
});
export type InterceptFailed = z.infer<typeof InterceptFailed>;

/** C4: the payment service reports a refund done (names the request it answers, INV1). */
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

/** C4: the payment service reports a refund declined or failed. */
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
/** The order was shipped (a fact of the order that plans depend on). */
export const OrderShipped = z.strictObject({ type: z.literal('order.shipped'), ...base });
export type OrderShipped = z.infer<typeof OrderShipped>;

/** The order was completed (received), which P3d checks at the end of the 48H. */
export const OrderCompleted = z.strictObject({ type: z.literal('order.completed'), ...base });
export type OrderCompleted = z.infer<typeof OrderCompleted>;

/** Events the dispute machine handles. */
export const DisputeEvent = z.discriminatedUnion('type', [
  PlanSubmitted,
  SettlementConfirmed,
  SettlementObjected,
  PlatformRuled,
  DisputeWithdrawn,
  MerchantAppealed,
  CustomerAppealed,
  AppealUpheld,
  AppealOverturned,
  CompensationSucceeded,
  CompensationFailed,
]);
export type DisputeEvent = z.infer<typeof DisputeEvent>;

/**
 * A4: where the customer's refund stands when an appeal is overturned, as the order tells its dispute
 * (it forwards `platform.appealOverturned` with it): `refunded` (by `refundedBy`), refunded and
 * `compensated` already (D1 several: another dispute's overturn compensated the order's one refund), a
 * refund `inFlight` (a cancel order is open), or `none`.
 */
export type CustomerRefundStanding = 'none' | 'inFlight' | 'refunded' | 'compensated';
export type AppealOverturnedForwarded = AppealOverturned & {
  customerRefund?: CustomerRefundStanding;
  refundedBy?: string | null;
};

/** What the dispute machine receives: its events, the overturn as the order forwards it. */
export type DisputeMachineEvent = Exclude<DisputeEvent, AppealOverturned> | AppealOverturnedForwarded;

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
/** The `type` of every event the order accepts. */
export type OrderEventType = OrderEvent['type'];

/**
 * What a caller hands to `send`/`dispatch`: an event as its schema reads it, `at` optional (the host
 * stamps it from its clock; a caller's `at` is held to the time rules). Input of unknown shape (JSON
 * from a network) goes to `sendRaw`/`dispatchRaw`, which validate the same way.
 */
export type OrderEventInput = WithOptionalAt<z.input<typeof OrderEvent>>;
type WithOptionalAt<E> = E extends unknown ? Omit<ReadonlyArrays<E>, 'at'> & { at?: Timestamp } : never;
/** Arrays may be readonly: an `as const` literal is accepted (the host never changes what it is given). */
type ReadonlyArrays<T> = T extends readonly (infer U)[]
  ? readonly ReadonlyArrays<U>[]
  : T extends object
    ? { [K in keyof T]: ReadonlyArrays<T[K]> }
    : T;

/** Every event type the order accepts, in schema order. */
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

/** Every event a cancel order handles: client commands and the order's own (plan adoption, refund orders, follow-ups). */
export type CancellationEvent = CancellationCommandEvent | OrderShipped | OrderCompleted | PlanAdopted | RefundOrdered | RejectFollowUpRequested;

export { SettlementPlan };
