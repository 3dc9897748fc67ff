import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { InspectionEvent } from 'xstate';
import type { OrderOutput, OrderSnapshot } from '../../machines/order.js';
import { allowedActions, type AllowedAction } from '../allowed-actions.js';
import { parseEvent, parseOrderInput, type BoundaryOptions } from '../commands.js';
import type { WorkflowDefinition } from '../engine/definition.js';
import { LiveSystem } from '../engine/step.js';
import {
  DuplicateCommandError,
  InvalidPayloadError,
  InvalidTimeError,
  VersionConflictError,
  WorkflowExistsError,
  WorkflowNotFoundError,
} from '../errors.js';
import { cancellationReasonLabel, cancellationStatusLabel } from '../labels.js';
import { cancelOrderViews, describeValue, disputeViews, merchantFollowUps } from '../queries.js';
import type { CancellationReason, CancellationStatus, Role } from '../schemas/common.js';
import { DispatchEnvelope, hashRawPayload, OpenEnvelope, parseEnvelope } from './requests.js';
import { DEFAULT_DELIVERY_POLICY, OutboxDispatcher, type EffectResultCommand } from './outbox.js';
import { BackgroundLoop, runDeadlineBatch, type DeadlineOutcome } from './scheduler.js';
import type {
  AuditRow,
  BatchCommitStore,
  CancelOrderQuery,
  CommandScope,
  Commit,
  DeadlineRow,
  Page,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';
import {
  RuntimeClosedError,
  type CancelOrderListItem,
  type CommandResult,
  type DispatchRequest,
  type OpenOrderRequest,
  type RuntimeClock,
  type TickResult,
  type WorkflowRuntime,
  type WorkflowRuntimeOptions,
  type WorkflowView,
} from './types.js';
import { checkTime, Draft, ORDER_WORKFLOW, restoreWorkflow, stampEvent } from './unit-of-work.js';

export { deadlineIdOf } from './unit-of-work.js';
export { RuntimeClosedError } from './types.js';
export type * from './types.js';

const MAX_CONFLICT_RETRIES = 8;
/** Outbox passes per tick: results of effects may request new effects (interception → refund). */
const MAX_OUTBOX_PASSES = 8;
const OPEN_COMMAND_ID = 'open';

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

const isBatchCommitStore = (store: WorkflowStore): store is WorkflowStore & BatchCommitStore =>
  typeof (store as Partial<BatchCommitStore>).commitAll === 'function';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function defaultOnError(error: unknown, context: string): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  process.stderr.write(`[workflow-runtime] ${context}: ${message}\n`);
}

/** A command on its way through `advance`: its event (unparsed until the workflow is loaded) and its key. */
interface PendingCommand {
  scope: CommandScope;
  commandId: string;
  payloadHash: string;
  raw: unknown;
  expectedVersion?: number;
  completesEffectId: string | null;
}

/**
 * A durable host for many orders' workflows. Every command and every deadline goes through one unit of
 * work, `advance`: load the workflow, restore it with an inert clock, fire its deadlines due by now,
 * each at its own due time (catch-up: results never depend on scheduler lag), check the event at the
 * boundary (INV4: typed errors, nothing written), step, and write ONE commit (snapshot and version,
 * audit rows, the complete deadline set, outbox rows, the X2 rows and the command row) or nothing. A
 * version conflict is retried unless the caller named the version it expects.
 */
export function createWorkflowRuntime(options: WorkflowRuntimeOptions): WorkflowRuntime {
  return new DurableRuntime(options);
}

class DurableRuntime implements WorkflowRuntime {
  private readonly store: WorkflowStore;
  private readonly clock: RuntimeClock;
  private readonly definition: WorkflowDefinition;
  private readonly workerId: string;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly skewMs: number;
  private readonly pollIntervalMs: number;
  private readonly boundary: BoundaryOptions;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly dispatcher: OutboxDispatcher;
  private readonly loop: BackgroundLoop;
  private ticking: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: WorkflowRuntimeOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.definition = options.definition ?? ORDER_WORKFLOW;
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
    if (input.at > now + this.skewMs) {
      throw new InvalidTimeError(input.at, `is more than ${this.skewMs} ms after the runtime's clock (${now})`);
    }
    const workflowId = request.workflowId ?? input.orderId;
    const commandId = request.commandId ?? `${OPEN_COMMAND_ID}:${workflowId}`;
    // The raw input is hashed: a retry without `at` is the same command, whenever it comes.
    const hash = hashRawPayload(payloadHash, { open: workflowId, input: raw });
    const opened = await this.openedWith(workflowId, hash);
    if (opened) return { ...opened, commandId };

