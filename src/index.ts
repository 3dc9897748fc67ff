/**
 * The main entry: the schemas, the three machines, boundary checks, labels and queries, and the in-memory host (`createOrderWorkflow`).
 *
 * @module jd-dispute-statecharts
 */
// Schemas: everything that crosses the boundary
export {
  CancellationReason,
  CancellationStatus,
  ConflictPolicy,
  DeliveredBy,
  DisputeStatus,
  EntityId,
  FINAL_CANCELLATION_STATUSES,
  Plan,
  RefundTrigger,
  RefundTriggerKind,
  Role,
  Ruling,
  Sender,
  SettlementPlan,
  Timestamp,
} from './schemas/common.js';
export {
  AppealOverturned,
  AppealUpheld,
  CancellationApproved,
  CancellationCommandEvent,
  CancellationRejected,
  CancellationSubmitted,
  CancellationWithdrawn,
  ClosedWithoutRefund,
  CompensationFailed,
  CompensationSucceeded,
  CustomerAppealed,
  DisputeEvent,
  DisputeOpened,
  DisputeWithdrawn,
  InterceptFailed,
  InterceptSucceeded,
  MerchantAppealed,
  ORDER_EVENT_TYPES,
  OrderCompleted,
  OrderEvent,
  OrderShipped,
  PlanSubmitted,
  PlatformRuled,
  RefundFailed,
  RefundForced,
  RefundSucceeded,
  SettlementConfirmed,
  SettlementObjected,
} from './schemas/events.js';
export type { CancellationEvent, OrderEventInput, OrderEventType } from './schemas/events.js';
export {
  CompensationRequested,
  InterceptionRequested,
  NotificationKind,
  NotificationRequested,
  RefundRequested,
  WorkflowEffect,
} from './schemas/effects.js';
export {
  DEFAULT_EVIDENCE_CATALOGUE,
  Evidence,
  EvidenceCatalogue,
  evidenceIssues,
  EvidenceParty,
  Proof,
  ProofKind,
} from './schemas/evidence.js';
export { CancellationInput, DisputeInput, OrderFacts, OrderInput } from './schemas/inputs.js';
export type { ResolvedOrderInput } from './schemas/inputs.js';
export {
  CUSTOMER_CONFIRMATION_WINDOW_MS,
  DEFAULT_TIMERS,
  INTERCEPT_RESULT_WAIT_MS,
  INTERCEPT_WINDOW_MS,
  MERCHANT_RESPONSE_WINDOW_MS,
  REFUND_MAX_ATTEMPTS,
  REFUND_RETRY_BACKOFF_MS,
  refundBackoffMs,
  resolveTimers,
  TimerName,
  TimerSettings,
} from './schemas/timers.js';
export {
  Appeals,
  CancelOrderWithdrawal,
  DEFAULT_POLICY,
  DisputesPerOrder,
  DisputeWithdrawal,
  POLICY_RULES,
  POLICY_VALUES,
  PolicySettings,
  RefusalLog,
  resolvePolicy,
  RulingRefundRoute,
  ShippedJdApproval,
} from './schemas/policy.js';
export type { PolicyName } from './schemas/policy.js';

// Machines
export {
  CANCELLATION_ACTOR_ID,
  cancellationMachine,
  DISPUTE_ACTOR_ID,
  disputeMachine,
  isAdoptable,
  ORDER_MACHINE_VERSION,
  orderMachine,
  planCancellationId,
  planConflict,
  refundIdempotencyKey,
} from '../machines/index.js';
export type {
  CancellationContext,
  CancellationOrigin,
  CancellationOutput,
  ClosedCancelOrder,
  ClosedDispute,
  CompensatedRefund,
  CurrentCancelOrder,
  DisputeCancellationReason,
  DisputeContext,
  DisputeOutput,
  OpenDispute,
  OrderContext,
  OrderOutput,
  OrderSnapshot,
  PlanConflict,
} from '../machines/index.js';

// Boundary, policy and in-memory hosting
export { allowedActions } from './allowed-actions.js';
export type { AllowedAction } from './allowed-actions.js';
export { checkEvent, describeValue, parseEvent, parseOrderInput } from './commands.js';
export type { BoundaryOptions } from './commands.js';
export {
  ConflictingCancellationError,
  DuplicateCommandError,
  FinalStateError,
  InvalidPayloadError,
  InvalidTimeError,
  isWorkflowError,
  MissingPeerDependencyError,
  NotAllowedInStateError,
  UnknownMachineVersionError,
  VersionConflictError,
  WorkflowError,
  WorkflowExistsError,
  WorkflowNotFoundError,
  WrongRoleError,
} from './errors.js';
export type { Issue } from './errors.js';
export {
  ACTION_LABELS,
  actionLabel,
  CANCELLATION_REASON_LABELS,
  CANCELLATION_STATUS_LABELS,
  cancellationReasonLabel,
  cancellationStatusLabel,
  DISPUTE_STATUS_LABELS,
  disputeStatusLabel,
  EFFECT_LABELS,
  FOLLOW_UP_LABELS,
  PLAN_LABELS,
  planLabel,
  ROLE_LABELS,
  RULING_LABELS,
  TIMER_LABELS,
  timerLabel,
  WORKFLOW_STATUS_LABELS,
} from './labels.js';
export type { Label, Locale } from './labels.js';
export {
  cancelOrderViews,
  disputeViews,
  matchesCancelOrderFilter,
  merchantFollowUps,
  PARTY_TAGS,
  queryCancelOrders,
  refundReasonOf,
  statusOf,
  waitingOnOf,
} from './queries.js';
export type { CancelOrderFilter, CancelOrderView, DisputeView, MerchantFollowUp, PartyTag } from './queries.js';
export { EVENT_ROLES, roleViolation, rolesAllowedFor } from './roles.js';
export type { OrderParties } from './roles.js';
export { assertMayReadOrder, parseCaller, redactEvent, scopeListing, VISIBILITY } from './visibility.js';
export type { Visible, VisibilityRow } from './visibility.js';
export type { Refusal } from './refusals.js';
export { createOrderWorkflow, OrderWorkflow } from './workflow.js';
export type { AuditEntry, OrderWorkflowInput, OrderWorkflowOptions, WorkflowClock } from './workflow.js';
export { upgradeSnapshot } from './engine/definition.js';
export type { SnapshotMigration, WorkflowDefinition } from './engine/definition.js';

// Stately inspector (the @statelyai/inspect package is loaded only by the functions that start one)
export {
  attachInspector,
  connectWebSocketInspector,
  INSPECTOR_HOST,
  stableSessionId,
  stableSessions,
  stableSessionsByWorkflow,
  startInspectorServer,
  toInspect,
} from './inspect.js';
export type {
  ConnectOptions,
  InspectableTarget,
  InspectionSink,
  InspectorServer,
  InspectorServerOptions,
  LiveInspector,
} from './inspect.js';
