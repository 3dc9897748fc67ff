import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';
import type { CancellationContext } from '../machines/cancellation.js';
import type { DisputeContext } from '../machines/dispute.js';
import {
  addressedDispute,
  CANCELLATION_ACTOR_ID,
  disputeActorIdOf,
  openDisputesOf,
  type CancellationOrigin,
  type OpenDispute,
  type OrderSnapshot,
} from '../machines/order.js';
import { cancellationReasonLabel, cancellationStatusLabel, disputeStatusLabel, PLAN_LABELS, type Label } from './labels.js';
import type { CancellationReason, CancellationStatus, DisputeStatus, Plan, RefundTrigger, Role } from './schemas/common.js';

/**
 * Reads of an order system's snapshot. The order's own state value says what is in flight; a child's
 * status is its top-level state value, never a copy. Finished children are read from the history the
 * order keeps of their outputs.
 */

/** X2: one cancel order as the merchant console's cancel-order module lists it. */
export interface CancelOrderView {
  cancellationId: string;
  orderId: string;
  merchantId: string;
  status: CancellationStatus;
  statusLabel: Label;
  /** Why it was opened. */
  reason: CancellationReason;
  reasonLabel: Label;
  /**
   * D6/X2: why it is refunded, from the moment its refund is started: 平台判责退款 when a ruling ordered
   * the refund (on whichever cancel order carries it), its own reason otherwise; null while no refund is.
   */
  refundReason: CancellationReason | null;
  refundReasonLabel: Label | null;
  origin: CancellationOrigin;
  refundTrigger: RefundTrigger | null;
  /** The payment service's reference of the refund, once confirmed. */
  paymentRef: string | null;
  createdAt: number;
}

/** A dispute as the in-memory host shows it: status, plan, ruling, whose move it is. */
export interface DisputeView {
  disputeId: string;
  status: DisputeStatus;
  statusLabel: Label;
  plan: Plan | null;
  planLabel: Label | null;
  /** Whose move it is: the party tag of the dispute's state (`merchant`, `customer`, `platform`); null once closed. */
  waitingOn: PartyTag | null;
  openedAt: number;
}

/** The parties whose move a state can be (the machines' state tags). */
export type PartyTag = Extract<Role, 'merchant' | 'customer' | 'platform'>;
/** The party tags a dispute state carries to say whose move it is. */
export const PARTY_TAGS: readonly PartyTag[] = ['merchant', 'customer', 'platform'];

/** P2: something the merchant must do by hand. */
export interface MerchantFollowUp {
  kind: 'REJECT_PENDING_CANCELLATION';
  cancellationId: string;
  disputeId: string;
  at: number;
}

/** A filter over an order's cancel orders (X2): by party, order, status or reason. */
export interface CancelOrderFilter {
  merchantId?: string;
  orderId?: string;
  status?: readonly CancellationStatus[];
  /** D6/X2: matches the reason it was opened with or the reason it was refunded for. */
  reason?: readonly CancellationReason[];
  /** createdAt within [createdFrom, createdTo). */
  createdFrom?: number;
  createdTo?: number;
}

type ChildSnapshot<Context> = AnyMachineSnapshot & { context: Context };

function child<Context>(snapshot: OrderSnapshot, id: string): ChildSnapshot<Context> | undefined {
  const ref = (snapshot.children as Record<string, AnyActorRef | undefined>)[id];
  return ref?.getSnapshot() as ChildSnapshot<Context> | undefined;
}

/** The cancel order in flight, as its child actor holds it. */
export const cancellationChild = (snapshot: OrderSnapshot) => child<CancellationContext>(snapshot, CANCELLATION_ACTOR_ID);

/**
 * An open dispute, as its child actor holds it: the one `disputeId` names, or without it the only one
 * open (D1: undefined while several are open under disputesPerOrder several).
 */
export function disputeChild(snapshot: OrderSnapshot, disputeId?: string): ChildSnapshot<DisputeContext> | undefined {
  const dispute = addressedDispute(snapshot.context, disputeId);
  return dispute && child<DisputeContext>(snapshot, disputeActorIdOf(snapshot.context, dispute.disputeId));
}

/** D1: every open dispute, in the order they opened, with its child's snapshot. */
export function openDisputeChildren(snapshot: OrderSnapshot): Array<{ dispute: OpenDispute; live: ChildSnapshot<DisputeContext> }> {
  return openDisputesOf(snapshot.context).flatMap((dispute) => {
    const live = child<DisputeContext>(snapshot, disputeActorIdOf(snapshot.context, dispute.disputeId));
    return live ? [{ dispute, live }] : [];
  });
}

/** The status of a machine snapshot: its top-level state (`refunding`, not `{ refunding: 'backingOff' }`). */
export function statusOf(snapshot: { value: unknown }): string {
  const { value } = snapshot;
  return typeof value === 'string' ? value : Object.keys(value as object)[0]!;
}

const cancellationLabel = (status: CancellationStatus): Label => ({
  'zh-CN': cancellationStatusLabel(status, 'zh-CN'),
  en: cancellationStatusLabel(status, 'en'),
});
const reasonLabel = (reason: CancellationReason): Label => ({
  'zh-CN': cancellationReasonLabel(reason, 'zh-CN'),
  en: cancellationReasonLabel(reason, 'en'),
});
const disputeLabel = (status: DisputeStatus): Label => ({
  'zh-CN': disputeStatusLabel(status, 'zh-CN'),
  en: disputeStatusLabel(status, 'en'),
});

/**
 * D6/X2: why a cancel order is refunded, once its refund is started (its trigger is recorded): a
 * ruling's refund is 平台判责退款 whichever cancel order carries it, any other its own reason.
 */
