import { and, assertEvent, assign, emit, setup } from 'xstate';
import type { CancellationReason, RefundTrigger, RefundTriggerKind, Sender } from '../src/schemas/common.js';
import type { InterceptionRequested, NotificationRequested, RefundRequested } from '../src/schemas/effects.js';
import type { CancellationEvent, PlanAdopted, RefundFailed, RefundOutcomeRecorded } from '../src/schemas/events.js';
import type { CancellationInput, CancellationStart, OrderFacts } from '../src/schemas/inputs.js';
import { refundBackoffMs, resolveTimers, type TimerName, type TimerSettings } from '../src/schemas/timers.js';
import { resolvePolicy, type PolicySettings } from '../src/schemas/policy.js';
import { policyIs, type TagPolicyMeta } from './policy.js';
import { TIMER_SENDER, timeOf, type Clocked } from './time.js';

/** The cancel order's context: reason, origin, refund trigger, attempts and deadlines. */
export interface CancellationContext extends Clocked {
  cancellationId: string;
  orderId: string;
  merchantId: string;
  customerId: string;
  reason: CancellationReason;
  /** X1 adopt: the reason this cancel order had before a dispute plan took it over. */
  adoptedFrom: CancellationReason | null;
  facts: OrderFacts;
  timers: TimerSettings;
  policy: PolicySettings;
  start: CancellationInput['start'];
  createdBy: Sender;
  createdAt: number;
  /** INV2: who or what started the refund. */
  refundTrigger: RefundTrigger | null;
  /** C4: attempts of the current refund (a forced refund after refundFailed starts again at 0). */
  refundAttempts: number;
  /** Refund requests ever made: numbers the idempotency keys, so a key declined once is never reused. */
  refundRequests: number;
  /** P2: the dispute that settled on NEGOTIATED_REJECT while this cancel order was pending. */
  rejectFollowUp: { disputeId: string; at: number } | null;
  lastRefundError: string | null;
  paymentRef: string | null;
  closedBy: Sender | null;
}

/** What a finished cancel order reports: its final status, reason and refund trigger (INV2). */
export interface CancellationOutput {
  cancellationId: string;
  orderId: string;
  status: 'refunded' | 'rejected' | 'withdrawn' | 'closedWithoutRefund';
  reason: CancellationReason;
  refunded: boolean;
  refundTrigger: RefundTrigger | null;
  paymentRef: string | null;
}

export type CancellationEffect = RefundRequested | InterceptionRequested | NotificationRequested;

export type FinalCancellationStatus = CancellationOutput['status'];

/**
 * C4/INV1: the payment service deduplicates refunds on this key: the cancel order (scoped by its order,
 * so ids a host reuses across orders never merge two customers' refunds) and the request number. A
 * delivery whose outcome is unknown is retried under the same key; a new request after a definite
 * decline takes the next number, because providers replay a stored decline for a key.
 */
export const refundIdempotencyKey = (context: { orderId: string; cancellationId: string; refundRequests: number }) =>
  `${context.orderId}/${context.cancellationId}/${context.refundRequests}`;

/** D6 ownCancelOrder: why a cancel order without a refund under way closes when a ruling orders a refund. */
const CLOSED_FOR_RULING =
  'D6 (rulingRefundRoute ownCancelOrder): no refund is under way here, so this cancel order closes without refund (关闭未退款, a C3 final state) and the ruling refunds through its own 平台判责退款 cancel order.';

/** D6: what a ruling against the merchant does to a cancel order on which no refund was started. */
function rulingRefund() {
  return [
    {
      guard: { type: 'policyIs', params: { rulingRefundRoute: 'ownCancelOrder' } },
      target: 'closedWithoutRefund',
      actions: 'recordCloser',
      description: CLOSED_FOR_RULING,
    },
    {
      target: 'refunding',
      actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
      description: 'D6 (rulingRefundRoute cancelOrderInFlight, the default): the ruling refunds through this cancel order.',
    },
  ] as const;
}

/** INV1: a decline counts only for the request in flight (an answer without a key is taken for it). */
const answersCurrentRequest = (context: CancellationContext, idempotencyKey: string | undefined) =>
  idempotencyKey === undefined || idempotencyKey === refundIdempotencyKey(context);

/** The params of the guards on a refund decline: the key it answers. */
const declineKey = ({ event }: { event: RefundFailed }) => ({ idempotencyKey: event.idempotencyKey });

