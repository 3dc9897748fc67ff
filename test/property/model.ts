import fc from 'fast-check';
import { FINAL_CANCELLATION_STATUSES } from '../../src/schemas/common.js';
import type { OrderSnapshot } from '../../machines/order.js';
import { allowedActions } from '../../src/allowed-actions.js';
import { isWorkflowError } from '../../src/errors.js';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { HOUR, VALID_EVIDENCE } from '../support/world.js';

/** A world the property tests drive: an in-memory workflow, or the durable runtime with restarts. */
export interface Driven {
  snapshot(): OrderSnapshot;
  effects(): WorkflowEffect[];
  /** Accepted events with their type, sender role and target, in order. */
  accepted(): Array<{ type: string; role: string; cancellationId?: string }>;
  now(): number;
  send(event: Record<string, unknown>): void;
  advanceTo(time: number): void;
}

export const MERCHANT_ID = 'merchant-1';
export const CUSTOMER_ID = 'customer-1';

const senders = {
  customer: fc.constantFrom({ role: 'customer', id: CUSTOMER_ID }, { role: 'customer', id: 'customer-2' }),
  merchant: fc.constantFrom({ role: 'merchant', id: MERCHANT_ID }, { role: 'merchant', id: 'merchant-2' }),
  platform: fc.constant({ role: 'platform', id: 'cs-1' }),
  system: fc.constant({ role: 'system', id: 'callbacks' }),
};
const anySender = fc.oneof(senders.customer, senders.merchant, senders.platform, senders.system);
/** Usually the right sender, sometimes anyone (wrong role or party). */
const senderFor = (role: keyof typeof senders) => fc.oneof({ weight: 5, arbitrary: senders[role] }, { weight: 1, arbitrary: anySender });

const cancellationIds = fc.constantFrom(
  'cancel-1',
  'cancel-2',
  'dispute-1.direct-refund',
  'dispute-1.intercept-48h',
  'dispute-1.ruling-refund',
  'dispute-2.direct-refund',
  'dispute-2.intercept-48h',
  'ghost',
);
const plans = fc.constantFrom('DIRECT_REFUND', 'NEGOTIATED_REJECT', 'WAIT_48H_INTERCEPT', 'PLATFORM_RULING');
const evidence = fc.constantFrom(
  VALID_EVIDENCE,
  { ...VALID_EVIDENCE, reason: 'CUSTOMER_AGREED_TO_KEEP' },
  undefined,
);

/** Every event kind from every role, valid and invalid. */
export const eventArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('dispute.opened'), by: senderFor('customer'), disputeId: fc.constantFrom('dispute-1', 'dispute-2') }),
  fc.record({ type: fc.constant('cancellation.submitted'), by: senderFor('customer'), cancellationId: fc.constantFrom('cancel-1', 'cancel-2') }),
  fc.record({ type: fc.constant('order.shipped'), by: senderFor('system') }),
  fc.record({ type: fc.constant('order.completed'), by: senderFor('system') }),
  fc
    .record({ type: fc.constant('merchant.planSubmitted'), by: senderFor('merchant'), plan: plans, evidence })
    .map(({ evidence: proof, ...event }) => (proof ? { ...event, evidence: proof } : event)),
  fc.record({ type: fc.constant('customer.settlementConfirmed'), by: senderFor('customer') }),
  fc.record({ type: fc.constant('customer.settlementObjected'), by: senderFor('customer') }),
  fc.record({ type: fc.constant('platform.ruled'), by: senderFor('platform'), ruling: fc.constantFrom('MERCHANT_LIABLE', 'MERCHANT_NOT_LIABLE') }),
  fc.record({ type: fc.constant('customer.disputeWithdrawn'), by: senderFor('customer') }),
  ...(['merchant.cancellationApproved', 'merchant.cancellationRejected', 'merchant.refundForced', 'merchant.closedWithoutRefund'] as const).map((type) =>
    fc.record({ type: fc.constant(type), by: senderFor('merchant'), cancellationId: cancellationIds }),
  ),
  fc.record({ type: fc.constant('customer.cancellationWithdrawn'), by: senderFor('customer'), cancellationId: cancellationIds }),
  fc.record({ type: fc.constantFrom('logistics.interceptSucceeded', 'logistics.interceptFailed'), by: senderFor('system'), cancellationId: cancellationIds }),
  fc.record({ type: fc.constant('payment.refundSucceeded'), by: senderFor('system'), cancellationId: cancellationIds, paymentRef: fc.constant('pay-1') }),
  fc.record({ type: fc.constant('payment.refundFailed'), by: senderFor('system'), cancellationId: cancellationIds, error: fc.constant('declined') }),
  // malformed payloads
  fc.record({ type: fc.constantFrom('merchant.planSubmitted', 'merchant.bribed', 42), by: anySender, plan: fc.constantFrom('FREE', 7) }),
);

