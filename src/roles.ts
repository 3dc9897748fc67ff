import type { Role, Sender } from './schemas/common.js';
import type { OrderEventType } from './schemas/events.js';

/** Who may send each event (every event names its sender, see DOMAIN.md "Roles"). */
export const EVENT_ROLES: Record<OrderEventType, readonly Role[]> = {
  'dispute.opened': ['customer', 'platform'],
  'cancellation.submitted': ['customer'],
  'order.shipped': ['system'],
  'order.completed': ['system'],
  'merchant.planSubmitted': ['merchant'],
  'customer.settlementConfirmed': ['customer'],
  'customer.settlementObjected': ['customer'],
  'platform.ruled': ['platform'],
  'customer.disputeWithdrawn': ['customer'],
  'merchant.cancellationApproved': ['merchant'],
  'merchant.cancellationRejected': ['merchant'],
  'merchant.refundForced': ['merchant'],
  'merchant.closedWithoutRefund': ['merchant'],
  'customer.cancellationWithdrawn': ['customer'],
  'logistics.interceptSucceeded': ['system'],
  'logistics.interceptFailed': ['system'],
  'payment.refundSucceeded': ['system'],
  'payment.refundFailed': ['system'],
  'platform.refundOutcomeRecorded': ['platform'],
  'merchant.rulingAppealed': ['merchant'],
  'customer.rulingAppealed': ['customer'],
  'platform.appealUpheld': ['platform'],
  'platform.appealOverturned': ['platform'],
  'payment.compensationSucceeded': ['system'],
  'payment.compensationFailed': ['system'],
};

/** The merchant and customer of an order: only they may act on it in their role. */
export interface OrderParties {
  merchantId: string;
  customerId: string;
}

/** Why this sender may not send this event for this order, or null when it may. */
export function roleViolation(eventType: OrderEventType, sender: Sender, parties: OrderParties): string | null {
  if (!EVENT_ROLES[eventType].includes(sender.role)) {
    return `only ${EVENT_ROLES[eventType].join(' or ')} may send it`;
  }
  if (sender.role === 'merchant' && sender.id !== parties.merchantId) return "this is another merchant's order";
  if (sender.role === 'customer' && sender.id !== parties.customerId) return "this is another customer's order";
  return null;
}

/** The roles that may send this event type (INV4: any other role is refused). */
export function rolesAllowedFor(eventType: OrderEventType): readonly Role[] {
  return EVENT_ROLES[eventType];
}
