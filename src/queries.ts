import type { AnyActorRef, AnyMachineSnapshot } from 'xstate';
import type { CancellationContext } from '../machines/cancellation.js';
import type { DisputeContext } from '../machines/dispute.js';
import {
  CANCELLATION_ACTOR_ID,
  DISPUTE_ACTOR_ID,
  type CancellationOrigin,
  type OrderSnapshot,
} from '../machines/order.js';
import { cancellationReasonLabel, cancellationStatusLabel, disputeStatusLabel, type Label } from './labels.js';
import type {
  CancellationReason,
  CancellationStatus,
  DisputeStatus,
  Plan,
  RefundTrigger,
} from './schemas/common.js';

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
  reason: CancellationReason;
  reasonLabel: Label;
  origin: CancellationOrigin;
  refundTrigger: RefundTrigger | null;
  createdAt: number;
}

export interface DisputeView {
  disputeId: string;
  status: DisputeStatus;
  statusLabel: Label;
  plan: Plan | null;
  openedAt: number;
}

/** P2: something the merchant must do by hand. */
export interface MerchantFollowUp {
  kind: 'REJECT_PENDING_CANCELLATION';
  cancellationId: string;
  disputeId: string;
  at: number;
}

export interface CancelOrderFilter {
  merchantId?: string;
  orderId?: string;
  status?: readonly CancellationStatus[];
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
export const cancellationChild = (snapshot: OrderSnapshot) =>
  child<CancellationContext>(snapshot, CANCELLATION_ACTOR_ID);

/** The open dispute, as its child actor holds it. */
export const disputeChild = (snapshot: OrderSnapshot) => child<DisputeContext>(snapshot, DISPUTE_ACTOR_ID);

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

/** Every cancel order of the order, finished ones first, then the one in flight. */
export function cancelOrderViews(snapshot: OrderSnapshot): CancelOrderView[] {
  const { context } = snapshot;
  const base = { orderId: context.orderId, merchantId: context.merchantId };
  const views: CancelOrderView[] = context.closedCancelOrders.map((order) => ({
    ...base,
    cancellationId: order.cancellationId,
    status: order.status,
    statusLabel: cancellationLabel(order.status),
    reason: order.reason,
    reasonLabel: reasonLabel(order.reason),
    origin: order.origin,
    refundTrigger: order.refundTrigger,
    createdAt: order.createdAt,
  }));
  const current = context.cancellation;
  const live = cancellationChild(snapshot);
  if (current && live) {
    const status = statusOf(live) as CancellationStatus;
    views.push({
      ...base,
      cancellationId: current.cancellationId,
      status,
      statusLabel: cancellationLabel(status),
      reason: live.context.reason,
      reasonLabel: reasonLabel(live.context.reason),
      origin: current.origin,
      refundTrigger: live.context.refundTrigger,
      createdAt: current.createdAt,
    });
  }
  return views;
}

/** Every dispute of the order, closed ones first, then the open one. */
export function disputeViews(snapshot: OrderSnapshot): DisputeView[] {
  const { context } = snapshot;
  const views: DisputeView[] = context.closedDisputes.map(({ disputeId, status, plan, openedAt }) => ({
    disputeId,
    status,
    statusLabel: disputeLabel(status),
    plan,
    openedAt,
  }));
  const live = disputeChild(snapshot);
  if (context.dispute && live) {
    const status = statusOf(live) as DisputeStatus;
    views.push({
      disputeId: context.dispute.disputeId,
      status,
      statusLabel: disputeLabel(status),
      plan: live.context.plan,
      openedAt: context.dispute.openedAt,
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

export function matchesCancelOrderFilter(view: CancelOrderView, filter: CancelOrderFilter): boolean {
  return (
    (filter.merchantId === undefined || view.merchantId === filter.merchantId) &&
    (filter.orderId === undefined || view.orderId === filter.orderId) &&
    (filter.status === undefined || filter.status.includes(view.status)) &&
    (filter.reason === undefined || filter.reason.includes(view.reason)) &&
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
