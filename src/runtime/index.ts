/**
 * The durable runtime (package subpath `./runtime`): many orders' workflows on a WorkflowStore, with durable timers, an outbox, host adapters and their sandboxes, and the in-memory and SQLite stores.
 *
 * @module jd-dispute-statecharts/runtime
 */
// The durable runtime: many orders' workflows on a WorkflowStore, with durable timers and an outbox.
export { createWorkflowRuntime, deadlineIdOf, payloadHash, RuntimeClosedError } from './runtime.js';
export type {
  ActionSubject,
  AllowedActionView,
  AuditEntryView,
  CancelOrderListItem,
  CancelOrderReadView,
  CommandResult,
  DeadlineView,
  DisputeCounts,
  DisputeListItem,
  DisputeStatusTally,
  EvidenceView,
  FollowUpView,
  VisibleSender,
  DispatchRequest,
  DisputeView,
  OpenOrderInput,
  OpenOrderRequest,
  RuntimeClock,
  TickResult,
  WorkflowRuntime,
  WorkflowRuntimeOptions,
  WorkflowView,
} from './runtime.js';
// The events `dispatch` takes, `at` optional (the type of DispatchRequest's `event`).
export type { OrderEventInput } from '../schemas/events.js';
export { DEFAULT_DELIVERY_POLICY, deliveryBackoffMs, DeliveryTimeoutError } from './outbox.js';
export type { DeliveryPolicy } from './outbox.js';

// Host adapters and their in-process sandboxes
export { LOGISTICS_SENDER, PAYMENTS_SENDER } from './adapters.js';
export type {
  AdapterCall,
  CompensationRequest,
  InterceptionOutcome,
  InterceptionRequest,
  LogisticsService,
  Notification,
  NotificationService,
  PaymentService,
  RefundOutcome,
  RefundRequest,
} from './adapters.js';
export {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  PAYMENT_SIGNATURE_HEADER,
  SandboxUnavailableError,
  signPaymentWebhook,
  SimulatedCrashError,
  verifyPaymentWebhook,
} from './sandbox-adapters.js';
export type {
  CompensationCall,
  CompensationExecution,
  InterceptionCall,
  PaymentWebhook,
  PaymentWebhookBody,
  RefundCall,
  RefundExecution,
  SandboxLogistics,
  SandboxLogisticsOptions,
  SandboxNotifications,
  SandboxPayments,
  SandboxPaymentsOptions,
} from './sandbox-adapters.js';

// Stores: the interface, in memory, and embedded SQLite (the default durable store)
export { createMemoryStore } from './memory-store.js';
export { createSqliteStore } from './sqlite-store.js';
export { MissingPeerDependencyError } from '../errors.js';
export type { SqliteStoreOptions } from './sqlite-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export type { Refusal, RefusalRow } from '../refusals.js';
export type { RefusalStore } from './store.js';
export { VersionConflictError } from './store.js';
export type {
  AuditRow,
  CancelOrderQuery,
  CancelOrderRow,
  Claim,
  CommandRow,
  Commit,
  DeadlineRow,
  DisputeCountFilter,
  DisputeQuery,
  DisputeRow,
  DisputeStatusCount,
  EffectFailure,
  OutboxKind,
  OutboxRow,
  OutboxStatus,
  Page,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';
