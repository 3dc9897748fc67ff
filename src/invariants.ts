import { CANCELLATION_ACTOR_ID, DISPUTE_ACTOR_ID, disputeActorIdOf, isDisputeAddressed, type OrderSnapshot } from '../machines/order.js';
import { allowedActions } from './allowed-actions.js';
import { cancellationChild, openDisputeChildren, statusOf } from './queries.js';
import type { Role } from './schemas/common.js';

/** A non-final dispute or cancel order that nothing will ever move (INV6). */
export interface StrandedPart {
  actor: typeof DISPUTE_ACTOR_ID | typeof CANCELLATION_ACTOR_ID;
  /** The dispute's or the cancel order's id. */
  id: string;
  status: string;
}

/** What the host has pending for a workflow besides its state. */
export interface PendingWork {
  /** Actor paths (joined with '/') that have a pending deadline: `cancellation`, `dispute`. */
  deadlines: readonly string[];
  /**
   * Cancel order ids with an effect still to deliver (a refund or an interception in the outbox), and
   * dispute ids with one (A4: a compensation).
   */
  effects: readonly string[];
}

/** Parties who act by choice; the system's callbacks only ever answer a pending effect. */
const PARTIES: readonly Role[] = ['customer', 'merchant', 'platform'];

/**
 * INV6: every non-final dispute and cancel order must have something that will move it: a pending
 * deadline, a pending effect, or an action some party may take. Returns the parts that have none.
 */
export function strandedParts(snapshot: OrderSnapshot, pending: PendingWork): StrandedPart[] {
  if (snapshot.status !== 'active') return [];
  const actions = PARTIES.flatMap((role) => allowedActions(snapshot, role));
  const stranded: StrandedPart[] = [];
  // D1: every open dispute (one under disputesPerOrder one; each in `dispute:<id>` under several).
  for (const { dispute: open, live: dispute } of openDisputeChildren(snapshot)) {
    if (dispute.status !== 'active') continue;
    const moves =
      pending.deadlines.includes(disputeActorIdOf(snapshot.context, open.disputeId)) ||
      pending.effects.includes(open.disputeId) ||
      actions.some((action) => isDisputeAddressed(action) && (action.disputeId ?? open.disputeId) === open.disputeId);
    if (!moves) stranded.push({ actor: DISPUTE_ACTOR_ID, id: open.disputeId, status: statusOf(dispute) });
  }
  const cancellation = cancellationChild(snapshot);
  const current = snapshot.context.cancellation;
  if (cancellation?.status === 'active' && current) {
    const moves =
      pending.deadlines.includes(CANCELLATION_ACTOR_ID) ||
      pending.effects.includes(current.cancellationId) ||
      actions.some((action) => action.cancellationId === current.cancellationId);
    if (!moves) stranded.push({ actor: CANCELLATION_ACTOR_ID, id: current.cancellationId, status: statusOf(cancellation) });
  }
  return stranded;
}