const ROLES = ['customer', 'merchant', 'platform', 'system'] as const;
const DEFAULT_SENDER_IDS = { customer: CUSTOMER_ID, merchant: MERCHANT_ID, platform: 'cs-1', system: 'callbacks' };

/** Picks one of the actions some role may take now and builds a valid event for it. */
export const allowedPickArbitrary = fc.record({ pick: fc.nat(), flavour: fc.nat() });

export function allowedEvent(snapshot: OrderSnapshot, pick: { pick: number; flavour: number }): Record<string, unknown> | null {
  const actions = ROLES.flatMap((role) => allowedActions(snapshot, role).map((action) => ({ role, action })));
  if (actions.length === 0) return null;
  const { role, action } = actions[pick.pick % actions.length]!;
  const by = { role, id: DEFAULT_SENDER_IDS[role] };
  const event: Record<string, unknown> = { ...action, by };
  switch (action.type) {
    case 'dispute.opened':
      return { ...event, disputeId: `dispute-${Object.keys(snapshot.context.disputes).length + 1}` };
    case 'cancellation.submitted':
      return { ...event, cancellationId: `cancel-${Object.keys(snapshot.context.cancelOrders).length + 1}` };
    case 'merchant.planSubmitted':
      return action.plan === 'PLATFORM_RULING' ? { ...event, evidence: VALID_EVIDENCE } : event;
    case 'platform.ruled':
      return { ...event, ruling: pick.flavour % 2 ? 'MERCHANT_LIABLE' : 'MERCHANT_NOT_LIABLE' };
    case 'payment.refundSucceeded':
      return { ...event, paymentRef: `pay-${pick.flavour % 3}` };
    case 'payment.refundFailed':
      return { ...event, error: 'declined' };
    default:
      return event;
  }
}

/** Clock moves: just before, exactly at, or long after a pending deadline; or a small step. */
export const advanceArbitrary = fc.record({
  pick: fc.nat(),
  offset: fc.constantFrom(-1, 0, 0, 1, HOUR, 100 * HOUR),
});

export function pendingDueTimes(snapshot: OrderSnapshot): number[] {
  const due: number[] = [];
  for (const child of Object.values(snapshot.children)) {
    const childSnapshot = child?.getSnapshot() as { status: string; context: { deadlines?: Record<string, number> } };
    if (childSnapshot?.status === 'active') due.push(...Object.values(childSnapshot.context.deadlines ?? {}));
  }
  return due.sort((a, b) => a - b);
}

const FINAL = new Set<string>(FINAL_CANCELLATION_STATUSES);

/** Observes a driven world after every step and throws on the first broken invariant. */
export class InvariantChecker {
  private finalCancellations = new Map<string, string>();
  private finalDisputes = new Map<string, string>();
  private orderDone: string | null = null;
  private completedAt: number | null = null;
  checks = 0;

  constructor(private readonly world: Driven) {}

