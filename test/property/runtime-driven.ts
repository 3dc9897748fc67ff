import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { AnyActorRef } from 'xstate';
import type { OrderSnapshot } from '../../machines/order.js';
import { orderMachine } from '../../machines/order.js';
import { pendingDeadlines, restoreSystem } from '../../src/engine/step.js';
import { isWorkflowError } from '../../src/errors.js';
import { strandedParts } from '../../src/invariants.js';
import { cancelOrderViews } from '../../src/queries.js';
import {
  createWorkflowRuntime,
  deadlineIdOf,
  LOGISTICS_SENDER,
  PAYMENTS_SENDER,
  type AuditRow,
  type DeadlineRow,
  type InterceptionOutcome,
  type InterceptionRequest,
  type LogisticsService,
  type OutboxRow,
  type PaymentService,
  type RefundOutcome,
  type RefundRequest,
  type TickResult,
  type WorkflowRecord,
} from '../../src/runtime/index.js';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { dumpSqlite, dumpWorkflow, host, HOUR, type Host } from '../runtime/helpers.js';
import {
  acceptedEvent,
  advanceArbitrary,
  ALL_ROLES,
  allowedPickArbitrary,
  CUSTOMER_ID,
  eventArbitrary,
  eventForAllowedAction,
  InvariantChecker,
  MERCHANT_ID,
  policyArbitrary,
  type AcceptedEvent,
  type Driven,
  type RoleAction,
} from './model.js';
import type { PolicySettings } from '../../src/schemas/policy.js';

/**
 * The model-based property test's world over the DURABLE runtime (issue 6): one order workflow on a
 * memory store or a SQLite file, sandbox adapters that outlive restarts, a manual clock.
 *
 * `RuntimeWorld` is a `Driven` (the in-memory model's interface), so the same `InvariantChecker`
 * (INV1–INV4, P2, P3d, C4) runs after every step, reading a view reloaded from the store: the snapshot
 * from the workflow record, effects from the outbox, accepted events from the audit. On top of it the
 * world checks what only a durable host can break (`checkDurable`):
 *
 * - INV4 at the store: a refused command leaves every row of the workflow (a SQLite file: every row of
 *   every table) as it was, and adds no outbox row;
 * - INV5: a restart changes nothing (state, deadlines, audit, outbox, projection, view), and a run with
 *   restarts ends exactly like the same operations without them (`replayWithoutRestarts`);
 * - deadlines: the stored deadline rows are exactly the machines' pending delayed transitions; none is
 *   due at or before the last accepted event (catch-up fires them first); each fires at most once, at its
 *   due time, never while the clock (or the accepted event's time) has not reached it; after a tick
 *   (rounds until quiet) none due stays unfired;
 * - D9: the audit is append-only, numbered 1..n, in time order;
 * - X2: the cancel-order projection equals the workflow's cancel orders;
 * - INV1/INV2 at the payment service: at most one executed refund per order (money moved, counted in
 *   the sandbox's ledger by order, across keys), each for a cancel order of the order;
 * - INV6 after every step: no open dispute or cancel order without a pending deadline, a pending effect
 *   or an action some party may take (`strandedParts` on the stored rows, and the operator's query
 *   `findStrandedWorkflows` over the whole store);
 * - no background error except a refused effect result (a typed WorkflowError).
 *
 * Adversarial participants (issue 12): adapters that hang until the delivery timeout, that are slow past
 * the lease while a second worker takes the row over, that answer malformed or unreadable after the
 * money moved, that answer twice (the call's answer and a webhook), that throw after executing; clients
 * that reuse command ids on another workflow and send back-dated or future `at`.
 */

export const WORKFLOW_ID = 'order-1';
/** A second order in the same store, for clients that reuse command ids across workflows. */
export const OTHER_ID = 'order-2';
/** The world's lease (runtime clock ms) and delivery timeout (real ms: a hanging adapter costs this much). */
const LEASE_MS = 30_000;
const DELIVERY_TIMEOUT_MS = 100;
/** R1: the platform reads every part of the workflow. */
const READER = { role: 'platform', id: 'cs-1' } as const;
const ORDER_ID = 'order-1';

export interface WorldConfig {
  store: 'memory' | 'sqlite';
  deliveredBy: 'JD' | 'MERCHANT';
  shipped: boolean;
  conflictPolicy: 'fail' | 'adopt';
  /** Delivery attempts before an effect gives up (a refund then hands over to C4 as a failure). */
  deliveryAttempts: number;
  /** With an inspector the runtime checks `can` before stepping; without, the step is the check. */
  inspected: boolean;
  /** Every [I] setting at a random value (settings are checked together, not one at a time). */
  policy: PolicySettings;
}

export const worldConfigArbitrary = (store: WorldConfig['store']): fc.Arbitrary<WorldConfig> =>
  fc.record({
    store: fc.constant(store),
    deliveredBy: fc.constantFrom('JD' as const, 'MERCHANT' as const),
    shipped: fc.boolean(),
    conflictPolicy: fc.constantFrom('fail' as const, 'adopt' as const),
    deliveryAttempts: fc.constantFrom(2, 8),
    inspected: fc.boolean(),
    policy: policyArbitrary,
  });

/** Behaviour of the outside world, set by a command and kept until changed. */
export type Mood =
  | { service: 'payments'; does: 'decline'; n: number }
  | { service: 'payments'; does: 'throw'; n: number }
  | { service: 'payments'; does: 'crashAfterExecuting' }
  | { service: 'payments'; does: 'hang'; n: number }
  | { service: 'payments'; does: 'trick'; trick: PaymentTrick }
  | { service: 'logistics'; does: 'outcome'; outcome: 'succeeded' | 'failed' | 'accepted' }
  | { service: 'logistics'; does: 'throw'; n: number }
  | { service: 'logistics'; does: 'hang'; n: number }
  | { service: 'logistics'; does: 'trick'; trick: LogisticsTrick }
  | { service: 'notifications'; does: 'throw'; n: number };

/**
 * What an adversarial payment service does on its next refund call, after the sandbox did what it does
 * (execute, deduplicate, decline, or throw/hang before reaching this):
 * - `malformedReference`: answers `succeeded` with an empty, 200-character or numeric reference;
 * - `unreadable`: the money moved, the answer is unreadable (undefined, null, a string, an unknown status);
 * - `answerTwice`: answers, and also sends the same answer as a webhook (a client command) during the call;
 * - `slowPastLease`: takes longer than the lease (the runtime clock moves past it) while a second worker
 *   claims the row and delivers it again (same key), then answers.
 */
export type PaymentTrick = 'malformedReference' | 'unreadable' | 'answerTwice' | 'slowPastLease';
/** The same for JD logistics (no ledger: an unreadable answer, or an answer and a webhook). */
export type LogisticsTrick = 'unreadable' | 'answerTwice';

const MALFORMED_REFERENCES: unknown[] = ['', 'r'.repeat(200), 42];
const UNREADABLE_ANSWERS: unknown[] = [undefined, null, 'ok', { status: 'maybe' }];

