export { VersionConflictError } from '../errors.js';
import type { RefusalRow } from '../refusals.js';

/**
 * The durable store behind the workflow runtime. Small on purpose: memory, SQLite and PostgreSQL
 * implement it, and `test/store-contract.ts` is the suite every implementation must pass.
 * All times are epoch milliseconds from the runtime's clock; the store never reads a clock.
 */

export interface WorkflowRecord {
  workflowId: string;
  orderId: string;
  merchantId: string;
  /** Bumped by one on every commit: optimistic concurrency. */
  version: number;
  /** Version of the machine that wrote `snapshot` (an integer >= 1): restore migrates from it. */
  machineVersion: number;
  /**
   * The seq of the workflow's last audit row (0 before the first). A commit's audit rows continue it:
   * they carry seq `stored auditSeq + 1 .. workflow.auditSeq`, so the runtime never reads the trail to
   * number the next row.
   */
  auditSeq: number;
  /** XState persisted snapshot (JSON-safe). */
  snapshot: unknown;
  status: 'active' | 'done';
  /** Time of the last accepted event (monotonic per workflow). */
  lastEventAt: number;
  createdAt: number;
  updatedAt: number;
}

/** A pending delayed transition, stored with its absolute due time. */
export interface DeadlineRow {
  /** Stable: `${workflowId}|${actorPath}|${eventType}|${dueAt}`. */
  deadlineId: string;
  workflowId: string;
  /** Child actor ids from the root, joined with '/'; '' for the root actor. */
  actorPath: string;
  /** Delay name, e.g. interceptWindow. */
  timer: string;
  /** The `xstate.after.…` event to deliver. */
  eventType: string;
  dueAt: number;
}

/** The kinds of effect the outbox delivers to the host's adapters. */
export type OutboxKind = 'refund' | 'interception' | 'notification' | 'compensation';
/** An outbox row is pending until delivered (`done`) or given up (`dead`, after the delivery policy's attempts). */
export type OutboxStatus = 'pending' | 'done' | 'dead';

/** An effect to perform at least once through a host adapter. */
export interface OutboxRow {
  /** Stable: `${workflowId}|${kind}|${idempotencyKey}|${attempt}`. */
  effectId: string;
  workflowId: string;
  kind: OutboxKind;
  idempotencyKey: string;
  /** The emitted effect event (JSON). */
  payload: unknown;
  status: OutboxStatus;
  /** Delivery attempts made by the dispatcher so far. */
  attempts: number;
  /** Not before this time (backoff). */
  availableAt: number;
  lastError: string | null;
  createdAt: number;
}

/** One accepted event in a workflow's audit trail (D9): who, when, what, and the resulting state. */
export interface AuditRow {
  workflowId: string;
  /** 1, 2, 3 … per workflow. */
  seq: number;
  at: number;
  role: string;
  actorId: string;
  eventType: string;
  /** The event as accepted (JSON). */
  event: unknown;
  /** Workflow state after the event: order value and each child's value (JSON). */
  resultingState: unknown;
  commandId: string | null;
}

