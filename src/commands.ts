import type * as z from 'zod';
import {
  customerRefundOf,
  isAdoptable,
  isDisputeAddressed,
  openDisputesOf,
  planConflict,
  refundedBy,
  type OrderSnapshot,
} from '../machines/order.js';
import {
  ConflictingCancellationError,
  FinalStateError,
  InvalidPayloadError,
  NotAllowedInStateError,
  WrongRoleError,
  type Issue,
} from './errors.js';
import { roleViolation } from './roles.js';
import { DEFAULT_EVIDENCE_CATALOGUE, evidenceIssues, type EvidenceCatalogue } from './schemas/evidence.js';
import { CancellationCommandEvent, OrderEvent, type DisputeEvent } from './schemas/events.js';
import { cancellationChild, describeValue, disputeChild, statusOf } from './queries.js';
import { OrderInput, type ResolvedOrderInput } from './schemas/inputs.js';

/** What the boundary checks events against: the evidence catalogue (D4) and the allowed clock skew. */
export interface BoundaryOptions {
  /** D4: the evidence catalogue the evidence plan is checked against. */
  evidenceCatalogue?: EvidenceCatalogue;
}

const toIssues = (error: z.ZodError): Issue[] =>
  error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));

/** INV4: parses an event at the boundary; throws InvalidPayloadError with every issue. */
export function parseEvent(raw: unknown, options: BoundaryOptions = {}): OrderEvent {
  const parsed = OrderEvent.safeParse(raw);
  if (!parsed.success) throw new InvalidPayloadError(toIssues(parsed.error));
  const event = parsed.data;
  if (event.type === 'merchant.planSubmitted') {
    const catalogue = options.evidenceCatalogue ?? DEFAULT_EVIDENCE_CATALOGUE;
    if (event.plan === 'PLATFORM_RULING') {
      if (!event.evidence) throw new InvalidPayloadError([{ path: 'evidence', message: 'D4: the evidence plan needs evidence' }]);
      const issues = evidenceIssues(event.evidence, catalogue);
      if (issues.length) throw new InvalidPayloadError(issues.map((message) => ({ path: 'evidence', message })));
    } else if (event.evidence) {
      throw new InvalidPayloadError([{ path: 'evidence', message: 'evidence belongs to the PLATFORM_RULING plan only' }]);
    }
  }
  if (event.type === 'merchant.rulingAppealed' || event.type === 'customer.rulingAppealed') {
    // A1: an appeal's evidence comes from the same catalogue, among the reasons its party may give.
    const issues = evidenceIssues(
      event.evidence,
      options.evidenceCatalogue ?? DEFAULT_EVIDENCE_CATALOGUE,
      event.by.role === 'customer' ? 'customer' : 'merchant',
    );
    if (issues.length) throw new InvalidPayloadError(issues.map((message) => ({ path: 'evidence', message })));
  }
  return event;
}

/** Parses the input that creates an order workflow. */
export function parseOrderInput(raw: unknown): ResolvedOrderInput {
  const parsed = OrderInput.safeParse(raw);
  if (!parsed.success) throw new InvalidPayloadError(toIssues(parsed.error));
  return parsed.data;
}

/**
 * INV4: decides whether a parsed event may be applied to this order snapshot, and throws the typed
 * error that says why not. Nothing is sent: callers apply the event only when this returns. The order
 * routes an event to its dispute or its cancel order in flight; the child that would take it decides
 * (`can` on its snapshot), and the order's own predicates (X1/INV1) explain a refused plan.
 */
export function checkEvent(snapshot: OrderSnapshot, event: OrderEvent): void {
  const { context } = snapshot;
  const violation = roleViolation(event.type, event.by, context);
  if (violation) throw new WrongRoleError(event.type, event.by.role, event.by.id, violation);
  if (snapshot.status !== 'active') throw new FinalStateError(event.type, `order ${context.orderId}`, snapshot.status);
  if (event.at < context.now) {
    throw new InvalidPayloadError([{ path: 'at', message: `is before the last accepted event (${context.now})` }]);
  }
  if (isDisputeAddressed(event)) {
    checkDisputeEvent(snapshot, event);
    return;
  }
  if (isCancellationCommand(event)) {
    checkCancellationCommand(snapshot, event);
    return;
  }
  if (!snapshot.can(event)) throw notAllowedError(snapshot, event);
}