export const moodArbitrary: fc.Arbitrary<Mood> = fc.oneof(
  fc.record({ service: fc.constant('payments' as const), does: fc.constant('decline' as const), n: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ service: fc.constant('payments' as const), does: fc.constant('throw' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ service: fc.constant('payments' as const), does: fc.constant('crashAfterExecuting' as const) }),
  fc.record({
    service: fc.constant('logistics' as const),
    does: fc.constant('outcome' as const),
    outcome: fc.constantFrom('succeeded' as const, 'failed' as const, 'accepted' as const),
  }),
  fc.record({ service: fc.constant('logistics' as const), does: fc.constant('throw' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ service: fc.constant('notifications' as const), does: fc.constant('throw' as const), n: fc.integer({ min: 1, max: 2 }) }),
);

/** Issue 12: the adversarial adapters' moods. */
export const adversarialMoodArbitrary: fc.Arbitrary<Mood> = fc.oneof(
  fc.record({ service: fc.constant('payments' as const), does: fc.constant('hang' as const), n: fc.constant(1) }),
  fc.record({
    service: fc.constant('payments' as const),
    does: fc.constant('trick' as const),
    trick: fc.constantFrom<PaymentTrick>('malformedReference', 'unreadable', 'answerTwice', 'slowPastLease'),
  }),
  fc.record({ service: fc.constant('logistics' as const), does: fc.constant('hang' as const), n: fc.constant(1) }),
  fc.record({
    service: fc.constant('logistics' as const),
    does: fc.constant('trick' as const),
    trick: fc.constantFrom<LogisticsTrick>('unreadable', 'answerTwice'),
  }),
);

/**
 * The payment service the runtime talks to: the sandbox (the ledger of money moved, `h.payments`) behind
 * a layer that plays the tricks set by moods, one per refund call, in order.
 */
class AdversarialPayments implements PaymentService {
  readonly tricks: PaymentTrick[] = [];
  private turn = 0;
  constructor(private readonly world: () => RuntimeWorld) {}

  async refund(request: RefundRequest, call: { signal: AbortSignal }): Promise<RefundOutcome> {
    const trick = this.tricks.shift();
    const outcome = await this.world().h.payments.refund(request, call);
    this.turn += 1;
    switch (trick) {
      case undefined:
        return outcome;
      case 'malformedReference':
        return outcome.status === 'succeeded'
          ? ({ status: 'succeeded', paymentRef: MALFORMED_REFERENCES[this.turn % MALFORMED_REFERENCES.length] } as RefundOutcome)
          : outcome;
      case 'unreadable':
        return UNREADABLE_ANSWERS[this.turn % UNREADABLE_ANSWERS.length] as RefundOutcome;
      case 'answerTwice': {
        const base = { by: PAYMENTS_SENDER, cancellationId: request.cancellationId, idempotencyKey: request.idempotencyKey };
        const second =
          outcome.status === 'succeeded'
            ? { type: 'payment.refundSucceeded', ...base, paymentRef: outcome.paymentRef }
            : outcome.status === 'failed'
              ? { type: 'payment.refundFailed', ...base, error: outcome.error }
              : undefined;
        if (second) await this.world().alongsideCall('a second payment answer', () => this.world().webhook(request.orderId, second));
        return outcome;
      }
      case 'slowPastLease':
        await this.world().alongsideCall('a second worker inside a slow payment call', () => this.world().slowPastLease());
        return outcome;
    }
  }

  status(idempotencyKey: string, call: { signal: AbortSignal }) {
    return this.world().h.payments.status(idempotencyKey, call);
  }
}

class AdversarialLogistics implements LogisticsService {
  readonly tricks: LogisticsTrick[] = [];
  constructor(private readonly world: () => RuntimeWorld) {}

  async intercept(request: InterceptionRequest, call: { signal: AbortSignal }): Promise<InterceptionOutcome> {
    const trick = this.tricks.shift();
    const outcome = await this.world().h.logistics.intercept(request, call);
    if (trick === 'unreadable') return { status: 'maybe' } as unknown as InterceptionOutcome;
    if (trick === 'answerTwice' && outcome.status !== 'accepted') {
      const type = outcome.status === 'succeeded' ? 'logistics.interceptSucceeded' : 'logistics.interceptFailed';
      await this.world().alongsideCall('a second logistics answer', () =>
        this.world().webhook(request.orderId, { type, by: LOGISTICS_SENDER, cancellationId: request.cancellationId }),
      );
    }
    return outcome;
  }
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: string; code: string };

/**
 * A request as the property test makes it: events come from the model's arbitraries, valid and
 * malformed alike, so every request goes through `dispatchRaw` (the same validation as `dispatch`).
 */
interface RawDispatchRequest {
  workflowId: string;
  commandId: string;
  expectedVersion?: number;
  event: Record<string, unknown>;
}

/** Everything that reached the runtime, to play again without restarts (INV5). */
type Op =
  | { op: 'dispatch'; request: RawDispatchRequest; outcome: Outcome }
  | { op: 'tick'; result: TickResult }
  | { op: 'clock'; time: number }
  | { op: 'mood'; mood: Mood }
  | { op: 'openOther' }
  | { op: 'restart' };

interface View {
  record: WorkflowRecord;
  actor: AnyActorRef;
  audit: AuditRow[];
  outbox: OutboxRow[];
  deadlines: DeadlineRow[];
}

export interface WorldStats {
  sequences: number;
  steps: number;
  checks: number;
  commands: number;
  accepted: number;
  refused: number;
  restarts: number;
  ticks: number;
  replays: number;
  deadlinesFired: number;
  refundsExecuted: number;
  differentialReplays: number;
  /** Issue 12: adversarial adapter calls played (tricks and hangs) and commands sent under another workflow's ids. */
  adversarialCalls: number;
  reusedIds: number;
  /** INV6 checks (strandedParts after every step, findStrandedWorkflows after every command and tick). */
  strandedChecks: number;
}

export const emptyStats = (): WorldStats => ({
  sequences: 0,
  steps: 0,
  checks: 0,
  commands: 0,
  accepted: 0,
  refused: 0,
  restarts: 0,
  ticks: 0,
  replays: 0,
  deadlinesFired: 0,
  refundsExecuted: 0,
  differentialReplays: 0,
  adversarialCalls: 0,
  reusedIds: 0,
  strandedChecks: 0,
});

/** A failed expectation of this model (a real bug, or a model bug): the message names the rule. */
export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

const orderInput = (config: WorldConfig, orderId = ORDER_ID) => ({
  orderId,
  merchantId: MERCHANT_ID,
  customerId: CUSTOMER_ID,
  deliveredBy: config.deliveredBy,
  shipped: config.shipped,
  conflictPolicy: config.conflictPolicy,
  policy: config.policy,
  timers: { refundMaxAttempts: 3 },
});

const json = (value: unknown) => JSON.stringify(value);
const timerIdOf = (row: AuditRow) => {
  const event = row.event as { actorPath?: string[] };
  return `${row.workflowId}|${(event.actorPath ?? []).join('/')}|${row.eventType}|${row.at}`;
};

let worldCounter = 0;

export class RuntimeWorld implements Driven {
  readonly checker: InvariantChecker;
  readonly ops: Op[] = [];
  /** Every command this world sent (for replays with the same command id). */
  readonly history: Array<{ request: RawDispatchRequest; outcome: Outcome }> = [];
  private view!: View;
  private nextCommand = 0;
  private readonly background: Array<{ error: unknown; context: string }> = [];
  private readonly firedTimers = new Set<string>();
  private knownDeadlines = new Set<string>();
  private auditJson: string[] = [];
  private pendingRequest: Partial<Pick<RawDispatchRequest, 'commandId' | 'expectedVersion'>> = {};
  private ownChecks = 0;
  private closed = false;
  /** The adversarial adapters in front of the sandboxes (set by `open`). */
  adversary!: { payments: AdversarialPayments; logistics: AdversarialLogistics };
  /** A second workflow is open (clients reuse ids on it). */
  private otherOpen = false;
  /** A run whose outcome may depend on real time (a second worker inside a call): not replayed differentially. */
  timingDependent = false;
  /**
   * The delivery timeout's timer is unref'd (a runtime never holds a process open): while a hanging
   * adapter is all that is left, this keeps a script's event loop alive until the timeout fires.
   */
  private readonly keepAlive = setInterval(() => {}, 60_000);
  /**
   * Work an adversarial adapter does during its call (a second worker's tick, a webhook). The runtime's
   * delivery timeout may abandon the call while this work goes on, holding leases. Adapters are called
   * only in ticks, so the world waits for it after every tick (and at close, when a tick threw), before
   * it looks at the store, as it would for another process.
   */
  private readonly sideWork = new Set<Promise<void>>();

  private constructor(
    readonly h: Host,
    readonly config: WorldConfig,
    readonly filename: string | undefined,
    background: Array<{ error: unknown; context: string }>,
    readonly stats: WorldStats,
  ) {
    this.background = background;
    this.checker = new InvariantChecker(this);
  }

  static async open(config: WorldConfig, options: { dir?: string; stats?: WorldStats } = {}): Promise<RuntimeWorld> {
    const filename = config.store === 'sqlite' ? join(options.dir ?? '.', `world-${process.pid}-${(worldCounter += 1)}.db`) : undefined;
    const background: Array<{ error: unknown; context: string }> = [];
    let self: RuntimeWorld | undefined;
    const adversary = { payments: new AdversarialPayments(() => self!), logistics: new AdversarialLogistics(() => self!) };
    const h = await host({
      ...(filename ? { filename } : {}),
      delivery: { maxAttempts: config.deliveryAttempts, timeoutMs: DELIVERY_TIMEOUT_MS },
      leaseMs: LEASE_MS,
      ...(config.inspected ? { inspect: () => {} } : {}),
      onError: (error, context) => background.push({ error, context }),
      ...({ payments: adversary.payments, logistics: adversary.logistics } as object),
    });
    const world = new RuntimeWorld(h, config, filename, background, options.stats ?? emptyStats());
    world.adversary = adversary;
    self = world;
    await h.runtime.openOrder({ workflowId: WORKFLOW_ID, input: orderInput(config) });
    await world.refresh();
    world.checkDurable({ dueBound: null });
    return world;
  }

  // --- Driven --------------------------------------------------------------------------------

  snapshot(): OrderSnapshot {
    return this.view.actor.getSnapshot() as OrderSnapshot;
  }

  effects(): WorkflowEffect[] {
    return this.view.outbox.map((row) => row.payload as WorkflowEffect);
  }

  accepted(): AcceptedEvent[] {
    return this.view.audit.map(acceptedEvent);
  }

  /** The time a host stamps on an event now: the clock, or the last event's time if that is later. */
  now(): number {
    return Math.max(this.h.clock.now(), this.view.record.lastEventAt);
  }

  async send(event: Record<string, unknown>): Promise<unknown> {
    const { commandId, expectedVersion } = this.pendingRequest;
    this.pendingRequest = {};
    return this.dispatch({
      workflowId: WORKFLOW_ID,
      commandId: commandId ?? `cmd-${(this.nextCommand += 1)}`,
      ...(expectedVersion === undefined ? {} : { expectedVersion }),
      event,
    });
  }

  advanceTo(time: number): void {
    if (time <= this.h.clock.now()) return;
    this.h.clock.time = time;
    this.ops.push({ op: 'clock', time });
  }

  async refresh(): Promise<void> {
    const { store } = this.h;
    const record = await store.load(WORKFLOW_ID);
    if (!record) throw new InvariantViolation('the workflow disappeared from the store');
    const previous = this.view?.actor;
    this.view = {
      record,
      actor: restoreSystem(orderMachine, record.snapshot),
      audit: await store.listAudit(WORKFLOW_ID),
      outbox: await store.listOutbox(WORKFLOW_ID),
      deadlines: await store.listDeadlines(WORKFLOW_ID),
    };
    previous?.stop();
  }

  // --- operations ----------------------------------------------------------------------------

  /** Dispatches and records the outcome; rethrows a refusal. */
  async dispatch(request: RawDispatchRequest): Promise<unknown> {
    this.stats.commands += 1;
    try {
      const result = await this.h.runtime.dispatchRaw(request);
      this.record(request, { ok: true, result });
      this.stats.accepted += 1;
      return result;
    } catch (error) {
      if (!isWorkflowError(error)) {
        throw new InvariantViolation(`INV4: ${json(request)} threw an untyped error: ${String(error)}`, { cause: error });
      }
      this.record(request, { ok: false, error: error.name, code: error.code });
      this.stats.refused += 1;
      throw error;
    }
  }

  private record(request: RawDispatchRequest, outcome: Outcome): void {
    this.history.push({ request, outcome });
    this.ops.push({ op: 'dispatch', request, outcome });
  }

  /** The next send carries this expectedVersion (a stale one: VersionConflictError). */
  expectVersion(version: number): void {
    this.pendingRequest = { ...this.pendingRequest, expectedVersion: version };
  }

  get version(): number {
    return this.view.record.version;
  }

  get lastEventAt(): number {
    return this.view.record.lastEventAt;
  }

  /** Refund requests of this cancel order the outbox still delivers. */
  pendingRefunds(cancellationId: string): number {
    return this.view.outbox.filter(
      (row) =>
        row.kind === 'refund' && row.status === 'pending' && (row.payload as { cancellationId: string }).cancellationId === cancellationId,
    ).length;
  }

  get deadlines(): DeadlineRow[] {
    return this.view.deadlines;
  }

  /**
   * Ticks until a round fires nothing, delivers nothing and left no side work running (bounded), then
   * checks nothing due is left.
   */
  async tickUntilQuiet(): Promise<void> {
    for (let round = 0; round < 20; round += 1) {
      const result = await this.h.runtime.tick();
      this.stats.ticks += 1;
      this.ops.push({ op: 'tick', result });
      const sideWorkOutlivedTick = await this.settleSideWork();
      this.expect(result.errors === 0, `tick reported ${result.errors} unexpected error(s): ${this.describeBackground()}`);
      const quiet = result.deadlinesFired + result.deadlinesSkipped + result.effectsDelivered + result.effectsGaveUp === 0;
      if (quiet && !sideWorkOutlivedTick) break;
    }
    await this.refresh();
    const now = this.h.clock.now();
    for (const row of this.view.outbox) {
      this.expect(
        row.status !== 'pending' || row.availableAt > now,
        `outbox: effect ${row.effectId} was deliverable at ${now} and stayed pending after the ticks`,
      );
    }
    this.checker.check();
    this.checkDurable({ dueBound: now });
  }

  setMood(mood: Mood): void {
    const { payments, logistics, notifications } = this.h;
    if (mood.service === 'payments') {
      if (mood.does === 'decline') payments.declineAttempts(mood.n);
      else if (mood.does === 'throw') payments.failNextCalls(mood.n);
      else if (mood.does === 'hang') payments.hangNextCalls(mood.n);
      else if (mood.does === 'trick') this.adversary.payments.tricks.push(mood.trick);
      else payments.crashAfterExecuting(1);
    } else if (mood.service === 'logistics') {
      if (mood.does === 'outcome') logistics.setOutcome(mood.outcome);
      else if (mood.does === 'hang') logistics.hangNextCalls(mood.n);
      else if (mood.does === 'trick') this.adversary.logistics.tricks.push(mood.trick);
      else logistics.failNextCalls(mood.n);
    } else notifications.failNextCalls(mood.n);
    if (mood.does === 'hang' || mood.does === 'trick') this.stats.adversarialCalls += 1;
    if (mood.does === 'trick' && (mood.trick === 'slowPastLease' || mood.trick === 'answerTwice')) this.timingDependent = true;
    this.ops.push({ op: 'mood', mood });
  }

  /**
   * Runs `work` inside an adapter call. If the runtime abandons the call (delivery timeout), the work goes
   * on; its failure is a background error either way, so an InvariantViolation in it is never lost.
   */
  alongsideCall(context: string, work: () => Promise<void>): Promise<void> {
    const running = work().catch((error: unknown) => {
      this.background.push({ error, context });
    });
    this.sideWork.add(running);
    void running.finally(() => this.sideWork.delete(running));
    return running;
  }

  /** Waits until no side work runs; true if some did. */
  async settleSideWork(): Promise<boolean> {
    const ran = this.sideWork.size > 0;
    while (this.sideWork.size > 0) await Promise.all([...this.sideWork]);
    return ran;
  }

  /**
   * An adapter's second answer, as a webhook during its call: a client command under the webhook's own
   * id. A refusal is a typed error (the first answer may have settled it); anything else is a violation.
   */
  async webhook(workflowId: string, event: Record<string, unknown>): Promise<void> {
    try {
      await this.h.runtime.dispatchRaw({
        workflowId,
        commandId: `webhook:${json(event).length}:${String(event.idempotencyKey ?? event.cancellationId)}:${String(event.type)}`,
        event,
      });
    } catch (error) {
      if (!isWorkflowError(error)) this.background.push({ error, context: `webhook ${json(event)}` });
    }
  }

  /**
   * A call slower than the lease: the runtime clock moves past it while the call runs, and a second
   * worker on the same store claims what it may (this row among them) and delivers it (same key).
   */
  async slowPastLease(): Promise<void> {
    this.h.clock.time += LEASE_MS + 1;
    const other = createWorkflowRuntime({
      store: this.h.store,
      clock: this.h.clock,
      payments: this.adversary.payments,
      logistics: this.adversary.logistics,
      notifications: this.h.notifications,
      workerId: 'second-worker',
      leaseMs: LEASE_MS,
      delivery: { maxAttempts: this.config.deliveryAttempts, timeoutMs: DELIVERY_TIMEOUT_MS },
      onError: (error, context) => this.background.push({ error, context }),
    });
    try {
      const result = await other.tick();
      this.expect(result.errors === 0, `the second worker's tick reported ${result.errors} error(s): ${this.describeBackground()}`);
    } finally {
      await other.stop();
    }
  }

  /** Opens the second workflow (once), as the same order system would. */
  async openOther(): Promise<void> {
    if (this.otherOpen) return;
    this.otherOpen = true;
    await this.h.runtime.openOrder({ workflowId: OTHER_ID, input: orderInput(this.config, OTHER_ID) });
    this.ops.push({ op: 'openOther' });
  }

  /**
   * A client reuses a command id of this workflow on the other one (the same event, stamped now): it is
   * judged there as a new command of that workflow, never answered from this one's record, and this
   * workflow's rows do not change. A refusal changes nothing on the other workflow either.
   */
  async reuseIdOnOther(index: number): Promise<void> {
    const accepted = this.history.filter((entry) => entry.request.workflowId === WORKFLOW_ID);
    if (accepted.length === 0) return;
    const original = accepted[index % accepted.length]!;
    await this.openOther();
    this.stats.reusedIds += 1;
    const { at: _at, ...event } = original.request.event;
    const request: RawDispatchRequest = { workflowId: OTHER_ID, commandId: original.request.commandId, event };
    const [mine, theirs] = [json(await dumpWorkflow(this.h.store, WORKFLOW_ID)), json(await dumpWorkflow(this.h.store, OTHER_ID))];
    let outcome: Outcome;
    try {
      const result = await this.h.runtime.dispatchRaw(request);
      outcome = { ok: true, result };
      this.expect(
        (result as { workflowId: string }).workflowId === OTHER_ID,
        `a command id reused on ${OTHER_ID} was answered for ${(result as { workflowId: string }).workflowId}`,
      );
    } catch (error) {
      if (!isWorkflowError(error))
        throw new InvariantViolation(`INV4: ${json(request)} threw an untyped error: ${String(error)}`, { cause: error });
      outcome = { ok: false, error: error.name, code: error.code };
      this.expect(json(await dumpWorkflow(this.h.store, OTHER_ID)) === theirs, `INV4: refused ${json(request)} changed ${OTHER_ID}`);
    }
    this.ops.push({ op: 'dispatch', request, outcome });
    this.expect(json(await dumpWorkflow(this.h.store, WORKFLOW_ID)) === mine, `a command id reused on ${OTHER_ID} changed ${WORKFLOW_ID}`);
    await this.refresh();
    this.checker.check();
    this.checkDurable({ dueBound: null });
    await this.checkProjection();
  }

  /** Closes the runtime (and a SQLite connection) and opens a new one on the same store: nothing may change. */
  async restart(): Promise<void> {
    const before = await this.dumpAll();
    const viewBefore = await this.h.runtime.getWorkflow(READER, WORKFLOW_ID);
    await this.h.restart();
    this.stats.restarts += 1;
    this.ops.push({ op: 'restart' });
    const after = await this.dumpAll();
    this.expect(json(after) === json(before), 'INV5: a restart changed the stored workflow (state, deadlines, audit or outbox)');
    this.expect(json(await this.h.runtime.getWorkflow(READER, WORKFLOW_ID)) === json(viewBefore), 'INV5: a restart changed the workflow view');
    await this.refresh();
    this.checker.check();
    this.checkDurable({ dueBound: null });
  }

  /** The workflow's rows (and, for SQLite, every row of every table). */
  /** The workflow's rows, and every row of the SQLite file but the separate refusal log (D9). */
  async dumpAll(): Promise<unknown> {
    const workflow = await dumpWorkflow(this.h.store, WORKFLOW_ID);
    if (!this.filename) return { workflow };
    const { refusals: _refusals, sqlite_sequence: sequences = [], ...file } = dumpSqlite(this.filename);
    // the refusal log's AUTOINCREMENT counter moves with it
    return { workflow, file: { ...file, sqlite_sequence: sequences.filter((row) => (row as { name: string }).name !== 'refusals') } };
  }

  /** D9: rows in the separate refusal log. */
  async refusalCount(): Promise<number> {
    return (await this.h.runtime.getRefusals({ role: 'platform', id: 'cs-1' }, WORKFLOW_ID)).length;
  }

  // --- checks --------------------------------------------------------------------------------

  expect(condition: boolean, message: string): void {
    this.ownChecks += 1;
    if (!condition) throw new InvariantViolation(message);
  }

  get checks(): number {
    return this.checker.checks + this.ownChecks;
  }

  private describeBackground(): string {
    return this.background.map(({ error, context }) => `${context}: ${String(error)}`).join('; ');
  }

  /**
   * What a durable host must keep true after every step. `dueBound`: no deadline due at or before this
   * time may be pending (the clock after a tick, or the time of an accepted command).
   */
  checkDurable({ dueBound }: { dueBound: number | null }): void {
    const { record, audit, deadlines } = this.view;
    const snapshot = this.snapshot();

    // The stored deadlines are exactly what the machines wait for (none lost, none invented).
    const expected = record.status === 'done' ? [] : pendingDeadlines(this.view.actor).map((d) => deadlineIdOf(WORKFLOW_ID, d));
    this.expect(
      json([...expected].sort()) === json(deadlines.map((row) => row.deadlineId).sort()),
      `INV5: stored deadlines ${json(deadlines.map((d) => d.deadlineId))} differ from the machines' ${json(expected)}`,
    );
    // Catch-up: no pending deadline is due at or before the last accepted event.
    for (const row of deadlines) {
      this.expect(
        row.dueAt > record.lastEventAt,
        `INV5: deadline ${row.deadlineId} is due before the last event (${record.lastEventAt}) but did not fire`,
      );
      if (dueBound !== null) this.expect(row.dueAt > dueBound, `INV5: deadline ${row.deadlineId} was due at ${dueBound} and stayed unfired`);
    }
    this.expect((snapshot.status === 'done') === (record.status === 'done'), 'the record status differs from the snapshot status');

    // D9: append-only audit, numbered 1..n, in time order.
    const rows = audit.map((row) => json(row));
    this.expect(rows.length >= this.auditJson.length, 'D9: audit rows disappeared');
    for (let i = 0; i < this.auditJson.length; i += 1) this.expect(rows[i] === this.auditJson[i], `D9: audit row ${i + 1} changed`);
    for (const [i, row] of audit.entries()) {
      this.expect(row.seq === i + 1, `D9: audit seq ${row.seq} at position ${i + 1}`);
      if (i > 0) this.expect(row.at >= audit[i - 1]!.at, `D9: audit row ${row.seq} is earlier than the one before`);
    }
    // Deadlines fire at most once, at their due time, never before the clock (or the event) reached it.
    const horizon = Math.max(this.h.clock.now(), record.lastEventAt);
    const added = audit.slice(this.auditJson.length);
    for (const [index, row] of added.entries()) {
      if (row.actorId !== 'timer') continue;
      const id = timerIdOf(row);
      this.expect(!this.firedTimers.has(id), `INV5: deadline ${id} fired twice`);
      this.firedTimers.add(id);
      this.stats.deadlinesFired += 1;
      this.expect(row.at <= horizon, `INV5: deadline ${id} fired before its due time (clock ${this.h.clock.now()})`);
      // Fired at its due time: it was pending with this due time, or an earlier event of the same step started it.
      this.expect(this.knownDeadlines.has(id) || index > 0, `INV5: deadline ${id} fired but was never pending with that due time`);
    }
    // A pending deadline disappears only when something happened (it fired, or its state was left).
    const current = new Set(deadlines.map((row) => row.deadlineId));
    for (const id of this.knownDeadlines) {
      if (!current.has(id)) this.expect(added.length > 0, `INV5: deadline ${id} vanished without any event`);
    }
    this.knownDeadlines = current;
    this.auditJson = rows;

    // X2: the cancel-order projection is the workflow's cancel orders.
    // (checked in checkProjection, which is async)

    // INV1/INV2 at the payment service: money moved, by order, across keys.
    const executions = this.h.payments.executions();
    const cancelOrderIds = new Set(cancelOrderViews(snapshot).map((view) => view.cancellationId));
    const perOrder = new Map<string, string[]>();
    for (const execution of executions) {
      perOrder.set(execution.orderId, [...(perOrder.get(execution.orderId) ?? []), execution.idempotencyKey]);
      if (execution.orderId !== ORDER_ID) continue;
      this.expect(
        cancelOrderIds.has(execution.cancellationId),
        `INV2: refund ${execution.idempotencyKey} executed for no cancel order of the order`,
      );
    }
    for (const [orderId, keys] of perOrder) {
      this.expect(keys.length <= 1, `INV1: order ${orderId} refunded ${keys.length} times by the payment service (keys ${keys.join(', ')})`);
    }

    // INV6: every open dispute and cancel order can move (a stored deadline, a pending effect, a party's action).
    const pending = {
      deadlines: deadlines.map((row) => row.actorPath),
      effects: this.view.outbox
        .filter((row) => row.status === 'pending')
        // a refund or an interception moves its cancel order; a compensation (A4) its dispute
        .map((row) => {
          const payload = row.payload as { cancellationId?: string; disputeId?: string };
          return row.kind === 'compensation' ? payload.disputeId : payload.cancellationId;
        })
        .filter((id): id is string => typeof id === 'string'),
    };
    const stranded = strandedParts(snapshot, pending);
    this.stats.strandedChecks += 1;
    this.expect(
      stranded.length === 0,
      `INV6: stranded ${json(stranded)} (deadlines ${json(pending.deadlines)}, effects ${json(pending.effects)})`,
    );

    // Background work fails only on results the workflow refuses (typed), never with anything else.
    for (const { error, context } of this.background) {
      this.expect(
        isWorkflowError(error) && context.startsWith('result of effect'),
        `background error: ${context}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      );
    }
  }

  /** X2: the store's cancel-order rows of this order equal the workflow's cancel orders. */
  async checkProjection(): Promise<void> {
    const rows = (await this.h.store.queryCancelOrders({ orderId: ORDER_ID, limit: 500 })).items;
    const stored = rows.map((row) => [row.cancellationId, row.status, row.reason, row.origin, row.refundTriggerKind, row.createdAt]).sort();
    const views = cancelOrderViews(this.snapshot())
      .map((view) => [view.cancellationId, view.status, view.reason, view.origin, view.refundTrigger?.kind ?? null, view.createdAt])
      .sort();
    this.expect(json(stored) === json(views), `X2: projection ${json(stored)} differs from the workflow's cancel orders ${json(views)}`);
    // INV6, as an operator asks it: no workflow in the store (the other one too) is stranded.
    const strandedPage = await this.h.runtime.findStrandedWorkflows({ limit: 500 });
    this.stats.strandedChecks += 1;
    this.expect(strandedPage.items.length === 0, `INV6: findStrandedWorkflows lists ${json(strandedPage.items)}`);
  }

  /** Sends through the checker (INV1–INV4 …) and checks the store too: a refusal writes nothing. */
  async sendChecked(event: Record<string, unknown>): Promise<'accepted' | 'refused'> {
    const before = json(await this.dumpAll());
    const refusalsBefore = await this.refusalCount();
    const outboxBefore = this.view.outbox.length;
    const outcome = await this.checker.sendCheckedAsync(event);
    if (outcome === 'refused') {
      this.expect(json(await this.dumpAll()) === before, `INV4: refused ${json(event)} changed the store`);
      this.expect(this.view.outbox.length === outboxBefore, `INV4: refused ${json(event)} added an outbox row`);
    }
    // D9: only a refusal under refusalLog separate adds to the refusal log, one row at most
    const added = (await this.refusalCount()) - refusalsBefore;
    const mayAdd = outcome === 'refused' && this.config.policy.refusalLog === 'separate' ? 1 : 0;
    this.expect(added >= 0 && added <= mayAdd, `D9: ${json(event)} (${outcome}) added ${added} refusal rows`);
    const last = this.history.at(-1);
    const acceptedAt = outcome === 'accepted' && last?.outcome.ok ? ((last.request.event as { at?: number }).at ?? null) : null;
    this.checkDurable({ dueBound: acceptedAt });
    await this.checkProjection();
    return outcome;
  }

  /** Replays an earlier command with the same id: the same payload returns the same answer, another is refused. */
  async replay(index: number, changePayload: boolean): Promise<void> {
    if (this.history.length === 0) return;
    const original = this.history[index % this.history.length]!;
    this.stats.replays += 1;
    const event = original.request.event;
    const replayed = changePayload ? { ...event, at: (typeof event.at === 'number' ? event.at : 0) + 1 } : event;
    const before = json(await this.dumpAll());
    this.pendingRequest = {
      commandId: original.request.commandId,
      ...(original.request.expectedVersion === undefined ? {} : { expectedVersion: original.request.expectedVersion }),
    };
    let verdict: 'accepted' | 'refused';
    if (typeof replayed.at === 'number') {
      // Through the checker: a refused replay changes nothing, an accepted one keeps every invariant.
      verdict = await this.checker.sendCheckedAsync(replayed);
    } else {
      // An effect result as the dispatcher sent it (no `at`): the checker would stamp one, so send it as is.
      const { commandId, expectedVersion } = this.pendingRequest;
      this.pendingRequest = {};
      verdict = await this.dispatch({
        workflowId: WORKFLOW_ID,
        commandId: commandId!,
        ...(expectedVersion === undefined ? {} : { expectedVersion }),
        event: replayed,
      }).then(
        () => 'accepted' as const,
        (error: unknown) => {
          if (!isWorkflowError(error)) throw error;
          return 'refused' as const;
        },
      );
      await this.refresh();
      this.checker.check();
    }
    const outcome = this.history.at(-1)!.outcome;
    if (original.outcome.ok) {
      if (changePayload) {
        this.expect(!outcome.ok && outcome.error === 'DuplicateCommandError', `a command id reused with another payload gave ${json(outcome)}`);
      } else {
        this.expect(
          outcome.ok && json(outcome.result) === json(original.outcome.result),
          `a replayed command answered ${json(outcome)}, first ${json(original.outcome)}`,
        );
      }
      this.expect(json(await this.dumpAll()) === before, 'a replayed command id changed the store');
    } else if (verdict === 'refused') {
      // A refused command is not recorded: its replay is judged anew and, refused again, writes nothing.
      this.expect(json(await this.dumpAll()) === before, 'INV4: a replayed refused command changed the store');
    }
    this.checkDurable({ dueBound: null });
    await this.checkProjection();
  }

  /**
   * A client sends an effect's answer under the runtime's own command id for it (`effect:<effectId>`):
   * the namespaces are separate, so it is judged as a new client command (checked like any other),
   * never answered from, nor written over, the runtime's record.
   */
  async sendUnderRuntimeId(index: number): Promise<void> {
    const recorded: Array<{ commandId: string; before: string; event: Record<string, unknown> }> = [];
    for (const row of this.view.outbox) {
      const commandId = `effect:${row.effectId}`;
      const command = await this.h.store.getCommand(WORKFLOW_ID, 'runtime', commandId);
      const event = (command?.result as { event?: Record<string, unknown> } | undefined)?.event;
      if (command && event) recorded.push({ commandId, before: json(command), event });
    }
    if (recorded.length === 0) return;
    const { commandId, before, event } = recorded[index % recorded.length]!;
    const { at: _at, ...answer } = event;
    this.stats.replays += 1;
    this.pendingRequest = { commandId };
    await this.sendChecked(answer);
    this.expect(
      json(await this.h.store.getCommand(WORKFLOW_ID, 'runtime', commandId)) === before,
      "a client command under the runtime's id changed the runtime's record",
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.settleSideWork();
    clearInterval(this.keepAlive);
    this.view?.actor.stop();
    await this.h.close();
    if (this.filename) for (const suffix of ['', '-wal', '-shm']) rmSync(`${this.filename}${suffix}`, { force: true });
  }

  /**
   * INV5, differential: the same operations without the restarts, on a fresh store, give the same
   * answers and leave the same rows and the same refunds.
   */
  async replayWithoutRestarts(dir?: string): Promise<void> {
    const twin = await RuntimeWorld.open(this.config, { ...(dir ? { dir } : {}), stats: emptyStats() });
    try {
      for (const [index, op] of this.ops.entries()) {
        if (op.op === 'restart') continue;
        if (op.op === 'openOther') await twin.openOther();
        else if (op.op === 'clock') twin.h.clock.time = op.time;
        else if (op.op === 'mood') twin.setMood(op.mood);
        else if (op.op === 'tick') {
          const result = await twin.h.runtime.tick();
          this.expect(json(result) === json(op.result), `INV5: tick #${index} gave ${json(result)} without restarts, ${json(op.result)} with`);
        } else {
          let outcome: Outcome;
          try {
            outcome = { ok: true, result: await twin.h.runtime.dispatchRaw(op.request) };
          } catch (error) {
            outcome = isWorkflowError(error)
              ? { ok: false, error: error.name, code: error.code }
              : { ok: false, error: String(error), code: '?' };
          }
          this.expect(
            json(outcome) === json(op.outcome),
            `INV5: op #${index} answered ${json(outcome)} without restarts, ${json(op.outcome)} with`,
          );
        }
      }
      const [mine, theirs] = [await dumpWorkflow(this.h.store, WORKFLOW_ID), await dumpWorkflow(twin.h.store, WORKFLOW_ID)];
      this.expect(json(mine) === json(theirs), 'INV5: the run with restarts stored something else than the run without');
      this.expect(json(this.h.payments.executions()) === json(twin.h.payments.executions()), 'INV5: restarts changed the refunds executed');
      this.expect(json(this.h.notifications.sent) === json(twin.h.notifications.sent), 'INV5: restarts changed the notifications sent');
      this.stats.differentialReplays += 1;
    } finally {
      await twin.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// fast-check commands
// ---------------------------------------------------------------------------------------------

/**
 * A client's decline must name its request (idempotencyKey), or the runtime refuses it (INV1): random
 * declines here name none and are refused. Declines that name a request come from the payment sandbox
 * (and its webhooks, `answerTwice`), which knows whether the money moved; the model does not invent them.
 */
const isDecline = (event: { type?: unknown }) => event.type === 'payment.refundFailed';

type Cmd = fc.AsyncCommand<object, RuntimeWorld>;

const step = (world: RuntimeWorld) => {
  world.stats.steps += 1;
};

/** Hostile times: before the last event, before the runtime's clock (a millisecond, a day), a little or far ahead. */
type SendVariant = 'asIs' | 'staleVersion' | 'beforeLastEvent' | 'beforeClock' | 'dayBefore' | 'withinSkew' | 'farFuture';
const REFUSED_VARIANTS: ReadonlySet<SendVariant> = new Set(['staleVersion', 'beforeLastEvent', 'beforeClock', 'dayBefore', 'farFuture']);

/** Any event from any role (valid or not), sometimes with a stale version or a hostile time. */
class SendCommand implements Cmd {
  constructor(
    readonly event: Record<string, unknown>,
    readonly variant: SendVariant,
  ) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    let event = this.event;
    const now = world.now();
    if (this.variant === 'staleVersion') world.expectVersion(world.version - 1);
    if (this.variant === 'beforeLastEvent' && world.lastEventAt > 0) event = { ...event, at: world.lastEventAt - 1 };
    // Without acceptHistory, a time before the runtime's clock is refused (INV5: no answer depends on the scheduler).
    if (this.variant === 'beforeClock') event = { ...event, at: world.h.clock.now() - 1 };
    if (this.variant === 'dayBefore') event = { ...event, at: world.h.clock.now() - 24 * HOUR };
    if (this.variant === 'withinSkew') event = { ...event, at: now + 30_000 };
    if (this.variant === 'farFuture') event = { ...event, at: now + 2 * HOUR };
    const outcome = await world.sendChecked(event);
    if (REFUSED_VARIANTS.has(this.variant)) {
      world.expect(outcome === 'refused', `INV4: ${this.variant} ${JSON.stringify(event)} was accepted`);
    }
    if (isDecline(this.event)) world.expect(outcome === 'refused', `INV1: a decline naming no request was accepted: ${JSON.stringify(event)}`);
  }
  toString = () => `send(${JSON.stringify(this.event)}${this.variant === 'asIs' ? '' : `, ${this.variant}`})`;
}

/** One of the actions some role may take now (as the runtime lists them): it must be accepted. */
class SendAllowedCommand implements Cmd {
  constructor(readonly pick: { pick: number; flavour: number }) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    const actions: RoleAction[] = [];
    // Mostly leave payment and logistics answers to the sandboxes (delivered by ticks); sometimes send them.
    const callbacksToo = this.pick.flavour % 4 === 0;
    for (const role of ALL_ROLES) {
      const id = role === 'merchant' ? MERCHANT_ID : role === 'customer' ? CUSTOMER_ID : role;
      // The events are built from the action itself; its label and subject are for people.
      for (const { label: _label, subject: _subject, ...action } of await world.h.runtime.allowedActions({ role, id }, WORKFLOW_ID)) {
        if (isDecline(action)) continue;
        if (callbacksToo || !/^(payment|logistics)\./.test(action.type)) actions.push({ role, action });
      }
    }
    const event = eventForAllowedAction(world.snapshot(), actions, this.pick);
    if (!event) return;
    if (event.type === 'platform.refundOutcomeRecorded') {
      // INV6: the platform records what it found at the payment service (the sandbox), not a guess, even
      // while the outbox still delivers the request: recording a failure retires that request (INV1), so a
      // refund forced afterwards is the only one that can move money.
      const executed = world.h.payments.executions().find((execution) => execution.cancellationId === event.cancellationId);
      delete event.paymentRef;
      delete event.error;
      Object.assign(
        event,
        executed ? { outcome: 'succeeded', paymentRef: executed.paymentRef } : { outcome: 'failed', error: 'no refund at the provider' },
      );
    }
    const outcome = await world.sendChecked(event);
    world.expect(outcome === 'accepted', `allowedActions offered ${JSON.stringify(event)} but dispatch refused it`);
  }
  toString = () => `sendAllowed(${JSON.stringify(this.pick)})`;
}

/** A payment or logistics callback, again or out of order, for any cancel order (final ones too) or none. */
class CallbackCommand implements Cmd {
  constructor(
    readonly kind: 'payment.refundSucceeded' | 'payment.refundFailed' | 'logistics.interceptSucceeded' | 'logistics.interceptFailed',
    readonly target: number,
  ) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    const ids = [...cancelOrderViews(world.snapshot()).map((view) => view.cancellationId), 'ghost-refund'];
    const cancellationId = ids[this.target % ids.length]!;
    const payment = this.kind.startsWith('payment.');
    const event: Record<string, unknown> = { type: this.kind, by: payment ? PAYMENTS_SENDER : LOGISTICS_SENDER, cancellationId };
    if (this.kind === 'payment.refundSucceeded') event.paymentRef = `dup-${this.target % 3}`;
    if (this.kind === 'payment.refundFailed') event.error = 'declined again';
    const outcome = await world.sendChecked(event);
    // A decline from outside that names no request is refused at the boundary (INV1), whatever the state.
    if (this.kind === 'payment.refundFailed')
      world.expect(outcome === 'refused', `INV1: a keyless decline was accepted: ${JSON.stringify(event)}`);
  }
  toString = () => `callback(${this.kind}, #${this.target})`;
}

/** The clock moves just before, exactly to, or past a pending deadline (or a little); then maybe a tick. */
class AdvanceCommand implements Cmd {
  constructor(
    readonly move: { pick: number; offset: number },
    readonly tick: boolean,
  ) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    world.advanceTo(targetOf(world, this.move));
    if (this.tick) await world.tickUntilQuiet();
    else {
      world.checker.check();
      world.checkDurable({ dueBound: null });
    }
  }
  toString = () => `advance(${JSON.stringify(this.move)}${this.tick ? ', tick' : ''})`;
}

function targetOf(world: RuntimeWorld, move: { pick: number; offset: number }): number {
  const due = world.deadlines.map((row) => row.dueAt);
  const now = world.h.clock.now();
  return due.length ? due[move.pick % due.length]! + move.offset : now + Math.abs(move.offset);
}

class TickCommand implements Cmd {
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    await world.tickUntilQuiet();
  }
  toString = () => 'tick()';
}

/** The process stops and a new one opens the same store, maybe after time passed while it was down. */
class RestartCommand implements Cmd {
  constructor(readonly down: { pick: number; offset: number } | null) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    await world.restart();
    if (this.down) {
      world.advanceTo(targetOf(world, this.down));
      await world.tickUntilQuiet();
    }
  }
  toString = () => `restart(${this.down ? `down until ${JSON.stringify(this.down)}` : ''})`;
}

class ReplayCommand implements Cmd {
  constructor(
    readonly index: number,
    readonly changePayload: boolean,
  ) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    await world.replay(this.index, this.changePayload);
  }
  toString = () => `replay(#${this.index}${this.changePayload ? ', other payload' : ''})`;
}

class RuntimeIdCommand implements Cmd {
  constructor(readonly index: number) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    await world.sendUnderRuntimeId(this.index);
    await world.refresh();
    world.checker.check();
    world.checkDurable({ dueBound: null });
  }
  toString = () => `sendUnderRuntimeId(#${this.index})`;
}

