import { isDisputeAddressed, type OrderSnapshot } from '../machines/order.js';
import { checkEvent } from './commands.js';
import { EVENT_ROLES } from './roles.js';
import type { Role, Sender } from './schemas/common.js';
import { Plan } from './schemas/common.js';
import type { OrderEvent, OrderEventType } from './schemas/events.js';

/** Something a role may do now, like a hypermedia link: the event type and what it applies to. */
export interface AllowedAction {
  type: OrderEventType;
  cancellationId?: string;
  /** D1 (disputesPerOrder several): the open dispute it is for; absent under `one`. */
  disputeId?: string;
  plan?: Plan;
}

const PLACEHOLDER_ID = 'new';
const SAMPLE_EVIDENCE = { reason: 'SAMPLE', proofs: [], explanation: '' };
/** A1: an appeal's sample brings a proof never given before (the boundary asks for new evidence). */
const SAMPLE_APPEAL_EVIDENCE = { reason: 'SAMPLE', proofs: [{ kind: 'PHOTO' as const, fileId: 'sample:new', sizeBytes: 1 }], explanation: '' };

/**
 * What `role` may send to this order now. Each candidate goes through the same checks as a real
 * command (role, party, state, X1), so the list never offers something that would be refused.
 */
export function allowedActions(snapshot: OrderSnapshot, role: Role, senderId?: string): AllowedAction[] {
  const { context } = snapshot;
  const by: Sender = {
    role,
    id: senderId ?? (role === 'merchant' ? context.merchantId : role === 'customer' ? context.customerId : role),
  };
  const at = context.now;
  const openCancellations = context.cancellation ? [context.cancellation.cancellationId] : [];
  // D1: under disputesPerOrder several each open dispute is offered by its id; under one, unnamed.
  const disputeIds = context.openDisputes ? context.openDisputes.map((dispute) => dispute.disputeId) : [undefined];
  const allowed: AllowedAction[] = [];
  for (const type of Object.keys(EVENT_ROLES) as OrderEventType[]) {
    if (!EVENT_ROLES[type].includes(role)) continue;
    const perDispute = isDisputeAddressed({ type }) && !COMPENSATION_ANSWERS.has(type);
    const list = perDispute
      ? disputeIds.flatMap((disputeId) => candidates(type, by, at, openCancellations).map((candidate) => forDispute(candidate, disputeId)))
      : candidates(type, by, at, openCancellations);
    for (const candidate of list) {
      try {
        checkEvent(snapshot, candidate.event);
        allowed.push(candidate.action);
      } catch {
        // refused: not offered
      }
    }
  }
  return allowed;
}

/** A4: the payment service's answers name their dispute already; they are never offered. */
const COMPENSATION_ANSWERS = new Set<OrderEventType>(['payment.compensationSucceeded', 'payment.compensationFailed']);

/** The candidate addressed to one open dispute (D1 several); unchanged when none is named. */
function forDispute(candidate: { event: OrderEvent; action: AllowedAction }, disputeId: string | undefined) {
  if (disputeId === undefined) return candidate;
  return { event: { ...candidate.event, disputeId } as OrderEvent, action: { ...candidate.action, disputeId } };
}

function candidates(
  type: OrderEventType,
  by: Sender,
  at: number,
  cancellationIds: string[],
): Array<{ event: OrderEvent; action: AllowedAction }> {
  const base = { at, by };
  switch (type) {
    case 'dispute.opened':
      return [{ event: { type, ...base, disputeId: PLACEHOLDER_ID }, action: { type } }];
    case 'cancellation.submitted':
      return [{ event: { type, ...base, cancellationId: PLACEHOLDER_ID }, action: { type } }];
    case 'merchant.planSubmitted':
      return Plan.options.map((plan) => ({
        event: { type, ...base, plan, ...(plan === 'PLATFORM_RULING' ? { evidence: SAMPLE_EVIDENCE } : {}) },
        action: { type, plan },
      }));
    case 'platform.ruled':
      return [{ event: { type, ...base, ruling: 'MERCHANT_NOT_LIABLE' }, action: { type } }];
    case 'merchant.rulingAppealed':
    case 'customer.rulingAppealed':
      return [{ event: { type, ...base, evidence: SAMPLE_APPEAL_EVIDENCE }, action: { type } }];
    case 'payment.refundSucceeded':
      return cancellationIds.map((cancellationId) => ({
        event: { type, ...base, cancellationId, paymentRef: 'sample' },
        action: { type, cancellationId },
      }));
    case 'payment.refundFailed':
      return cancellationIds.map((cancellationId) => ({
        event: { type, ...base, cancellationId, error: 'sample' },
        action: { type, cancellationId },
      }));
    case 'platform.refundOutcomeRecorded':
      return cancellationIds.map((cancellationId) => ({
        event: { type, ...base, cancellationId, outcome: 'failed', error: 'sample' },
        action: { type, cancellationId },
      }));
    case 'merchant.cancellationApproved':
    case 'merchant.cancellationRejected':
    case 'merchant.refundForced':
    case 'merchant.closedWithoutRefund':
    case 'customer.cancellationWithdrawn':
    case 'logistics.interceptSucceeded':
    case 'logistics.interceptFailed':
      return cancellationIds.map((cancellationId) => ({
        event: { type, ...base, cancellationId },
        action: { type, cancellationId },
      }));
    default:
      return [{ event: { type, ...base } as OrderEvent, action: { type } }];
  }
}