    const inspect = this.inspectFor(workflowId);
    const system = new LiveSystem(this.definition.machine, { input }, inspect ? { inspect } : {});
    let snapshot: unknown;
    let status: 'active' | 'done';
    let state: Record<string, unknown>;
    try {
      const live = system.snapshot() as OrderSnapshot;
      status = live.status === 'done' ? 'done' : 'active';
      state = describeValue(live);
      snapshot = system.persist();
    } finally {
      system.stop();
    }
    const result: CommandResult = {
      workflowId,
      commandId,
      version: 1,
      status,
      state,
      event: null,
      firedDeadlines: [],
      effects: [],
    };
    const commit = {
      workflow: {
        workflowId,
        orderId: input.orderId,
        merchantId: input.merchantId,
        version: 1,
        machineVersion: this.definition.version,
        auditSeq: 0,
        snapshot,
        status,
        lastEventAt: input.at,
        createdAt: now,
        updatedAt: now,
      },
      expectedVersion: null,
      audit: [],
      deadlines: [],
      outbox: [],
      cancelOrders: [],
      command: { commandId: OPEN_COMMAND_ID, scope: 'runtime', workflowId, payloadHash: hash, result, at: now },
      completesEffectId: null,
      observedAt: now,
    } as Commit;
    try {
      await this.store.commit(commit);
    } catch (error) {
      // Raced with another open of the same workflow: the winner's input decides.
      if (error instanceof VersionConflictError || error instanceof DuplicateCommandError) {
        const winner = await this.openedWith(workflowId, hash);
        if (winner) return { ...winner, commandId };
      }
      throw error;
    }
    return result;
  }

  /** The result of opening `workflowId` with this input hash; WorkflowExistsError for another input. */
  private async openedWith(workflowId: string, hash: string): Promise<CommandResult | null> {
    const opened = await this.store.getCommand(workflowId, 'runtime', OPEN_COMMAND_ID);
    if (opened) {
      if (opened.payloadHash !== hash) throw new WorkflowExistsError(workflowId);
      return opened.result as CommandResult;
    }
    if (await this.store.load(workflowId)) throw new WorkflowExistsError(workflowId);
    return null;
  }

  async dispatch(untrusted: DispatchRequest): Promise<CommandResult> {
    this.assertOpen();
    const request = parseEnvelope(DispatchEnvelope, untrusted);
    const hash = hashRawPayload(payloadHash, { workflowId: request.workflowId, event: request.event });
    return this.runCommand(request.workflowId, {
      scope: 'client',
      commandId: request.commandId,
      payloadHash: hash,
      raw: request.event,
      ...(request.expectedVersion === undefined ? {} : { expectedVersion: request.expectedVersion }),
      completesEffectId: null,
    });
  }

  private recordEffectResult(command: EffectResultCommand): Promise<CommandResult> {
    return this.runCommand(command.workflowId, {
      scope: 'runtime',
      commandId: command.commandId,
      payloadHash: hashRawPayload(payloadHash, { workflowId: command.workflowId, event: command.event }),
      raw: command.event,
      completesEffectId: command.completesEffectId,
    });
  }

  private async runCommand(workflowId: string, command: PendingCommand): Promise<CommandResult> {
    try {
      const outcome = await this.advance(workflowId, this.clock.now(), command);
      return outcome.result!;
    } catch (error) {
      // The same command id committed concurrently: answer as the winner did.
      if (error instanceof DuplicateCommandError) {
        const winner = await this.seenCommand(workflowId, command);
        if (winner) return winner;
      }
      throw error;
    }
  }

  private async seenCommand(workflowId: string, command: PendingCommand): Promise<CommandResult | null> {
    const seen = await this.store.getCommand(workflowId, command.scope, command.commandId);
    if (!seen) return null;
    if (seen.payloadHash !== command.payloadHash) throw new DuplicateCommandError(command.commandId);
    return seen.result as CommandResult;
  }

  // --- the unit of work ---------------------------------------------------------------------------

  /**
   * Load → catch up to `upTo` → check → step → commit, retried on a version conflict (unless the
   * command named the version it expects). Without a command it only fires due deadlines.
   */
  private async advance(
    workflowId: string,
    upTo: number,
    command?: PendingCommand,
  ): Promise<{ outcome: DeadlineOutcome; result?: CommandResult }> {
    for (let attempt = 0; ; attempt += 1) {
      const seen = command && (await this.seenCommand(workflowId, command));
      if (seen) return { outcome: 'fired', result: seen };
      const record = await this.store.load(workflowId);
      if (!record) {
        if (command) throw new WorkflowNotFoundError(workflowId);
        return { outcome: 'skipped' };
      }
      if (command?.expectedVersion !== undefined && record.version !== command.expectedVersion) {
        throw new VersionConflictError(workflowId, command.expectedVersion, record.version);
      }
      if (!command && record.status === 'done') return { outcome: 'skipped' };
      const now = this.clock.now();
      const prepared = this.prepare(record, upTo, now, command);
      if (!prepared) return { outcome: 'skipped' };
      try {
        await this.store.commit(prepared.commit);
        return { outcome: 'fired', ...(prepared.result ? { result: prepared.result } : {}) };
      } catch (error) {
        const retry =
          error instanceof VersionConflictError && command?.expectedVersion === undefined && attempt < MAX_CONFLICT_RETRIES;
        if (!retry) throw error;
      }
    }
  }

  /** The commit of one unit of work on a loaded record, or null when nothing changed. Synchronous. */
  private prepare(
    record: WorkflowRecord,
    upTo: number,
    now: number,
    command?: PendingCommand,
  ): { commit: Commit; result?: CommandResult } | null {
    const system = restoreWorkflow(this.definition, record, this.inspectFor(record.workflowId));
    try {
      const draft = new Draft(record, system, this.definition.version);
      if (!command) {
        draft.catchUp(upTo);
        return draft.changed ? { commit: draft.toCommit(now, null, null) } : null;
      }
      const event = parseEvent(stampEvent(command.raw, now, record.lastEventAt), this.boundary);
      checkTime(event, now, record.lastEventAt, { allowedSkewMs: this.skewMs });
      draft.catchUp(Math.max(upTo, event.at));
      if (event.at < draft.lastEventAt) {
        throw new InvalidTimeError(event.at, `is before a deadline that fell due first (${draft.lastEventAt})`);
      }
      const effectsBefore = draft.outbox.length;
      draft.apply(event, command.commandId);
      const result: CommandResult = {
        workflowId: record.workflowId,
        commandId: command.commandId,
        version: record.version + 1,
        status: draft.status,
        state: describeValue(draft.snapshot),
        event,
        firedDeadlines: [...draft.fired],
        effects: draft.outbox.slice(effectsBefore).map((row) => row.effectId),
      };
      const row = {
        commandId: command.commandId,
        scope: command.scope,
        workflowId: record.workflowId,
        payloadHash: command.payloadHash,
        result,
        at: now,
      };
      return { commit: draft.toCommit(now, row, command.completesEffectId), result };
    } finally {
      system.stop();
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
    const pending: Array<{ index: number; commit: Commit }> = [];
    const now = this.clock.now();
    for (const [index, row] of rows.entries()) {
      try {
        const record = await store.load(row.workflowId);
        if (!record || record.status === 'done') continue;
        const prepared = this.prepare(record, row.dueAt, now);
        if (prepared) pending.push({ index, commit: prepared.commit });
      } catch (error) {
        outcomes[index] = { error };
      }
    }
    const refusals = await store.commitAll(pending.map(({ commit }) => commit));
    for (const [position, { index }] of pending.entries()) {
      const refusal = refusals[position];
      if (refusal === null) {
        outcomes[index] = 'fired';
      } else if (refusal instanceof VersionConflictError) {
        const row = rows[index]!;
        outcomes[index] = await this.advance(row.workflowId, row.dueAt).then(
          ({ outcome }) => outcome,
          (error: unknown) => ({ error }),
        );
      } else {
        outcomes[index] = { error: refusal ?? new Error('the store returned no outcome for this commit') };
      }
    }
    return outcomes;
  }

  private inspectFor(workflowId: string): ((event: InspectionEvent) => void) | undefined {
    return this.options.inspectWorkflow?.(workflowId) ?? this.options.inspect;
  }

  // --- reads ------------------------------------------------------------------------------------

  async getWorkflow(workflowId: string): Promise<WorkflowView> {
    this.assertOpen();
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    const system = restoreWorkflow(this.definition, record);
    try {
      const snapshot = system.snapshot() as OrderSnapshot;
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
        disputes: disputeViews(snapshot),
        cancelOrders: cancelOrderViews(snapshot),
        deadlines: await this.store.listDeadlines(workflowId),
        followUps: merchantFollowUps(snapshot),
        output: (snapshot.output as OrderOutput | undefined) ?? null,
      };
    } finally {
      system.stop();
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
    const system = restoreWorkflow(this.definition, record);
    try {
      const draft = new Draft(record, system, this.definition.version);
      draft.catchUp(Math.max(this.clock.now(), record.lastEventAt));
      return allowedActions(draft.snapshot, role, senderId);
    } finally {
      system.stop();
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
        advance: (workflowId, dueAt) => this.advance(workflowId, dueAt).then(({ outcome }) => outcome),
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