/**
 * The payment provider is down (its next calls throw before executing) until a refund request's
 * refundReconcileWindow has passed: the runtime ticks, the outcome counts as unknown, and the platform
 * may record it while the outbox still delivers the request (issue 12: the recorded failure must retire
 * the request, or a forced refund and the old request both move money).
 */
class ProviderOutageCommand implements Cmd {
  constructor(readonly calls: number) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    const window = world.deadlines.find((row) => row.timer === 'refundReconcileWindow');
    if (!window) return;
    world.setMood({ service: 'payments', does: 'throw', n: this.calls });
    world.advanceTo(window.dueAt);
    await world.tickUntilQuiet();
  }
  toString = () => `providerOutage(${this.calls} calls)`;
}

/** A client reuses one of this workflow's command ids on another workflow (issue 12). */
class ReuseIdCommand implements Cmd {
  constructor(readonly index: number) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    await world.reuseIdOnOther(this.index);
  }
  toString = () => `reuseIdOnOtherWorkflow(#${this.index})`;
}

class MoodCommand implements Cmd {
  constructor(readonly mood: Mood) {}
  check = () => true;
  async run(_m: object, world: RuntimeWorld): Promise<void> {
    step(world);
    world.setMood(this.mood);
  }
  toString = () => `world(${JSON.stringify(this.mood)})`;
}

