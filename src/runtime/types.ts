import type { InspectionEvent } from 'xstate';
import type { OrderOutput } from '../../machines/order.js';
import type { AllowedAction } from '../allowed-actions.js';
import type { BoundaryOptions } from '../commands.js';
import type { WorkflowDefinition } from '../engine/definition.js';
import { WorkflowError } from '../errors.js';
import type { Label } from '../labels.js';
import type { CancelOrderView, DisputeView, MerchantFollowUp } from '../queries.js';

export type { DisputeView };
import type { StrandedPart } from '../invariants.js';
import type { RefundTriggerKind, Role, Sender } from '../schemas/common.js';
import type { OrderEvent, OrderEventInput } from '../schemas/events.js';
import type { OrderInput } from '../schemas/inputs.js';
import type { Refusal } from '../refusals.js';
import type { LogisticsService, NotificationService, PaymentService } from './adapters.js';
import type { DeliveryPolicy } from './outbox.js';
import type {
  AuditRow,
  CancelOrderQuery,
  CancelOrderRow,
  DeadlineRow,
  DisputeCountFilter,
  DisputeQuery,
  DisputeRow,
  Page,
  WorkflowStore,
} from './store.js';

/** The runtime's public types: options, requests, results and views. */

export interface RuntimeClock {
  /** Epoch milliseconds. The runtime reads time only from here (a manual clock in tests and demos). */
  now(): number;
}

/** Options of {@link createWorkflowRuntime}: the store, the clock, the adapters, timers and policy. */
export interface WorkflowRuntimeOptions extends BoundaryOptions {
  store: WorkflowStore;
  clock: RuntimeClock;
  payments: PaymentService;
  logistics: LogisticsService;
  /** Without it, notifications are recorded in the outbox and marked done. */
  notifications?: NotificationService;
  /** Unique per live process (default: host:pid:random). Rows a dead worker claimed return when its lease expires. */
  workerId?: string;
  /**
   * How long a claimed deadline or effect stays with this worker (default 30 s). A delivery in progress
   * extends its effect's lease every third of it, so a slow adapter never lets another worker take it.
   */
  leaseMs?: number;
  /** Rows claimed per scheduler or outbox pass (default 100): the bound on memory. */
  batchSize?: number;
  /** How far in the future a caller-supplied `at` may be (default 60 s). */
  allowedSkewMs?: number;
  /**
   * Commands are stamped with the runtime's clock. By default a caller-supplied `at` earlier than the
   * clock is refused (`InvalidTimeError`): the deadlines due by now fire first, so a back-dated event
   * would land before them. `true` opts in to importing history: an `at` in the past is accepted when no
   * deadline of the workflow fell due after it.
   */
  acceptHistory?: boolean;
  /**
   * A clock that steps back less than this below the highest time the store has seen is clamped to
   * that time (and reported through `onError`); further back, commands get `InvalidTimeError` until the
   * clock recovers (default 5 minutes).
   */
  clockStepBackToleranceMs?: number;
  /** Effects delivered at once by one worker (default 8): a hanging adapter holds at most this many. */
  effectConcurrency?: number;
  /** Outbox delivery retries (not the business retries of C4). */
  delivery?: Partial<DeliveryPolicy>;
  /** Longest sleep of the background loop (default 1 s). */
  pollIntervalMs?: number;
  /** Inspection of every step, e.g. a Stately inspector's `inspect`. */
  inspect?: (event: InspectionEvent) => void;
  /** Inspection per workflow (wins over `inspect`), e.g. `stableSessionsByWorkflow(inspector)`. */
  inspectWorkflow?: (workflowId: string) => ((event: InspectionEvent) => void) | undefined;
  /** The machine, its version and the migrations of older snapshots (default: this release's order system). */
  definition?: WorkflowDefinition;
  /** Unexpected errors of background work (default: one line on stderr). */
  onError?: (error: unknown, context: string) => void;
  /**
   * Live actor systems kept between commands, so a hot workflow is not restored from the store for each
   * one (default: 1,000 workflows, evicted after 60 s unused). A command for a kept workflow is stepped
   * on it and committed without reading the store first; the commit's version check proves the kept
   * version was the stored one. When it was not (another worker committed), or the command was refused
   * or recorded before, the command goes the usual way (read, then step), which decides: several workers
   * on one store stay correct. `false` turns it off.
   */
  liveCache?: { maxWorkflows?: number; idleMs?: number } | false;
  /**
   * Group commit (default true): commands whose commits are ready in the same turn of the event loop are
   * written in one store transaction, each answered after that commit; a refused commit (version
   * conflict, command recorded before) writes nothing and refuses only its own command.
   * Needs a store with `commitAll`; `false` writes one transaction per command.
   */
  groupCommit?: boolean;
}

