/**
 * Payload variants and machine inputs for the generated path tests. Every fixture is parsed with the
 * package's zod schemas when this module loads, so a schema change breaks here, not in a path.
 */
import type * as z from 'zod';
import { planCancellationId } from '../../machines/order.js';
import type { Sender } from '../../src/schemas/common.js';
import { DEFAULT_EVIDENCE_CATALOGUE, Evidence, evidenceIssues } from '../../src/schemas/evidence.js';
import { OrderEvent, PlanAdopted, RefundOrdered, RejectFollowUpRequested } from '../../src/schemas/events.js';
import { CancellationInput, DisputeInput, OrderInput } from '../../src/schemas/inputs.js';
import type { EventVariant, EventVariants, InputVariant } from '../../src/coverage/index.js';

/** 2026-11-02 08:00 UTC. Events are restamped with the replay clock; this is where the clock starts. */
export const T0 = Date.UTC(2026, 10, 2, 8);

export const CUSTOMER = { role: 'customer', id: 'customer-1' } as const satisfies Sender;
export const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const satisfies Sender;
export const PLATFORM = { role: 'platform', id: 'cs-agent-1' } as const satisfies Sender;
export const ORDER_SYSTEM = { role: 'system', id: 'order-system' } as const satisfies Sender;
export const LOGISTICS = { role: 'system', id: 'jd-logistics' } as const satisfies Sender;
export const PAYMENT = { role: 'system', id: 'payment-service' } as const satisfies Sender;

export const ORDER_ID = 'order-1';
export const DISPUTE_ID = 'd1';
export const CUSTOMER_CANCELLATION_ID = 'c1';
/** Every cancel order the composition can create: the customer's and one per dispute plan (P1, P3, D6). */
export const CANCELLATION_IDS = [
  CUSTOMER_CANCELLATION_ID,
  planCancellationId(DISPUTE_ID, 'DIRECT_REFUND_DISPUTE_PLAN'),
  planCancellationId(DISPUTE_ID, 'INTERCEPT_48H_DISPUTE_PLAN'),
  planCancellationId(DISPUTE_ID, 'PLATFORM_RULING_REFUND'),
] as const;

/** Small retry limit: every attempt count is a distinct vertex, 2 covers "retry" and "give up". */
export const PATH_TIMERS = { refundMaxAttempts: 2 } as const;

/** D4: complete evidence for GOODS_ALREADY_SHIPPED under the default catalogue. */
export const EVIDENCE: Evidence = Evidence.parse({
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'waybill-1', sizeBytes: 48_213 }],
  explanation: 'The parcel left the warehouse before the cancellation request.',
});
const evidenceProblems = evidenceIssues(EVIDENCE, DEFAULT_EVIDENCE_CATALOGUE);
if (evidenceProblems.length) throw new Error(`fixture evidence is incomplete: ${evidenceProblems.join('; ')}`);

const variant = <S extends z.ZodType>(schema: S, label: string, payload: z.input<S>): EventVariant => ({
  label,
  event: schema.parse(payload) as EventVariant['event'],
});
const host = (label: string, payload: z.input<typeof OrderEvent>) => variant(OrderEvent, label, payload);
const at = T0;

