import { assign, emit, enqueueActions, setup } from 'xstate';
import type { DisputeStatus, Plan, Ruling, Sender } from '../src/schemas/common.js';
import type { NotificationRequested } from '../src/schemas/effects.js';
import type { Evidence } from '../src/schemas/evidence.js';
import type { DisputeEvent, DisputeStatusChanged } from '../src/schemas/events.js';
import type { DisputeInput } from '../src/schemas/inputs.js';
import { resolveTimers, type TimerName, type TimerSettings } from '../src/schemas/timers.js';
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
  status: DisputeStatus;
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

export const disputeMachine = setup({
  types: {
    context: {} as DisputeContext,
    events: {} as DisputeEvent,
    input: {} as DisputeInput,
    output: {} as DisputeOutput,
    emitted: {} as NotificationRequested,
  },
  delays: {
    merchantResponseWindow: ({ context }) => context.timers.merchantResponseWindow,
    customerConfirmationWindow: ({ context }) => context.timers.customerConfirmationWindow,
  },
  guards: {
    isSettlementPlan: ({ event }) => event.type === 'merchant.planSubmitted' && event.plan !== 'PLATFORM_RULING',
    isEvidencePlanWithEvidence: ({ event }) =>
      event.type === 'merchant.planSubmitted' && event.plan === 'PLATFORM_RULING' && event.evidence !== undefined,
  },
  actions: {
    enterStatus: enqueueActions(({ context, event, enqueue, self }, params: { status: DisputeStatus }) => {
      const at = timeOf(context, event);
      enqueue.assign({ status: params.status, now: at });
      if (!self._parent) return;
      const report: DisputeStatusChanged = {
        type: 'dispute.statusChanged',
        at,
        disputeId: context.disputeId,
        status: params.status,
        plan: context.plan,
      };
      enqueue.sendParent(report);
    }),
    startDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const now = timeOf(context, event);
      return { now, deadlines: { ...context.deadlines, [params.timer]: now + context.timers[params.timer] } };
    }),
    clearDeadline: assign(({ context, event }, params: { timer: TimerName }) => {
      const { [params.timer]: _cleared, ...deadlines } = context.deadlines;
      return { now: timeOf(context, event), deadlines };
    }),
    recordPlan: assign(({ event }) =>
      event.type === 'merchant.planSubmitted' ? { plan: event.plan, evidence: event.evidence ?? null } : {},
    ),
    recordEscalation: assign((_, params: { because: EscalationCause }) => ({ escalatedBecause: params.because })),
    recordRuling: assign(({ event }) =>
      event.type === 'platform.ruled' ? { ruling: event.ruling, resolution: 'RULED' as const, closedBy: event.by } : {},
    ),
    recordResolution: assign(({ event }, params: { resolution: DisputeResolution }) => ({
      resolution: params.resolution,
      closedBy: 'by' in event ? event.by : { role: 'system' as const, id: 'timer' },
    })),
    recordWithdrawal: assign(({ event }) => ({ closedBy: 'by' in event ? event.by : null })),
    notify: emit(
      ({ context, event }, params: { kind: NotificationRequested['kind']; recipient: NotificationRequested['recipient'] }) => ({
        type: 'effect.notificationRequested' as const,
        at: timeOf(context, event),
        orderId: context.orderId,
        kind: params.kind,
        recipient: params.recipient,
        subjectId: context.disputeId,
        ...(context.plan ? { plan: context.plan } : {}),
      }),
    ),
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
    status: 'awaitingMerchantChoice',
    plan: null,
    evidence: null,
    escalatedBecause: null,
    ruling: null,
    resolution: null,
    closedBy: null,
  }),
  initial: 'awaitingMerchantChoice',
  on: {
    'customer.disputeWithdrawn': { target: '.withdrawn', actions: 'recordWithdrawal', description: 'D8' },
  },
  states: {
    awaitingMerchantChoice: {
      description: 'D1/D2: the merchant chooses exactly one plan.',
      entry: [
        { type: 'enterStatus', params: { status: 'awaitingMerchantChoice' } },
        { type: 'startDeadline', params: { timer: 'merchantResponseWindow' } },
      ],
      exit: { type: 'clearDeadline', params: { timer: 'merchantResponseWindow' } },
      after: {
        merchantResponseWindow: {
          target: 'awaitingPlatformRuling',
          actions: { type: 'recordEscalation', params: { because: 'MERCHANT_TIMEOUT' } },
          description: 'D7: no plan in time escalates to the platform.',
        },
      },
      on: {
        'merchant.planSubmitted': [
          {
            guard: 'isSettlementPlan',
            target: 'awaitingCustomerConfirmation',
            actions: 'recordPlan',
            description: 'D3: a settlement plan goes to the customer (待客户确认).',
          },
          {
            guard: 'isEvidencePlanWithEvidence',
            target: 'awaitingPlatformRuling',
            actions: ['recordPlan', { type: 'recordEscalation', params: { because: 'EVIDENCE_PLAN' } }],
            description: 'D4: the evidence plan goes to a platform ruling.',
          },
        ],
      },
    },
    awaitingCustomerConfirmation: {
      description: 'D5: the customer confirms or objects; silence confirms.',
      entry: [
        { type: 'enterStatus', params: { status: 'awaitingCustomerConfirmation' } },
        { type: 'startDeadline', params: { timer: 'customerConfirmationWindow' } },
        { type: 'notify', params: { kind: 'CUSTOMER_CONFIRMATION_REQUESTED', recipient: 'customer' } },
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
      entry: [
        { type: 'enterStatus', params: { status: 'awaitingPlatformRuling' } },
        { type: 'notify', params: { kind: 'PLATFORM_RULING_REQUESTED', recipient: 'platform' } },
      ],
      on: {
        'platform.ruled': { target: 'resolved', actions: 'recordRuling', description: 'D6: a ruling is final.' },
      },
    },
    resolved: {
      type: 'final',
      entry: { type: 'enterStatus', params: { status: 'resolved' } },
    },
    withdrawn: {
      type: 'final',
      description: 'D8: the customer withdrew the dispute.',
      entry: { type: 'enterStatus', params: { status: 'withdrawn' } },
    },
  },
  output: ({ context }) => ({
    disputeId: context.disputeId,
    orderId: context.orderId,
    status: context.status === 'withdrawn' ? 'withdrawn' : 'resolved',
    plan: context.plan,
    resolution: context.resolution,
    ruling: context.ruling,
  }),
});

export type DisputeMachine = typeof disputeMachine;
