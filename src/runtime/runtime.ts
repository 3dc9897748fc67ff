import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { orderMachine, type MerchantFollowUp, type OrderOutput, type OrderSnapshot } from '../../machines/order.js';
import { TIMER_SENDER } from '../../machines/time.js';
import { allowedActions, type AllowedAction } from '../allowed-actions.js';
import {
  checkEvent,
  describeValue,
  notAllowedError,
  parseEvent,
  parseOrderInput,
  precheckEvent,
  REFUSAL_KEEPS_SNAPSHOT,
  type BoundaryOptions,
} from '../commands.js';
import { openSystem, pendingDeadlines, restoreSystem, startSystem, StepError, type SystemSession } from '../engine/step.js';
import type { Delivery, PendingDeadline, StepResult } from '../engine/step.js';
import {
  DuplicateCommandError,
  InvalidPayloadError,
  VersionConflictError,
  WorkflowError,
  WorkflowNotFoundError,
} from '../errors.js';
import { cancellationReasonLabel, cancellationStatusLabel, type Label } from '../labels.js';
import { cancelOrderViews, type CancelOrderView } from '../queries.js';
import type {
  CancellationReason,
  CancellationStatus,
  DisputeStatus,
  Plan,
  Role,
  Sender,
} from '../schemas/common.js';
import type { WorkflowEffect } from '../schemas/effects.js';
import type { OrderEvent } from '../schemas/events.js';
import type { OrderInput } from '../schemas/inputs.js';
import type { LogisticsService, NotificationService, PaymentService } from './adapters.js';
import { DispatchEnvelope, hashRawPayload, OpenEnvelope, parseEnvelope } from './requests.js';
import { DEFAULT_DELIVERY_POLICY, OutboxDispatcher, outboxKindOf, type DeliveryPolicy, type EffectResultCommand } from './outbox.js';
import { BackgroundLoop, runDeadlineBatch, type DeadlineOutcome } from './scheduler.js';
import type {
  AuditRow,
  CancelOrderQuery,
  CancelOrderRow,
  Commit,
  DeadlineRow,
  OutboxRow,
  Page,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface RuntimeClock {
  /** Epoch milliseconds. The runtime reads time only from here (a manual clock in tests and demos). */
  now(): number;
}

export interface WorkflowRuntimeOptions extends BoundaryOptions {
  store: WorkflowStore;
  clock: RuntimeClock;
  payments: PaymentService;
  logistics: LogisticsService;
  /** Without it, notifications are recorded in the outbox and marked done. */
  notifications?: NotificationService;
  /** Unique per live process (default: host:pid:random). Rows a dead worker claimed return when its lease expires. */
  workerId?: string;
  /** How long a claimed deadline or effect stays with this worker (default 30 s). */
  leaseMs?: number;
  /** Rows claimed per scheduler or outbox pass (default 100): the bound on memory. */
  batchSize?: number;
  /** How far in the future a caller-supplied `at` may be (default 60 s). */
  allowedSkewMs?: number;
  /** Outbox delivery retries (not the business retries of C4). */
  delivery?: Partial<DeliveryPolicy>;
  /** Longest sleep of the background loop (default 1 s). */
  pollIntervalMs?: number;
  /** Inspection of every step, e.g. a Stately inspector's `inspect`. */
  inspect?: (event: InspectionEvent) => void;
  /** Inspection per workflow (wins over `inspect`), e.g. `stableSessionsByWorkflow(inspector)`. */
  inspectWorkflow?: (workflowId: string) => ((event: InspectionEvent) => void) | undefined;
  /** Unexpected errors of background work (default: one line on stderr). */
  onError?: (error: unknown, context: string) => void;
}

/** The input that creates an order workflow; `at` defaults to the clock's time. */
export type OpenOrderInput = Omit<OrderInput, 'at'> & { at?: number };

export interface OpenOrderRequest {
  /** Defaults to the order id. */
  workflowId?: string;
  /** Defaults to `open:<workflowId>`: opening twice with the same input returns the first result. */
  commandId?: string;
  input: OpenOrderInput;
}

export interface DispatchRequest {
  workflowId: string;
  /** Idempotency: the same id with the same payload returns the original result. */
  commandId: string;
  /** Optimistic concurrency: refuse with VersionConflictError unless the workflow is at this version. */
  expectedVersion?: number;
  /** Raw JSON event; `at` is stamped from the clock when absent. */
  event: unknown;
}

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

export interface DisputeView {
  disputeId: string;
  status: DisputeStatus;
  plan: Plan | null;
  openedAt: number;
  updatedAt: number;
}

export interface WorkflowView {
  workflowId: string;
  orderId: string;
  merchantId: string;
  version: number;
  status: 'active' | 'done';
  state: Record<string, unknown>;
  lastEventAt: number;
  createdAt: number;
  updatedAt: number;
  disputes: DisputeView[];
  cancelOrders: CancelOrderView[];
  /** Pending delayed transitions with their due times. */
  deadlines: DeadlineRow[];
  /** P2: what the merchant must still do by hand. */
  followUps: MerchantFollowUp[];
  output: OrderOutput | null;
}

/** X2: a cancel order as the merchant console lists it, with its labels. */
export interface CancelOrderListItem extends CancelOrderRow {
  statusLabel: Label;
  reasonLabel: Label;
}

export interface TickResult {
  deadlinesFired: number;
  /** Claimed deadlines that were no longer pending (left early or fired elsewhere). */
  deadlinesSkipped: number;
  /** Effects whose result was recorded, or that needed no result (notifications, async answers). */
  effectsDelivered: number;
  /** Delivery failures that will be retried. */
  effectsRetrying: number;
  /** Effects given up on (refunds hand over to C4 as a failure; others are marked dead). */
  effectsGaveUp: number;
  /** Unexpected errors (reported through onError; the rows are retried after their lease). */
  errors: number;
}

export interface WorkflowRuntime {
  openOrder(request: OpenOrderRequest): Promise<CommandResult>;
  dispatch(request: DispatchRequest): Promise<CommandResult>;
  getWorkflow(workflowId: string): Promise<WorkflowView>;
  /** D9: every accepted event of the workflow, oldest first: who, when, what, resulting state. */
  getAuditTrail(workflowId: string): Promise<AuditRow[]>;
  /** What `role` may send now (deadlines due by now counted as fired, as `dispatch` would). */
  allowedActions(workflowId: string, role: Role, senderId?: string): Promise<AllowedAction[]>;
  queryCancelOrders(query?: CancelOrderQuery): Promise<Page<CancelOrderListItem>>;
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

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

const MAX_CONFLICT_RETRIES = 8;
/** Catch-up bound per command: far above any real chain of timers (a loop would be a machine bug). */
const MAX_CATCH_UP_STEPS = 1_000;
/** Outbox passes per tick: results of effects may request new effects (interception → refund). */
const MAX_OUTBOX_PASSES = 8;

export function deadlineIdOf(workflowId: string, deadline: PendingDeadline): string {
  return `${workflowId}|${deadline.actorPath.join('/')}|${deadline.eventType}|${deadline.dueAt}`;
}

/** Stable JSON (sorted keys) for payload hashes. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonical(payload)).digest('hex');
}

interface PersistedChild {
  snapshot?: { value?: unknown; context?: { status?: string } };
}
interface PersistedCancelOrder {
  cancellationId: string;
  origin: string;
  reason: CancellationReason;
  status: CancellationStatus | 'created';
  createdAt: number;
  updatedAt: number;
  refundTrigger: { kind: string } | null;
}
interface PersistedOrder {
  value: unknown;
  context: { orderId: string; merchantId: string; cancelOrders: Record<string, PersistedCancelOrder> };
  children?: Record<string, PersistedChild>;
}

/** describeValue read straight from a persisted snapshot (no restore needed). */
function describePersisted(persisted: unknown): Record<string, unknown> {
  const order = persisted as PersistedOrder;
  const described: Record<string, unknown> = { order: order.value };
  for (const [id, child] of Object.entries(order.children ?? {})) described[id] = child.snapshot?.value;
  return described;
}

function cancelOrderRows(workflowId: string, before: unknown, after: unknown): CancelOrderRow[] {
  const previous = (before as PersistedOrder | undefined)?.context.cancelOrders ?? {};
  const current = after as PersistedOrder;
  const rows: CancelOrderRow[] = [];
  for (const entry of Object.values(current.context.cancelOrders)) {
    const old = previous[entry.cancellationId];
    if (
      old &&
      old.status === entry.status &&
      old.reason === entry.reason &&
      old.updatedAt === entry.updatedAt &&
      old.refundTrigger?.kind === entry.refundTrigger?.kind
    ) {
      continue;
    }
    const status =
      entry.status === 'created'
        ? (current.children?.[entry.cancellationId]?.snapshot?.context?.status ?? 'pendingReview')
        : entry.status;
    rows.push({
      cancellationId: entry.cancellationId,
      workflowId,
      orderId: current.context.orderId,
      merchantId: current.context.merchantId,
      status,
      reason: entry.reason,
      origin: entry.origin,
      refundTriggerKind: entry.refundTrigger?.kind ?? null,
      createdAt: entry.createdAt,
      updatedAt: entry.updatedAt,
    });
  }
  return rows;
}

/**
 * Outbox rows for what one step emitted. Refunds are keyed by the cancel order id (the payment
 * service's idempotency key) and the business attempt; the audit seq of the step is added because a
 * refund forced after `refundFailed` starts again at attempt 1 and must not collide with the first one.
 */
function outboxRows(workflowId: string, seq: number, at: number, emitted: StepResult['emitted']): OutboxRow[] {
  return emitted.map(({ event }, index) => {
    const effect = event as WorkflowEffect;
    const kind = outboxKindOf(effect);
    const idempotencyKey =
      effect.type === 'effect.notificationRequested'
        ? `${workflowId}:${seq}.${index}:${effect.kind}`
        : effect.idempotencyKey;
    const attempt =
      effect.type === 'effect.refundRequested'
        ? `${effect.attempt}@${seq}`
        : effect.type === 'effect.interceptionRequested'
          ? `1@${seq}`
          : '1';
    return {
      effectId: `${workflowId}|${kind}|${idempotencyKey}|${attempt}`,
      workflowId,
      kind,
      idempotencyKey,
      payload: effect,
      status: 'pending',
      attempts: 0,
      availableAt: at,
      lastError: null,
      createdAt: at,
    };
  });
}

interface AuditInput {
  at: number;
  by: Sender;
  event: Record<string, unknown>;
  commandId: string | null;
}

/**
 * One workflow being advanced in memory: steps accumulate audit rows, effects and the deadline set,
 * and become one Commit (or are dropped, writing nothing).
 */
class Draft {
  persisted: unknown;
  status: 'active' | 'done';
  lastEventAt: number;
  seq: number;
  deadlines: PendingDeadline[] | null = null;
  readonly audit: AuditRow[] = [];
  readonly outbox: OutboxRow[] = [];
  readonly fired: string[] = [];
  /** A restore of `persisted` not delivered to yet: reads share it, and the next step delivers on it. */
  private session: SystemSession | null = null;

  constructor(
    readonly record: WorkflowRecord,
    lastSeq: number,
    private readonly inspect: ((event: InspectionEvent) => void) | undefined,
  ) {
    this.persisted = record.snapshot;
    this.status = record.status;
    this.lastEventAt = record.lastEventAt;
    this.seq = lastSeq;
  }

  get workflowId(): string {
    return this.record.workflowId;
  }

  /**
   * A live, inert copy of the current state, to read. It is restored once and the next `step` delivers
   * its event on it (reading never changes it), so a command costs one restore, not two.
   */
  live(): AnyActorRef {
    this.session ??= openSystem(orderMachine, this.persisted, this.stepOptions());
    return this.session.actor;
  }

  /** Stops the live copy, if any. */
  release(): void {
    this.session?.stop();
    this.session = null;
  }

  private stepOptions() {
    return this.inspect ? { inspect: this.inspect } : {};
  }

  /**
   * INV5: fires every pending deadline due at or before `upTo`, earliest first, each at its own due
   * time, so a result never depends on when the process was up.
   */
  catchUp(upTo: number): void {
    this.deadlines ??= pendingDeadlines(this.live());
    for (let steps = 0; this.isDue(upTo); steps += 1) {
      if (steps >= MAX_CATCH_UP_STEPS) {
        throw new StepError(`workflow ${this.workflowId}: more than ${MAX_CATCH_UP_STEPS} deadlines due at once`);
      }
      const next = this.deadlines![0]!;
      this.step(
        { event: { type: next.eventType }, target: next.actorPath },
        {
          at: next.dueAt,
          by: TIMER_SENDER,
          event: { type: next.eventType, timer: next.timer, actorPath: next.actorPath },
          commandId: null,
        },
      );
      this.fired.push(deadlineIdOf(this.workflowId, next));
    }
  }

  private isDue(upTo: number): boolean {
    const next = this.deadlines?.[0];
    return next !== undefined && next.dueAt <= upTo;
  }

  /**
   * Delivers one event on a fresh restore of the current state. With `refused`, a delivery that leaves
   * the order's snapshot as it was throws `refused()` and changes nothing (see REFUSAL_KEEPS_SNAPSHOT).
   */
  step(delivery: Delivery, audit: AuditInput, refused?: () => Error): StepResult {
    const session = this.session ?? openSystem(orderMachine, this.persisted, this.stepOptions());
    this.session = null;
    const result = session.deliver(delivery);
    if (refused && !session.changedRoot) throw refused();
    if (result.status !== 'active' && result.status !== 'done') {
      throw new StepError(`workflow ${this.workflowId} is ${result.status} after ${delivery.event.type}`);
    }
    this.seq += 1;
    this.persisted = result.persisted;
    this.status = result.status;
    this.deadlines = result.deadlines;
    this.lastEventAt = Math.max(this.lastEventAt, audit.at);
    this.audit.push({
      workflowId: this.workflowId,
      seq: this.seq,
      at: audit.at,
      role: audit.by.role,
      actorId: audit.by.id,
      eventType: delivery.event.type,
      event: audit.event,
      resultingState: describePersisted(result.persisted),
      commandId: audit.commandId,
    });
    this.outbox.push(...outboxRows(this.workflowId, this.seq, audit.at, result.emitted));
    return result;
  }

  get changed(): boolean {
    return this.audit.length > 0;
  }

  toCommit(now: number, command: Commit['command'], completesEffectId: string | null): Commit {
    const { record } = this;
    return {
      workflow: {
        ...record,
        version: record.version + 1,
        snapshot: this.persisted,
        status: this.status,
        lastEventAt: this.lastEventAt,
        updatedAt: now,
      },
      expectedVersion: record.version,
      audit: this.audit,
      deadlines: (this.deadlines ?? []).map((deadline) => ({
        deadlineId: deadlineIdOf(this.workflowId, deadline),
        workflowId: this.workflowId,
        actorPath: deadline.actorPath.join('/'),
        timer: deadline.timer,
        eventType: deadline.eventType,
        dueAt: deadline.dueAt,
      })),
      outbox: this.outbox,
      cancelOrders: cancelOrderRows(this.workflowId, record.snapshot, this.persisted),
      command,
      completesEffectId,
    };
  }
}

/**
 * A store that can write several commits in one transaction, each one atomic on its own (for SQLite:
 * one savepoint each). The scheduler uses it to fire a batch of deadlines with one WAL commit; stores
 * without it get one transaction per commit. Not part of `WorkflowStore`: an optional capability.
 */
export interface BatchCommitStore {
  /** Writes each commit as `commit` would; per commit, null or the error that refused it (nothing of it written). */
  commitAll(commits: readonly Commit[]): Promise<unknown[]>;
}

const isBatchCommitStore = (store: WorkflowStore): store is WorkflowStore & BatchCommitStore =>
  typeof (store as Partial<BatchCommitStore>).commitAll === 'function';

const atIssue = (message: string) => new InvalidPayloadError([{ path: 'at', message }]);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function defaultOnError(error: unknown, context: string): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`[workflow-runtime] ${context}: ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// The runtime
// ---------------------------------------------------------------------------------------------

/**
 * A durable host for many orders' workflows. Every command runs the same pipeline:
 *
 * 1. a known command id returns its original result (same payload) or DuplicateCommandError;
 * 2. load the workflow and restore it with an inert clock;
 * 3. fire its deadlines due at or before the command's time, each at its due time (catch-up), so the
 *    outcome never depends on how late the scheduler runs ("resume from the original deadline");
 * 4. parse and check the event at the boundary (INV4: typed errors, nothing written);
 * 5. step the actor system;
 * 6. write ONE commit: snapshot + version, audit rows (D9), the complete deadline set, outbox rows,
 *    the X2 cancel-order rows and the command row, or nothing at all.
 *
 * A version conflict is retried from step 1 unless the caller named the version it expects.
 */
export function createWorkflowRuntime(options: WorkflowRuntimeOptions): WorkflowRuntime {
  return new DurableRuntime(options);
}

class DurableRuntime implements WorkflowRuntime {
  private readonly store: WorkflowStore;
  private readonly clock: RuntimeClock;
  private readonly workerId: string;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly skewMs: number;
  private readonly pollIntervalMs: number;
  private readonly boundary: BoundaryOptions;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly dispatcher: OutboxDispatcher;
  private readonly loop: BackgroundLoop;
  /** Last audit seq by workflow at a known version: saves reading the audit on every command. */
  private readonly seqCache = new Map<string, { version: number; seq: number }>();
  private ticking: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: WorkflowRuntimeOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.batchSize = options.batchSize ?? 100;
    this.skewMs = options.allowedSkewMs ?? 60_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.boundary = options.evidenceCatalogue ? { evidenceCatalogue: options.evidenceCatalogue } : {};
    this.onError = options.onError ?? defaultOnError;
    const policy = { ...DEFAULT_DELIVERY_POLICY, ...options.delivery };
    if (policy.timeoutMs >= this.leaseMs) {
      // An effect must be answered (or given up) before another worker may claim it again.
      throw new RangeError(`delivery.timeoutMs (${policy.timeoutMs}) must be below leaseMs (${this.leaseMs})`);
    }
    this.dispatcher = new OutboxDispatcher({
      store: this.store,
      now: () => this.clock.now(),
      payments: options.payments,
      logistics: options.logistics,
      notifications: options.notifications,
      policy,
      record: (command) => this.recordEffectResult(command),
      onError: this.onError,
    });
    this.loop = new BackgroundLoop({
      round: async () => {
        const result = await this.tick();
        const deadlines = result.deadlinesFired + result.deadlinesSkipped;
        const effects = result.effectsDelivered + result.effectsRetrying + result.effectsGaveUp;
        return { busy: deadlines >= this.batchSize || effects >= this.batchSize };
      },
      idleDelay: async () => {
        const next = await this.store.nextDueAt();
        const untilDue = next === null ? this.pollIntervalMs : next - this.clock.now();
        return Math.min(this.pollIntervalMs, Math.max(0, untilDue));
      },
      onError: this.onError,
    });
  }

  // --- commands ---------------------------------------------------------------------------------

  async openOrder(untrusted: OpenOrderRequest): Promise<CommandResult> {
    this.assertOpen();
    const request = parseEnvelope(OpenEnvelope, untrusted);
    const raw = request.input as unknown;
    if (!isRecord(raw)) throw new InvalidPayloadError([{ path: '', message: 'the order input must be an object' }]);
    const now = this.clock.now();
    const input = parseOrderInput(raw.at === undefined ? { ...raw, at: now } : raw);
    if (input.at > now + this.skewMs) throw atIssue(`is more than ${this.skewMs} ms after the runtime's clock (${now})`);
    const workflowId = request.workflowId ?? input.orderId;
    if (!workflowId) throw new InvalidPayloadError([{ path: 'workflowId', message: 'is required' }]);
    const commandId = request.commandId ?? `open:${workflowId}`;
    // The raw input is hashed: a retry without `at` is the same command, whenever it comes.
    const hash = hashRawPayload(payloadHash, { open: workflowId, input: raw });
    const seen = await this.seenCommand(commandId, workflowId, hash);
    if (seen) return seen;

    const inspect = this.inspectFor(workflowId);
    const result = startSystem(orderMachine, input, inspect ? { inspect } : {});
    const commandResult: CommandResult = {
      workflowId,
      commandId,
      version: 1,
      status: result.status === 'done' ? 'done' : 'active',
      state: describePersisted(result.persisted),
      event: null,
      firedDeadlines: [],
      effects: [],
    };
    const commit: Commit = {
      workflow: {
        workflowId,
        orderId: input.orderId,
        merchantId: input.merchantId,
        version: 1,
        snapshot: result.persisted,
        status: commandResult.status,
        lastEventAt: input.at,
        createdAt: now,
        updatedAt: now,
      },
      expectedVersion: null,
      audit: [],
      deadlines: [],
      outbox: [],
      cancelOrders: [],
      command: { commandId, workflowId, payloadHash: hash, result: commandResult, at: now },
      completesEffectId: null,
    };
    try {
      await this.store.commit(commit);
    } catch (error) {
      // Raced with the same command: answer as the winner did.
      if (error instanceof DuplicateCommandError) {
        const winner = await this.seenCommand(commandId, workflowId, hash);
        if (winner) return winner;
      }
      throw error;
    }
    this.seqCache.set(workflowId, { version: 1, seq: 0 });
    return commandResult;
  }

  async dispatch(request: DispatchRequest): Promise<CommandResult> {
    this.assertOpen();
    return this.runCommand(parseEnvelope(DispatchEnvelope, request), null);
  }

  private recordEffectResult(command: EffectResultCommand): Promise<CommandResult> {
    return this.runCommand(
      { workflowId: command.workflowId, commandId: command.commandId, event: command.event },
      command.completesEffectId,
    );
  }

  private async runCommand(request: DispatchRequest, completesEffectId: string | null): Promise<CommandResult> {
    const { workflowId, commandId, expectedVersion } = request;
    const hash = hashRawPayload(payloadHash, { workflowId, event: request.event });
    for (let attempt = 0; ; attempt += 1) {
      const seen = await this.seenCommand(commandId, workflowId, hash);
      if (seen) return seen;
      try {
        return await this.tryCommand(request, hash, completesEffectId);
      } catch (error) {
        const retry =
          attempt < MAX_CONFLICT_RETRIES &&
          ((error instanceof VersionConflictError && expectedVersion === undefined) ||
            // The same command id committed concurrently: the next turn returns its result.
            error instanceof DuplicateCommandError);
        if (!retry) throw error;
      }
    }
  }

  private async seenCommand(commandId: string, workflowId: string, hash: string): Promise<CommandResult | null> {
    const seen = await this.store.getCommand(commandId);
    if (!seen) return null;
    if (seen.payloadHash !== hash || seen.workflowId !== workflowId) throw new DuplicateCommandError(commandId);
    return seen.result as CommandResult;
  }

  private async tryCommand(request: DispatchRequest, hash: string, completesEffectId: string | null): Promise<CommandResult> {
    const { workflowId, commandId, expectedVersion } = request;
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    if (expectedVersion !== undefined && record.version !== expectedVersion) {
      throw new VersionConflictError(workflowId, expectedVersion, record.version);
    }
    const now = this.clock.now();
    const raw = request.event;
    const stamped = isRecord(raw) && raw.at === undefined ? { ...raw, at: Math.max(now, record.lastEventAt) } : raw;
    const event = parseEvent(stamped, this.boundary);
    if (event.at < record.lastEventAt) throw atIssue(`is before the workflow's last event (${record.lastEventAt})`);
    if (event.at > Math.max(now, record.lastEventAt) + this.skewMs) {
      throw atIssue(`is more than ${this.skewMs} ms after the runtime's clock (${now})`);
    }

    const draft = new Draft(record, await this.lastSeq(record), this.inspectFor(record.workflowId));
    let effectsBefore: number;
    try {
      draft.catchUp(event.at);
      effectsBefore = draft.outbox.length;
      const snapshot = draft.live().getSnapshot() as OrderSnapshot;
      const audit = { at: event.at, by: event.by, event, commandId };
      if (!this.inspectFor(record.workflowId) && REFUSAL_KEEPS_SNAPSHOT.has(event.type)) {
        // The step is the check: a refused event leaves the order's snapshot as it was, and the step
        // throws before the draft takes anything from it (no `can`, no second guard evaluation).
        // With an inspector the refused event would show there: then `can` decides first.
        precheckEvent(snapshot, event);
        draft.step({ event }, audit, () => notAllowedError(snapshot, event));
      } else {
        checkEvent(snapshot, event);
        draft.step({ event }, audit);
      }
    } finally {
      draft.release();
    }

    const result: CommandResult = {
      workflowId,
      commandId,
      version: record.version + 1,
      status: draft.status,
      state: describePersisted(draft.persisted),
      event,
      firedDeadlines: [...draft.fired],
      effects: draft.outbox.slice(effectsBefore).map((row) => row.effectId),
    };
    await this.commit(draft, now, { commandId, workflowId, payloadHash: hash, result, at: now }, completesEffectId);
    return result;
  }

  private async commit(draft: Draft, now: number, command: Commit['command'], completesEffectId: string | null) {
    const commit = draft.toCommit(now, command, completesEffectId);
    await this.store.commit(commit);
    this.rememberSeq(draft.workflowId, commit.workflow.version, draft.seq);
  }

  private inspectFor(workflowId: string): ((event: InspectionEvent) => void) | undefined {
    return this.options.inspectWorkflow?.(workflowId) ?? this.options.inspect;
  }

  private async lastSeq(record: WorkflowRecord): Promise<number> {
    const cached = this.seqCache.get(record.workflowId);
    if (cached && cached.version === record.version) return cached.seq;
    const audit = await this.store.listAudit(record.workflowId);
    const seq = audit.at(-1)?.seq ?? 0;
    this.rememberSeq(record.workflowId, record.version, seq);
    return seq;
  }

  private rememberSeq(workflowId: string, version: number, seq: number): void {
    if (this.seqCache.size >= 10_000 && !this.seqCache.has(workflowId)) this.seqCache.clear();
    this.seqCache.set(workflowId, { version, seq });
  }

  // --- timers ----------------------------------------------------------------------------------

  /** Fires the workflow's deadlines due at or before `dueAt` in one commit. */
  private async advance(workflowId: string, dueAt: number): Promise<DeadlineOutcome> {
    for (let attempt = 0; ; attempt += 1) {
      const record = await this.store.load(workflowId);
      if (!record || record.status === 'done') return 'skipped';
      const draft = new Draft(record, await this.lastSeq(record), this.inspectFor(record.workflowId));
      try {
        draft.catchUp(dueAt);
      } finally {
        draft.release();
      }
      if (!draft.changed) return 'skipped';
      try {
        await this.commit(draft, this.clock.now(), null, null);
        return 'fired';
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
      }
    }
  }

  /**
   * `advance` for rows of distinct workflows, with all their commits in one store transaction (each
   * commit atomic on its own). A commit refused for a version conflict goes through `advance` again.
   */
  private async advanceMany(
    store: WorkflowStore & BatchCommitStore,
    rows: readonly DeadlineRow[],
  ): Promise<Array<DeadlineOutcome | { error: unknown }>> {
    const outcomes: Array<DeadlineOutcome | { error: unknown }> = rows.map(() => 'skipped');
    const pending: Array<{ index: number; draft: Draft; commit: Commit }> = [];
    const now = this.clock.now();
    for (const [index, row] of rows.entries()) {
      try {
        const record = await store.load(row.workflowId);
        if (!record || record.status === 'done') continue;
        const draft = new Draft(record, await this.lastSeq(record), this.inspectFor(record.workflowId));
        try {
          draft.catchUp(row.dueAt);
        } finally {
          draft.release();
        }
        if (draft.changed) pending.push({ index, draft, commit: draft.toCommit(now, null, null) });
      } catch (error) {
        outcomes[index] = { error };
      }
    }
    const refusals = await store.commitAll(pending.map(({ commit }) => commit));
    for (const [position, { index, draft, commit }] of pending.entries()) {
      const refusal = refusals[position];
      if (refusal === null) {
        this.rememberSeq(draft.workflowId, commit.workflow.version, draft.seq);
        outcomes[index] = 'fired';
      } else if (refusal instanceof VersionConflictError) {
        const row = rows[index]!;
        outcomes[index] = await this.advance(row.workflowId, row.dueAt).catch((error: unknown) => ({ error }));
      } else {
        outcomes[index] = { error: refusal ?? new Error('the store returned no outcome for this commit') };
      }
    }
    return outcomes;
  }

  // --- reads ------------------------------------------------------------------------------------

  async getWorkflow(workflowId: string): Promise<WorkflowView> {
    this.assertOpen();
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    const actor = restoreSystem(orderMachine, record.snapshot);
    try {
      const snapshot = actor.getSnapshot() as OrderSnapshot;
      const { context } = snapshot;
      return {
        workflowId,
        orderId: record.orderId,
        merchantId: record.merchantId,
        version: record.version,
        status: record.status,
        state: describeValue(snapshot),
        lastEventAt: record.lastEventAt,
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        disputes: Object.values(context.disputes).map(({ disputeId, status, plan, openedAt, updatedAt }) => ({
          disputeId,
          status,
          plan,
          openedAt,
          updatedAt,
        })),
        cancelOrders: cancelOrderViews(snapshot),
        deadlines: await this.store.listDeadlines(workflowId),
        followUps: context.followUps,
        output: (snapshot.output as OrderOutput | undefined) ?? null,
      };
    } finally {
      actor.stop();
    }
  }

  async getAuditTrail(workflowId: string): Promise<AuditRow[]> {
    this.assertOpen();
    const audit = await this.store.listAudit(workflowId);
    if (audit.length === 0 && !(await this.store.load(workflowId))) throw new WorkflowNotFoundError(workflowId);
    return audit;
  }

  async allowedActions(workflowId: string, role: Role, senderId?: string): Promise<AllowedAction[]> {
    this.assertOpen();
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    // As dispatch would see it now: deadlines already due count as fired (in memory only).
    const draft = new Draft(record, 0, undefined);
    try {
      draft.catchUp(Math.max(this.clock.now(), record.lastEventAt));
      return allowedActions(draft.live().getSnapshot() as OrderSnapshot, role, senderId);
    } finally {
      draft.release();
    }
  }

  async queryCancelOrders(query: CancelOrderQuery = {}): Promise<Page<CancelOrderListItem>> {
    this.assertOpen();
    const page = await this.store.queryCancelOrders(query);
    return {
      nextCursor: page.nextCursor,
      items: page.items.map((row) => ({
        ...row,
        statusLabel: {
          'zh-CN': cancellationStatusLabel(row.status as CancellationStatus, 'zh-CN'),
          en: cancellationStatusLabel(row.status as CancellationStatus, 'en'),
        },
        reasonLabel: {
          'zh-CN': cancellationReasonLabel(row.reason as CancellationReason, 'zh-CN'),
          en: cancellationReasonLabel(row.reason as CancellationReason, 'en'),
        },
      })),
    };
  }

  // --- background work ---------------------------------------------------------------------------

  tick(): Promise<TickResult> {
    this.assertOpen();
    // Rounds never overlap within one runtime (a manual tick and the loop share this chain).
    const round = this.ticking.then(() => this.round());
    this.ticking = round.catch(() => undefined);
    return round;
  }

  private async round(): Promise<TickResult> {
    const result: TickResult = {
      deadlinesFired: 0,
      deadlinesSkipped: 0,
      effectsDelivered: 0,
      effectsRetrying: 0,
      effectsGaveUp: 0,
      errors: 0,
    };
    const { store } = this;
    const deadlines = await runDeadlineBatch(
      {
        claim: (now) => store.claimDueDeadlines(this.claimAt(now)),
        advance: (workflowId, dueAt) => this.advance(workflowId, dueAt),
        ...(isBatchCommitStore(store) ? { advanceMany: (rows) => this.advanceMany(store, rows) } : {}),
        onError: this.onError,
      },
      this.clock.now(),
    );
    result.deadlinesFired = deadlines.fired;
    result.deadlinesSkipped = deadlines.skipped;
    result.errors += deadlines.failed;

    // A live lease is exclusive, also to its holder: an effect that errored waits for its lease to expire.
    for (let pass = 0; pass < MAX_OUTBOX_PASSES; pass += 1) {
      const rows = await this.store.claimOutbox(this.claimAt(this.clock.now()));
      if (rows.length === 0) break;
      for (const row of rows) {
        try {
          const outcome = await this.dispatcher.deliver(row);
          if (outcome === 'retrying') result.effectsRetrying += 1;
          else if (outcome === 'gaveUp') result.effectsGaveUp += 1;
          else result.effectsDelivered += 1;
        } catch (error) {
          // Left under its lease: delivered again when the lease expires.
          result.errors += 1;
          this.onError(error, `effect ${row.effectId}`);
        }
      }
    }
    return result;
  }

  private claimAt(now: number) {
    return { workerId: this.workerId, now, leaseMs: this.leaseMs, limit: this.batchSize };
  }

  start(): void {
    this.assertOpen();
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.ticking;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.closed = true;
    await this.store.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new RuntimeClosedError();
  }
}