// Dispute events (D2–D8), addressed to the dispute: no ids needed.
const planSubmitted = [
  host('merchant.planSubmitted(DIRECT_REFUND)', { type: 'merchant.planSubmitted', at, by: MERCHANT, plan: 'DIRECT_REFUND' }),
  host('merchant.planSubmitted(NEGOTIATED_REJECT)', { type: 'merchant.planSubmitted', at, by: MERCHANT, plan: 'NEGOTIATED_REJECT' }),
  host('merchant.planSubmitted(WAIT_48H_INTERCEPT)', { type: 'merchant.planSubmitted', at, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' }),
  host('merchant.planSubmitted(PLATFORM_RULING+evidence)', {
    type: 'merchant.planSubmitted',
    at,
    by: MERCHANT,
    plan: 'PLATFORM_RULING',
    evidence: EVIDENCE,
  }),
  // D4: the evidence plan without evidence is refused (guard hasEvidence).
  host('merchant.planSubmitted(PLATFORM_RULING, no evidence)', { type: 'merchant.planSubmitted', at, by: MERCHANT, plan: 'PLATFORM_RULING' }),
];

export const disputeEvents: EventVariants = {
  'merchant.planSubmitted': planSubmitted,
  'customer.settlementConfirmed': [host('customer.settlementConfirmed', { type: 'customer.settlementConfirmed', at, by: CUSTOMER })],
  'customer.settlementObjected': [
    host('customer.settlementObjected', { type: 'customer.settlementObjected', at, by: CUSTOMER, note: 'The parcel never arrived.' }),
  ],
  'platform.ruled': [
    host('platform.ruled(MERCHANT_LIABLE)', { type: 'platform.ruled', at, by: PLATFORM, ruling: 'MERCHANT_LIABLE' }),
    host('platform.ruled(MERCHANT_NOT_LIABLE)', { type: 'platform.ruled', at, by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' }),
  ],
  'customer.disputeWithdrawn': [host('customer.disputeWithdrawn', { type: 'customer.disputeWithdrawn', at, by: CUSTOMER })],
  ...appealEvents(),
  // A4: standalone, the dispute gets the overturn as the order forwards it once the customer is refunded.
  'platform.appealOverturned': [
    host('platform.appealOverturned', { type: 'platform.appealOverturned', at, by: PLATFORM }),
    {
      label: 'platform.appealOverturned(customer refunded)',
      event: {
        ...OrderEvent.parse({ type: 'platform.appealOverturned', at, by: PLATFORM }),
        customerRefund: 'refunded',
        refundedBy: `${DISPUTE_ID}:ruling-refund`,
      } as unknown as EventVariant['event'],
    },
    // A4/INV1 (D1 several): another dispute's overturn compensated the order's one refund already.
    {
      label: 'platform.appealOverturned(refund compensated)',
      event: {
        ...OrderEvent.parse({ type: 'platform.appealOverturned', at, by: PLATFORM }),
        customerRefund: 'compensated',
        refundedBy: `${DISPUTE_ID}:ruling-refund`,
      } as unknown as EventVariant['event'],
    },
  ],
};

/**
 * A1–A4 (policy.appeals 'on'): an appeal by each side with new evidence from the catalogue, the
 * platform's two decisions, and the payment service's two answers under the dispute's compensation key.
 */
function appealEvents(): EventVariants {
  const idempotencyKey = `${ORDER_ID}/${DISPUTE_ID}/compensation`;
  return {
    'merchant.rulingAppealed': [
      host('merchant.rulingAppealed', {
        type: 'merchant.rulingAppealed',
        at,
        by: MERCHANT,
        evidence: {
          reason: 'GOODS_ALREADY_DELIVERED',
          proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1', sizeBytes: 52_100 }],
          explanation: 'The customer signed for the parcel before asking to cancel.',
        },
      }),
    ],
    'customer.rulingAppealed': [
      host('customer.rulingAppealed', {
        type: 'customer.rulingAppealed',
        at,
        by: CUSTOMER,
        evidence: {
          reason: 'MERCHANT_AGREED_TO_CANCEL',
          proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat-1', sizeBytes: 20_480 }],
          explanation: 'The shop agreed in chat to cancel the order.',
        },
      }),
    ],
    'platform.appealUpheld': [host('platform.appealUpheld', { type: 'platform.appealUpheld', at, by: PLATFORM })],
    'payment.compensationSucceeded': [
      host('payment.compensationSucceeded', {
        type: 'payment.compensationSucceeded',
        at,
        by: PAYMENT,
        disputeId: DISPUTE_ID,
        idempotencyKey,
        paymentRef: 'comp-1',
      }),
    ],
    'payment.compensationFailed': [
      host('payment.compensationFailed', {
        type: 'payment.compensationFailed',
        at,
        by: PAYMENT,
        disputeId: DISPUTE_ID,
        idempotencyKey,
        error: 'payout declined',
      }),
    ],
  };
}

/** Commands to one cancel order, each from the role that sends it. */
function cancellationCommands(cancellationId: string, suffix: string): EventVariants {
  const c = { at, cancellationId };
  const one = (type: string, payload: z.input<typeof OrderEvent>) => [host(`${type}${suffix}`, payload)];
  return {
    'merchant.cancellationApproved': one('merchant.cancellationApproved', { type: 'merchant.cancellationApproved', ...c, by: MERCHANT }),
    'merchant.cancellationRejected': one('merchant.cancellationRejected', { type: 'merchant.cancellationRejected', ...c, by: MERCHANT }),
    'merchant.refundForced': one('merchant.refundForced', { type: 'merchant.refundForced', ...c, by: MERCHANT }),
    'merchant.closedWithoutRefund': one('merchant.closedWithoutRefund', { type: 'merchant.closedWithoutRefund', ...c, by: MERCHANT }),
    'customer.cancellationWithdrawn': one('customer.cancellationWithdrawn', { type: 'customer.cancellationWithdrawn', ...c, by: CUSTOMER }),
    'logistics.interceptSucceeded': one('logistics.interceptSucceeded', { type: 'logistics.interceptSucceeded', ...c, by: LOGISTICS }),
    'logistics.interceptFailed': one('logistics.interceptFailed', { type: 'logistics.interceptFailed', ...c, by: LOGISTICS }),
    'payment.refundSucceeded': one('payment.refundSucceeded', {
      type: 'payment.refundSucceeded',
      ...c,
      by: PAYMENT,
      paymentRef: `pay-${cancellationId}`,
    }),
    'payment.refundFailed': one('payment.refundFailed', { type: 'payment.refundFailed', ...c, by: PAYMENT, error: 'gateway timeout' }),
    // INV6: the platform settles a refund whose outcome is unknown, either way.
    'platform.refundOutcomeRecorded': [
      host(`platform.refundOutcomeRecorded(succeeded)${suffix}`, {
        type: 'platform.refundOutcomeRecorded',
        ...c,
        by: PLATFORM,
        outcome: 'succeeded',
        paymentRef: `pay-${cancellationId}`,
      }),
      host(`platform.refundOutcomeRecorded(failed)${suffix}`, {
        type: 'platform.refundOutcomeRecorded',
        ...c,
        by: PLATFORM,
        outcome: 'failed',
        error: 'refund not found at the provider',
      }),
    ],
  };
}

const orderFacts = {
  'order.shipped': [host('order.shipped', { type: 'order.shipped', at, by: ORDER_SYSTEM })],
  'order.completed': [host('order.completed', { type: 'order.completed', at, by: ORDER_SYSTEM })],
};

/** Standalone cancel order: its commands, the order facts and the messages the order machine sends it. */
export const cancellationEvents: EventVariants = {
  ...cancellationCommands(CUSTOMER_CANCELLATION_ID, ''),
  ...orderFacts,
  'order.planAdopted': [
    variant(PlanAdopted, 'order.planAdopted(DIRECT_REFUND)', { type: 'order.planAdopted', at, by: MERCHANT, plan: 'DIRECT_REFUND' }),
    variant(PlanAdopted, 'order.planAdopted(WAIT_48H_INTERCEPT)', {
      type: 'order.planAdopted',
      at,
      by: MERCHANT,
      plan: 'WAIT_48H_INTERCEPT',
    }),
  ],
  'order.refundOrdered': [variant(RefundOrdered, 'order.refundOrdered', { type: 'order.refundOrdered', at, by: PLATFORM })],
  'order.rejectFollowUpRequested': [
    variant(RejectFollowUpRequested, 'order.rejectFollowUpRequested', {
      type: 'order.rejectFollowUpRequested',
      at,
      by: MERCHANT,
      disputeId: DISPUTE_ID,
    }),
  ],
};

/** The order's host events; cancel-order commands once per cancel order id the composition can create. */
export const orderEvents: EventVariants = (() => {
  const perId = CANCELLATION_IDS.map((id) => cancellationCommands(id, `[${id}]`));
  const commands: Record<string, EventVariant[]> = {};
  for (const set of perId) {
    for (const [type, list] of Object.entries(set)) commands[type] = [...(commands[type] ?? []), ...list];
  }
  return {
    'dispute.opened': [host('dispute.opened', { type: 'dispute.opened', at, by: CUSTOMER, disputeId: DISPUTE_ID })],
    'cancellation.submitted': [
      host('cancellation.submitted', { type: 'cancellation.submitted', at, by: CUSTOMER, cancellationId: CUSTOMER_CANCELLATION_ID }),
    ],
    ...orderFacts,
    ...disputeEvents,
    // A3/A4: the host sends the overturn as it is; the order adds where the customer's refund stands.
    'platform.appealOverturned': [host('platform.appealOverturned', { type: 'platform.appealOverturned', at, by: PLATFORM })],
    ...commands,
  };
})();

/**
 * What the children tell the order (their effects, the dispute's plan and ruling): never sent by a
 * host, covered when the children announce them.
 */
export const ORDER_INTERNAL_EVENTS: ReadonlyArray<string | RegExp> = ['dispute.planAccepted', 'dispute.ruled', /^effect\./];

const base = { orderId: ORDER_ID, merchantId: 'merchant-1', customerId: 'customer-1', at: T0 };

export const disputeInputs: InputVariant[] = [
  {
    label: 'default',
    input: DisputeInput.parse({ ...base, disputeId: DISPUTE_ID, openedBy: CUSTOMER }),
  },
];

const cancellationInput = (
  deliveredBy: 'JD' | 'MERCHANT',
  start: z.input<typeof CancellationInput>['start'],
  reason: z.input<typeof CancellationInput>['reason'],
  createdBy: Sender,
  timers: { refundMaxAttempts: number } = PATH_TIMERS,
) =>
  CancellationInput.parse({
    ...base,
    cancellationId: CUSTOMER_CANCELLATION_ID,
    reason,
    facts: { deliveredBy, shipped: false, completed: false },
    start,
    createdBy,
    timers,
  });

/** C1: a customer's cancel order (both carriers), the P3 follow-up (both carriers), and the P1 refund (2 and 3 attempts). */
export const cancellationInputs: InputVariant[] = [
  { label: 'JD/pendingReview', input: cancellationInput('JD', { state: 'pendingReview' }, 'CUSTOMER_REQUEST', CUSTOMER) },
  { label: 'MERCHANT/pendingReview', input: cancellationInput('MERCHANT', { state: 'pendingReview' }, 'CUSTOMER_REQUEST', CUSTOMER) },
  {
    label: 'JD/logisticsFollowUp',
    input: cancellationInput('JD', { state: 'logisticsFollowUp' }, 'INTERCEPT_48H_DISPUTE_PLAN', MERCHANT),
  },
  {
    label: 'MERCHANT/logisticsFollowUp',
    input: cancellationInput('MERCHANT', { state: 'logisticsFollowUp' }, 'INTERCEPT_48H_DISPUTE_PLAN', MERCHANT),
  },
  {
    label: 'MERCHANT/refunding',
    input: cancellationInput(
      'MERCHANT',
      { state: 'refunding', trigger: { kind: 'disputePlan', by: MERCHANT, at: T0 } },
      'DIRECT_REFUND_DISPUTE_PLAN',
      MERCHANT,
    ),
  },
  {
    // C4: with 3 attempts the backoff doubles once (1 min, then 2 min).
    label: 'MERCHANT/refunding/3 attempts',
    input: cancellationInput(
      'MERCHANT',
      { state: 'refunding', trigger: { kind: 'disputePlan', by: MERCHANT, at: T0 } },
      'DIRECT_REFUND_DISPUTE_PLAN',
      MERCHANT,
      { refundMaxAttempts: 3 },
    ),
  },
];

const orderInput = (deliveredBy: 'JD' | 'MERCHANT', conflictPolicy: 'fail' | 'adopt') =>
  OrderInput.parse({ ...base, deliveredBy, shipped: false, completed: false, conflictPolicy, timers: PATH_TIMERS });

/** X1: both conflict policies, both carriers (shipped/completed arrive as events). */
export const orderInputs: InputVariant[] = [
  { label: 'JD/fail', input: orderInput('JD', 'fail') },
  { label: 'MERCHANT/fail', input: orderInput('MERCHANT', 'fail') },
  { label: 'JD/adopt', input: orderInput('JD', 'adopt') },
  { label: 'MERCHANT/adopt', input: orderInput('MERCHANT', 'adopt') },
];
