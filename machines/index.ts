export { cancellationMachine, refundIdempotencyKey } from './cancellation.js';
export type {
  CancellationContext,
  CancellationEffect,
  CancellationMachine,
  CancellationOutput,
  FinalCancellationStatus,
} from './cancellation.js';
export { disputeMachine } from './dispute.js';
export type {
  DisputeContext,
  DisputeEmitted,
  DisputeMachine,
  DisputeOutput,
  DisputeResolution,
  EscalationCause,
} from './dispute.js';
export {
  CANCELLATION_ACTOR_ID,
  DISPUTE_ACTOR_ID,
  isAdoptable,
  ORDER_MACHINE_VERSION,
  orderMachine,
  planCancellationId,
  planConflict,
  refundedBy,
  usedIds,
} from './order.js';
export type {
  CancellationOrigin,
  ClosedCancelOrder,
  ClosedDispute,
  CompensatedRefund,
  CurrentCancelOrder,
  DisputeCancellationReason,
  OpenDispute,
  OrderContext,
  OrderMachine,
  OrderOutput,
  OrderSnapshot,
  PlanConflict,
} from './order.js';
export { ORDER_SNAPSHOT_MIGRATIONS } from './migrations.js';
export { delayNameOf, timeOf } from './time.js';
export type { Clocked, Deadlines } from './time.js';
