import * as z from 'zod';
import { Text } from './text.js';
import { CancellationId, CancellationReason, ClientId, EntityId, Plan, RefundTrigger, Timestamp } from './common.js';

/** Effects the machines request; the host performs them and reports back with events. */
export const RefundRequested = z.strictObject({
  type: z.literal('effect.refundRequested'),
  at: Timestamp,
  orderId: EntityId,
  cancellationId: CancellationId,
  /**
   * C4/INV1: the payment service deduplicates on this key: one key per refund request of the cancel
   * order. A delivery retried because its outcome is unknown keeps the key; a new request after a
   * definite decline gets the next one (`<orderId>/<cancellationId>/<request>`).
   */
  idempotencyKey: Text,
  attempt: z.number().int().positive(),
  reason: CancellationReason,
  trigger: RefundTrigger,
});
export type RefundRequested = z.infer<typeof RefundRequested>;

/** P3: the cancel order asks JD logistics to intercept the parcel. */
export const InterceptionRequested = z.strictObject({
  type: z.literal('effect.interceptionRequested'),
  at: Timestamp,
  orderId: EntityId,
  cancellationId: CancellationId,
  idempotencyKey: Text,
});
export type InterceptionRequested = z.infer<typeof InterceptionRequested>;

/** What a notification tells the customer or merchant. */
export const NotificationKind = z.enum([
  /** P2: a customer cancel order stays pending; the merchant must reject it by hand. */
  'REJECT_PENDING_CANCELLATION',
  /** D3: the customer is asked to confirm a settlement. */
  'CUSTOMER_CONFIRMATION_REQUESTED',
  /** D4/D5/D7: the platform is asked to rule. */
  'PLATFORM_RULING_REQUESTED',
  /** C4: the refund failed after every retry. */
  'REFUND_FAILED',
  /** INV6: no answer for a refund request within refundReconcileWindow; the platform must confirm its outcome. */
  'REFUND_OUTCOME_UNKNOWN',
  /** A1/A2: a ruling was appealed; the platform must uphold or overturn it. */
  'APPEAL_DECISION_REQUESTED',
  /** A4: the payment service declined the merchant's compensation; the platform settles it outside the workflow. */
  'COMPENSATION_FAILED',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;

/** A notification for the customer or merchant, delivered by the host's notification service. */
export const NotificationRequested = z.strictObject({
  type: z.literal('effect.notificationRequested'),
  at: Timestamp,
  orderId: EntityId,
  kind: NotificationKind,
  recipient: z.enum(['customer', 'merchant', 'platform']),
  subjectId: CancellationId,
  plan: Plan.optional(),
});
export type NotificationRequested = z.infer<typeof NotificationRequested>;

/**
 * A4: the platform compensates the merchant for a refund that stands after an appeal overturned the
 * ruling in the merchant's favour. There are no amounts in the model: the request names the case (order,
 * dispute, merchant, and the cancel order whose refund stands); the payment service knows the sums.
 */
export const CompensationRequested = z.strictObject({
  type: z.literal('effect.compensationRequested'),
  at: Timestamp,
  orderId: EntityId,
  disputeId: ClientId,
  merchantId: EntityId,
  /** The cancel order whose refund stands (INV2: every refund belongs to one). */
  refundedBy: CancellationId.nullable(),
  /** INV1-like: one compensation per dispute: `<orderId>/<disputeId>/compensation`, kept on every delivery. */
  idempotencyKey: Text,
});
export type CompensationRequested = z.infer<typeof CompensationRequested>;

/** Every effect the workflow emits for the host to carry out (through the outbox in the durable runtime). */
export const WorkflowEffect = z.discriminatedUnion('type', [
  RefundRequested,
  InterceptionRequested,
  NotificationRequested,
  CompensationRequested,
]);
export type WorkflowEffect = z.infer<typeof WorkflowEffect>;