/** The input that creates an order workflow; `at` defaults to the clock's time. */
export type OpenOrderInput = Omit<OrderInput, 'at'> & { at?: number };

/** A request to open an order's workflow. */
export interface OpenOrderRequest {
  /** Defaults to the order id. */
  workflowId?: string;
  /**
   * Echoed in the result. Opening is idempotent per workflow whatever the id: the same input returns the
   * first result (also under concurrency), another input is refused with WorkflowExistsError.
   */
  commandId?: string;
  input: OpenOrderInput;
}

/** One command for the runtime: the workflow, a client command id (idempotency) and the event. */
export interface DispatchRequest {
  workflowId: string;
  /**
   * Idempotency, per workflow: the same id with the same payload returns the original result. Ids are
   * the client's own namespace: the runtime's records (opening, effect results) can never collide with them.
   */
  commandId: string;
  /** Optimistic concurrency: refuse with VersionConflictError unless the workflow is at this version. */
  expectedVersion?: number;
  /**
   * The event, typed with its schema; `at` is stamped from the clock when absent. For JSON nobody has
   * typed, use `dispatchRaw`, which validates the same way.
   */
  event: OrderEventInput;
}

/** The outcome of a dispatched command: the workflow, the command id, and whether it was a replay. */
export interface CommandResult {
  workflowId: string;
  commandId: string;
  version: number;
  status: 'active' | 'done';
  /** The order's state and each child's (describeValue). */
  state: Record<string, unknown>;
  /** The event as accepted, `at` included; null for the command that opened the workflow. */
  event: OrderEvent | null;
  /** Deadlines that fell due before the command's time and fired first, in order. */
  firedDeadlines: string[];
  /** Effects this command put in the outbox. */
  effects: string[];
}

/**
 * One order's workflow as its caller may see it (R1): every status and action with its zh-CN and en
 * label; whatever the caller may not see is null.
 */
export interface WorkflowView {
  workflowId: string;
  orderId: string;
  merchantId: string;
  customerId: string;
  version: number;
  status: 'active' | 'done';
  statusLabel: Label;
  state: Record<string, unknown>;
  lastEventAt: number;
  createdAt: number;
  updatedAt: number;
  disputes: DisputeView[];
  /** D4: the evidence of each evidence plan; proofs and explanation only for the platform and the merchant. */
  evidence: EvidenceView[];
  cancelOrders: CancelOrderReadView[];
  /** Pending delayed transitions with their due times and the timer's label. */
  deadlines: DeadlineView[];
  /** P2: what the merchant must still do by hand. */
  followUps: FollowUpView[];
  /**
   * What the caller may send now, as `allowedActions` answers: deadlines due by now count as fired. The
   * rest of the view is the workflow as stored (a due deadline shows until the scheduler fires it).
   */
  actions: AllowedActionView[];
  output: OrderOutput | null;
}

/** A sender whose id the caller may not see (R1) has a null id. */
export interface VisibleSender {
  role: Role;
  id: string | null;
}

