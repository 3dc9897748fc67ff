import { assign, enqueueActions, setup, type ActorRefFrom } from 'xstate';
import type {
  CancellationReason,
  CancellationStatus,
  ConflictPolicy,
  DisputeStatus,
  Plan,
  RefundTrigger,
  Sender,
} from '../src/schemas/common.js';
import type { NotificationRequested } from '../src/schemas/effects.js';
import type {
  CancellationStatusChanged,
  DisputeStatusChanged,
  OrderEvent,
  PlanAdopted,
  RefundOrdered,
} from '../src/schemas/events.js';
import { CancellationCommandEvent, DisputeEvent } from '../src/schemas/events.js';
import type { CancellationInput, OrderFacts, OrderInput } from '../src/schemas/inputs.js';
import { OrderInput as OrderInputSchema } from '../src/schemas/inputs.js';
import type { TimerSettings } from '../src/schemas/timers.js';
import { cancellationMachine } from './cancellation.js';
import { disputeMachine } from './dispute.js';

export type CancellationOrigin = 'customer' | 'dispute' | 'platform';

export interface CancelOrderEntry {
  cancellationId: string;
  ref: ActorRefFrom<typeof cancellationMachine>;
  origin: CancellationOrigin;
  reason: CancellationReason;
  status: CancellationStatus | 'created';
  createdAt: number;
  updatedAt: number;
  refundTrigger: RefundTrigger | null;
}

export interface DisputeEntry {
  disputeId: string;
  ref: ActorRefFrom<typeof disputeMachine>;
  status: DisputeStatus;
  plan: Plan | null;
  openedAt: number;
  updatedAt: number;
}

/** P2: something the merchant must do by hand. */
export interface MerchantFollowUp {
  kind: 'REJECT_PENDING_CANCELLATION';
  cancellationId: string;
  disputeId: string;
  at: number;
}

export interface OrderContext {
  orderId: string;
  merchantId: string;
  customerId: string;
  facts: OrderFacts;
  conflictPolicy: ConflictPolicy;
  timers: Partial<TimerSettings>;
  createdAt: number;
  now: number;
  disputes: Record<string, DisputeEntry>;
  openDisputeId: string | null;
  cancelOrders: Record<string, CancelOrderEntry>;
  /** At most one cancel order is in flight at a time; with `refundedBy` this is INV1. */
  activeCancellationId: string | null;
  refundedBy: string | null;
  followUps: MerchantFollowUp[];
}

export interface OrderOutput {
  orderId: string;
  refunded: boolean;
  refundedBy: string | null;
  refundReason: CancellationReason | null;
  disputes: Array<{ disputeId: string; status: DisputeStatus; plan: Plan | null }>;
}

/** Sent by XState when a child reaches its final state. */
interface ChildDone {
  type: `xstate.done.actor.${string}`;
  actorId: string;
  output: unknown;
}

type OrderMachineEvent = OrderEvent | CancellationStatusChanged | DisputeStatusChanged | ChildDone;

const REFUND_PLANS: readonly Plan[] = ['DIRECT_REFUND', 'WAIT_48H_INTERCEPT'];

/** The id a dispute plan gives the cancel order it creates. */
export function planCancellationId(disputeId: string, reason: CancellationReason): string {
  const suffix: Record<CancellationReason, string> = {
    CUSTOMER_REQUEST: 'customer',
    DIRECT_REFUND_DISPUTE_PLAN: 'direct-refund',
    INTERCEPT_48H_DISPUTE_PLAN: 'intercept-48h',
    PLATFORM_RULING_REFUND: 'ruling-refund',
  };
  return `${disputeId}.${suffix[reason]}`;
}

/** Ids come from outside: `constructor` or `toString` must not find Object.prototype's members. */
export const ownEntry = <T>(record: Record<string, T>, id: string): T | undefined =>
  Object.hasOwn(record, id) ? record[id] : undefined;

// Predicates over the order context, shared by guards and by the boundary checks in src/.
export const activeCancellation = (context: OrderContext): CancelOrderEntry | undefined =>
  context.activeCancellationId === null ? undefined : ownEntry(context.cancelOrders, context.activeCancellationId);