const senderOf = (event: { type: string }): Sender => (event as { by?: Sender }).by ?? TIMER_SENDER;

/** The cancel order (C1–C5, P3): review, interception, refund with retries, and its final states. */
export const cancellationMachine = setup({
  types: {
    context: {} as CancellationContext,
    events: {} as CancellationEvent,
    input: {} as CancellationInput,
    output: {} as CancellationOutput,
    emitted: {} as CancellationEffect,
  },
  // Each delay is the stored deadline (set by startDeadline on entry) less the time of entry.
  delays: {
    interceptWindow: ({ context }) => delayUntil(context, 'interceptWindow'),
    interceptResultWait: ({ context }) => delayUntil(context, 'interceptResultWait'),
    refundRetryBackoff: ({ context }) => delayUntil(context, 'refundRetryBackoff'),
    refundReconcileWindow: ({ context }) => delayUntil(context, 'refundReconcileWindow'),
  },
  guards: {
    startsInPendingReview: ({ context }) => context.start.state === 'pendingReview',
    startsInLogisticsFollowUp: ({ context }) => context.start.state === 'logisticsFollowUp',
    isOrderCompleted: ({ context }) => context.facts.completed,
    isJdDelivered: ({ context }) => context.facts.deliveredBy === 'JD',
    isJdDeliveredAndShipped: ({ context }) => context.facts.deliveredBy === 'JD' && context.facts.shipped,
    /** X1 adopt: the plan the order adopted onto this cancel order (its transition passes the event's plan). */
    isDirectRefundAdoption: (_, params: { plan: PlanAdopted['plan'] }) => params.plan === 'DIRECT_REFUND',
    /** INV1: a decline of the request in flight. */
    isAnswerToCurrentRequest: ({ context }, params: { idempotencyKey: string | undefined }) =>
      answersCurrentRequest(context, params.idempotencyKey),
    /** C4: a decline of the request in flight, with attempts left for another. */
    isRetriableAnswer: ({ context }, params: { idempotencyKey: string | undefined }) =>
      answersCurrentRequest(context, params.idempotencyKey) && context.refundAttempts < context.timers.refundMaxAttempts,
    isRecordedSuccess: (_, params: { outcome: RefundOutcomeRecorded['outcome'] }) => params.outcome === 'succeeded',
    /** C2, C5, D6: the settings of the `policy` input. */
    policyIs,
  },
  actions: {
    /** Effects leave through `announce`: emitted here, relayed to the parent by the order machine. */
    announce: emit((_, effect: CancellationEffect) => effect),
    startDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const now = timeOf(context, event);
      const delay =
        params.timer === 'refundRetryBackoff' ? refundBackoffMs(context.timers, context.refundAttempts) : context.timers[params.timer];
      return { now, deadlines: { ...context.deadlines, [params.timer]: now + delay } };
    }),
    clearDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const { [params.timer]: _cleared, ...deadlines } = context.deadlines;
      return { now: timeOf(context, event), deadlines };
    }),
    /** C4/INV2: a refund starts, remembering what triggered it. */
    beginRefund: assign(({ context, event }, params: { trigger: RefundTriggerKind }) => ({
      refundTrigger: { kind: params.trigger, by: senderOf(event), at: timeOf(context, event) },
      refundAttempts: 0,
      lastRefundError: null,
    })),
    /** C1: created's last branch: the creator started the refund (P1, D6) and recorded its trigger. */
    useStartTrigger: assign(({ context }) => ({
      refundTrigger: (context.start as Extract<CancellationStart, { state: 'refunding' }>).trigger,
      refundAttempts: 0,
    })),
    countRefundRequest: assign(({ context }) => ({
      refundAttempts: context.refundAttempts + 1,
      refundRequests: context.refundRequests + 1,
    })),
    recordRefundError: assign(({ event }) => {
      assertEvent(event, 'payment.refundFailed');
      return { lastRefundError: event.error };
    }),
    recordPaymentRef: assign(({ event }) => {
      assertEvent(event, ['payment.refundSucceeded', 'platform.refundOutcomeRecorded']);
      return { paymentRef: event.paymentRef ?? null };
    }),
    recordOutcomeError: assign(({ event }) => {
      assertEvent(event, 'platform.refundOutcomeRecorded');
      return { lastRefundError: event.error ?? null };
    }),
    recordRejectFollowUp: assign(({ event }) => {
      assertEvent(event, 'order.rejectFollowUpRequested');
      return { rejectFollowUp: { disputeId: event.disputeId, at: event.at } };
    }),
    recordCloser: assign(({ event }) => ({ closedBy: senderOf(event) })),
    recordShipped: assign(({ context }) => ({ facts: { ...context.facts, shipped: true } })),
    recordCompleted: assign(({ context }) => ({ facts: { ...context.facts, completed: true } })),
    /** X1 adopt: the customer's cancel order now carries the dispute plan's reason. */
    adoptPlan: assign(({ context }, params: { reason: CancellationReason }) => ({
      adoptedFrom: context.reason,
      reason: params.reason,
    })),
  },
}).createMachine({
  id: 'cancellation',
  description: 'One cancel order (取消订单): review, the 48H logistics follow-up, interception and refund.',
  context: ({ input }) => ({
    cancellationId: input.cancellationId,
    orderId: input.orderId,
    merchantId: input.merchantId,
    customerId: input.customerId,
    reason: input.reason,
    adoptedFrom: null,
    facts: input.facts,
    timers: resolveTimers(input.timers),
    policy: resolvePolicy(input.policy),
    start: input.start,
    createdBy: input.createdBy,
    createdAt: input.at,
    now: input.at,
    deadlines: {},
    refundTrigger: null,
    refundAttempts: 0,
    refundRequests: 0,
    rejectFollowUp: null,
    lastRefundError: null,
    paymentRef: null,
    closedBy: null,
  }),
  initial: 'created',
  on: {
    'order.shipped': { actions: 'recordShipped' },
    'order.completed': { actions: 'recordCompleted' },
  },
  states: {
    created: {
      description: 'C1: a customer submits a cancel order, or a dispute plan creates one.',
      always: [
        { guard: 'startsInPendingReview', target: 'pendingReview' },
        { guard: 'startsInLogisticsFollowUp', target: 'logisticsFollowUp' },
        { target: 'refunding', actions: 'useStartTrigger' },
      ],
    },
    pendingReview: {
      description: 'C1/C2: waiting for the merchant to approve or reject (待审核).',
      tags: ['merchant', 'customer'],
      // C5: the customer's one move here is the withdrawal, which only whilePendingReview allows
      meta: { tagsUnder: { customer: { cancelOrderWithdrawal: 'whilePendingReview' } } } satisfies TagPolicyMeta,
      on: {
        'merchant.cancellationApproved': [
          {
            guard: and(['isJdDeliveredAndShipped', { type: 'policyIs', params: { shippedJdApproval: 'intercept' as const } }]),
            target: 'intercepting',
            description: 'C2 (shippedJdApproval intercept, the default): a shipped JD-delivered order is intercepted first.',
          },
          {
            target: 'refunding',
            actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
            description:
              'C2: approval refunds an unshipped or merchant-delivered order; under shippedJdApproval refundAtOnce a shipped JD-delivered one too, without interception.',
          },
        ],
        'merchant.cancellationRejected': { target: 'rejected', actions: 'recordCloser' },
        'customer.cancellationWithdrawn': {
          guard: { type: 'policyIs', params: { cancelOrderWithdrawal: 'whilePendingReview' } },
          target: 'withdrawn',
          actions: 'recordCloser',
          description:
            'C5 (cancelOrderWithdrawal whilePendingReview, the default): the customer withdraws while pending review; under never no withdrawal is taken.',
        },
        'order.planAdopted': [
          {
            guard: { type: 'isDirectRefundAdoption', params: ({ event }) => ({ plan: event.plan }) },
            target: 'refunding',
            actions: [
              { type: 'adoptPlan', params: { reason: 'DIRECT_REFUND_DISPUTE_PLAN' } },
              { type: 'beginRefund', params: { trigger: 'disputePlan' } },
            ],
            description: "X1 adopt: the direct-refund plan runs on the customer's cancel order.",
          },
          {
            target: 'logisticsFollowUp',
            actions: { type: 'adoptPlan', params: { reason: 'INTERCEPT_48H_DISPUTE_PLAN' } },
            description: "X1 adopt: the 48H plan (WAIT_48H_INTERCEPT, the other plan the order adopts) runs on the customer's cancel order.",
          },
        ],
        'order.refundOrdered': rulingRefund(),
        'order.rejectFollowUpRequested': {
          actions: [
            'recordRejectFollowUp',
            {
              type: 'announce',
              params: ({ context, event }) => ({
                type: 'effect.notificationRequested',
                at: timeOf(context, event),
                orderId: context.orderId,
                kind: 'REJECT_PENDING_CANCELLATION',
                recipient: 'merchant',
                subjectId: context.cancellationId,
                plan: 'NEGOTIATED_REJECT',
              }),
            },
          ],
          description: 'P2: the cancel order stays pending; the merchant must reject it by hand.',
        },
      },
    },
    logisticsFollowUp: {
      description: 'P3: 物流待跟进, the 48H interception window.',
      tags: ['merchant', 'system'],
      entry: { type: 'startDeadline', params: { timer: 'interceptWindow' } },
      exit: { type: 'clearDeadline', params: { timer: 'interceptWindow' } },
      after: {
        interceptWindow: [
          {
            guard: 'isOrderCompleted',
            target: 'closedWithoutRefund',
            description: 'P3d: the order completed before 48H and the merchant did not refund: no auto refund.',
          },
          {
            guard: 'isJdDelivered',
            target: 'intercepting',
            description: 'P3b: a JD-delivered order is approved and intercepted (通过并拦截).',
          },
          {
            target: 'refunding',
            actions: { type: 'beginRefund', params: { trigger: 'timer' } },
            description: 'P3a: a merchant-delivered order is refunded automatically.',
          },
        ],
      },
      on: {
        'merchant.cancellationApproved': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
          description: 'P3c: the merchant approves within the 48H.',
        },
        'merchant.refundForced': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
          description: 'P3c: the merchant forces a refund within the 48H.',
        },
        'order.refundOrdered': rulingRefund(),
      },
    },
    intercepting: {
      description: 'P3b/C2: 通过并拦截, JD logistics is intercepting the parcel.',
      tags: ['system'],
      entry: [
        { type: 'startDeadline', params: { timer: 'interceptResultWait' } },
        {
          type: 'announce',
          params: ({ context, event }) => ({
            type: 'effect.interceptionRequested',
            at: timeOf(context, event),
            orderId: context.orderId,
            cancellationId: context.cancellationId,
            idempotencyKey: `${context.orderId}/${context.cancellationId}:intercept`,
          }),
        },
      ],
      exit: { type: 'clearDeadline', params: { timer: 'interceptResultWait' } },
      after: {
        interceptResultWait: {
          target: 'interceptFailed',
          description: 'P3e: no interception result in time counts as failed.',
        },
      },
      on: {
        'logistics.interceptSucceeded': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'logisticsCallback' } },
          description: 'P3b: interception succeeded, refund automatically.',
        },
        'logistics.interceptFailed': { target: 'interceptFailed', description: 'P3e' },
        'order.refundOrdered': rulingRefund(),
      },
    },
    interceptFailed: {
      description: 'P3e: interception failed; nothing is refunded automatically.',
      tags: ['merchant'],
      on: {
        'merchant.refundForced': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
        },
        'merchant.closedWithoutRefund': { target: 'closedWithoutRefund', actions: 'recordCloser' },
        'order.refundOrdered': rulingRefund(),
      },
    },
    refunding: {
      description: 'C4: the payment service is refunding; only its confirmation reaches refunded.',
      tags: ['system'],
      initial: 'requesting',
      on: {
        'payment.refundSucceeded': { target: 'refunded', actions: 'recordPaymentRef' },
      },
      states: {
        requesting: {
          description: 'C4: waiting for the payment service; INV6: past refundReconcileWindow the outcome counts as unknown.',
          entry: [
            'countRefundRequest',
            { type: 'startDeadline', params: { timer: 'refundReconcileWindow' } },
            {
              type: 'announce',
              params: ({ context, event }) => ({
                type: 'effect.refundRequested',
                at: timeOf(context, event),
                orderId: context.orderId,
                cancellationId: context.cancellationId,
                idempotencyKey: refundIdempotencyKey(context),
                attempt: context.refundAttempts,
                reason: context.reason,
                // every way into refunding records its trigger first (beginRefund, useStartTrigger)
                trigger: context.refundTrigger!,
              }),
            },
          ],
          exit: { type: 'clearDeadline', params: { timer: 'refundReconcileWindow' } },
          after: {
            refundReconcileWindow: {
              target: '#cancellation.refundOutcomeUnknown',
              description: 'INV6: no answer in time: the outcome is unknown and the platform must confirm it (退款结果待确认).',
            },
          },
          on: {
            'payment.refundFailed': [
              {
                guard: { type: 'isRetriableAnswer', params: declineKey },
                target: 'backingOff',
                actions: 'recordRefundError',
              },
              {
                guard: { type: 'isAnswerToCurrentRequest', params: declineKey },
                target: '#cancellation.refundFailed',
                actions: 'recordRefundError',
              },
            ],
          },
        },
        backingOff: {
          description: 'C4: 1 min, doubling, before the next attempt.',
          entry: { type: 'startDeadline', params: { timer: 'refundRetryBackoff' } },
          exit: { type: 'clearDeadline', params: { timer: 'refundRetryBackoff' } },
          after: { refundRetryBackoff: { target: 'requesting' } },
        },
      },
    },
    refundOutcomeUnknown: {
      description:
        'INV6: 退款结果待确认: the refund request got no answer in time. The host keeps asking under the same key; the payment answer or the platform settles it. Nobody may start another refund meanwhile (INV1).',
      tags: ['platform', 'system'],
      entry: {
        type: 'announce',
        params: ({ context, event }) => ({
          type: 'effect.notificationRequested',
          at: timeOf(context, event),
          orderId: context.orderId,
          kind: 'REFUND_OUTCOME_UNKNOWN',
          recipient: 'platform',
          subjectId: context.cancellationId,
        }),
      },
      on: {
        'payment.refundSucceeded': { target: 'refunded', actions: 'recordPaymentRef' },
        'payment.refundFailed': [
          {
            guard: { type: 'isRetriableAnswer', params: declineKey },
            target: 'refunding.backingOff',
            actions: 'recordRefundError',
          },
          { guard: { type: 'isAnswerToCurrentRequest', params: declineKey }, target: 'refundFailed', actions: 'recordRefundError' },
        ],
        'platform.refundOutcomeRecorded': [
          {
            guard: { type: 'isRecordedSuccess', params: ({ event }) => ({ outcome: event.outcome }) },
            target: 'refunded',
            actions: 'recordPaymentRef',
            description: 'INV6: the platform confirms the money moved.',
          },
          {
            target: 'refundFailed',
            actions: 'recordOutcomeError',
            description: 'INV6: the platform confirms the refund did not happen; the merchant or a ruling may start it again.',
          },
        ],
      },
    },
    refundFailed: {
      description: 'C4: every retry failed; the merchant or a ruling may start the refund again.',
      tags: ['merchant'],
      entry: {
        type: 'announce',
        params: ({ context, event }) => ({
          type: 'effect.notificationRequested',
          at: timeOf(context, event),
          orderId: context.orderId,
          kind: 'REFUND_FAILED',
          recipient: 'merchant',
          subjectId: context.cancellationId,
        }),
      },
      on: {
        'payment.refundSucceeded': {
          target: 'refunded',
          actions: 'recordPaymentRef',
          description:
            'INV1/INV6: a late success of a request whose failure was recorded: the money moved after all, so the cancel order is refunded (never a second refund, never a lost success).',
        },
        'merchant.refundForced': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
        },
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
          description:
            'D6: a ruling against the merchant starts the refund again on this cancel order, whatever the route: its refund was started already, so this cancel order carries the ruling (INV1: a late success of its earlier request still lands here).',
        },
      },
    },
    // C3: the final states; XState stops a done actor, so no event changes them (INV3).
    refunded: {
      type: 'final',
      description: '退款成功: the payment service confirmed the refund.',
      output: { status: 'refunded' },
    },
    rejected: {
      type: 'final',
      description: 'C2: the merchant rejected the cancel order.',
      output: { status: 'rejected' },
    },
    withdrawn: {
      type: 'final',
      description: 'C5: the customer withdrew the cancel order (用户撤销).',
      output: { status: 'withdrawn' },
    },
    closedWithoutRefund: {
      type: 'final',
      description: 'P3d/P3e: closed without a refund.',
      output: { status: 'closedWithoutRefund' },
    },
  },
  output: ({ context, event }) => {
    const { status } = (event as unknown as { output: { status: FinalCancellationStatus } }).output;
    return {
      cancellationId: context.cancellationId,
      orderId: context.orderId,
      status,
      reason: context.reason,
      refunded: status === 'refunded',
      // INV2: recorded when a refund starts; from then on refunded is the only final state
      refundTrigger: context.refundTrigger,
      paymentRef: context.paymentRef,
    };
  },
});

/** How long until a stored deadline, from the time the machine last moved. */
function delayUntil(context: CancellationContext, timer: TimerName): number {
  return (context.deadlines[timer] ?? context.now) - context.now;
}

export type CancellationMachine = typeof cancellationMachine;
