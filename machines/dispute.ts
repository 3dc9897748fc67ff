import { and, assertEvent, assign, emit, setup } from 'xstate';
import type { Plan, Ruling, Sender } from '../src/schemas/common.js';
import type { CompensationRequested, NotificationRequested } from '../src/schemas/effects.js';
import type { Evidence } from '../src/schemas/evidence.js';
import type { CustomerRefundStanding, DisputeAnnouncement, DisputeMachineEvent } from '../src/schemas/events.js';
import type { DisputeInput } from '../src/schemas/inputs.js';
import { resolveTimers, type TimerName, type TimerSettings } from '../src/schemas/timers.js';
import { resolvePolicy, type PolicySettings } from '../src/schemas/policy.js';
import { policyIs } from './policy.js';
import { TIMER_SENDER, timeOf, type Clocked } from './time.js';

export type DisputeResolution = 'CONFIRMED_BY_CUSTOMER' | 'CONFIRMED_BY_TIMEOUT' | 'RULED';
export type EscalationCause = 'EVIDENCE_PLAN' | 'CUSTOMER_OBJECTED' | 'MERCHANT_TIMEOUT';

/** A1–A4: the one appeal of a ruling, and the platform's decision on it. */
export interface AppealRecord {
  /** The side ruled against, who appealed. */
  by: Sender;
  at: number;
  evidence: Evidence;
  /** The ruling appealed against (an overturn replaces the dispute's `ruling`, never this). */
  ruling: Ruling;
  decision: 'UPHELD' | 'OVERTURNED' | null;
  decidedBy: Sender | null;
  decidedAt: number | null;
}

/** A4: the platform's compensation of the merchant, one per dispute, and its answer. */
export interface CompensationRecord {
  idempotencyKey: string;
  /** The cancel order whose refund stands. */
  refundedBy: string | null;
  status: 'requested' | 'succeeded' | 'failed';
  paymentRef: string | null;
  error: string | null;
}

/** A4: one compensation per dispute; every delivery and answer carries this key. */
export const compensationIdempotencyKey = (context: { orderId: string; disputeId: string }) =>
  `${context.orderId}/${context.disputeId}/compensation`;

/** The dispute's context: the plan, evidence, ruling, escalation and its deadlines. */
export interface DisputeContext extends Clocked {
  disputeId: string;
  orderId: string;
  merchantId: string;
  customerId: string;
  openedBy: Sender;
  openedAt: number;
  timers: TimerSettings;
  policy: PolicySettings;
  plan: Plan | null;
  evidence: Evidence | null;
  escalatedBecause: EscalationCause | null;
  ruling: Ruling | null;
  resolution: DisputeResolution | null;
  closedBy: Sender | null;
  /** A1–A4 (appeals on): the appeal of the ruling, once one is made. */
  appeal: AppealRecord | null;
  /** A4: the merchant's compensation, once one is requested. */
  compensation: CompensationRecord | null;
}

/** What a finished dispute reports: how it was resolved, with which plan and ruling. */
export interface DisputeOutput {
  disputeId: string;
  orderId: string;
  status: 'resolved' | 'withdrawn';
  plan: Plan | null;
  resolution: DisputeResolution | null;
  ruling: Ruling | null;
  /** A1–A4: present only when the ruling was appealed. */
  appeal?: AppealRecord;
  /** A4: present only when the merchant was compensated (or its compensation was declined). */
  compensation?: CompensationRecord;
}

/** What a dispute tells whoever hosts it: notifications, the plan and ruling it took, A4's compensation. */
export type DisputeEmitted = NotificationRequested | CompensationRequested | DisputeAnnouncement;

const OTHER_RULING: Record<Ruling, Ruling> = { MERCHANT_LIABLE: 'MERCHANT_NOT_LIABLE', MERCHANT_NOT_LIABLE: 'MERCHANT_LIABLE' };

