import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { InspectionEvent } from 'xstate';
import type { OrderSnapshot } from '../../machines/order.js';
import { parseEvent, parseOrderInput, type BoundaryOptions } from '../commands.js';
import type { WorkflowDefinition } from '../engine/definition.js';
import { LiveSystem, StepError, type PendingDeadline } from '../engine/step.js';
import {
  DuplicateCommandError,
  InvalidPayloadError,
  InvalidTimeError,
  VersionConflictError,
  WorkflowExistsError,
  WorkflowNotFoundError,
} from '../errors.js';
import { describeValue } from '../queries.js';
import { CancellationStatus, DisputeStatus, FINAL_CANCELLATION_STATUSES, type Sender } from '../schemas/common.js';
import { DEFAULT_EVIDENCE_CATALOGUE } from '../schemas/evidence.js';
import { assertMayReadOrder, parseCaller, scopeListing, visibleRefusals } from '../visibility.js';
import { isRefusal, refusalLogOf, refusalOf, type Refusal } from '../refusals.js';
import { strandedParts, type StrandedPart } from '../invariants.js';
import { DispatchEnvelope, hashRawPayload, OpenEnvelope, parseEnvelope } from './requests.js';
import { withSnapshotText, workflowColumns } from './store-common.js';
import { EffectCompleter, GroupCommitter } from './group-commit.js';
import { DEFAULT_LIVE_CACHE, LiveCache, type LiveCacheStats, type LiveEntry } from './live-cache.js';
import { requireDeclineKey } from './answers.js';
import { awaitedRefundEffectId, DEFAULT_DELIVERY_POLICY, OutboxDispatcher, type DeliveryPolicy, type EffectResultCommand } from './outbox.js';
import {
  actionViews,
  auditEntries,
  cancelOrderListItem,
  countWindows,
  disputeCounts,
  disputeListItem,
  partiesOf,
  workflowView,
} from './reads.js';
import { BackgroundLoop, runDeadlineBatch, type DeadlineOutcome } from './scheduler.js';
import type {
  BatchCommitStore,
  BatchLoadStore,
  CancelOrderQuery,
  CommandRow,
  CommandScope,
  DisputeCountFilter,
  DisputeQuery,
  Commit,
  DeadlineRow,
  LookupStore,
  Page,
  RefusalStore,
  WorkflowHeader,
  WorkflowRecord,
  WorkflowStore,
} from './store.js';
import {
  RuntimeClosedError,
  type AllowedActionView,
  type AuditEntryView,
  type CancelOrderListItem,
  type DisputeCounts,
  type DisputeListItem,
  type CommandResult,
  type DispatchRequest,
  type OpenOrderRequest,
  type RuntimeClock,
  type StrandedWorkflow,
  type TickResult,
  type WorkflowRuntime,
  type WorkflowRuntimeOptions,
  type WorkflowView,
} from './types.js';
import {
  catchUpPoint,
  checkTime,
  Draft,
  ORDER_WORKFLOW,
  readClock,
  restoreWorkflow,
  stampEvent,
  type DraftOptions,
  type DraftProjections,
  type TimeRules,
} from './unit-of-work.js';

export { deadlineIdOf } from './unit-of-work.js';
export { RuntimeClosedError } from './types.js';
export type * from './types.js';

const MAX_CONFLICT_RETRIES = 8;

/**
 * What the runtime keeps with a live system: the workflow row its last commit wrote (without the
 * snapshot), and, when a draft produced that commit, the deadlines and projection rows it ended with.
 */
interface Kept {
  header: WorkflowHeader;
  deadlines?: PendingDeadline[];
  projections?: DraftProjections;
}

function keptOf(row: WorkflowHeader, draft: Draft): Kept {
  const projections = draft.projectionsAfter();
  return { header: workflowColumns(row), deadlines: draft.deadlines, ...(projections ? { projections } : {}) };
}

function draftOptionsOf(kept: Kept): DraftOptions {
  return { ...(kept.deadlines ? { deadlines: kept.deadlines } : {}), ...(kept.projections ? { projections: kept.projections } : {}) };
}
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

/** SHA-256 of a payload in canonical JSON: a repeated command id with another payload is refused. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonical(payload)).digest('hex');
}

/** D9: a store that keeps the separate refusal log (memory, SQLite and PostgreSQL do). */
const isRefusalStore = (store: WorkflowStore): store is WorkflowStore & RefusalStore =>
  typeof (store as Partial<RefusalStore>).recordRefusal === 'function' && typeof (store as Partial<RefusalStore>).listRefusals === 'function';

const isLookupStore = (store: WorkflowStore): store is WorkflowStore & LookupStore =>
  typeof (store as Partial<LookupStore>).lookup === 'function';

/** The recorded result of a command seen before; DuplicateCommandError when its id came with another payload. */
function recordedResult(row: CommandRow | undefined, command: PendingCommand): CommandResult | null {
  if (!row) return null;
  if (row.payloadHash !== command.payloadHash) throw new DuplicateCommandError(command.commandId);
  return row.result as CommandResult;
}

