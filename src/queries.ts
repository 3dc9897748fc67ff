import type { OrderSnapshot } from '../machines/order.js';
import { cancellationReasonLabel, cancellationStatusLabel } from './labels.js';
import type { CancellationReason, CancellationStatus, RefundTrigger } from './schemas/common.js';

/** X2: one cancel order as the merchant console's cancel-order module lists it. */
export interface CancelOrderView {
  cancellationId: string;
  orderId: string;
  merchantId: string;
  status: CancellationStatus;
  statusLabel: { 'zh-CN': string; en: string };
  reason: CancellationReason;
  reasonLabel: { 'zh-CN': string; en: string };
  origin: 'customer' | 'dispute' | 'platform';
  refundTrigger: RefundTrigger | null;
  createdAt: number;
  updatedAt: number;
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

/** The cancel orders of one order, as rows. */
export function cancelOrderViews(snapshot: OrderSnapshot): CancelOrderView[] {
  const { context } = snapshot;
  return Object.values(context.cancelOrders).map((entry) => {
    const status = entry.status === 'created' ? ((entry.ref.getSnapshot().context.status as CancellationStatus) ?? 'pendingReview') : entry.status;
    return {
      cancellationId: entry.cancellationId,
      orderId: context.orderId,
      merchantId: context.merchantId,
      status,
      statusLabel: { 'zh-CN': cancellationStatusLabel(status, 'zh-CN'), en: cancellationStatusLabel(status, 'en') },
      reason: entry.reason,
      reasonLabel: {
        'zh-CN': cancellationReasonLabel(entry.reason, 'zh-CN'),
        en: cancellationReasonLabel(entry.reason, 'en'),
      },
      origin: entry.origin,
      refundTrigger: entry.refundTrigger,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
    };
  });
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