export const hasPendingCustomerCancellation = (context: OrderContext): boolean => {
  const active = activeCancellation(context);
  return active !== undefined && active.origin === 'customer' && active.status === 'pendingReview';
};

const openDispute = (context: OrderContext): DisputeEntry | undefined =>
  context.openDisputeId === null ? undefined : ownEntry(context.disputes, context.openDisputeId);

/** X1/INV1: a refund plan cannot start its own cancel order while one is in flight or the order is refunded. */
export const isConflictingPlan = (context: OrderContext, event: OrderMachineEvent): boolean =>
  event.type === 'merchant.planSubmitted' &&
  REFUND_PLANS.includes(event.plan) &&
  (context.activeCancellationId !== null || context.refundedBy !== null);

const disputeAccepts = (context: OrderContext, event: OrderMachineEvent): boolean =>
  openDispute(context)?.ref.getSnapshot().can(event as never) ?? false;

const DISPUTE_EVENT_TYPES = new Set<string>(DisputeEvent.options.map((option) => option.shape.type.value));
const CANCELLATION_COMMAND_TYPES = new Set<string>(
  CancellationCommandEvent.options.map((option) => option.shape.type.value),
);
const isDisputeEvent = (event: OrderMachineEvent): event is DisputeEvent => DISPUTE_EVENT_TYPES.has(event.type);
const isCancellationCommand = (event: OrderMachineEvent): event is CancellationCommandEvent =>
  CANCELLATION_COMMAND_TYPES.has(event.type);

const isIdInUse = (context: OrderContext, id: string): boolean =>
  Object.hasOwn(context.cancelOrders, id) || Object.hasOwn(context.disputes, id);