const isBatchLoadStore = (store: WorkflowStore): store is WorkflowStore & BatchLoadStore =>
  typeof (store as Partial<BatchLoadStore>).loadMany === 'function';

const isBatchCommitStore = (store: WorkflowStore): store is WorkflowStore & BatchCommitStore =>
  typeof (store as Partial<BatchCommitStore>).commitAll === 'function';

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

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
  private readonly timeRules: TimeRules;
  private readonly stepBackToleranceMs: number;
  private readonly effectConcurrency: number;
  private readonly pollIntervalMs: number;
  private readonly boundary: BoundaryOptions;
  private readonly onError: (error: unknown, context: string) => void;
  private readonly dispatcher: OutboxDispatcher;
  /** Deadlines and effects run in separate loops: a hanging adapter never holds up a deadline. */
  private readonly deadlineLoop: BackgroundLoop;
  private readonly effectLoop: BackgroundLoop;
  /** One chain each, so rounds of a kind never overlap within one runtime (manual tick or loop). */
  private deadlineRounds: Promise<unknown> = Promise.resolve();
  private effectRounds: Promise<unknown> = Promise.resolve();
  /** The highest time this runtime (or, read at the first command, the store) has used. */
  private highWater: number | null = null;
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;
  private closed = false;
  /** Live actor systems of hot workflows, used only at the version they committed (live-cache.ts). */
  private readonly live: LiveCache<Kept>;
  /** Commits of commands that arrive together, written in one transaction (group-commit.ts). */
  private readonly committer: GroupCommitter;
  /** Effects of one outbox pass completed in one transaction (group-commit.ts). */
  private readonly completer: EffectCompleter;

  constructor(private readonly options: WorkflowRuntimeOptions) {
    this.store = options.store;
    this.live = new LiveCache(
      options.liveCache === false ? { ...DEFAULT_LIVE_CACHE, maxWorkflows: 0 } : { ...DEFAULT_LIVE_CACHE, ...options.liveCache },
    );
    this.committer = new GroupCommitter(this.store, options.groupCommit ?? true);
    this.completer = new EffectCompleter(this.store);
    this.clock = options.clock;
    this.definition = options.definition ?? ORDER_WORKFLOW;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.batchSize = options.batchSize ?? 100;
    this.timeRules = { allowedSkewMs: options.allowedSkewMs ?? 60_000, acceptHistory: options.acceptHistory ?? false };
    this.stepBackToleranceMs = options.clockStepBackToleranceMs ?? 5 * 60_000;
    this.effectConcurrency = options.effectConcurrency ?? 8;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.boundary = options.evidenceCatalogue ? { evidenceCatalogue: options.evidenceCatalogue } : {};
    this.onError = options.onError ?? defaultOnError;
    const policy = { ...DEFAULT_DELIVERY_POLICY, ...options.delivery };
    checkOptions({ leaseMs: this.leaseMs, batchSize: this.batchSize, effectConcurrency: this.effectConcurrency, policy });
    this.dispatcher = new OutboxDispatcher({
      store: withGroupedCompletion(this.store, (effectId) => this.completer.complete(effectId)),
      now: () => this.now(),
      payments: options.payments,
      logistics: options.logistics,
      notifications: options.notifications,
      policy,
      workerId: this.workerId,
      leaseMs: this.leaseMs,
      record: (command) => this.recordEffectResult(command),
      onError: this.onError,
    });
    this.deadlineLoop = new BackgroundLoop({
      round: async () => {
        const result = await this.deadlineRound();
        return { busy: result.deadlinesFired + result.deadlinesSkipped >= this.batchSize };
      },
      idleDelay: async () => {
        const next = await this.store.nextDueAt();
        const untilDue = next === null ? this.pollIntervalMs : next - this.clock.now();
        return Math.min(this.pollIntervalMs, Math.max(0, untilDue));
      },
      onError: this.onError,
    });
    this.effectLoop = new BackgroundLoop({
      round: async () => {
        const result = await this.effectRound();
        return { busy: result.effectsDelivered + result.effectsRetrying + result.effectsGaveUp > 0 };
      },
      idleDelay: async () => this.pollIntervalMs,
      onError: this.onError,
    });
  }

  /**
   * The runtime's time: the clock in whole milliseconds, never earlier than a time already used (the
   * store's high-water mark, read once): a small step back is clamped and reported, a large one refused.
   */
  private now(): number {
    const { now, clamped } = readClock(this.clock.now(), this.highWater ?? 0, this.stepBackToleranceMs);
    if (clamped) this.onError(new InvalidTimeError(Math.floor(this.clock.now()), 'clock stepped back: clamped'), 'clock');
    this.highWater = Math.max(this.highWater ?? 0, now);
    return now;
  }

  private async loadHighWater(): Promise<void> {
    if (this.highWater !== null) return;
    const stored = await this.store.highWaterMark();
    this.highWater = Math.max(this.highWater ?? 0, stored);
  }

  /** Runs a command unless the runtime is closing; `close` waits for the ones in flight. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing || this.closed) return Promise.reject(new RuntimeClosedError());
    const running = (async () => {
      await this.loadHighWater();
      return work();
    })();
    this.inFlight.add(running);
    const forget = () => this.inFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  // --- commands ---------------------------------------------------------------------------------

  openOrder(request: OpenOrderRequest): Promise<CommandResult> {
    return this.openOrderRaw(request);
  }

  openOrderRaw(untrusted: unknown): Promise<CommandResult> {
    return this.track(() => this.open(untrusted));
  }

  private async open(untrusted: unknown): Promise<CommandResult> {
    const request = parseEnvelope(OpenEnvelope, untrusted);
    const raw = request.input as unknown;
    if (!isRecord(raw)) throw new InvalidPayloadError([{ path: '', message: 'the order input must be an object' }]);
    const now = this.now();
    const input = parseOrderInput(raw.at === undefined ? { ...raw, at: now } : raw);
    const { allowedSkewMs } = this.timeRules;
    if (input.at > now + allowedSkewMs) {
      throw new InvalidTimeError(input.at, `is more than ${allowedSkewMs} ms after the runtime's clock (${now})`);
    }
    const workflowId = request.workflowId ?? input.orderId;
    const commandId = request.commandId ?? `${OPEN_COMMAND_ID}:${workflowId}`;
    // The raw input is hashed: a retry without `at` is the same command, whenever it comes.
    const hash = hashRawPayload(payloadHash, { open: workflowId, input: raw });
    const opened = await this.openedWith(workflowId, hash);
    if (opened) return { ...opened, commandId };

    const inspect = this.inspectFor(workflowId);
    const system = new LiveSystem(this.definition.machine, { input }, inspect ? { inspect } : {});
    let snapshotText: string;
    let status: 'active' | 'done';
    let state: Record<string, unknown>;
    try {
      const live = system.snapshot() as OrderSnapshot;
      status = live.status === 'done' ? 'done' : 'active';
      state = describeValue(live);
      snapshotText = system.persistText();
    } catch (error) {
      system.stop();
      throw error;
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
      workflow: withSnapshotText(
        {
          workflowId,
          orderId: input.orderId,
          merchantId: input.merchantId,
          version: 1,
          machineVersion: this.definition.version,
          auditSeq: 0,
          status,
          lastEventAt: input.at,
          createdAt: now,
          updatedAt: now,
        },
        snapshotText,
      ),
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
      await this.committer.commit(commit);
      this.keep(system, { header: workflowColumns(commit.workflow) });
    } catch (error) {
      system.stop();
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
    const { store } = this;
    // One read where the store can: the opening's record and whether the workflow exists.
    const { command: opened, workflow } = isLookupStore(store)
      ? await store.lookup(workflowId, { command: { scope: 'runtime', commandId: OPEN_COMMAND_ID } })
      : { command: await store.getCommand(workflowId, 'runtime', OPEN_COMMAND_ID), workflow: undefined };
    if (opened) {
      if (opened.payloadHash !== hash) throw new WorkflowExistsError(workflowId);
      return opened.result as CommandResult;
    }
    if (workflow ?? (!isLookupStore(store) && (await store.load(workflowId)))) throw new WorkflowExistsError(workflowId);
    return null;
  }

  dispatch(request: DispatchRequest): Promise<CommandResult> {
    return this.dispatchRaw(request);
  }

  dispatchRaw(untrusted: unknown): Promise<CommandResult> {
    return this.track(() => this.dispatchNow(untrusted));
  }

  private async dispatchNow(untrusted: unknown): Promise<CommandResult> {
    const request = parseEnvelope(DispatchEnvelope, untrusted);
    try {
      requireDeclineKey(request.event);
    } catch (error) {
      await this.keepRefusal(request.workflowId, request.event, error);
      throw error;
    }
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
      const outcome = await this.advance(workflowId, this.now(), command);
      return outcome.result!;
    } catch (error) {
      // The same command id committed concurrently: answer as the winner did.
      let refusal = error;
      if (error instanceof DuplicateCommandError) {
        try {
          const winner = await this.seenCommand(workflowId, command);
          if (winner) return winner;
        } catch (again) {
          refusal = again;
        }
      }
      await this.keepRefusal(workflowId, command.raw, refusal);
      throw refusal;
    }
  }

  private async seenCommand(workflowId: string, command: PendingCommand): Promise<CommandResult | null> {
    return recordedResult(await this.store.getCommand(workflowId, command.scope, command.commandId), command);
  }

  /**
   * What a unit of work starts from, in one read where the store can (`lookup`): the command's recorded
   * result, else the workflow and, when the live cache holds it at the stored version, its live system
   * (the store then leaves the snapshot out: it is neither read nor parsed).
   */
  private async readUnit(
    workflowId: string,
    command?: PendingCommand,
  ): Promise<{ seen: CommandResult | null; record: WorkflowRecord | WorkflowHeader | undefined; live?: LiveEntry<Kept> }> {
    const { store } = this;
    if (!isLookupStore(store)) {
      const seen = command ? await this.seenCommand(workflowId, command) : null;
      return seen ? { seen, record: undefined } : { seen: null, record: await store.load(workflowId) };
    }
    const liveVersion = this.inspectFor(workflowId) ? null : this.live.versionOf(workflowId);
    const found = await store.lookup(workflowId, {
      ...(command ? { command: { scope: command.scope, commandId: command.commandId } } : {}),
      liveVersion,
    });
    const seen = command ? recordedResult(found.command, command) : null;
    if (seen) return { seen, record: undefined };
    const record = found.workflow;
    if (!record || 'snapshot' in record) return { seen: null, record };
    const live = this.live.take(workflowId, record.version);
    // Another command of this runtime took the kept system meanwhile: the whole record is read.
    return live ? { seen: null, record, live } : { seen: null, record: await store.load(workflowId) };
  }

  // --- the unit of work ---------------------------------------------------------------------------

  /**
   * Load → catch up to `upTo` → check → step → commit, retried on a version conflict (unless the
   * command named the version it expects). Without a command it only fires due deadlines. A command for
   * a workflow this runtime keeps live is first tried without the load (`speculate`).
   */
  private async advance(
    workflowId: string,
    upTo: number,
    command?: PendingCommand,
  ): Promise<{ outcome: DeadlineOutcome; result?: CommandResult }> {
    const speculated = command ? await this.speculate(workflowId, upTo, command) : null;
    if (speculated && 'result' in speculated) return { outcome: 'fired', result: speculated.result };
    for (let attempt = 0; ; attempt += 1) {
      const { seen, record, live } = await this.readUnit(workflowId, command);
      // What the kept system turned out to be (counted once, at the first read after it).
      if (speculated && record && attempt === 0) this.live.count(record.version === speculated.version ? 'hit' : 'stale');
      if (seen && command) {
        // A result recorded before (by another worker, or before a retirement): its row is settled too.
        if (command.completesEffectId !== null) await this.store.completeEffect(command.completesEffectId);
        return { outcome: 'fired', result: seen };
      }
      if (!record) {
        if (command) throw new WorkflowNotFoundError(workflowId);
        return { outcome: 'skipped' };
      }
      if ((command?.expectedVersion !== undefined && record.version !== command.expectedVersion) || (!command && record.status === 'done')) {
        // The kept system is still this version's: back into the cache.
        if (live) this.keep(live.system, live.kept);
        if (command?.expectedVersion !== undefined) throw new VersionConflictError(workflowId, command.expectedVersion, record.version);
        return { outcome: 'skipped' };
      }
      const now = this.now();
      const prepared = this.prepare(record, upTo, now, command, live);
      if (!prepared) return { outcome: 'skipped' };
      try {
        await this.committer.commit(prepared.commit);
        this.keep(prepared.system, prepared.kept);
        return { outcome: 'fired', ...(prepared.result ? { result: prepared.result } : {}) };
      } catch (error) {
        // The draft advanced the system past what the store holds: never reuse it.
        prepared.system.stop();
        const retry = error instanceof VersionConflictError && command?.expectedVersion === undefined && attempt < MAX_CONFLICT_RETRIES;
        if (!retry) throw error;
      }
    }
  }

  /**
   * A command for a workflow kept live, committed without reading the store first: the commit's version
   * check proves the kept system was the store's current one (what `lookup` would have read). When it
   * was not, or the command was refused or recorded before (its result is in the store), the system is
   * dropped and the command goes the usual way, which decides; so a refusal or a result never comes
   * from a kept system the store has moved past. Returns the result, or the version it tried.
   */
  private async speculate(
    workflowId: string,
    upTo: number,
    command: PendingCommand,
  ): Promise<{ result: CommandResult } | { version: number } | null> {
    if (this.inspectFor(workflowId)) return null;
    const live = this.live.takeLatest(workflowId);
    if (!live) return null;
    const { version } = live;
    if (command.expectedVersion !== undefined && command.expectedVersion !== version) {
      // The client expects another version than the kept one: the read decides, and the kept system stays.
      this.keep(live.system, live.kept);
      return null;
    }
    let prepared: ReturnType<DurableRuntime['prepare']>;
    try {
      prepared = this.prepare(live.kept.header, upTo, this.now(), command, live);
    } catch {
      return { version };
    }
    if (!prepared?.result) {
      prepared?.system.stop();
      return { version };
    }
    try {
      await this.committer.commit(prepared.commit);
    } catch (error) {
      prepared.system.stop();
      if (error instanceof VersionConflictError || error instanceof DuplicateCommandError) return { version };
      throw error;
    }
    this.live.count('hit');
    this.keep(prepared.system, prepared.kept);
    return { result: prepared.result };
  }

  /**
   * The commit of one unit of work on a loaded record, or null when nothing changed. Synchronous. The
   * system comes from the live cache when it holds this workflow at the record's version, else it is
   * restored; the caller owns the returned system (`keep` after its commit, `stop` otherwise).
   */
  private prepare(
    record: WorkflowRecord | WorkflowHeader,
    upTo: number,
    now: number,
    command?: PendingCommand,
    taken?: LiveEntry<Kept>,
  ): { commit: Commit; result?: CommandResult; system: LiveSystem; kept: Kept } | null {
    const inspect = this.inspectFor(record.workflowId);
    // An inspected workflow is restored every time, so its inspector sees what it always saw.
    const live = taken ?? (inspect ? undefined : this.live.take(record.workflowId, record.version));
    if (!live && !('snapshot' in record)) throw new StepError(`workflow ${record.workflowId}: no snapshot and no live system`);
    // The record was loaded for this unit of work and only its fields are read after this: restored in place.
    const system = live?.system ?? restoreWorkflow(this.definition, record as WorkflowRecord, inspect, true);
    let handedOver = false;
    try {
      const draft = new Draft(record, system, this.definition.version, live ? draftOptionsOf(live.kept) : {});
      if (!command) {
        draft.catchUp(upTo);
        handedOver = true;
        if (!draft.changed) {
          this.keep(system, live?.kept ?? keptOf(record, draft));
          return null;
        }
        const commit = draft.toCommit(now, null, null);
        return { commit, system, kept: keptOf(commit.workflow, draft) };
      }
      const awaitedBefore = awaitedRefundEffectId(record.workflowId, draft.snapshot);
      const event = parseEvent(stampEvent(command.raw, now, record.lastEventAt), this.boundary);
      checkTime(event, now, record.lastEventAt, this.timeRules);
      draft.catchUp(Math.max(upTo, catchUpPoint(event, now, this.timeRules)));
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
      const awaitedAfter = awaitedRefundEffectId(record.workflowId, draft.snapshot);
      const commit = draft.toCommit(now, row, settledEffect(command.completesEffectId, awaitedBefore, awaitedAfter));
      handedOver = true;
      return { commit, result, system, kept: keptOf(commit.workflow, draft) };
    } finally {
      // A refused event may follow a catch-up that advanced the system: it is dropped, never kept.
      if (!handedOver) system.stop();
    }
  }

  /** A system whose state the store now holds (as `kept.header`): kept live for the next command, or stopped. */
  private keep(system: LiveSystem, kept: Kept): void {
    const { workflowId, version } = kept.header;
    // A finished workflow takes no more commands worth a cache slot.
    if (!this.live.enabled || this.closing || this.closed || this.inspectFor(workflowId) || system.snapshot().status === 'done') {
      system.stop();
      return;
    }
    system.takeEmitted();
    this.live.put(workflowId, version, system, kept);
  }

  /** The live cache's counters and the group committer's (for benchmarks and operators). */
  liveCacheStats(): LiveCacheStats & { commits: number; commitGroups: number; effectsCompleted: number; completionGroups: number } {
    return {
      ...this.live.stats(),
      commits: this.committer.counts.commits,
      commitGroups: this.committer.counts.groups,
      effectsCompleted: this.completer.counts.effects,
      completionGroups: this.completer.counts.groups,
    };
  }

  /**
   * `advance` for rows of distinct workflows, their commits written through the store's `commitAll`,
   * each commit atomic on its own. A backlog goes in one transaction; deadlines that just fell due go in
   * chunks of 1, 2, 4, … commits (one transaction each), so the earliest is committed as soon as it is
   * stepped, not after every other step of the batch. A commit refused for a version conflict goes
   * through `advance` again; a chunk whose transaction fails leaves its rows failed (claimed again after
   * the lease).
   */
  private async advanceMany(
    store: WorkflowStore & BatchCommitStore,
    rows: readonly DeadlineRow[],
  ): Promise<Array<DeadlineOutcome | { error: unknown }>> {
    const outcomes: Array<DeadlineOutcome | { error: unknown }> = rows.map(() => 'skipped');
    let pending: Array<{ index: number; commit: Commit; system: LiveSystem; kept: Kept }> = [];
    const now = this.now();
    const flush = async () => {
      const chunk = pending;
      pending = [];
      let refusals: unknown[];
      try {
        refusals = await store.commitAll(chunk.map(({ commit }) => commit));
      } catch (error) {
        for (const { index, system } of chunk) {
          system.stop();
          outcomes[index] = { error };
        }
        return;
      }
      for (const [position, { index, system, kept }] of chunk.entries()) {
        const refusal = refusals[position];
        if (refusal === null) this.keep(system, kept);
        else system.stop();
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
    };
    // A batch that is not a backlog (its oldest row fell due within the last poll interval) is chunked;
    // a backlog is late anyway and goes in one transaction, as fast as the store writes.
    let chunkSize = rows.length > 0 && now - Math.min(...rows.map((row) => row.dueAt)) <= this.pollIntervalMs ? 1 : rows.length;
    // Where the store reads several workflows at once, each chunk's are read together, ahead of its steps.
    const loaded = new Map<number, WorkflowRecord | undefined>();
    const load = async (index: number): Promise<WorkflowRecord | undefined> => {
      if (!isBatchLoadStore(store)) return store.load(rows[index]!.workflowId);
      if (!loaded.has(index)) {
        const ahead = rows.slice(index, index + chunkSize);
        const records = await store.loadMany(ahead.map((row) => row.workflowId));
        for (const [offset, record] of records.entries()) loaded.set(index + offset, record);
      }
      const record = loaded.get(index);
      loaded.delete(index);
      return record;
    };
    for (const [index, row] of rows.entries()) {
      try {
        const record = await load(index);
        if (!record || record.status === 'done') continue;
        const prepared = this.prepare(record, row.dueAt, now);
        if (prepared) pending.push({ index, ...prepared });
      } catch (error) {
        outcomes[index] = { error };
      }
      if (pending.length >= chunkSize) {
        await flush();
        chunkSize *= 2;
      }
    }
    if (pending.length > 0) await flush();
    return outcomes;
  }

  private inspectFor(workflowId: string): ((event: InspectionEvent) => void) | undefined {
    return this.options.inspectWorkflow?.(workflowId) ?? this.options.inspect;
  }

  // --- reads ------------------------------------------------------------------------------------

  async getWorkflow(untrustedCaller: Sender, workflowId: string): Promise<WorkflowView> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'getWorkflow');
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    assertMayReadOrder(caller, partiesOf(this.definition, record), 'getWorkflow');
    const [deadlines, audit] = await Promise.all([this.store.listDeadlines(workflowId), this.store.listAudit(workflowId)]);
    const system = restoreWorkflow(this.definition, record);
    try {
      // The view is the stored workflow, read in full before anything moves (children are live refs).
      const catalogue = this.options.evidenceCatalogue ?? DEFAULT_EVIDENCE_CATALOGUE;
      const view = workflowView(caller, { record, snapshot: system.snapshot() as OrderSnapshot, deadlines, audit, catalogue, actions: [] });
      // Its actions are what dispatch would accept now: due deadlines fire first, in memory only.
      const draft = new Draft(record, system, this.definition.version, { projection: false });
      draft.catchUp(Math.max(this.now(), record.lastEventAt));
      return { ...view, actions: actionViews(draft.snapshot, caller) };
    } finally {
      system.stop();
    }
  }

  async getAuditTrail(untrustedCaller: Sender, workflowId: string): Promise<AuditEntryView[]> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'getAuditTrail');
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    assertMayReadOrder(caller, partiesOf(this.definition, record), 'getAuditTrail');
    return auditEntries(caller, await this.store.listAudit(workflowId));
  }

  async getRefusals(untrustedCaller: Sender, workflowId: string): Promise<Refusal[]> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'getRefusals');
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    assertMayReadOrder(caller, partiesOf(this.definition, record), 'getRefusals');
    if (!isRefusalStore(this.store)) return [];
    const rows = await this.store.listRefusals(workflowId);
    return visibleRefusals(
      caller,
      rows.map(({ workflowId: _workflowId, ...refusal }) => refusal),
    );
  }

  /**
   * D9 `refusalLog: 'separate'`: keeps a refused attempt on a known workflow in its refusal log, after the
   * refusal and apart from any commit (INV4). Never throws: a failure is reported through onError and the
   * caller gets the refusal it was going to get.
   */
  private async keepRefusal(workflowId: string, raw: unknown, error: unknown): Promise<void> {
    if (!isRefusal(error) || !isRefusalStore(this.store)) return;
    try {
      const record = await this.store.load(workflowId);
      if (!record || refusalLogOf(record.snapshot) !== 'separate') return;
      await this.store.recordRefusal({ workflowId, ...refusalOf(raw, error, this.now()) });
    } catch (failure) {
      this.onError(failure, `refusal log of ${workflowId}`);
    }
  }

  async allowedActions(untrustedCaller: Sender, workflowId: string): Promise<AllowedActionView[]> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'allowedActions');
    const record = await this.store.load(workflowId);
    if (!record) throw new WorkflowNotFoundError(workflowId);
    assertMayReadOrder(caller, partiesOf(this.definition, record), 'allowedActions');
    // As dispatch would see it now: deadlines already due count as fired (in memory only).
    const system = restoreWorkflow(this.definition, record);
    try {
      const draft = new Draft(record, system, this.definition.version, { projection: false });
      draft.catchUp(Math.max(this.now(), record.lastEventAt));
      return actionViews(draft.snapshot, caller);
    } finally {
      system.stop();
    }
  }

  /**
   * INV6, for operators: the workflows with an open cancel order or an open dispute that nothing will
   * move: no deadline row, no effect in the outbox, no action a party may take. Scanned a page at a time:
   * first the workflows with a cancel order in flight, then those with an open dispute and none in
   * flight (the cursor says which). Expected to be empty.
   */
  async findStrandedWorkflows(options: { limit?: number; cursor?: string | null } = {}): Promise<Page<StrandedWorkflow>> {
    this.assertOpen();
    const limit = options.limit ?? 100;
    let { phase, cursor } = parseStrandedCursor(options.cursor ?? null);
    const items: StrandedWorkflow[] = [];
    const seen = new Set<string>();
    let scanned = 0;
    for (;;) {
      const query = { limit: limit - scanned, cursor };
      const page =
        phase === 'cancelOrders'
          ? await this.store.queryCancelOrders({ ...query, status: OPEN_CANCELLATION_STATUSES })
          : await this.store.queryDisputes({ ...query, status: OPEN_DISPUTE_STATUSES });
      scanned += page.items.length;
      for (const { workflowId } of page.items) {
        if (seen.has(workflowId)) continue;
        seen.add(workflowId);
        const parts = await this.strandedPartsOf(workflowId, phase === 'disputes');
        if (parts.length > 0) items.push({ workflowId, parts });
      }
      if (page.nextCursor !== null) return { items, nextCursor: `${phase === 'cancelOrders' ? 'c' : 'd'}:${page.nextCursor}` };
      if (phase === 'disputes') return { items, nextCursor: null };
      phase = 'disputes';
      cursor = null;
      if (scanned >= limit) return { items, nextCursor: 'd:' };
    }
  }

  /** `skipInFlight`: the dispute pass leaves workflows with a cancel order in flight to the first pass. */
  private async strandedPartsOf(workflowId: string, skipInFlight = false): Promise<StrandedPart[]> {
    const record = await this.store.load(workflowId);
    if (!record || record.status === 'done') return [];
    const effects = (await this.store.listOutbox(workflowId))
      .filter((row) => row.status === 'pending')
      // A refund or interception names its cancel order; A4's compensation its dispute.
      .map((row) => row.payload as { cancellationId?: string; disputeId?: string })
      .map((payload) => payload.cancellationId ?? payload.disputeId)
      .filter((id): id is string => typeof id === 'string');
    // What will move it is what the store holds: its deadline rows (due ones fire at the next round).
    const deadlines = (await this.store.listDeadlines(workflowId)).map((row) => row.actorPath);
    const system = restoreWorkflow(this.definition, record);
    try {
      const snapshot = system.snapshot() as OrderSnapshot;
      if (skipInFlight && snapshot.context.cancellation !== null) return [];
      return strandedParts(snapshot, { deadlines, effects });
    } finally {
      system.stop();
    }
  }

  async queryCancelOrders(untrustedCaller: Sender, query: CancelOrderQuery = {}): Promise<Page<CancelOrderListItem>> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'queryCancelOrders');
    const page = await this.store.queryCancelOrders(scopeListing(caller, query, 'queryCancelOrders'));
    return { nextCursor: page.nextCursor, items: page.items.map(cancelOrderListItem) };
  }

  async queryDisputes(untrustedCaller: Sender, query: DisputeQuery = {}): Promise<Page<DisputeListItem>> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'queryDisputes');
    const page = await this.store.queryDisputes(scopeListing(caller, query, 'queryDisputes'));
    return { nextCursor: page.nextCursor, items: page.items.map(disputeListItem) };
  }

  async countDisputes(untrustedCaller: Sender, filter: DisputeCountFilter = {}): Promise<DisputeCounts> {
    this.assertOpen();
    const caller = parseCaller(untrustedCaller, 'countDisputes');
    const scope = scopeListing(caller, filter, 'countDisputes');
    const at = this.now();
    return disputeCounts(await this.store.countDisputes(scope, countWindows(at)), at, scope);
  }

  // --- background work ---------------------------------------------------------------------------

  /** One deterministic round: due deadlines (one batch), then the outbox until nothing is claimable. */
  async tick(): Promise<TickResult> {
    this.assertOpen();
    await this.loadHighWater();
    const deadlines = await this.deadlineRound();
    const effects = await this.effectRound();
    return {
      ...deadlines,
      effectsDelivered: effects.effectsDelivered,
      effectsRetrying: effects.effectsRetrying,
      effectsGaveUp: effects.effectsGaveUp,
      errors: deadlines.errors + effects.errors,
    };
  }

  private deadlineRound(): Promise<TickResult> {
    const round = this.deadlineRounds.then(() => this.fireDueDeadlines());
    this.deadlineRounds = round.catch(() => undefined);
    return round;
  }

  private effectRound(): Promise<TickResult> {
    const round = this.effectRounds.then(() => this.deliverEffects());
    this.effectRounds = round.catch(() => undefined);
    return round;
  }

  private async fireDueDeadlines(): Promise<TickResult> {
    const { store } = this;
    const deadlines = await runDeadlineBatch(
      {
        claim: (now) => store.claimDueDeadlines(this.claimAt(now, this.batchSize)),
        advance: (workflowId, dueAt) => this.advance(workflowId, dueAt).then(({ outcome }) => outcome),
        ...(isBatchCommitStore(store) ? { advanceMany: (rows) => this.advanceMany(store, rows) } : {}),
        onError: this.onError,
      },
      this.now(),
    );
    return { ...emptyTick(), deadlinesFired: deadlines.fired, deadlinesSkipped: deadlines.skipped, errors: deadlines.failed };
  }

  /**
   * Claims at most `effectConcurrency` effects at a time and delivers them at once, each under its own
   * lease kept alive while its adapter works: a hanging adapter holds this many rows, never a deadline,
   * and never a row another worker could take over.
   */
  private async deliverEffects(): Promise<TickResult> {
    const result = emptyTick();
    for (let pass = 0; pass < MAX_OUTBOX_PASSES; pass += 1) {
      const rows = await this.store.claimOutbox(this.claimAt(this.now(), this.effectConcurrency));
      if (rows.length === 0) break;
      await this.completer.pass(rows, async (row) => {
        try {
          const outcome = await this.dispatcher.deliver(row);
          if (outcome === 'retrying') result.effectsRetrying += 1;
          else if (outcome === 'gaveUp') result.effectsGaveUp += 1;
          else if (outcome !== 'lost') result.effectsDelivered += 1;
        } catch (error) {
          // Left under its lease: delivered again when the lease expires.
          result.errors += 1;
          this.onError(error, `effect ${row.effectId}`);
        }
      });
    }
    return result;
  }

  private claimAt(now: number, limit: number) {
    return { workerId: this.workerId, now, leaseMs: this.leaseMs, limit };
  }

  start(): void {
    this.assertOpen();
    this.deadlineLoop.start();
    this.effectLoop.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.deadlineLoop.stop(), this.effectLoop.stop()]);
    await Promise.all([this.deadlineRounds, this.effectRounds]);
  }

  /** Refuses new commands (RuntimeClosedError), lets the ones in flight finish, stops, closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    await Promise.allSettled([...this.inFlight]);
    await this.stop();
    this.closed = true;
    this.live.clear();
    await this.store.close();
  }

  private assertOpen(): void {
    if (this.closed || this.closing) throw new RuntimeClosedError();
  }
}

/**
 * INV1: the outbox row this command settles. A result of an effect settles its own row; a step that ends
 * the wait for a refund request (see awaitedRefundEffectId) retires that request's row in the same commit
 * (marked done: nothing delivers it again). When a result of an earlier, already retired request ends the
 * wait for the current one (a late success), the current request's row is the one to retire: the
 * earlier row is already settled.
 */
