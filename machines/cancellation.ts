import { assign, emit, enqueueActions, setup } from 'xstate';
import type {
  CancellationReason,
  CancellationStatus,
  RefundTrigger,
  RefundTriggerKind,
  Sender,
} from '../src/schemas/common.js';
import type { InterceptionRequested, NotificationRequested, RefundRequested } from '../src/schemas/effects.js';
import type { CancellationEvent, CancellationStatusChanged } from '../src/schemas/events.js';
import type { CancellationInput, OrderFacts } from '../src/schemas/inputs.js';
import { refundBackoffMs, resolveTimers, type TimerName, type TimerSettings } from '../src/schemas/timers.js';
import { TIMER_SENDER, timeOf, type Clocked } from './time.js';

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
  start: CancellationInput['start'];
  createdBy: Sender;
  createdAt: number;
  status: CancellationStatus | 'created';
  /** INV2: who or what started the refund. */
  refundTrigger: RefundTrigger | null;
  refundAttempts: number;
  lastRefundError: string | null;
  paymentRef: string | null;
  closedBy: Sender | null;
}

export interface CancellationOutput {
  cancellationId: string;
  orderId: string;
  status: 'refunded' | 'rejected' | 'withdrawn' | 'closedWithoutRefund';
  reason: CancellationReason;
  refunded: boolean;
  refundTrigger: RefundTrigger | null;
  paymentRef: string | null;
}

type CancellationEmitted = RefundRequested | InterceptionRequested | NotificationRequested;

/**
 * C4/INV1: the payment service deduplicates refunds on this key: the cancel order, scoped by its order
 * so that ids a host reuses across orders can never merge two customers' refunds.
 */
export const refundIdempotencyKey = (context: { orderId: string; cancellationId: string }) =>
  `${context.orderId}/${context.cancellationId}`;

const senderOf = (event: { type: string }): Sender =>
  (event as { by?: Sender }).by ?? TIMER_SENDER;