function checkDisputeEvent(snapshot: OrderSnapshot, event: DisputeEvent): void {
  const { context } = snapshot;
  const dispute = addressedDisputeChild(snapshot, event);
  if (event.type === 'platform.appealOverturned') {
    checkOverturn(snapshot, event, dispute);
    return;
  }
  if (!dispute.can(event)) throw disputeRefusal(snapshot, event, dispute);
  if (event.type === 'merchant.rulingAppealed') checkNewEvidence(event, dispute.context.evidence);
  if (event.type !== 'merchant.planSubmitted') return;
  const conflict = planConflict(context, event.plan);
  if (!conflict) return;
  if (conflict.kind === 'refunded') {
    throw new ConflictingCancellationError(
      event.plan,
      conflict.cancellationId,
      `INV1: the order is already refunded by ${conflict.cancellationId}`,
    );
  }
  const cancellation = cancellationChild(snapshot);
  const pendingCustomerOrder = conflict.origin === 'customer' && cancellation !== undefined && statusOf(cancellation) === 'pendingReview';
  if (isAdoptable(context, event.plan) && pendingCustomerOrder) return;
  const hint = pendingCustomerOrder
    ? `X1: the customer's cancel order ${conflict.cancellationId} is pending; approve it directly to refund`
    : `INV1: cancel order ${conflict.cancellationId} is already in progress`;
  throw new ConflictingCancellationError(event.plan, conflict.cancellationId, hint);
}

type DisputeSnapshot = NonNullable<ReturnType<typeof disputeChild>>;

/**
 * D1: the open dispute an event is for, or the refusal: the named dispute is closed (FinalStateError) or
 * not open; none named while several are open (InvalidPayloadError at disputeId: which dispute?); none open.
 */
function addressedDisputeChild(snapshot: OrderSnapshot, event: DisputeEvent): DisputeSnapshot {
  const { context } = snapshot;
  const dispute = disputeChild(snapshot, event.disputeId);
  if (dispute) return dispute;
  const open = openDisputesOf(context);
  if (event.disputeId !== undefined) {
    const closed = context.closedDisputes.findLast((entry) => entry.disputeId === event.disputeId);
    if (closed) throw new FinalStateError(event.type, `dispute ${closed.disputeId}`, closed.status);
    throw new NotAllowedInStateError(event.type, describeValue(snapshot), `D1: no dispute ${event.disputeId} is open`);
  }
  if (open.length > 1) {
    const ids = open.map((entry) => entry.disputeId).join(', ');
    throw new InvalidPayloadError([
      {
        path: 'disputeId',
        message: `D1: this order's policy (disputesPerOrder 'several') has ${open.length} disputes open (${ids}): name the one this event is for`,
      },
    ]);
  }
  const last = context.closedDisputes.at(-1);
  if (last) throw new FinalStateError(event.type, `dispute ${last.disputeId}`, last.status);
  throw new NotAllowedInStateError(event.type, describeValue(snapshot), 'no dispute is open');
}

/** INV4: why the dispute refuses an event, with the appeal rules spelled out (A1). */
function disputeRefusal(snapshot: OrderSnapshot, event: DisputeEvent, dispute: DisputeSnapshot): NotAllowedInStateError {
  if (event.type === 'merchant.rulingAppealed' || event.type === 'customer.rulingAppealed') {
    const { appeal, ruling } = dispute.context;
    if (appeal) return new NotAllowedInStateError(event.type, describeValue(snapshot), 'A1: a ruling is appealed once');
    if (ruling && dispute.matches('ruled')) {
      const against = ruling === 'MERCHANT_LIABLE' ? 'merchant' : 'customer';
      return new NotAllowedInStateError(event.type, describeValue(snapshot), `A1: only the side ruled against (the ${against}) may appeal`);
    }
  }
  return notAllowedError(snapshot, event);
}

