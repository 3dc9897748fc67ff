import * as z from 'zod';

/** The four parties that send events: the customer, the merchant, the platform (JD staff) and the system (timers, adapters). */
export const Role = z.enum(['customer', 'merchant', 'platform', 'system']);
export type Role = z.infer<typeof Role>;

/** An id of a party, order or dispute: 1–64 letters, digits and `_ . : -`, starting with a letter or digit. */
export const EntityId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'ids use letters, digits and _ . : -');
export type EntityId = z.infer<typeof EntityId>;

/**
 * Ids a client chooses for what it creates (a dispute, its own cancel order) have no ':'. The order
 * makes the ids of the cancel orders it creates itself with one (`d-1:direct-refund`), so the two
 * namespaces never meet.
 */
export const ClientId = EntityId.regex(/^[^:]*$/, "':' is reserved for ids the order makes");
export type ClientId = z.infer<typeof ClientId>;

/** A cancel order's id: a client's (`ClientId`) or one the order made (`<disputeId>:<plan>`). */
export const CancellationId = z
  .string()
  .min(1)
  .max(96)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'ids use letters, digits and _ . : -');
export type CancellationId = z.infer<typeof CancellationId>;

/** Who sent an event: every event names its role and id. */
export const Sender = z.strictObject({ role: Role, id: EntityId });
export type Sender = z.infer<typeof Sender>;

/** Epoch milliseconds. Machines never read a clock: time arrives here. */
export const Timestamp = z.number().int().nonnegative().max(8_640_000_000_000_000);
export type Timestamp = z.infer<typeof Timestamp>;

/** Who delivers the order: JD logistics (interception possible, P3b/P3e) or the merchant (P3a). */
export const DeliveredBy = z.enum(['JD', 'MERCHANT']);
export type DeliveredBy = z.infer<typeof DeliveredBy>;

/** The three settlement plans a merchant may choose for a dispute (D2: P1, P2, P3). */
export const SettlementPlan = z.enum(['DIRECT_REFUND', 'NEGOTIATED_REJECT', 'WAIT_48H_INTERCEPT']);
export type SettlementPlan = z.infer<typeof SettlementPlan>;

/** A merchant's choice in a dispute (D2): a settlement plan, or evidence for a platform ruling (D4, P4). */
export const Plan = z.enum([...SettlementPlan.options, 'PLATFORM_RULING']);
export type Plan = z.infer<typeof Plan>;

/** The platform's ruling on a dispute (D6): the merchant is liable (refund) or not. */
export const Ruling = z.enum(['MERCHANT_LIABLE', 'MERCHANT_NOT_LIABLE']);
export type Ruling = z.infer<typeof Ruling>;

/** Why a cancel order exists: the customer asked (C1), or a dispute plan or ruling created it (P1, P3, D6); INV2. */
export const CancellationReason = z.enum([
  'CUSTOMER_REQUEST',
  'DIRECT_REFUND_DISPUTE_PLAN',
  'INTERCEPT_48H_DISPUTE_PLAN',
  'PLATFORM_RULING_REFUND',
]);
export type CancellationReason = z.infer<typeof CancellationReason>;

/** The states of a cancel order (C1–C5, P3); the final ones are {@link FINAL_CANCELLATION_STATUSES}. */
export const CancellationStatus = z.enum([
  'pendingReview',
  'logisticsFollowUp',
  'intercepting',
  'interceptFailed',
  'refunding',
  'refundFailed',
  'refundOutcomeUnknown',
  'refunded',
  'rejected',
  'withdrawn',
  'closedWithoutRefund',
]);
export type CancellationStatus = z.infer<typeof CancellationStatus>;

/** The final states of a cancel order (C3); a final state never changes (INV3). */
export const FINAL_CANCELLATION_STATUSES = ['refunded', 'rejected', 'withdrawn', 'closedWithoutRefund'] as const;

/** The states of a dispute (D1–D8, A1–A4). */
export const DisputeStatus = z.enum([
  'awaitingMerchantChoice',
  'awaitingCustomerConfirmation',
  'awaitingPlatformRuling',
  /** A1: ruled, the appeal window runs (appeals on). */
  'ruled',
  /** A1/A2: 申诉中, the platform upholds or overturns. */
  'underAppeal',
  /** A4: the platform compensates the merchant; waits for the payment service's answer. */
  'compensating',
  'resolved',
  'withdrawn',
]);
export type DisputeStatus = z.infer<typeof DisputeStatus>;

/** What a refund plan does when the customer already has a cancel order in flight (X1): refuse it (`fail`) or adopt it (`adopt`). */
export const ConflictPolicy = z.enum(['fail', 'adopt']);
export type ConflictPolicy = z.infer<typeof ConflictPolicy>;

/** Who or what caused a refund (INV2). */
export const RefundTriggerKind = z.enum(['merchant', 'timer', 'logisticsCallback', 'platformRuling', 'disputePlan']);
export type RefundTriggerKind = z.infer<typeof RefundTriggerKind>;

/** Who or what caused a refund, and when (INV2). */
export const RefundTrigger = z.strictObject({ kind: RefundTriggerKind, by: Sender, at: Timestamp });
export type RefundTrigger = z.infer<typeof RefundTrigger>;