export const cancellationMachine = setup({
  types: {
    context: {} as CancellationContext,
    events: {} as CancellationEvent,
    input: {} as CancellationInput,
    output: {} as CancellationOutput,
    emitted: {} as CancellationEmitted,
  },
  delays: {
    interceptWindow: ({ context }) => context.timers.interceptWindow,
    interceptResultWait: ({ context }) => context.timers.interceptResultWait,
    refundRetryBackoff: ({ context }) => refundBackoffMs(context.timers, context.refundAttempts),
  },
  guards: {
    startsInPendingReview: ({ context }) => context.start.state === 'pendingReview',
    startsInLogisticsFollowUp: ({ context }) => context.start.state === 'logisticsFollowUp',
    isOrderCompleted: ({ context }) => context.facts.completed,
    isJdDelivered: ({ context }) => context.facts.deliveredBy === 'JD',
    isJdDeliveredAndShipped: ({ context }) => context.facts.deliveredBy === 'JD' && context.facts.shipped,
    hasRefundAttemptsLeft: ({ context }) => context.refundAttempts < context.timers.refundMaxAttempts,
    isDirectRefundAdoption: ({ event }) => event.type === 'order.planAdopted' && event.plan === 'DIRECT_REFUND',
    isInterceptAdoption: ({ event }) => event.type === 'order.planAdopted' && event.plan === 'WAIT_48H_INTERCEPT',
  },
  actions: {
    /** Keeps `status` and the parent's mirror in step with the state (the parent, when there is one). */
    enterStatus: enqueueActions(({ context, event, enqueue, self }, params: { status: CancellationStatus }) => {
      const at = timeOf(context, event);
      enqueue.assign({ status: params.status, now: at });
      if (!self._parent) return;
      const report: CancellationStatusChanged = {
        type: 'cancellation.statusChanged',
        at,
        cancellationId: context.cancellationId,
        status: params.status,
        reason: context.reason,
        refundTrigger: context.refundTrigger,
      };
      enqueue.sendParent(report);
    }),
    startDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const now = timeOf(context, event);
      const delay =
        params.timer === 'refundRetryBackoff'
          ? refundBackoffMs(context.timers, context.refundAttempts)
          : context.timers[params.timer];
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
    useStartTrigger: assign(({ context }) => ({
      refundTrigger: context.start.state === 'refunding' ? context.start.trigger : null,
      refundAttempts: 0,
    })),
    requestRefund: enqueueActions(({ context, event, enqueue }) => {
      const attempt = context.refundAttempts + 1;
      enqueue.assign({ refundAttempts: attempt });
      enqueue.emit({
        type: 'effect.refundRequested',
        at: timeOf(context, event),
        orderId: context.orderId,
        cancellationId: context.cancellationId,
        idempotencyKey: refundIdempotencyKey(context),
        attempt,
        reason: context.reason,
        trigger: context.refundTrigger ?? { kind: 'merchant', by: senderOf(event), at: timeOf(context, event) },
      });
    }),
    requestInterception: emit(({ context, event }) => ({
      type: 'effect.interceptionRequested' as const,
      at: timeOf(context, event),
      orderId: context.orderId,
      cancellationId: context.cancellationId,
      idempotencyKey: `${context.cancellationId}:intercept`,
    })),
    notifyRefundFailed: emit(({ context, event }) => ({
      type: 'effect.notificationRequested' as const,
      at: timeOf(context, event),
      orderId: context.orderId,
      kind: 'REFUND_FAILED' as const,
      recipient: 'merchant' as const,
      subjectId: context.cancellationId,
    })),
    recordRefundError: assign(({ event }) => ({
      lastRefundError: event.type === 'payment.refundFailed' ? event.error : null,
    })),
    recordPaymentRef: assign(({ event }) => ({
      paymentRef: event.type === 'payment.refundSucceeded' ? event.paymentRef : null,
    })),
    recordCloser: assign(({ event }) => ({ closedBy: senderOf(event) })),
    recordShipped: assign(({ context }) => ({ facts: { ...context.facts, shipped: true } })),
    recordCompleted: assign(({ context }) => ({ facts: { ...context.facts, completed: true } })),
    /** X1 adopt: the customer's cancel order now carries the dispute plan's reason. */
    adoptPlan: assign(({ context, event }) => {
      if (event.type !== 'order.planAdopted') return {};
      return {
        adoptedFrom: context.reason,
        reason: event.plan === 'DIRECT_REFUND' ? ('DIRECT_REFUND_DISPUTE_PLAN' as const) : ('INTERCEPT_48H_DISPUTE_PLAN' as const),
      };
    }),
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
    start: input.start,
    createdBy: input.createdBy,
    createdAt: input.at,
    now: input.at,
    deadlines: {},
    status: 'created',
    refundTrigger: null,
    refundAttempts: 0,
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
      entry: { type: 'enterStatus', params: { status: 'pendingReview' } },
      on: {
        'merchant.cancellationApproved': [
          {
            guard: 'isJdDeliveredAndShipped',
            target: 'intercepting',
            description: 'C2: a shipped JD-delivered order is intercepted first.',
          },
          {
            target: 'refunding',
            actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
            description: 'C2: approval refunds an unshipped or merchant-delivered order.',
          },
        ],
        'merchant.cancellationRejected': { target: 'rejected', actions: 'recordCloser' },
        'customer.cancellationWithdrawn': { target: 'withdrawn', actions: 'recordCloser', description: 'C5' },
        'order.planAdopted': [
          {
            guard: 'isDirectRefundAdoption',
            target: 'refunding',
            actions: ['adoptPlan', { type: 'beginRefund', params: { trigger: 'disputePlan' } }],
            description: "X1 adopt: the direct-refund plan runs on the customer's cancel order.",
          },
          {
            guard: 'isInterceptAdoption',
            target: 'logisticsFollowUp',
            actions: 'adoptPlan',
            description: "X1 adopt: the 48H plan runs on the customer's cancel order.",
          },
        ],
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
          description: 'D6: a ruling against the merchant refunds the pending cancel order.',
        },
      },
    },
    logisticsFollowUp: {
      description: 'P3: 物流待跟进, the 48H interception window.',
      entry: [
        { type: 'enterStatus', params: { status: 'logisticsFollowUp' } },
        { type: 'startDeadline', params: { timer: 'interceptWindow' } },
      ],
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
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
        },
      },
    },
    intercepting: {
      description: 'P3b/C2: 通过并拦截, JD logistics is intercepting the parcel.',
      entry: [
        { type: 'enterStatus', params: { status: 'intercepting' } },
        { type: 'startDeadline', params: { timer: 'interceptResultWait' } },
        'requestInterception',
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
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
        },
      },
    },
    interceptFailed: {
      description: 'P3e: interception failed; nothing is refunded automatically.',
      entry: { type: 'enterStatus', params: { status: 'interceptFailed' } },
      on: {
        'merchant.refundForced': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
        },
        'merchant.closedWithoutRefund': { target: 'closedWithoutRefund', actions: 'recordCloser' },
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
        },
      },
    },
    refunding: {
      description: 'C4: the payment service is refunding; only its confirmation reaches refunded.',
      entry: { type: 'enterStatus', params: { status: 'refunding' } },
      initial: 'requesting',
      on: {
        'payment.refundSucceeded': { target: 'refunded', actions: 'recordPaymentRef' },
      },
      states: {
        requesting: {
          entry: 'requestRefund',
          on: {
            'payment.refundFailed': [
              { guard: 'hasRefundAttemptsLeft', target: 'backingOff', actions: 'recordRefundError' },
              { target: '#cancellation.refundFailed', actions: 'recordRefundError' },
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
    refundFailed: {
      description: 'C4: every retry failed; the merchant or a ruling may start the refund again.',
      entry: [{ type: 'enterStatus', params: { status: 'refundFailed' } }, 'notifyRefundFailed'],
      on: {
        'merchant.refundForced': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'merchant' } },
        },
        'order.refundOrdered': {
          target: 'refunding',
          actions: { type: 'beginRefund', params: { trigger: 'platformRuling' } },
        },
      },
    },
    // C3: the final states; XState stops a done actor, so no event changes them (INV3).
    refunded: {
      type: 'final',
      description: '退款成功: the payment service confirmed the refund.',
      entry: { type: 'enterStatus', params: { status: 'refunded' } },
    },
    rejected: {
      type: 'final',
      description: 'C2: the merchant rejected the cancel order.',
      entry: { type: 'enterStatus', params: { status: 'rejected' } },
    },
    withdrawn: {
      type: 'final',
      description: 'C5: the customer withdrew the cancel order (用户撤销).',
      entry: { type: 'enterStatus', params: { status: 'withdrawn' } },
    },
    closedWithoutRefund: {
      type: 'final',
      description: 'P3d/P3e: closed without a refund.',
      entry: { type: 'enterStatus', params: { status: 'closedWithoutRefund' } },
    },
  },
  output: ({ context }) => ({
    cancellationId: context.cancellationId,
    orderId: context.orderId,
    status: context.status as CancellationOutput['status'],
    reason: context.reason,
    refunded: context.status === 'refunded',
    refundTrigger: context.status === 'refunded' ? context.refundTrigger : null,
    paymentRef: context.paymentRef,
  }),
});

export type CancellationMachine = typeof cancellationMachine;