export const orderMachine = setup({
  types: {
    context: {} as OrderContext,
    events: {} as OrderMachineEvent,
    input: {} as OrderInput,
    output: {} as OrderOutput,
    emitted: {} as NotificationRequested,
  },
  actors: { cancellation: cancellationMachine, dispute: disputeMachine },
  guards: {
    canOpenDispute: ({ context, event }) =>
      event.type === 'dispute.opened' && context.openDisputeId === null && !isIdInUse(context, event.disputeId),
    canSubmitCancellation: ({ context, event }) =>
      event.type === 'cancellation.submitted' &&
      context.activeCancellationId === null &&
      context.refundedBy === null &&
      !context.facts.completed &&
      !isIdInUse(context, event.cancellationId),
    isConflictingPlanUnderFailPolicy: ({ context, event }) =>
      context.conflictPolicy === 'fail' && disputeAccepts(context, event) && isConflictingPlan(context, event),
    canAdoptPendingCancellation: ({ context, event }) =>
      context.conflictPolicy === 'adopt' &&
      disputeAccepts(context, event) &&
      isConflictingPlan(context, event) &&
      context.refundedBy === null &&
      hasPendingCustomerCancellation(context),
    isConflictingPlan: ({ context, event }) => disputeAccepts(context, event) && isConflictingPlan(context, event),
    disputeAccepts: ({ context, event }) => disputeAccepts(context, event),
    cancellationAccepts: ({ context, event }) => {
      if (!('cancellationId' in event)) return false;
      return ownEntry(context.cancelOrders, event.cancellationId)?.ref.getSnapshot().can(event as never) ?? false;
    },
    isNotShipped: ({ context }) => !context.facts.shipped,
    isNotCompleted: ({ context }) => !context.facts.completed,
    isFinished: ({ context }) =>
      context.refundedBy !== null && context.activeCancellationId === null && context.openDisputeId === null,
  },
  actions: {
    stampTime: assign(({ event }) => ('at' in event ? { now: event.at } : {})),
    openDispute: assign(({ context, event, spawn }) => {
      if (event.type !== 'dispute.opened') return {};
      const ref = spawn('dispute', {
        id: event.disputeId,
        input: {
          disputeId: event.disputeId,
          orderId: context.orderId,
          merchantId: context.merchantId,
          customerId: context.customerId,
          openedBy: event.by,
          at: event.at,
          timers: context.timers,
        },
      });
      const entry: DisputeEntry = {
        disputeId: event.disputeId,
        ref,
        status: 'awaitingMerchantChoice',
        plan: null,
        openedAt: event.at,
        updatedAt: event.at,
      };
      return { disputes: { ...context.disputes, [event.disputeId]: entry }, openDisputeId: event.disputeId };
    }),
    /** C1: a customer's cancel order. */
    submitCancellation: assign(({ context, event, spawn }) => {
      if (event.type !== 'cancellation.submitted') return {};
      return createCancelOrder(context, (id, input) => spawn('cancellation', { id, input }), {
        cancellationId: event.cancellationId,
        origin: 'customer',
        reason: 'CUSTOMER_REQUEST',
        start: { state: 'pendingReview' },
        by: event.by,
        at: event.at,
      });
    }),
    forwardToDispute: enqueueActions(({ context, event, enqueue }) => {
      const dispute = openDispute(context);
      if (dispute && isDisputeEvent(event)) enqueue.sendTo(dispute.ref, event);
    }),
    forwardToCancellation: enqueueActions(({ context, event, enqueue }) => {
      if (!isCancellationCommand(event)) return;
      const entry = ownEntry(context.cancelOrders, event.cancellationId);
      if (entry) enqueue.sendTo(entry.ref, event);
    }),
    /** P1, P2, P3: what an accepted plan does to cancel orders. */
    executePlan: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'merchant.planSubmitted' || context.openDisputeId === null) return;
      const disputeId = context.openDisputeId;
      if (event.plan === 'DIRECT_REFUND' || event.plan === 'WAIT_48H_INTERCEPT') {
        const reason = event.plan === 'DIRECT_REFUND' ? 'DIRECT_REFUND_DISPUTE_PLAN' : 'INTERCEPT_48H_DISPUTE_PLAN';
        enqueue.assign(({ context: current, spawn }) =>
          createCancelOrder(current, (id, input) => spawn('cancellation', { id, input }), {
            cancellationId: planCancellationId(disputeId, reason),
            origin: 'dispute',
            reason,
            start:
              event.plan === 'DIRECT_REFUND'
                ? { state: 'refunding', trigger: { kind: 'disputePlan', by: event.by, at: event.at } }
                : { state: 'logisticsFollowUp' },
            by: event.by,
            at: event.at,
          }),
        );
      }
      if (event.plan === 'NEGOTIATED_REJECT' && hasPendingCustomerCancellation(context)) {
        const cancellationId = context.activeCancellationId!;
        enqueue.assign({
          followUps: [
            ...context.followUps,
            { kind: 'REJECT_PENDING_CANCELLATION', cancellationId, disputeId, at: event.at },
          ],
        });
        enqueue.emit({
          type: 'effect.notificationRequested',
          at: event.at,
          orderId: context.orderId,
          kind: 'REJECT_PENDING_CANCELLATION',
          recipient: 'merchant',
          subjectId: cancellationId,
          plan: event.plan,
        });
      }
    }),
    /** X1 adopt: the plan runs on the customer's pending cancel order. */
    adoptPendingCancellation: enqueueActions(({ context, event, enqueue }) => {
      const active = activeCancellation(context);
      if (!active || event.type !== 'merchant.planSubmitted') return;
      if (event.plan !== 'DIRECT_REFUND' && event.plan !== 'WAIT_48H_INTERCEPT') return;
      const adopted: PlanAdopted = { type: 'order.planAdopted', at: event.at, by: event.by, plan: event.plan };
      enqueue.sendTo(active.ref, adopted);
    }),
    /** X1 fail (the notice's documented behaviour): the plan fails and the dispute keeps waiting. */
    reportPlanConflict: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'merchant.planSubmitted') return;
      enqueue.emit({
        type: 'effect.notificationRequested',
        at: event.at,
        orderId: context.orderId,
        kind: 'PLAN_EXECUTION_FAILED',
        recipient: 'merchant',
        subjectId: context.activeCancellationId ?? context.refundedBy ?? context.orderId,
        plan: event.plan,
      });
    }),
    /** D6: a ruling against the merchant refunds the order through a cancel order, unless it is refunded. */
    executeRuling: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'platform.ruled' || event.ruling !== 'MERCHANT_LIABLE' || context.refundedBy !== null) return;
      const active = activeCancellation(context);
      const order: RefundOrdered = { type: 'order.refundOrdered', at: event.at, by: event.by };
      if (active) {
        if (active.ref.getSnapshot().can(order)) enqueue.sendTo(active.ref, order);
        return;
      }
      const disputeId = context.openDisputeId ?? context.orderId;
      enqueue.assign(({ context: current, spawn }) =>
        createCancelOrder(current, (id, input) => spawn('cancellation', { id, input }), {
          cancellationId: planCancellationId(disputeId, 'PLATFORM_RULING_REFUND'),
          origin: 'platform',
          reason: 'PLATFORM_RULING_REFUND',
          start: { state: 'refunding', trigger: { kind: 'platformRuling', by: event.by, at: event.at } },
          by: event.by,
          at: event.at,
        }),
      );
    }),
    recordShipped: assign(({ context }) => ({ facts: { ...context.facts, shipped: true } })),
    recordCompleted: assign(({ context }) => ({ facts: { ...context.facts, completed: true } })),
    forwardFactToActive: enqueueActions(({ context, event, enqueue }) => {
      const active = activeCancellation(context);
      if (active && (event.type === 'order.shipped' || event.type === 'order.completed')) enqueue.sendTo(active.ref, event);
    }),
    mirrorCancellation: assign(({ context, event }) => {
      if (event.type !== 'cancellation.statusChanged') return {};
      const entry = ownEntry(context.cancelOrders, event.cancellationId);
      if (!entry) return {};
      return {
        now: Math.max(context.now, event.at),
        cancelOrders: {
          ...context.cancelOrders,
          [event.cancellationId]: {
            ...entry,
            status: event.status,
            reason: event.reason,
            refundTrigger: event.refundTrigger,
            updatedAt: event.at,
          },
        },
        refundedBy: event.status === 'refunded' ? event.cancellationId : context.refundedBy,
        followUps: context.followUps.filter(
          (followUp) => followUp.cancellationId !== event.cancellationId || event.status === 'pendingReview',
        ),
      };
    }),
    mirrorDispute: assign(({ context, event }) => {
      if (event.type !== 'dispute.statusChanged') return {};
      const entry = ownEntry(context.disputes, event.disputeId);
      if (!entry) return {};
      return {
        now: Math.max(context.now, event.at),
        disputes: {
          ...context.disputes,
          [event.disputeId]: { ...entry, status: event.status, plan: event.plan, updatedAt: event.at },
        },
      };
    }),
    /**
     * A child is released on its done event, not on its final status report, so the order closes only
     * after every child has finished talking to it.
     */
    releaseFinishedChild: assign(({ context, event }) => {
      if (!('actorId' in event)) return {};
      return {
        activeCancellationId: context.activeCancellationId === event.actorId ? null : context.activeCancellationId,
        openDisputeId: context.openDisputeId === event.actorId ? null : context.openDisputeId,
      };
    }),
  },
}).createMachine({
  id: 'order',
  description: 'One order: its dispute and its cancel orders, and the rules across them (P1, P2, X1, INV1).',
  context: ({ input }) => {
    const resolved = OrderInputSchema.parse(input);
    return {
      orderId: resolved.orderId,
      merchantId: resolved.merchantId,
      customerId: resolved.customerId,
      facts: { deliveredBy: resolved.deliveredBy, shipped: resolved.shipped, completed: resolved.completed },
      conflictPolicy: resolved.conflictPolicy,
      timers: resolved.timers,
      createdAt: resolved.at,
      now: resolved.at,
      disputes: {},
      openDisputeId: null,
      cancelOrders: {},
      activeCancellationId: null,
      refundedBy: null,
      followUps: [],
    };
  },
  initial: 'open',
  states: {
    open: {
      description: 'Disputes and cancel orders may still change the order.',
      always: {
        guard: 'isFinished',
        target: 'closed',
        description: 'INV1: refunded and nothing in flight: nothing can change the order any more.',
      },
      on: {
        'dispute.opened': { guard: 'canOpenDispute', actions: ['stampTime', 'openDispute'], description: 'D1' },
        'cancellation.submitted': {
          guard: 'canSubmitCancellation',
          actions: ['stampTime', 'submitCancellation'],
          description: 'C1: at most one cancel order in flight.',
        },
        'merchant.planSubmitted': [
          {
            guard: 'isConflictingPlanUnderFailPolicy',
            actions: ['stampTime', 'reportPlanConflict'],
            description: 'X1 fail: the refund plan fails; the dispute stays in awaitingMerchantChoice.',
          },
          {
            guard: 'canAdoptPendingCancellation',
            actions: ['stampTime', 'forwardToDispute', 'adoptPendingCancellation'],
            description: "X1 adopt: the plan runs on the customer's pending cancel order.",
          },
          {
            guard: 'isConflictingPlan',
            actions: ['stampTime', 'reportPlanConflict'],
            description: 'INV1: no second refund, whatever the policy.',
          },
          {
            guard: 'disputeAccepts',
            actions: ['stampTime', 'forwardToDispute', 'executePlan'],
            description: 'D2: the plan is accepted and executed (P1, P2, P3).',
          },
        ],
        'customer.settlementConfirmed': { guard: 'disputeAccepts', actions: ['stampTime', 'forwardToDispute'] },
        'customer.settlementObjected': { guard: 'disputeAccepts', actions: ['stampTime', 'forwardToDispute'] },
        'customer.disputeWithdrawn': { guard: 'disputeAccepts', actions: ['stampTime', 'forwardToDispute'] },
        'platform.ruled': {
          guard: 'disputeAccepts',
          actions: ['stampTime', 'forwardToDispute', 'executeRuling'],
          description: 'D6',
        },
        'merchant.cancellationApproved': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'merchant.cancellationRejected': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'merchant.refundForced': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'merchant.closedWithoutRefund': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'customer.cancellationWithdrawn': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'logistics.interceptSucceeded': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'logistics.interceptFailed': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'payment.refundSucceeded': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'payment.refundFailed': { guard: 'cancellationAccepts', actions: ['stampTime', 'forwardToCancellation'] },
        'order.shipped': { guard: 'isNotShipped', actions: ['stampTime', 'recordShipped', 'forwardFactToActive'] },
        'order.completed': {
          guard: 'isNotCompleted',
          actions: ['stampTime', 'recordCompleted', 'forwardFactToActive'],
          description: 'P3d: the order system reports the order completed.',
        },
        'cancellation.statusChanged': { actions: 'mirrorCancellation' },
        'dispute.statusChanged': { actions: 'mirrorDispute' },
        'xstate.done.actor.*': { actions: 'releaseFinishedChild' },
      },
    },
    closed: {
      type: 'final',
      description: 'The order is refunded and nothing is in flight.',
    },
  },
  output: ({ context }) => ({
    orderId: context.orderId,
    refunded: context.refundedBy !== null,
    refundedBy: context.refundedBy,
    refundReason: context.refundedBy === null ? null : (ownEntry(context.cancelOrders, context.refundedBy)?.reason ?? null),
    disputes: Object.values(context.disputes).map(({ disputeId, status, plan }) => ({ disputeId, status, plan })),
  }),
});

