import type { CompensationRequested, InterceptionRequested, NotificationRequested, RefundRequested } from '../schemas/effects.js';

/**
 * The services a host application plugs into the durable runtime. The outbox dispatcher calls them
 * at least once per effect, always with the same idempotency key, so each service must deduplicate.
 * Throwing, not answering before the dispatcher's timeout, or answering something without a readable
 * `status` is an *unknown outcome*: the dispatcher asks `status(key)` when the service has it, or
 * delivers the same effect again later. Answering `failed` is a *business* answer: it goes to the
 * machine, which decides what happens next (C4: back off and request a new attempt under a new key).
 * Every answer is read at the boundary (src/runtime/answers.ts): a `succeeded` with an unreadable
 * reference is still a success (money moved), kept truncated and flagged.
 */

export interface AdapterCall {
  /** Aborted when the dispatcher stops waiting (timeout). */
  signal: AbortSignal;
}

/**
 * C4: one refund request. `idempotencyKey` names this request: `<orderId>/<cancellationId>/<n>`, where n
 * counts the cancel order's requests. Redeliveries of a request whose outcome is unknown carry the same
 * key; a new request after a definite decline carries the next one. `attempt` counts business attempts.
 */
export type RefundRequest = Omit<RefundRequested, 'type'>;

/** What the payment service answers to a refund request (C4). */
export type RefundOutcome =
  /** The money moved (now, or on an earlier call with the same key: answer the original result). */
  | { status: 'succeeded'; paymentRef: string }
  /** The payment service declined; the cancel order backs off and tries again (C4). */
  | { status: 'failed'; error: string }
  /** The result will arrive later as a `payment.refundSucceeded` / `payment.refundFailed` command. */
  | { status: 'accepted' };

/**
 * The host's payment service (INV1): it must execute **at most one refund per idempotency key** and
 * answer a repeated key with the original result, a success or a decline alike (as Stripe does). The
 * workflow never reuses a declined key: its next attempt is a new request with a new key. A throw or a
 * timeout is an unknown outcome: the same request is delivered again with the same key, never turned
 * into a decline.
 */
export interface PaymentService {
  /** Executes the refund at most once per `request.idempotencyKey` (INV1) and answers its outcome. */
  refund(request: RefundRequest, call: AdapterCall): Promise<RefundOutcome>;
  /**
   * Optional reconciliation (INV6): what became of the request with this key. The runtime asks before it
   * delivers a refund again after an unknown outcome (a throw, a timeout, an unreadable answer):
   * `notFound` means the request never arrived, so it is sent again under the same key.
   */
  status?(idempotencyKey: string, call: AdapterCall): Promise<RefundOutcome | { status: 'notFound' }>;
  /**
   * A4 (only with `policy.appeals: 'on'`): the platform compensates the merchant for a refund that stands
   * after an appeal was overturned in the merchant's favour. Same contract as `refund`: at most one
   * payment per idempotency key (`<orderId>/<disputeId>/compensation`), a repeated key answered with the
   * original result, `accepted` when the answer comes later as a `payment.compensationSucceeded` /
   * `payment.compensationFailed` command. `status(key)` is asked about compensation keys too. Without this
   * method a compensation stays in the outbox (unknown outcome, retried), never dropped.
   */
  compensate?(request: CompensationRequest, call: AdapterCall): Promise<RefundOutcome>;
}

/** A4: one compensation of the merchant (no amounts in the model: the request names the case). */
export type CompensationRequest = Omit<CompensationRequested, 'type'>;

/** P3b: ask JD logistics to intercept the parcel. */
export type InterceptionRequest = Omit<InterceptionRequested, 'type'>;

/** What JD logistics answers to an interception request (P3b/P3e). */
export type InterceptionOutcome =
  | { status: 'succeeded' }
  | { status: 'failed'; note?: string }
  /** The result arrives later as a `logistics.interceptSucceeded` / `logistics.interceptFailed` command. */
  | { status: 'accepted' };

/** The host's JD logistics service: intercepts a parcel for a 48H cancel order (P3). */
export interface LogisticsService {
  /** Asks logistics to intercept the parcel; idempotent per `request.idempotencyKey`. */
  intercept(request: InterceptionRequest, call: AdapterCall): Promise<InterceptionOutcome>;
  /** Optional reconciliation, as `PaymentService.status`. */
  status?(idempotencyKey: string, call: AdapterCall): Promise<InterceptionOutcome | { status: 'notFound' }>;
}

/** A message to a party (P2 follow-up, X1 failure, D3/D4 requests, C4 refund failure). */
export type Notification = Omit<NotificationRequested, 'type'> & { idempotencyKey: string };

/** The host's notification service (messages to the customer or merchant). */
export interface NotificationService {
  /** Delivers one notification; idempotent per `notification.idempotencyKey`. */
  notify(notification: Notification, call: AdapterCall): Promise<void>;
}

/** Who the results of effects come from, in the audit trail. */
export const PAYMENTS_SENDER = { role: 'system', id: 'payments' } as const;
/** The sender the runtime stamps on events that come from JD logistics' answers. */
export const LOGISTICS_SENDER = { role: 'system', id: 'jd-logistics' } as const;