export function refundReasonOf(reason: CancellationReason, trigger: RefundTrigger | null): CancellationReason | null {
  if (!trigger) return null;
  return trigger.kind === 'platformRuling' ? 'PLATFORM_RULING_REFUND' : reason;
}

/** The party whose move it is in this state (its tag), or null. */
export function waitingOnOf(snapshot: { hasTag(tag: string): boolean }): PartyTag | null {
  return PARTY_TAGS.find((tag) => snapshot.hasTag(tag)) ?? null;
}

function cancelOrderView(
  base: { orderId: string; merchantId: string },
  order: {
    cancellationId: string;
    status: CancellationStatus;
    reason: CancellationReason;
    origin: CancellationOrigin;
    refundTrigger: RefundTrigger | null;
    paymentRef: string | null;
    createdAt: number;
  },
): CancelOrderView {
  const refundReason = refundReasonOf(order.reason, order.refundTrigger);
  return {
    ...base,
    cancellationId: order.cancellationId,
    status: order.status,
    statusLabel: cancellationLabel(order.status),
    reason: order.reason,
    reasonLabel: reasonLabel(order.reason),
    refundReason,
    refundReasonLabel: refundReason && reasonLabel(refundReason),
    origin: order.origin,
    refundTrigger: order.refundTrigger,
    paymentRef: order.paymentRef,
    createdAt: order.createdAt,
  };
}

/** Every cancel order of the order, finished ones first, then the one in flight. */
export function cancelOrderViews(snapshot: OrderSnapshot): CancelOrderView[] {
  const { context } = snapshot;
  const base = { orderId: context.orderId, merchantId: context.merchantId };
  const views: CancelOrderView[] = context.closedCancelOrders.map((order) =>
    cancelOrderView(base, { ...order, paymentRef: order.paymentRef ?? null }),
  );
  const current = context.cancellation;
  const live = cancellationChild(snapshot);
  if (current && live) {
    views.push(
      cancelOrderView(base, {
        cancellationId: current.cancellationId,
        status: statusOf(live) as CancellationStatus,
        reason: live.context.reason,
        origin: current.origin,
        refundTrigger: live.context.refundTrigger,
        paymentRef: live.context.paymentRef,
        createdAt: current.createdAt,
      }),
    );
  }
  return views;
}

/** Every dispute of the order, closed ones first, then the open ones (D1) in the order they opened. */
export function disputeViews(snapshot: OrderSnapshot): DisputeView[] {
  const { context } = snapshot;
  const views: DisputeView[] = context.closedDisputes.map(({ disputeId, status, plan, openedAt }) => ({
    disputeId,
    status,
    statusLabel: disputeLabel(status),
    plan,
    planLabel: plan && PLAN_LABELS[plan],
    waitingOn: null,
    openedAt,
  }));
  for (const { dispute, live } of openDisputeChildren(snapshot)) {
    const status = statusOf(live) as DisputeStatus;
    const plan: Plan | null = live.context.plan;
    views.push({
      disputeId: dispute.disputeId,
      status,
      statusLabel: disputeLabel(status),
      plan,
      planLabel: plan && PLAN_LABELS[plan],
      waitingOn: waitingOnOf(live),
      openedAt: dispute.openedAt,
    });
  }
  return views;
}

/** P2: the customer cancel order the merchant must reject by hand, while it is still pending. */
export function merchantFollowUps(snapshot: OrderSnapshot): MerchantFollowUp[] {
  const live = cancellationChild(snapshot);
  const followUp = live?.context.rejectFollowUp;
  if (!live || !followUp || statusOf(live) !== 'pendingReview') return [];
  return [
    {
      kind: 'REJECT_PENDING_CANCELLATION',
      cancellationId: live.context.cancellationId,
      disputeId: followUp.disputeId,
      at: followUp.at,
    },
  ];
}

/** The order's value plus each child's: `{ order: {...}, dispute: 'awaitingCustomerConfirmation' }`. */
export function describeValue(snapshot: OrderSnapshot): Record<string, unknown> {
  const described: Record<string, unknown> = { order: snapshot.value };
  for (const [id, ref] of Object.entries(snapshot.children as Record<string, AnyActorRef | undefined>)) {
    if (ref) described[id] = (ref.getSnapshot() as { value: unknown }).value;
  }
  return described;
}

/** Whether a cancel order passes the filter (every given field equal). */
export function matchesCancelOrderFilter(view: CancelOrderView, filter: CancelOrderFilter): boolean {
  return (
    (filter.merchantId === undefined || view.merchantId === filter.merchantId) &&
    (filter.orderId === undefined || view.orderId === filter.orderId) &&
    (filter.status === undefined || filter.status.includes(view.status)) &&
    (filter.reason === undefined ||
      filter.reason.includes(view.reason) ||
      (view.refundReason !== null && filter.reason.includes(view.refundReason))) &&
    (filter.createdFrom === undefined || view.createdAt >= filter.createdFrom) &&
    (filter.createdTo === undefined || view.createdAt < filter.createdTo)
  );
}

/** X2: cancel orders across orders, filtered like the merchant console, oldest first. */
export function queryCancelOrders(snapshots: Iterable<OrderSnapshot>, filter: CancelOrderFilter = {}): CancelOrderView[] {
  const rows: CancelOrderView[] = [];
  for (const snapshot of snapshots) {
    for (const view of cancelOrderViews(snapshot)) if (matchesCancelOrderFilter(view, filter)) rows.push(view);
  }
  return rows.sort((a, b) => a.createdAt - b.createdAt || a.cancellationId.localeCompare(b.cancellationId));
}