/** X2: a cancel order as the merchant console lists it. */
export interface CancelOrderRow {
  cancellationId: string;
  workflowId: string;
  orderId: string;
  merchantId: string;
  /** R1: the customer's listing reads it. */
  customerId: string;
  status: string;
  /** Why it was opened. */
  reason: string;
  /** D6/X2: why it is refunded, once its refund started (平台判责退款 for a ruling's refund); else null. */
  refundReason: string | null;
  origin: string;
  refundTriggerKind: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A dispute as the work queues list it (one row per dispute, open or closed). */
export interface DisputeRow {
  disputeId: string;
  workflowId: string;
  orderId: string;
  merchantId: string;
  customerId: string;
  status: string;
  plan: string | null;
  /** Whose move it is (the state's party tag: merchant, customer, platform); null once closed. */
  waitingOn: string | null;
  /** The dispute's pending deadline: its absolute due time and timer; both null when none is pending. */
  nextDueAt: number | null;
  nextTimer: string | null;
  openedAt: number;
  updatedAt: number;
}

/**
 * Who named a command: a client (its idempotency key) or the runtime (opening a workflow, recording an
 * effect's result, firing a deadline). Separate namespaces: no client id can reach a runtime record.
 */
export type CommandScope = 'client' | 'runtime';

/**
 * A processed command, kept so a repeated command id returns the original result. Keyed by
 * (workflowId, scope, commandId): command ids are unique per workflow and scope, not globally.
 */
export interface CommandRow {
  commandId: string;
  workflowId: string;
  scope: CommandScope;
  /** Hash of the command payload: the same id with another payload is refused. */
  payloadHash: string;
  /** The result returned the first time (JSON). */
  result: unknown;
  at: number;
}

/** Everything one accepted command changes, written in one transaction or not at all. */
export interface Commit {
  workflow: WorkflowRecord;
  /** The version the command was based on; null when the workflow is created by this commit. */
  expectedVersion: number | null;
  audit: AuditRow[];
  /** The complete set of pending deadlines of the workflow after this commit; others are deleted. */
  deadlines: DeadlineRow[];
  /** New effects; an existing effectId is left as it is (idempotent). */
  outbox: OutboxRow[];
  /** Upserts of the X2 projection. */
  cancelOrders: CancelOrderRow[];
  /** Upserts of the dispute projection (the work queues); none when absent. */
  disputes?: DisputeRow[];
  command: CommandRow | null;
  /** An effect whose result this command records: marked done in the same transaction. */
  completesEffectId: string | null;
  /**
   * The runtime's clock reading when it built this commit (epoch ms). The store keeps the highest it has
   * seen (`highWaterMark`); a lower one (a clock set back) is written but lowers nothing.
   */
  observedAt: number;
}

/** A worker's claim on due rows (deadlines or outbox effects), held for a lease. */
export interface Claim {
  workerId: string;
  now: number;
  /** How long a claim holds before another worker may take the row. */
  leaseMs: number;
  limit: number;
}

/** A filter over the cancel-order projection (X2), one page at a time. */
export interface CancelOrderQuery {
  merchantId?: string;
  customerId?: string;
  orderId?: string;
  status?: string[];
  /** D6/X2: matches the reason a cancel order was opened with or the reason it was refunded for. */
  reason?: string[];
  /** createdAt within [createdFrom, createdTo). */
  createdFrom?: number;
  createdTo?: number;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string | null;
}

/**
 * The dispute listing. Sorted by the next deadline (soonest first; disputes without one last), then
 * (workflowId, disputeId). Each list matches any of its values (an empty list matches nothing).
 */
export interface DisputeQuery {
  merchantId?: string;
  customerId?: string;
  orderId?: string;
  status?: string[];
  plan?: string[];
  /** Whose move it is: `merchant`, `customer`, `platform`. */
  waitingOn?: string[];
  /** The next deadline falls within [dueFrom, dueBefore); a dispute without one never matches either. */
  dueFrom?: number;
  dueBefore?: number;
  /** Page size, 1..500 (default 50). */
  limit?: number;
  /** Opaque cursor from the previous page. */
  cursor?: string | null;
}

/** Which disputes a count covers (all when empty). */
export interface DisputeCountFilter {
  merchantId?: string;
  customerId?: string;
}

/** Disputes in one status, and how many of them have their next deadline before each given time. */
export interface DisputeStatusCount {
  status: string;
  count: number;
  /** One count per time given to `countDisputes`, in that order. */
  dueBefore: number[];
}

/** One page of a listing; pass `nextCursor` back for the next page (null: the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A failed delivery, as `recordEffectFailure` records it. */
export interface EffectFailure {
  error: string;
  availableAt: number;
  dead: boolean;
  /** The worker that delivered: the failure counts only while it still holds the claim. */
  workerId?: string;
}

/** Where the durable runtime keeps workflows, deadlines, the outbox, the audit trail and the projections; one transaction per commit. */
export interface WorkflowStore {
  /** Creates or migrates the schema (append-only migrations); safe to call on every start. */
  migrate(): Promise<void>;
  /** The stored workflow, or undefined when there is none. */
  load(workflowId: string): Promise<WorkflowRecord | undefined>;
  /**
   * Writes a commit atomically. Throws `VersionConflictError` when the stored version differs from
   * `expectedVersion` (or the workflow exists when it is null), and nothing is written. A commit whose
   * audit rows do not continue the stored `auditSeq` is refused (TypeError) and writes nothing. A command
   * whose (workflowId, scope, commandId) is recorded throws `DuplicateCommandError`, and nothing is written.
   */
  commit(commit: Commit): Promise<void>;
  /** The command recorded under (workflowId, scope, commandId), if any. */
  getCommand(workflowId: string, scope: CommandScope, commandId: string): Promise<CommandRow | undefined>;
  /** Due deadlines (dueAt <= now) not under a live lease (the claimer's own included), oldest first; claims them. */
  claimDueDeadlines(claim: Claim): Promise<DeadlineRow[]>;
  /** Pending outbox rows with availableAt <= now not under a live lease; claims them. */
  claimOutbox(claim: Claim): Promise<OutboxRow[]>;
  /**
   * Extends this worker's lease on a claimed effect while its delivery runs (a heartbeat). False when the
   * row is no longer this worker's or no longer pending: the worker must not record anything for it.
   */
  extendEffectLease(effectId: string, workerId: string, expiresAt: number): Promise<boolean>;
  /**
   * Records a failed delivery: attempts + 1, lastError, availableAt; `dead` ends retries. With `workerId`,
   * only while that worker holds the claim: a worker whose lease another one took over (a clock jump, a
   * long pause) records nothing and leaves the new holder's claim alone.
   */
  recordEffectFailure(effectId: string, failure: EffectFailure): Promise<void>;
  /** Marks an effect done when no workflow command records its result (notifications). */
  completeEffect(effectId: string): Promise<void>;
  /** The workflow's pending deadlines, in due order. */
  listDeadlines(workflowId: string): Promise<DeadlineRow[]>;
  /** The workflow's outbox rows, in the order they were written. */
  listOutbox(workflowId: string): Promise<OutboxRow[]>;
  /** The workflow's audit trail, oldest first (D9). */
  listAudit(workflowId: string): Promise<AuditRow[]>;
  /** One page of the cancel-order projection matching the query (X2). */
  queryCancelOrders(query: CancelOrderQuery): Promise<Page<CancelOrderRow>>;
  /** The dispute listing (see DisputeQuery); a malformed query is refused with InvalidQueryError. */
  queryDisputes(query: DisputeQuery): Promise<Page<DisputeRow>>;
  /** Disputes per status, with how many fall due before each of `dueBefore`, from the projection alone. */
  countDisputes(filter: DisputeCountFilter, dueBefore: readonly number[]): Promise<DisputeStatusCount[]>;
  /** Earliest time a deadline claim can succeed (a leased row counts from its lease expiry + 1), for the scheduler's sleep. */
  nextDueAt(): Promise<number | null>;
  /**
   * The highest `observedAt` of any commit written (0 before the first), so a runtime restarted with a
   * clock set back never stamps earlier than a time it already used. Refused commits do not count.
   */
  highWaterMark(): Promise<number>;
  /** Releases the store's connections; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** Optional capability of the SQL stores: several commits in one transaction (deadline batches). */
export interface BatchCommitStore {
  /** Writes each commit as `commit` would; per commit, null or the error that refused it (nothing of it written). */
  commitAll(commits: readonly Commit[]): Promise<unknown[]>;
}

/**
 * Optional capability: several workflows read at once (PostgreSQL: one round trip for a batch of due
 * deadlines instead of one per deadline). Per id, in the order given, what `load` would read.
 */
export interface BatchLoadStore {
  loadMany(workflowIds: readonly string[]): Promise<Array<WorkflowRecord | undefined>>;
}

/** A stored workflow without its snapshot (see {@link LookupStore}). */
export type WorkflowHeader = Omit<WorkflowRecord, 'snapshot'>;

/** What {@link LookupStore.lookup} read. */
export interface WorkflowLookup {
  /** The command recorded under the given scope and id; undefined when none was asked for or none is recorded. */
  command: CommandRow | undefined;
  /** The stored workflow; without its snapshot (no `snapshot` key) when its version is the given `liveVersion`. */
  workflow: WorkflowRecord | WorkflowHeader | undefined;
}

/**
 * Optional capability: what a unit of work reads before it steps, in one read (PostgreSQL: one round
 * trip instead of two): the recorded command, if any, and the workflow. A caller that holds the state
 * of version `liveVersion` live gets the record without its snapshot at that version, so the snapshot
 * is neither transferred nor parsed. Reads exactly what `getCommand` and `load` would.
 */
export interface LookupStore {
  lookup(
    workflowId: string,
    options: { command?: { scope: CommandScope; commandId: string }; liveVersion?: number | null },
  ): Promise<WorkflowLookup>;
}

/**
 * Optional capability: several effects marked done in one transaction (the notifications delivered in
 * one outbox pass), each exactly as `completeEffect` marks it. A failure writes none of them.
 */
export interface BatchEffectStore {
  completeEffects(effectIds: readonly string[]): Promise<void>;
}

/**
 * D9 `refusalLog: 'separate'`: the separate log of refused attempts, capped per workflow (the store's
 * `refusalLogCap` option, default REFUSAL_LOG_DEFAULT_CAP: the newest are kept). Apart from everything a
 * commit writes: recording a refusal changes no workflow row, version, audit row or sequence, deadline,
 * outbox row or projection (INV4), and is its own small transaction. Memory, SQLite and PostgreSQL
 * implement it; the runtime keeps no refusals on a store without it.
 */
export interface RefusalStore {
  /** Appends one refusal of a workflow and drops that workflow's oldest beyond the cap, in one transaction. */
  recordRefusal(row: RefusalRow): Promise<void>;
  /** The workflow's kept refusals, oldest first. */
  listRefusals(workflowId: string): Promise<RefusalRow[]>;
}

export type { RefusalRow };

type Synchronous<F> = F extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;

/**
 * The store's operations as synchronous calls, for a host whose `send` must return synchronously (the
 * in-memory workflow). Same semantics as the `WorkflowStore` methods of the same name; errors are thrown.
 */
export type SyncWorkflowStore = {
  readonly [K in Exclude<keyof WorkflowStore, 'migrate' | 'close'>]: Synchronous<WorkflowStore[K]>;
} & { readonly [K in keyof BatchCommitStore]: Synchronous<BatchCommitStore[K]> };