type SpawnCancellation = (id: string, input: CancellationInput) => CancelOrderEntry['ref'];

interface NewCancelOrder {
  cancellationId: string;
  origin: CancellationOrigin;
  reason: CancellationReason;
  start: CancellationInput['start'];
  by: Sender;
  at: number;
}

function createCancelOrder(context: OrderContext, spawn: SpawnCancellation, order: NewCancelOrder): Partial<OrderContext> {
  const input: CancellationInput = {
    cancellationId: order.cancellationId,
    orderId: context.orderId,
    merchantId: context.merchantId,
    customerId: context.customerId,
    reason: order.reason,
    facts: context.facts,
    start: order.start,
    createdBy: order.by,
    at: order.at,
    timers: context.timers,
  };
  const ref = spawn(order.cancellationId, input);
  const entry: CancelOrderEntry = {
    cancellationId: order.cancellationId,
    ref,
    origin: order.origin,
    reason: order.reason,
    status: 'created',
    createdAt: order.at,
    updatedAt: order.at,
    refundTrigger: order.start.state === 'refunding' ? order.start.trigger : null,
  };
  return {
    cancelOrders: { ...context.cancelOrders, [order.cancellationId]: entry },
    activeCancellationId: order.cancellationId,
  };
}

export type OrderMachine = typeof orderMachine;
export type OrderSnapshot = ReturnType<OrderMachine['getInitialSnapshot']>;
