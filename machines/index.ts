export { cancellationMachine } from './cancellation.js';
export type { CancellationContext, CancellationMachine, CancellationOutput } from './cancellation.js';
export { disputeMachine } from './dispute.js';
export type { DisputeContext, DisputeMachine, DisputeOutput, DisputeResolution, EscalationCause } from './dispute.js';
export {
  activeCancellation,
  hasPendingCustomerCancellation,
  isConflictingPlan,
  orderMachine,
  planCancellationId,
} from './order.js';
export type {
  CancelOrderEntry,
  CancellationOrigin,
  DisputeEntry,
  MerchantFollowUp,
  OrderContext,
  OrderMachine,
  OrderOutput,
  OrderSnapshot,
} from './order.js';
export { delayNameOf, timeOf } from './time.js';
export type { Clocked, Deadlines } from './time.js';