/** D3/D4: what the merchant's plan choice guards read. */
export interface PlanChoice {
  plan: Plan;
  evidence: Evidence | undefined;
}
const planChoice = ({ event }: { event: Extract<DisputeMachineEvent, { type: 'merchant.planSubmitted' }> }): PlanChoice => ({
  plan: event.plan,
  evidence: event.evidence,
});

/** Who sent the event (recordCloser's params). */
const sender = ({ event }: { event: { by: Sender } }) => ({ by: event.by });

/** A4: the key a compensation answer names. */
const compensationKey = ({ event }: { event: { idempotencyKey: string } }) => ({ idempotencyKey: event.idempotencyKey });

/** The dispute (D1–D8, A1–A4): from the merchant's choice to resolution, escalation, ruling and appeal. */
export const disputeMachine = setup({
  types: {
    context: {} as DisputeContext,
    events: {} as DisputeMachineEvent,
    input: {} as DisputeInput,
    output: {} as DisputeOutput,
    emitted: {} as DisputeEmitted,
  },
  // Each delay is the stored deadline (set by startDeadline on entry) less the time of entry.
  delays: {
    merchantResponseWindow: ({ context }) => delayUntil(context, 'merchantResponseWindow'),
    customerConfirmationWindow: ({ context }) => delayUntil(context, 'customerConfirmationWindow'),
    appealWindow: ({ context }) => delayUntil(context, 'appealWindow'),
  },
  guards: {
    /** D3/D4: the plan submitted (its transitions pass the event's plan and evidence). */
    isSettlementPlan: (_, params: PlanChoice) => params.plan !== 'PLATFORM_RULING',
    /** D4: the evidence plan (every plan isSettlementPlan leaves) comes with its evidence. */
    hasEvidence: (_, params: PlanChoice) => params.evidence !== undefined,
    /** A1: the settings of the `policy` input (`{ appeals: 'on' }`). */
    policyIs,
    /** D8/A1: once ruled, the dispute is no longer the customer's to withdraw (only an appeal remains). */
    isNotRuled: ({ context }) => context.ruling === null,
    /** A1: in and() with policyIs, where XState types no params read from the event: asserts the event instead. */
    isRulingAgainstMerchant: ({ event }) => {
      assertEvent(event, 'platform.ruled');
      return event.ruling === 'MERCHANT_LIABLE';
    },
    /** A3: the ruling under appeal went against the customer. */
    isRulingAgainstCustomer: ({ context }) => context.ruling === 'MERCHANT_NOT_LIABLE',
    /** A4: the order reports the customer refunded (by the ruling's refund or an earlier one). */
    isCustomerRefunded: (_, params: { customerRefund: CustomerRefundStanding | undefined }) => params.customerRefund === 'refunded',
    /** A4/INV1 (D1 several): the order's refund was compensated already, under another dispute. */
    isRefundCompensated: (_, params: { customerRefund: CustomerRefundStanding | undefined }) => params.customerRefund === 'compensated',
    /** A4: an answer counts only for this dispute's compensation key. */
    isAnswerToCompensation: ({ context }, params: { idempotencyKey: string }) => params.idempotencyKey === compensationIdempotencyKey(context),
  },
  actions: {
    /** What the dispute tells its host leaves through `announce`: emitted here, relayed by the order. */
    announce: emit((_, announcement: DisputeEmitted) => announcement),
    startDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const now = timeOf(context, event);
      return { now, deadlines: { ...context.deadlines, [params.timer]: now + context.timers[params.timer] } };
    }),
    clearDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const { [params.timer]: _cleared, ...deadlines } = context.deadlines;
      return { now: timeOf(context, event), deadlines };
    }),
    recordPlan: assign(({ event }) => {
      assertEvent(event, 'merchant.planSubmitted');
      return { plan: event.plan, evidence: event.evidence ?? null };
    }),
    recordEscalation: assign((_, params: { because: EscalationCause }) => ({ escalatedBecause: params.because })),
    recordRuling: assign(({ event }) => {
      assertEvent(event, 'platform.ruled');
      return { ruling: event.ruling, resolution: 'RULED' as const, closedBy: event.by };
    }),
    recordResolution: assign((_, params: { resolution: DisputeResolution }) => ({ resolution: params.resolution })),
    /** D5/D8: who closed the dispute (the customer, or the timer for a silent customer). */
    recordCloser: assign((_, params: { by: Sender }) => ({ closedBy: params.by })),
    /** A1: the one appeal, with its new evidence. */
    recordAppeal: assign(({ context, event }) => {
      assertEvent(event, ['merchant.rulingAppealed', 'customer.rulingAppealed']);
      const appeal: AppealRecord = {
        by: event.by,
        at: event.at,
        evidence: event.evidence,
        ruling: context.ruling!,
        decision: null,
        decidedBy: null,
        decidedAt: null,
      };
      return { appeal };
    }),
    /** A2: the ruling stands. */
    recordAppealUpheld: assign(({ context, event }) => {
      assertEvent(event, 'platform.appealUpheld');
      return { appeal: { ...context.appeal!, decision: 'UPHELD' as const, decidedBy: event.by, decidedAt: event.at } };
    }),
    /** A3/A4: the ruling becomes the other one; the appeal keeps the one appealed against. */
    recordAppealOverturned: assign(({ context, event }) => {
      assertEvent(event, 'platform.appealOverturned');
      const appeal = context.appeal!;
      return {
        ruling: OTHER_RULING[appeal.ruling],
        closedBy: event.by,
        appeal: { ...appeal, decision: 'OVERTURNED' as const, decidedBy: event.by, decidedAt: event.at },
      };
    }),
    /** A4: the compensation request, under the dispute's one key. */
    startCompensation: assign(({ context, event }) => {
      assertEvent(event, 'platform.appealOverturned');
      const compensation: CompensationRecord = {
        idempotencyKey: compensationIdempotencyKey(context),
        refundedBy: event.refundedBy ?? null,
        status: 'requested',
        paymentRef: null,
        error: null,
      };
      return { compensation };
    }),
    recordCompensationSucceeded: assign(({ context, event }) => {
      assertEvent(event, 'payment.compensationSucceeded');
      return { compensation: { ...context.compensation!, status: 'succeeded' as const, paymentRef: event.paymentRef } };
    }),
    recordCompensationFailed: assign(({ context, event }) => {
      assertEvent(event, 'payment.compensationFailed');
      return { compensation: { ...context.compensation!, status: 'failed' as const, error: event.error } };
    }),
  },
}).createMachine({
  id: 'dispute',
  description: 'A customer-service dispute (纠纷单) about one order.',
  context: ({ input }) => ({
    disputeId: input.disputeId,
    orderId: input.orderId,
    merchantId: input.merchantId,
    customerId: input.customerId,
    openedBy: input.openedBy,
    openedAt: input.at,
    now: input.at,
    deadlines: {},
    timers: resolveTimers(input.timers),
    policy: resolvePolicy(input.policy),
    plan: null,
    evidence: null,
    escalatedBecause: null,
    ruling: null,
    resolution: null,
    closedBy: null,
    appeal: null,
    compensation: null,
  }),
  initial: 'awaitingMerchantChoice',
  on: {
    'customer.disputeWithdrawn': {
      guard: and(['isNotRuled', { type: 'policyIs', params: { disputeWithdrawal: 'untilResolved' as const } }]),
      target: '.withdrawn',
      actions: { type: 'recordCloser', params: sender },
      description:
        'D8 (disputeWithdrawal untilResolved, the default): the customer withdraws until the dispute is resolved (A1: not once ruled, while an appeal window or an appeal runs)',
    },
  },
  states: {
    awaitingMerchantChoice: {
      description: 'D1/D2: the merchant chooses exactly one plan.',
      tags: ['merchant'],
      entry: { type: 'startDeadline', params: { timer: 'merchantResponseWindow' } },
      exit: { type: 'clearDeadline', params: { timer: 'merchantResponseWindow' } },
      after: {
        merchantResponseWindow: {
          target: 'awaitingPlatformRuling',
          actions: { type: 'recordEscalation', params: { because: 'MERCHANT_TIMEOUT' } },
          description: 'D7: no plan in time escalates to the platform.',
        },
      },
      on: {
        'customer.disputeWithdrawn': {
          guard: { type: 'policyIs', params: { disputeWithdrawal: 'untilPlanAccepted' } },
          target: '#dispute.withdrawn',
          actions: { type: 'recordCloser', params: sender },
          description:
            'D8 (disputeWithdrawal untilPlanAccepted): the customer withdraws only while the merchant has not chosen a plan. Under never, no withdrawal is taken anywhere.',
        },
        'merchant.planSubmitted': [
          {
            guard: { type: 'isSettlementPlan', params: planChoice },
            target: 'awaitingCustomerConfirmation',
            actions: ['recordPlan', { type: 'announce', params: ({ context, event }) => planAccepted(context, event) }],
            description: 'D3: a settlement plan goes to the customer (待客户确认).',
          },
          {
            guard: { type: 'hasEvidence', params: planChoice },
            target: 'awaitingPlatformRuling',
            actions: [
              'recordPlan',
              { type: 'recordEscalation', params: { because: 'EVIDENCE_PLAN' } },
              { type: 'announce', params: ({ context, event }) => planAccepted(context, event) },
            ],
            description: 'D4: the evidence plan goes to a platform ruling.',
          },
        ],
      },
    },
    awaitingCustomerConfirmation: {
      description: 'D5: the customer confirms or objects; silence confirms.',
      tags: ['customer'],
      entry: [
        { type: 'startDeadline', params: { timer: 'customerConfirmationWindow' } },
        {
          type: 'announce',
          params: ({ context, event }) => notification(context, event, 'CUSTOMER_CONFIRMATION_REQUESTED', 'customer'),
        },
      ],
      exit: { type: 'clearDeadline', params: { timer: 'customerConfirmationWindow' } },
      after: {
        customerConfirmationWindow: {
          target: 'resolved',
          actions: [
            { type: 'recordResolution', params: { resolution: 'CONFIRMED_BY_TIMEOUT' } },
            { type: 'recordCloser', params: { by: TIMER_SENDER } },
          ],
          description: 'D5: no answer in time counts as confirmed.',
        },
      },
      on: {
        'customer.settlementConfirmed': {
          target: 'resolved',
          actions: [
            { type: 'recordResolution', params: { resolution: 'CONFIRMED_BY_CUSTOMER' } },
            { type: 'recordCloser', params: sender },
          ],
        },
        'customer.settlementObjected': {
          target: 'awaitingPlatformRuling',
          actions: { type: 'recordEscalation', params: { because: 'CUSTOMER_OBJECTED' } },
          description: 'D5: an objection escalates to the platform.',
        },
      },
    },
    awaitingPlatformRuling: {
      description: 'D4/D6: customer service rules on liability.',
      tags: ['platform'],
      entry: {
        type: 'announce',
        params: ({ context, event }) => notification(context, event, 'PLATFORM_RULING_REQUESTED', 'platform'),
      },
      on: {
        'platform.ruled': [
          {
            guard: and([{ type: 'policyIs', params: { appeals: 'on' as const } }, 'isRulingAgainstMerchant']),
            target: 'ruled.merchantMayAppeal',
            actions: ['recordRuling', { type: 'announce', params: ({ context, event }) => ruled(context, event) }],
            description:
              'A1 (appeals on): MERCHANT_LIABLE opens the appeal window for the merchant; the refund is ordered now (D6), so an appeal the merchant wins is compensated (A4), never un-refunded.',
          },
          {
            guard: { type: 'policyIs', params: { appeals: 'on' } },
            target: 'ruled.customerMayAppeal',
            actions: ['recordRuling', { type: 'announce', params: ({ context, event }) => ruled(context, event) }],
            description: 'A1 (appeals on): MERCHANT_NOT_LIABLE opens the appeal window for the customer.',
          },
          {
            target: 'resolved',
            actions: ['recordRuling', { type: 'announce', params: ({ context, event }) => ruled(context, event) }],
            description: 'D6 (appeals off, the default): a ruling is final.',
          },
        ],
      },
    },
    ruled: {
      description:
        'A1: 已裁决待申诉期满: the side ruled against may appeal once within appealWindow, with new evidence; A2: the window closing without an appeal closes the dispute with the ruling.',
      initial: 'merchantMayAppeal',
      entry: { type: 'startDeadline', params: { timer: 'appealWindow' } },
      exit: { type: 'clearDeadline', params: { timer: 'appealWindow' } },
      after: {
        appealWindow: { target: 'resolved', description: 'A2: no appeal within the window: the ruling stands.' },
      },
      states: {
        merchantMayAppeal: {
          description: 'A1: ruled MERCHANT_LIABLE: the merchant may appeal.',
          tags: ['merchant'],
          on: {
            'merchant.rulingAppealed': {
              target: '#dispute.underAppeal',
              actions: 'recordAppeal',
              description: 'A1: the merchant appeals once, within the window, with new evidence.',
            },
          },
        },
        customerMayAppeal: {
          description: 'A1: ruled MERCHANT_NOT_LIABLE: the customer may appeal.',
          tags: ['customer'],
          on: {
            'customer.rulingAppealed': {
              target: '#dispute.underAppeal',
              actions: 'recordAppeal',
              description: 'A1: the customer appeals once, within the window, with new evidence.',
            },
          },
        },
      },
    },
    underAppeal: {
      description:
        "A2: 申诉中: the platform upholds or overturns. No deadline: the platform's decision is the way out (INV6), as for awaitingPlatformRuling.",
      tags: ['platform'],
      entry: {
        type: 'announce',
        params: ({ context, event }) => notification(context, event, 'APPEAL_DECISION_REQUESTED', 'platform'),
      },
      on: {
        'platform.appealUpheld': {
          target: 'resolved',
          actions: 'recordAppealUpheld',
          description: 'A2: the appeal is upheld: the dispute closes with the original ruling.',
        },
        'platform.appealOverturned': [
          {
            guard: 'isRulingAgainstCustomer',
            target: 'resolved',
            actions: ['recordAppealOverturned', { type: 'announce', params: ({ context, event }) => overturned(context, event) }],
            description:
              "A3: overturned in the customer's favour: the merchant is liable, and the order refunds through a 平台判责退款 cancel order unless it is refunded already (INV1).",
          },
          {
            guard: { type: 'isCustomerRefunded', params: ({ event }) => ({ customerRefund: event.customerRefund }) },
            target: 'compensating',
            actions: ['recordAppealOverturned', 'startCompensation'],
            description:
              "A4: overturned in the merchant's favour after the customer was refunded: the refund stands and the platform compensates the merchant. The ruling ordered the refund (A1), so it is refunded or in flight; in flight, the overturn waits until it is settled (INV1: not taken).",
          },
          {
            guard: { type: 'isRefundCompensated', params: ({ event }) => ({ customerRefund: event.customerRefund }) },
            target: 'resolved',
            actions: 'recordAppealOverturned',
            description:
              "A4/INV1 (D1 several): overturned in the merchant's favour, but another dispute's overturn compensated the order's one refund already: the decision is recorded and nothing is compensated twice.",
          },
        ],
      },
    },
    compensating: {
      description:
        "A4: 平台补偿中: the compensation is with the payment service under the dispute's one key; the outbox delivers it until it answers (INV6: a pending effect).",
      tags: ['system'],
      entry: {
        type: 'announce',
        params: ({ context, event }) => ({
          type: 'effect.compensationRequested',
          at: timeOf(context, event),
          orderId: context.orderId,
          disputeId: context.disputeId,
          merchantId: context.merchantId,
          refundedBy: context.compensation!.refundedBy,
          idempotencyKey: compensationIdempotencyKey(context),
        }),
      },
      on: {
        'payment.compensationSucceeded': {
          guard: { type: 'isAnswerToCompensation', params: compensationKey },
          target: 'resolved',
          actions: 'recordCompensationSucceeded',
          description: 'A4: the merchant is compensated; the dispute closes with the overturned ruling.',
        },
        'payment.compensationFailed': {
          guard: { type: 'isAnswerToCompensation', params: compensationKey },
          target: 'resolved',
          actions: [
            'recordCompensationFailed',
            { type: 'announce', params: ({ context, event }) => notification(context, event, 'COMPENSATION_FAILED', 'platform') },
          ],
          description: 'A4: the payment service declined: recorded, and the platform is told to settle it outside the workflow.',
        },
      },
    },
    resolved: {
      type: 'final',
      output: { status: 'resolved' },
    },
    withdrawn: {
      type: 'final',
      description: 'D8: the customer withdrew the dispute.',
      output: { status: 'withdrawn' },
    },
  },
  output: ({ context, event }) => ({
    disputeId: context.disputeId,
    orderId: context.orderId,
    status: (event as unknown as { output: { status: DisputeOutput['status'] } }).output.status,
    plan: context.plan,
    resolution: context.resolution,
    ruling: context.ruling,
    ...(context.appeal ? { appeal: context.appeal } : {}),
    ...(context.compensation ? { compensation: context.compensation } : {}),
  }),
});