/** A cancel order of the workflow view: the trigger's id and the payment reference where R1 shows them. */
export interface CancelOrderReadView extends Omit<CancelOrderView, 'refundTrigger' | 'paymentRef'> {
  refundTrigger: { kind: RefundTriggerKind; by: VisibleSender; at: number } | null;
  /** The payment service's reference: the platform and system only. */
  paymentRef: string | null;
}

/** D4: the evidence a merchant gave with the evidence plan. */
export interface EvidenceView {
  disputeId: string;
  /** An evidence plan's (D4) or an appeal's (A1). */
  kind: 'plan' | 'appeal';
  /** The side that submitted it: the merchant (a plan, its appeal) or the customer (its appeal). */
  submittedBy: 'merchant' | 'customer';
  /** The catalogue's reason and its label (the reason itself when the catalogue does not know it). */
  reason: string;
  reasonLabel: Label;
  /** File ids and sizes: the platform and the side that submitted them only (R1; null otherwise). */
  proofs: Array<{ kind: string; fileId: string; sizeBytes: number }> | null;
  /** The submitter's written explanation: the platform and the submitter only (R1; null otherwise). */
  explanation: string | null;
  submittedAt: number;
}

export interface DeadlineView extends DeadlineRow {
  label: Label;
}

export interface FollowUpView extends MerchantFollowUp {
  label: Label;
}

/** Something the caller may do now, with its label and the status of what it addresses. */
export interface AllowedActionView extends AllowedAction {
  /** 审核通过, 提交方案：直接退款, …; zh-CN and en. */
  label: Label;
  /** The dispute or cancel order the action addresses, with its status now; null for one that opens something. */
  subject: ActionSubject | null;
}

/** What an allowed action addresses: a dispute or a cancel order, by id. */
export interface ActionSubject {
  kind: 'dispute' | 'cancellation';
  id: string;
  status: string;
  statusLabel: Label;
}

/** D9: an accepted event as its caller may see it (ids R1 hides are null), with the label of what happened. */
export interface AuditEntryView extends Omit<AuditRow, 'actorId' | 'commandId'> {
  actorId: string | null;
  commandId: string | null;
  label: Label;
}

/** X2: a cancel order as the merchant console lists it, with its labels. */
export interface CancelOrderListItem extends CancelOrderRow {
  statusLabel: Label;
  reasonLabel: Label;
  /** D6/X2: the label of why it was refunded (平台判责退款 for a ruling's refund). */
  refundReasonLabel: Label | null;
}

/** A dispute as the work queues list it, with its labels. */
export interface DisputeListItem extends DisputeRow {
  statusLabel: Label;
  planLabel: Label | null;
  waitingOnLabel: Label | null;
  /** The dispute's pending deadline: its absolute due time and timer ("48H 倒计时剩余 …" is the host's text). */
  nextDeadline: { timer: string; dueAt: number; label: Label } | null;
}

/** Disputes of one status in a dashboard count. */
export interface DisputeStatusTally {
  label: Label;
  count: number;
  /** Next deadline already due (the scheduler fires it on its next round). */
  overdue: number;
  /** Next deadline before `at` + 1 hour (overdue ones included). */
  dueWithinHour: number;
  /** Next deadline before `at` + 24 hours (overdue ones included). */
  dueWithinDay: number;
}

/** A dashboard's counts, from the dispute projection alone (no workflow is loaded). */
export interface DisputeCounts {
  /** The runtime clock's reading the windows start from. */
  at: number;
  /** What was counted: one merchant's, one customer's, or every dispute (null, null). */
  merchantId: string | null;
  customerId: string | null;
  /** Every dispute status of this release (zero when none), and any other status stored. */
  byStatus: Record<string, DisputeStatusTally>;
  total: Omit<DisputeStatusTally, 'label'>;
}

/** INV6: a workflow with an open dispute or cancel order that nothing will move. */
export interface StrandedWorkflow {
  workflowId: string;
  parts: StrandedPart[];
}