const sendVariant = fc.constantFrom<SendVariant>(
  'asIs',
  'asIs',
  'asIs',
  'asIs',
  'asIs',
  'asIs',
  'staleVersion',
  'beforeLastEvent',
  'beforeClock',
  'dayBefore',
  'withinSkew',
  'farFuture',
);

export interface CommandsOptions {
  maxCommands: number;
  /** Weight of restarts among the commands (0: none). */
  restartWeight?: number;
  /** Weight of the adversarial adapters' moods (issue 12; default 2). */
  adversarialWeight?: number;
}

/** Every kind of step, weighted so that sequences reach deep states. */
export function runtimeCommands(options: CommandsOptions): fc.Arbitrary<Iterable<Cmd>> {
  const restartWeight = options.restartWeight ?? 2;
  const weighted: Array<fc.WeightedArbitrary<Cmd>> = [
    { weight: 4, arbitrary: fc.tuple(eventArbitrary, sendVariant).map(([event, variant]) => new SendCommand(event, variant)) },
    { weight: 8, arbitrary: allowedPickArbitrary.map((pick) => new SendAllowedCommand(pick)) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            'payment.refundSucceeded' as const,
            'payment.refundFailed' as const,
            'logistics.interceptSucceeded' as const,
            'logistics.interceptFailed' as const,
          ),
          fc.nat(),
        )
        .map(([kind, target]) => new CallbackCommand(kind, target)),
    },
    { weight: 4, arbitrary: fc.tuple(advanceArbitrary, fc.boolean()).map(([move, tick]) => new AdvanceCommand(move, tick)) },
    { weight: 2, arbitrary: fc.constant(null).map(() => new TickCommand()) },
    { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.boolean()).map(([index, change]) => new ReplayCommand(index, change)) },
    { weight: 1, arbitrary: fc.nat().map((index) => new RuntimeIdCommand(index)) },
    { weight: 2, arbitrary: moodArbitrary.map((mood) => new MoodCommand(mood)) },
    { weight: options.adversarialWeight ?? 2, arbitrary: adversarialMoodArbitrary.map((mood) => new MoodCommand(mood)) },
    { weight: 1, arbitrary: fc.nat().map((index) => new ReuseIdCommand(index)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 6 }).map((calls) => new ProviderOutageCommand(calls)) },
  ];
  if (restartWeight > 0) {
    weighted.push({
      weight: restartWeight,
      arbitrary: fc.option(advanceArbitrary, { freq: 2 }).map((down) => new RestartCommand(down)),
    });
  }
  return fc.commands([fc.oneof(...weighted)], { maxCommands: options.maxCommands, size: 'max' });
}

export interface PropertyOptions extends CommandsOptions {
  store: WorldConfig['store'];
  /** Directory for SQLite files. */
  dir?: string;
  stats: WorldStats;
  /** Play every run with restarts again without them and compare (INV5, differential). */
  differential?: boolean;
}

/** The property: any sequence of steps keeps every invariant (checked after each step). */
export function runtimeProperty(options: PropertyOptions) {
  return fc.asyncProperty(worldConfigArbitrary(options.store), runtimeCommands(options), async (config, cmds) => {
    const world = await RuntimeWorld.open(config, { ...(options.dir ? { dir: options.dir } : {}), stats: options.stats });
    try {
      await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
      // Finally the world goes quiet: every due deadline fires, every effect is delivered.
      world.advanceTo(world.h.clock.now() + 400 * HOUR);
      await world.tickUntilQuiet();
      await world.checkProjection();
      // A run where a second worker acted inside a call may time out differently when played again.
      if (options.differential && !world.timingDependent && world.ops.some((op) => op.op === 'restart'))
        await world.replayWithoutRestarts(options.dir);
      options.stats.sequences += 1;
    } finally {
      options.stats.checks += world.checks;
      options.stats.refundsExecuted += world.h.payments.executions().length;
      await world.close();
    }
  });
}
