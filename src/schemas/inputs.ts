import * as z from 'zod';
import { CancellationId, CancellationReason, ConflictPolicy, DeliveredBy, EntityId, RefundTrigger, Sender, Timestamp } from './common.js';
import { PolicySettings } from './policy.js';
import { TimerSettings } from './timers.js';

/** Facts about the order that the cancel-order rules depend on (C2, P3a, P3b, P3d). */
export const OrderFacts = z.strictObject({
  deliveredBy: DeliveredBy,
  shipped: z.boolean(),
  completed: z.boolean(),
});
export type OrderFacts = z.infer<typeof OrderFacts>;

/** The facts an order's workflow starts from: ids, delivery, shipping state, timers and policy. */
export const OrderInput = z.strictObject({
  orderId: EntityId,
  merchantId: EntityId,
  customerId: EntityId,
  deliveredBy: DeliveredBy,
  shipped: z.boolean().default(false),
  completed: z.boolean().default(false),
  at: Timestamp,
  conflictPolicy: ConflictPolicy.default('fail'),
  timers: TimerSettings.partial().default({}),
  /** The [I] rules' settings (src/schemas/policy.ts); every one defaults to today's behaviour. */
  policy: PolicySettings.partial().default({}),
});
export type OrderInput = z.input<typeof OrderInput>;
/** An order input after parsing, with timers and policy resolved over the defaults. */
export type ResolvedOrderInput = z.output<typeof OrderInput>;

/** C1: where a cancel order starts. */
export const CancellationStart = z.discriminatedUnion('state', [
  z.strictObject({ state: z.literal('pendingReview') }),
  z.strictObject({ state: z.literal('logisticsFollowUp') }),
  z.strictObject({ state: z.literal('refunding'), trigger: RefundTrigger }),
]);
export type CancellationStart = z.infer<typeof CancellationStart>;

/** What a cancel order starts from (C1): its id, order, parties, reason and origin. */
export const CancellationInput = z.strictObject({
  cancellationId: CancellationId,
  orderId: EntityId,
  merchantId: EntityId,
  customerId: EntityId,
  reason: CancellationReason,
  facts: OrderFacts,
  start: CancellationStart,
  createdBy: Sender,
  at: Timestamp,
  timers: TimerSettings.partial().default({}),
  policy: PolicySettings.partial().default({}),
});
export type CancellationInput = z.input<typeof CancellationInput>;

/** What a dispute starts from (D1): its id, order and parties. */
export const DisputeInput = z.strictObject({
  disputeId: EntityId,
  orderId: EntityId,
  merchantId: EntityId,
  customerId: EntityId,
  openedBy: Sender,
  at: Timestamp,
  timers: TimerSettings.partial().default({}),
  policy: PolicySettings.partial().default({}),
});
export type DisputeInput = z.input<typeof DisputeInput>;