function settledEffect(completes: string | null, awaitedBefore: string | null, awaitedAfter: string | null): string | null {
  const retired = awaitedBefore !== null && awaitedBefore !== awaitedAfter ? awaitedBefore : null;
  return retired ?? completes;
}

/**
 * The store as the outbox dispatcher sees it: the same store, except that `completeEffect` goes through
 * the completer (the effects of one pass in one transaction). Every other method is the store's own,
 * called on the store itself.
 */
function withGroupedCompletion(store: WorkflowStore, complete: (effectId: string) => Promise<void>): WorkflowStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'completeEffect') return complete;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const emptyTick = (): TickResult => ({
  deadlinesFired: 0,
  deadlinesSkipped: 0,
  effectsDelivered: 0,
  effectsRetrying: 0,
  effectsGaveUp: 0,
  errors: 0,
});

/** Option combinations that cannot keep the lease rule are refused at start-up. */
function checkOptions(options: { leaseMs: number; batchSize: number; effectConcurrency: number; policy: DeliveryPolicy }): void {
  const { leaseMs, batchSize, effectConcurrency, policy } = options;
  const whole = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max)
      throw new RangeError(`${name} must be a whole number in ${min}..${max}, got ${value}`);
  };
  // The heartbeat extends a lease every third of it: below 300 ms it would be busier than the work.
  whole('leaseMs', leaseMs, 300, 24 * 3_600_000);
  whole('batchSize', batchSize, 1, 10_000);
  whole('effectConcurrency', effectConcurrency, 1, 1_000);
  whole('delivery.timeoutMs', policy.timeoutMs, 1, 24 * 3_600_000);
  whole('delivery.maxAttempts', policy.maxAttempts, 1, 1_000);
  if (policy.backoffMs > policy.maxBackoffMs) {
    throw new RangeError(`delivery.backoffMs (${policy.backoffMs}) must not exceed delivery.maxBackoffMs (${policy.maxBackoffMs})`);
  }
}

const OPEN_CANCELLATION_STATUSES = CancellationStatus.options.filter((status) => !FINAL_CANCELLATION_STATUSES.includes(status as never));
const OPEN_DISPUTE_STATUSES = DisputeStatus.options.filter((status) => status !== 'resolved' && status !== 'withdrawn');

/** findStrandedWorkflows' cursor: `c:<store cursor>` in the cancel-order pass, `d:<store cursor>` in the dispute pass. */
function parseStrandedCursor(cursor: string | null): { phase: 'cancelOrders' | 'disputes'; cursor: string | null } {
  if (cursor === null) return { phase: 'cancelOrders', cursor: null };
  const inner = cursor.slice(2) || null;
  if (cursor.startsWith('c:')) return { phase: 'cancelOrders', cursor: inner };
  if (cursor.startsWith('d:')) return { phase: 'disputes', cursor: inner };
  throw new InvalidPayloadError([{ path: 'cursor', message: 'not a cursor findStrandedWorkflows returned' }]);
}