type Announced<T> = (context: DisputeContext, event: DisputeMachineEvent | { type: string }) => T;

const notification = (
  context: DisputeContext,
  event: { type: string },
  kind: NotificationRequested['kind'],
  recipient: NotificationRequested['recipient'],
): NotificationRequested => ({
  type: 'effect.notificationRequested',
  at: timeOf(context, event),
  orderId: context.orderId,
  kind,
  recipient,
  subjectId: context.disputeId,
  ...(context.plan ? { plan: context.plan } : {}),
});

const planAccepted: Announced<DisputeEmitted> = (context, event) => {
  assertEvent(event as DisputeMachineEvent, 'merchant.planSubmitted');
  const { at, by, plan } = event as Extract<DisputeMachineEvent, { type: 'merchant.planSubmitted' }>;
  return { type: 'dispute.planAccepted', at, by, disputeId: context.disputeId, plan };
};

const ruled: Announced<DisputeEmitted> = (context, event) => {
  assertEvent(event as DisputeMachineEvent, 'platform.ruled');
  const { at, by, ruling } = event as Extract<DisputeMachineEvent, { type: 'platform.ruled' }>;
  return { type: 'dispute.ruled', at, by, disputeId: context.disputeId, ruling };
};

/** A3: the overturn in the customer's favour reaches the order as a ruling against the merchant (D6's refund). */
const overturned: Announced<DisputeEmitted> = (context, event) => {
  assertEvent(event as DisputeMachineEvent, 'platform.appealOverturned');
  const { at, by } = event as Extract<DisputeMachineEvent, { type: 'platform.appealOverturned' }>;
  return { type: 'dispute.ruled', at, by, disputeId: context.disputeId, ruling: 'MERCHANT_LIABLE' };
};

/** How long until a stored deadline, from the time the machine last moved. */
function delayUntil(context: DisputeContext, timer: TimerName): number {
  return (context.deadlines[timer] ?? context.now) - context.now;
}

export type DisputeMachine = typeof disputeMachine;
