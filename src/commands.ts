import type { AnyStateNode } from 'xstate';
import type * as z from 'zod';
import {
  hasPendingCustomerCancellation,
  isConflictingPlan,
  ownEntry,
  orderMachine,
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
import { EVENT_ROLES, roleViolation } from './roles.js';
import { DEFAULT_EVIDENCE_CATALOGUE, evidenceIssues, type EvidenceCatalogue } from './schemas/evidence.js';
import { OrderEvent } from './schemas/events.js';
import { OrderInput, type ResolvedOrderInput } from './schemas/inputs.js';

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
 * error that says why not. Nothing is sent: callers apply the event only when this returns.
 */
export function checkEvent(snapshot: OrderSnapshot, event: OrderEvent): void {
  precheckEvent(snapshot, event);
  if (!snapshot.can(event)) throw notAllowedError(snapshot, event);
}

/**
 * Every check of `checkEvent` but the last one, whether the order machine takes the event (`can`).
 * A host that sends right after may skip `can` for the event types of `REFUSAL_KEEPS_SNAPSHOT`: it
 * sends, and a snapshot that is still the same object means the machine refused the event (then it
 * throws `notAllowedError`, and nothing changed).
 */
export function precheckEvent(snapshot: OrderSnapshot, event: OrderEvent): void {
  const { context } = snapshot;
  const violation = roleViolation(event.type, event.by, context);
  if (violation) throw new WrongRoleError(event.type, event.by.role, event.by.id, violation);
  if (snapshot.status !== 'active') throw new FinalStateError(event.type, `order ${context.orderId}`, snapshot.status);
  if (event.at < context.now) {
    throw new InvalidPayloadError([{ path: 'at', message: `is before the last accepted event (${context.now})` }]);
  }
  if ('cancellationId' in event && event.type !== 'cancellation.submitted') {
    const entry = ownEntry(context.cancelOrders, event.cancellationId);
    if (!entry) throw new NotAllowedInStateError(event.type, snapshot.value, `no cancel order ${event.cancellationId}`);
    const child = entry.ref.getSnapshot();
    if (child.status === 'done') throw new FinalStateError(event.type, `cancel order ${event.cancellationId}`, entry.status);
  }
  if (isDisputeEventType(event.type) && context.openDisputeId === null) {
    const last = Object.values(context.disputes).at(-1);
    if (last) throw new FinalStateError(event.type, `dispute ${last.disputeId}`, last.status);
    throw new NotAllowedInStateError(event.type, snapshot.value, 'no dispute is open');
  }
  if (event.type === 'merchant.planSubmitted' && isConflictingPlan(context, event)) {
    const adoptable =
      context.conflictPolicy === 'adopt' && context.refundedBy === null && hasPendingCustomerCancellation(context);
    if (!adoptable && snapshot.can(event)) throw conflictError(snapshot, event.plan);
  }
}

/** The error `checkEvent` throws when the order machine does not take the event in this snapshot. */
export function notAllowedError(snapshot: OrderSnapshot, event: OrderEvent): NotAllowedInStateError {
  return new NotAllowedInStateError(event.type, describeValue(snapshot));
}

/**
 * Event types for which "the machine refused the event" is exactly "the order's snapshot object did
 * not change". XState returns the same snapshot object when no transition is selected, and every
 * assign makes a new one; so this holds for an event type when every transition of the order machine
 * that can take it (its own, a wildcard's, in any state) runs an assign action (stampTime). Computed
 * from the machine, so a transition added without an assign only drops its event type from this set
 * (the host then asks `can` first, as before).
 */
export const REFUSAL_KEEPS_SNAPSHOT: ReadonlySet<string> = refusalKeepsSnapshot();

function refusalKeepsSnapshot(): Set<string> {
  const machine = orderMachine;
  const implementations = machine.implementations.actions as Record<string, unknown>;
  const isAssign = (action: unknown): boolean => {
    let resolved = action;
    if (typeof action === 'string') resolved = implementations[action];
    else if (typeof action === 'object' && action !== null) resolved = implementations[(action as { type: string }).type] ?? action;
    return (resolved as { type?: unknown } | undefined)?.type === 'xstate.assign';
  };
  const nodes: AnyStateNode[] = [];
  const visit = (node: AnyStateNode) => {
    nodes.push(node);
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(machine.root);
  const keeps = new Set<string>();
  for (const type of Object.keys(EVENT_ROLES)) {
    let candidates = 0;
    let allAssign = true;
    for (const node of nodes) {
      for (const [descriptor, transitions] of node.transitions) {
        if (!matchesDescriptor(descriptor, type)) continue;
        for (const transition of transitions) {
          candidates += 1;
          if (!transition.actions.some(isAssign)) allAssign = false;
        }
      }
    }
    if (candidates > 0 && allAssign) keeps.add(type);
  }
  return keeps;
}

/** XState's event descriptor match: exact, `*`, or a `prefix.*` wildcard. */
function matchesDescriptor(descriptor: string, type: string): boolean {
  if (descriptor === type || descriptor === '*') return true;
  return descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1));
}

function conflictError(snapshot: OrderSnapshot, plan: string): ConflictingCancellationError {
  const { context } = snapshot;
  if (context.refundedBy !== null) {
    return new ConflictingCancellationError(plan, context.refundedBy, `INV1: the order is already refunded by ${context.refundedBy}`);
  }
  const active = context.activeCancellationId;
  const hint = hasPendingCustomerCancellation(context)
    ? `X1: the customer's cancel order ${active} is pending; approve it directly to refund`
    : `INV1: cancel order ${active} is already in progress`;
  return new ConflictingCancellationError(plan, active, hint);
}

const DISPUTE_EVENT_TYPES = new Set([
  'merchant.planSubmitted',
  'customer.settlementConfirmed',
  'customer.settlementObjected',
  'platform.ruled',
  'customer.disputeWithdrawn',
]);
const isDisputeEventType = (type: string) => DISPUTE_EVENT_TYPES.has(type);

/** The order's value plus each child's, e.g. `{ order: 'open', 'd1': 'awaitingCustomerConfirmation' }`. */
export function describeValue(snapshot: OrderSnapshot): Record<string, unknown> {
  const described: Record<string, unknown> = { order: snapshot.value };
  for (const [id, child] of Object.entries(snapshot.children)) {
    if (child) described[id] = (child.getSnapshot() as { value: unknown }).value;
  }
  return described;
}