  /** INV4: a refused command changes nothing. */
  sendChecked(event: Record<string, unknown>): 'accepted' | 'refused' {
    const before = JSON.stringify(this.world.snapshot().context, skipRefs);
    const effects = this.world.effects().length;
    const accepted = this.world.accepted().length;
    try {
      this.world.send({ at: this.world.now(), ...event });
      if (event.type === 'order.completed' && this.completedAt === null) this.completedAt = this.world.now();
      return 'accepted';
    } catch (error) {
      if (!isWorkflowError(error)) throw error;
      this.expect(JSON.stringify(this.world.snapshot().context, skipRefs) === before, 'INV4: a refused event changed the order');
      this.expect(this.world.effects().length === effects, 'INV4: a refused event requested an effect');
      this.expect(this.world.accepted().length === accepted, 'INV4: a refused event was audited');
      return 'refused';
    } finally {
      this.check();
    }
  }

  check(): void {
    const snapshot = this.world.snapshot();
    const effects = this.world.effects();
    const refunds = effects.filter((effect) => effect.type === 'effect.refundRequested');
    // INV1: one cancel order at most ever asks for money, and at most one is refunded
    this.expect(new Set(refunds.map((refund) => refund.cancellationId)).size <= 1, 'INV1: refunds requested for two cancel orders');
    const refunded = Object.values(snapshot.context.cancelOrders).filter((entry) => entry.status === 'refunded');
    this.expect(refunded.length <= 1, 'INV1: two cancel orders refunded');
    // INV2: each refund request names its cancel order, reason and trigger
    for (const refund of refunds) {
      const entry = snapshot.context.cancelOrders[refund.cancellationId];
      this.expect(entry !== undefined && entry.reason === refund.reason && refund.idempotencyKey === `${refund.orderId}/${refund.cancellationId}`, 'INV2: refund request does not match its cancel order');
      this.expect(['merchant', 'timer', 'logisticsCallback', 'platformRuling', 'disputePlan'].includes(refund.trigger.kind), 'INV2: refund without trigger');
      // P3d: no timer refund after the order completed
      if (refund.trigger.kind === 'timer' && this.completedAt !== null) {
        this.expect(refund.trigger.at < this.completedAt, 'P3d: timer refunded a completed order');
      }
    }
    // C4: refunded only after the payment service confirmed
    const confirmations = this.world.accepted().filter((event) => event.type === 'payment.refundSucceeded');
    for (const entry of refunded) {
      this.expect(confirmations.some((event) => event.cancellationId === entry.cancellationId), 'C4: refunded without payment confirmation');
    }
    // A customer's cancel order is never rejected by the system
    const rejections = this.world.accepted().filter((event) => event.type === 'merchant.cancellationRejected');
    for (const entry of Object.values(snapshot.context.cancelOrders)) {
      if (entry.status === 'rejected') {
        this.expect(rejections.some((event) => event.cancellationId === entry.cancellationId && event.role === 'merchant'), 'P2: a cancel order was rejected without the merchant');
      }
    }
    // INV3: final states never change
    for (const entry of Object.values(snapshot.context.cancelOrders)) {
      const known = this.finalCancellations.get(entry.cancellationId);
      if (known) this.expect(entry.status === known, `INV3: final cancel order ${entry.cancellationId} changed`);
      else if (FINAL.has(entry.status)) this.finalCancellations.set(entry.cancellationId, entry.status);
    }
    for (const entry of Object.values(snapshot.context.disputes)) {
      const known = this.finalDisputes.get(entry.disputeId);
      if (known) this.expect(entry.status === known, `INV3: final dispute ${entry.disputeId} changed`);
      else if (entry.status === 'resolved' || entry.status === 'withdrawn') this.finalDisputes.set(entry.disputeId, entry.status);
    }
    const serialized = JSON.stringify(snapshot.context, skipRefs);
    if (this.orderDone !== null) this.expect(serialized === this.orderDone, 'INV3: a closed order changed');
    else if (snapshot.status === 'done') this.orderDone = serialized;
  }

  private expect(condition: boolean, message: string): void {
    this.checks++;
    if (!condition) throw new Error(message);
  }
}

function skipRefs(key: string, value: unknown): unknown {
  return key === 'ref' ? undefined : value;
}
