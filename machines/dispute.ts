import { assertEvent, assign, emit, setup } from 'xstate';
import type { Plan, Ruling, Sender } from '../src/schemas/common.js';
import type { NotificationRequested } from '../src/schemas/effects.js';
import type { Evidence } from '../src/schemas/evidence.js';
import type { DisputeAnnouncement, DisputeEvent } from '../src/schemas/events.js';
import type { DisputeInput } from '../src/schemas/inputs.js';
import { resolveTimers, type TimerName, type TimerSettings } from '../src/schemas/timers.js';
import { resolvePolicy, type PolicySettings } from '../src/schemas/policy.js';
import { policyIs } from './policy.js';
import { timeOf, type Clocked } from './time.js';

export type DisputeResolution = 'CONFIRMED_BY_CUSTOMER' | 'CONFIRMED_BY_TIMEOUT' | 'RULED';
export type EscalationCause = 'EVIDENCE_PLAN' | 'CUSTOMER_OBJECTED' | 'MERCHANT_TIMEOUT';

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
}

export interface DisputeOutput {
  disputeId: string;
  orderId: string;
  status: 'resolved' | 'withdrawn';
  plan: Plan | null;
  resolution: DisputeResolution | null;
  ruling: Ruling | null;
}

/** What a dispute tells whoever hosts it: notifications, and the plan and ruling it took. */
export type DisputeEmitted = NotificationRequested | DisputeAnnouncement;

export const disputeMachine = setup({
  types: {
    context: {} as DisputeContext,
    events: {} as DisputeEvent,
    input: {} as DisputeInput,
    output: {} as DisputeOutput,
    emitted: {} as DisputeEmitted,
  },
  // Each delay is the stored deadline (set by startDeadline on entry) less the time of entry.
  delays: {
    merchantResponseWindow: ({ context }) => delayUntil(context, 'merchantResponseWindow'),
    customerConfirmationWindow: ({ context }) => delayUntil(context, 'customerConfirmationWindow'),
  },
  guards: {
    isSettlementPlan: ({ event }) => event.type === 'merchant.planSubmitted' && event.plan !== 'PLATFORM_RULING',
    isEvidencePlanWithEvidence: ({ event }) =>
      event.type === 'merchant.planSubmitted' && event.plan === 'PLATFORM_RULING' && event.evidence !== undefined,
    /** D8: the settings of the `policy` input. */
    policyIs,
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
    recordResolution: assign(({ event }, params: { resolution: DisputeResolution }) => ({
      resolution: params.resolution,
      closedBy: 'by' in event ? event.by : { role: 'system' as const, id: 'timer' },
    })),
    recordWithdrawal: assign(({ event }) => ({ closedBy: 'by' in event ? event.by : null })),
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
  }),
  initial: 'awaitingMerchantChoice',
  on: {
    'customer.disputeWithdrawn': {
      guard: { type: 'policyIs', params: { disputeWithdrawal: 'untilResolved' } },
      target: '.withdrawn',
      actions: 'recordWithdrawal',
      description: 'D8 (disputeWithdrawal untilResolved, the default): the customer withdraws until the dispute is resolved',
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
          actions: 'recordWithdrawal',
          description:
            'D8 (disputeWithdrawal untilPlanAccepted): the customer withdraws only while the merchant has not chosen a plan. Under never, no withdrawal is taken anywhere.',
        },
        'merchant.planSubmitted': [
          {
            guard: 'isSettlementPlan',
            target: 'awaitingCustomerConfirmation',
            actions: ['recordPlan', { type: 'announce', params: ({ context, event }) => planAccepted(context, event) }],
            description: 'D3: a settlement plan goes to the customer (待客户确认).',
          },
          {
            guard: 'isEvidencePlanWithEvidence',
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
          actions: { type: 'recordResolution', params: { resolution: 'CONFIRMED_BY_TIMEOUT' } },
          description: 'D5: no answer in time counts as confirmed.',
        },
      },
      on: {
        'customer.settlementConfirmed': {
          target: 'resolved',
          actions: { type: 'recordResolution', params: { resolution: 'CONFIRMED_BY_CUSTOMER' } },
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
        'platform.ruled': {
          target: 'resolved',
          actions: ['recordRuling', { type: 'announce', params: ({ context, event }) => ruled(context, event) }],
          description: 'D6: a ruling is final.',
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
  }),
});

type Announced<T> = (context: DisputeContext, event: DisputeEvent | { type: string }) => T;

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
  assertEvent(event as DisputeEvent, 'merchant.planSubmitted');
  const { at, by, plan } = event as Extract<DisputeEvent, { type: 'merchant.planSubmitted' }>;
  return { type: 'dispute.planAccepted', at, by, disputeId: context.disputeId, plan };
};

const ruled: Announced<DisputeEmitted> = (context, event) => {
  assertEvent(event as DisputeEvent, 'platform.ruled');
  const { at, by, ruling } = event as Extract<DisputeEvent, { type: 'platform.ruled' }>;
  return { type: 'dispute.ruled', at, by, disputeId: context.disputeId, ruling };
};

/** How long until a stored deadline, from the time the machine last moved. */
function delayUntil(context: DisputeContext, timer: TimerName): number {
  return (context.deadlines[timer] ?? context.now) - context.now;
}

export type DisputeMachine = typeof disputeMachine;