/** A1: an appeal brings new evidence: the merchant's names at least one proof its evidence plan did not. */
function checkNewEvidence(
  event: { evidence: { proofs: ReadonlyArray<{ fileId: string }> } },
  earlier: { proofs: ReadonlyArray<{ fileId: string }> } | null,
): void {
  const given = new Set((earlier?.proofs ?? []).map((proof) => proof.fileId));
  if (earlier && event.evidence.proofs.every((proof) => given.has(proof.fileId))) {
    throw new InvalidPayloadError([{ path: 'evidence', message: 'A1: an appeal brings new evidence: at least one proof not given before' }]);
  }
}

/** A3/A4: the overturn as the order forwards it (with where the customer's refund stands). */
function checkOverturn(
  snapshot: OrderSnapshot,
  event: Extract<DisputeEvent, { type: 'platform.appealOverturned' }>,
  dispute: DisputeSnapshot,
): void {
  const customerRefund = customerRefundOf(snapshot);
  const forwarded = { ...event, customerRefund, refundedBy: refundedBy(snapshot.context)?.cancellationId ?? null };
  if (dispute.can(forwarded)) return;
  if (customerRefund === 'inFlight' && dispute.matches('underAppeal')) {
    const cancellationId = snapshot.context.cancellation?.cancellationId;
    throw new NotAllowedInStateError(
      event.type,
      describeValue(snapshot),
      `A4/INV1: the customer's refund (cancel order ${cancellationId}) is not settled yet; overturn in the merchant's favour once it is refunded or closed`,
    );
  }
  throw notAllowedError(snapshot, event);
}

function checkCancellationCommand(snapshot: OrderSnapshot, event: CancellationCommandEvent): void {
  const { context } = snapshot;
  const cancellation = cancellationChild(snapshot);
  if (context.cancellation?.cancellationId === event.cancellationId && cancellation) {
    if (!cancellation.can(event)) throw notAllowedError(snapshot, event);
    return;
  }
  const closed = context.closedCancelOrders.find((order) => order.cancellationId === event.cancellationId);
  if (closed) throw new FinalStateError(event.type, `cancel order ${event.cancellationId}`, closed.status);
  throw new NotAllowedInStateError(event.type, describeValue(snapshot), `no cancel order ${event.cancellationId}`);
}

/** The error `checkEvent` throws when the order system does not take the event in this snapshot. */
export function notAllowedError(snapshot: OrderSnapshot, event: OrderEvent): NotAllowedInStateError {
  const detail = policyRefusal(snapshot, event);
  return detail === null
    ? new NotAllowedInStateError(event.type, describeValue(snapshot))
    : new NotAllowedInStateError(event.type, describeValue(snapshot), detail);
}

/**
 * INV4: the order's `policy` setting that refuses this event (C5, D8), spelled out for the caller; null
 * when no setting is why. The machines' guards decide; this only names the setting in the error.
 */
export function policyRefusal(snapshot: OrderSnapshot, event: OrderEvent): string | null {
  const { policy } = snapshot.context;
  if (event.type === 'customer.cancellationWithdrawn' && policy.cancelOrderWithdrawal === 'never') {
    return "C5: this order's policy (cancelOrderWithdrawal 'never') does not let the customer withdraw a cancel order";
  }
  if (event.type !== 'customer.disputeWithdrawn') return null;
  if (policy.disputeWithdrawal === 'never') {
    return "D8: this order's policy (disputeWithdrawal 'never') does not let the customer withdraw a dispute";
  }
  const dispute = disputeChild(snapshot, event.disputeId);
  if (policy.disputeWithdrawal === 'untilPlanAccepted' && dispute && statusOf(dispute) !== 'awaitingMerchantChoice') {
    return "D8: this order's policy (disputeWithdrawal 'untilPlanAccepted') lets the customer withdraw a dispute only until the merchant's plan is accepted";
  }
  return null;
}

const CANCELLATION_COMMAND_TYPES = new Set<string>(CancellationCommandEvent.options.map((option) => option.shape.type.value));
const isCancellationCommand = (event: OrderEvent): event is CancellationCommandEvent => CANCELLATION_COMMAND_TYPES.has(event.type);

export { describeValue };