/** What one scheduler round did: deadlines fired and effects delivered. */
export interface TickResult {
  deadlinesFired: number;
  /** Claimed deadlines that were no longer pending (left early or fired elsewhere). */
  deadlinesSkipped: number;
  /** Effects whose result was recorded, or that needed no result (notifications, async answers). */
  effectsDelivered: number;
  /** Delivery failures that will be retried. */
  effectsRetrying: number;
  /** Effects given up on and marked dead (never a refund: its outcome is retried until known). */
  effectsGaveUp: number;
  /** Unexpected errors (reported through onError; the rows are retried after their lease). */
  errors: number;
}

/** The durable runtime: many orders' workflows on a store, with durable deadlines and an outbox. */
export interface WorkflowRuntime {
  /** Opens an order's workflow (idempotent per workflow). */
  openOrder(request: OpenOrderRequest): Promise<CommandResult>;
  /** `openOrder` for a request nobody has typed (JSON from a network): validated the same way, same errors. */
  openOrderRaw(request: unknown): Promise<CommandResult>;
  /** Applies one event (INV4: refused with a typed error, nothing written). Typed: a wrong payload does not compile. */
  dispatch(request: DispatchRequest): Promise<CommandResult>;
  /**
   * `dispatch` for a request nobody has typed (JSON from a network or a queue): the same validation of the
   * request and its event, the same typed errors (`InvalidPayloadError`, ...), the same unit of work.
   */
  dispatchRaw(request: unknown): Promise<CommandResult>;
  // Reads (R1): each names its caller first and answers only what that party may see; a caller outside
  // the limits (another party's order, another party's filter, no caller at all) gets WrongRoleError.
  /** One order's workflow, labelled, as the caller may see it. */
  getWorkflow(caller: Sender, workflowId: string): Promise<WorkflowView>;
  /** D9: every accepted event of the workflow, oldest first: who, when, what, resulting state. */
  getAuditTrail(caller: Sender, workflowId: string): Promise<AuditEntryView[]>;
  /**
   * D9 with `refusalLog: 'separate'`: the workflow's refused attempts, oldest first (the newest the store's
   * cap keeps), apart from the audit trail. The platform and `system` see all, a merchant or customer its
   * own attempts only. Empty when the workflow's policy keeps none.
   */
  getRefusals(caller: Sender, workflowId: string): Promise<Refusal[]>;
  /** What the caller may send now (deadlines due by now counted as fired, as `dispatch` would). */
  allowedActions(caller: Sender, workflowId: string): Promise<AllowedActionView[]>;
  /** X2: cancel orders, filtered like the merchant console (a merchant's or customer's own only). */
  queryCancelOrders(caller: Sender, query?: CancelOrderQuery): Promise<Page<CancelOrderListItem>>;
  /** The work queues: disputes, soonest next deadline first (a merchant's or customer's own only). */
  queryDisputes(caller: Sender, query?: DisputeQuery): Promise<Page<DisputeListItem>>;
  /** Dashboard counts per status and of deadlines due within the hour and the day (own only for parties). */
  countDisputes(caller: Sender, filter?: DisputeCountFilter): Promise<DisputeCounts>;
  /** INV6: workflows with a part nothing will move (an operator's query; expected empty). */
  findStrandedWorkflows(options?: { limit?: number; cursor?: string | null }): Promise<Page<StrandedWorkflow>>;
  /** One deterministic round: due deadlines (one batch), then the outbox until nothing is claimable. */
  tick(): Promise<TickResult>;
  /** Runs rounds in the background (unref'd timers). */
  start(): void;
  /** Resolves when in-flight work has finished; leaves no timer behind. */
  stop(): Promise<void>;
  /** Stops and closes the store. */
  close(): Promise<void>;
}

/** The runtime was closed. */
export class RuntimeClosedError extends WorkflowError {
  override readonly name = 'RuntimeClosedError';
  readonly code = 'RUNTIME_CLOSED';
  constructor() {
    super('the workflow runtime is closed');
  }
}
