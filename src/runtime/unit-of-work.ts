import type { InspectionEvent } from 'xstate';
import {
  disputeActorIdOf,
  ORDER_MACHINE_VERSION,
  openDisputesOf,
  orderMachine,
  type OrderMachine,
  type OrderSnapshot,
} from '../../machines/order.js';
import { ORDER_SNAPSHOT_MIGRATIONS } from '../../machines/migrations.js';
import { TIMER_SENDER } from '../../machines/time.js';
import { checkEvent } from '../commands.js';
import { upgradeSnapshot, type WorkflowDefinition } from '../engine/definition.js';
import { LiveSystem, pendingDeadlines, StepError, type EmittedEffect, type PendingDeadline } from '../engine/step.js';
import { InvalidTimeError } from '../errors.js';
import { cancelOrderViews, describeValue, disputeViews } from '../queries.js';
import type { Sender } from '../schemas/common.js';
import type { WorkflowEffect } from '../schemas/effects.js';
import type { OrderEvent } from '../schemas/events.js';
import { awaitedRefundEffectId, outboxKindOf } from './outbox.js';
import { withSnapshotText } from './store-common.js';
import type { AuditRow, CancelOrderRow, Commit, DeadlineRow, DisputeRow, OutboxRow, WorkflowRecord } from './store.js';

/**
 * The unit of work both hosts run, written once: a workflow is loaded (or kept live), its deadlines due
 * by now fire first, each at its own due time (catch-up), the event is checked at the boundary and
 * stepped, and everything that changed becomes one Commit: snapshot, audit rows (D9), the complete
 * deadline set, outbox rows and the X2 projection. The in-memory host keeps the live system between
 * commands; the durable runtime restores it from the store for every command.
 */

/** The order system as this release runs it (see docs/versioning.md). */
export const ORDER_WORKFLOW: WorkflowDefinition<OrderMachine> = {
  machine: orderMachine,
  version: ORDER_MACHINE_VERSION,
  migrations: ORDER_SNAPSHOT_MIGRATIONS,
};

/** Catch-up bound per command: far above any real chain of timers (a loop would be a machine bug). */
const MAX_CATCH_UP_STEPS = 1_000;

/** A deadline's stable id: workflow, actor path, event type and due time. */
export function deadlineIdOf(workflowId: string, deadline: PendingDeadline): string {
  return `${workflowId}|${deadline.actorPath.join('/')}|${deadline.eventType}|${deadline.dueAt}`;
}

export interface TimeRules {
  /** How far in the future a caller-supplied `at` may be. */
  allowedSkewMs: number;
  /** Accept a caller-supplied `at` before the host's clock (importing history). */
  acceptHistory: boolean;
}

/**
 * The time of a command: stamped from the clock when the event has none; a caller's `at` must not be
 * before the workflow's last event or the catch-up point, nor beyond the allowed skew.
 */
export function stampEvent(raw: unknown, now: number, lastEventAt: number): unknown {
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  return isObject && (raw as { at?: unknown }).at === undefined ? { ...(raw as object), at: Math.max(now, lastEventAt) } : raw;
}

export function checkTime(event: OrderEvent, now: number, lastEventAt: number, rules: TimeRules): void {
  if (event.at < lastEventAt) throw new InvalidTimeError(event.at, `is before the workflow's last event (${lastEventAt})`);
  if (!rules.acceptHistory && event.at < now) {
    throw new InvalidTimeError(event.at, `is before the host's clock (${now}); importing history needs acceptHistory`);
  }
  if (event.at > Math.max(now, lastEventAt) + rules.allowedSkewMs) {
    throw new InvalidTimeError(event.at, `is more than ${rules.allowedSkewMs} ms after the host's clock (${now})`);
  }
}

/** How far a command catches up first: to the clock, or (importing history) only to its own time. */
export const catchUpPoint = (event: OrderEvent, now: number, rules: TimeRules): number =>
  rules.acceptHistory ? event.at : Math.max(now, event.at);

/**
 * A clock as the rules read it: whole milliseconds, never below the highest time already used by more
 * than the tolerance (then `InvalidTimeError`), and clamped to that time within it.
 */
export function readClock(raw: number, highWater: number, toleranceMs: number): { now: number; clamped: boolean } {
  const now = Math.floor(raw);
  if (!Number.isFinite(now)) throw new InvalidTimeError(now, 'is not a time: the host clock is broken');
  if (now >= highWater) return { now, clamped: false };
  if (highWater - now > toleranceMs) {
    throw new InvalidTimeError(
      now,
      `is ${highWater - now} ms behind the latest time already used (${highWater}); waiting for the clock to recover`,
    );
  }
  return { now: highWater, clamped: true };
}

/**
 * Restores a stored workflow (migrating its snapshot to this release's machine version). `owned`: the
 * record was just loaded and its snapshot is not read again, so it is restored in place, not from a copy
 * (a store's `load` returns new objects, as the store contract checks).
 */
export function restoreWorkflow(
  definition: WorkflowDefinition,
  record: Pick<WorkflowRecord, 'workflowId' | 'snapshot' | 'machineVersion'>,
  inspect?: (event: InspectionEvent) => void,
  owned = false,
): LiveSystem {
  const snapshot = upgradeSnapshot(definition, record.workflowId, record.snapshot, record.machineVersion);
  return new LiveSystem(definition.machine, { snapshot, owned }, inspect ? { inspect } : {});
}

interface AuditInput {
  at: number;
  by: Sender;
  event: Record<string, unknown>;
  commandId: string | null;
}

/** What a draft starts from: the stored (or kept) record of the workflow. */
export type DraftBase = Pick<
  WorkflowRecord,
  'workflowId' | 'orderId' | 'merchantId' | 'version' | 'auditSeq' | 'lastEventAt' | 'status' | 'createdAt' | 'updatedAt'
>;

export interface DraftOptions {
  /**
   * The deadlines the system waits for, when the host already knows them (it kept the system live since
   * its last draft); read from the system when absent.
   */
  deadlines?: PendingDeadline[];
  /**
   * Keep the X2 rows as they were before the draft, for `changedProjection` and `toCommit` (default
   * true). A host that writes no projection (the in-memory host) turns it off and skips that read.
   */
  projection?: boolean;
  /**
   * The projection rows as the system's last commit left them (`Draft.projectionsAfter` of that draft),
   * when the host kept the system live since; computed from the system when absent.
   */
  projections?: DraftProjections;
}

/** The X2 and dispute rows of a workflow by id, as a draft started or ended. */
export interface DraftProjections {
  cancelOrders: ReadonlyMap<string, CancelOrderRow>;
  disputes: ReadonlyMap<string, DisputeRow>;
}

/**
 * One workflow being advanced: steps accumulate audit rows, effects and the deadline set, and become
 * one Commit. The live system is advanced in place; a host that drops the draft drops the system too.
 */
export class Draft {
  status: 'active' | 'done';
  lastEventAt: number;
  seq: number;
  deadlines: PendingDeadline[];
  readonly audit: AuditRow[] = [];
  readonly outbox: OutboxRow[] = [];
  readonly fired: string[] = [];
  private readonly projectionBefore: ReadonlyMap<string, CancelOrderRow> | null;
  private readonly disputesBefore: ReadonlyMap<string, DisputeRow> | null;
  private projectionAfter: Map<string, CancelOrderRow> | null = null;
  private disputesAfter: Map<string, DisputeRow> | null = null;

  constructor(
    readonly base: DraftBase,
    readonly system: LiveSystem,
    readonly machineVersion: number,
    options: DraftOptions = {},
  ) {
    this.status = base.status;
    this.lastEventAt = base.lastEventAt;
    this.seq = base.auditSeq;
    this.deadlines = options.deadlines ?? pendingDeadlines(system.actor);
    const keep = options.projection !== false;
    this.projectionBefore = !keep ? null : (options.projections?.cancelOrders ?? byId(this.projection(), cancellationIdOf));
    this.disputesBefore = !keep ? null : (options.projections?.disputes ?? byId(this.disputeProjection(), disputeIdOf));
  }

  /** The projection rows as of `toCommit` (null before it): what the next draft on this system starts from. */
  projectionsAfter(): DraftProjections | null {
    const { projectionAfter, disputesAfter } = this;
    return projectionAfter && disputesAfter ? { cancelOrders: projectionAfter, disputes: disputesAfter } : null;
  }

  get workflowId(): string {
    return this.base.workflowId;
  }

  get snapshot(): OrderSnapshot {
    return this.system.snapshot() as OrderSnapshot;
  }

  get changed(): boolean {
    return this.audit.length > 0;
  }

  /** Deadlines due at or before `upTo`, earliest first: INV5, results never depend on when a host ran. */
  catchUp(upTo: number): void {
    for (let steps = 0; this.deadlines[0] !== undefined && this.deadlines[0].dueAt <= upTo; steps += 1) {
      if (steps >= MAX_CATCH_UP_STEPS) {
        throw new StepError(`workflow ${this.workflowId}: more than ${MAX_CATCH_UP_STEPS} deadlines due at once`);
      }
      const next = this.deadlines[0];
      this.deliver(
        { event: { type: next.eventType }, target: next.actorPath },
        { at: next.dueAt, by: TIMER_SENDER, event: { type: next.eventType, timer: next.timer, actorPath: next.actorPath }, commandId: null },
      );
      this.fired.push(deadlineIdOf(this.workflowId, next));
    }
  }

  /** INV4: checks the event against the current state (typed error, nothing changed) and applies it. */
  apply(event: OrderEvent, commandId: string | null): void {
    checkEvent(this.snapshot, event);
    this.deliver({ event }, { at: event.at, by: event.by, event, commandId });
  }

  private deliver(delivery: { event: { type: string }; target?: string[] }, audit: AuditInput): void {
    this.system.deliver(delivery);
    const snapshot = this.snapshot;
    if (snapshot.status !== 'active' && snapshot.status !== 'done') {
      throw new StepError(`workflow ${this.workflowId} is ${snapshot.status} after ${delivery.event.type}`);
    }
    this.seq += 1;
    this.status = snapshot.status;
    this.deadlines = pendingDeadlines(this.system.actor);
    this.lastEventAt = Math.max(this.lastEventAt, audit.at);
    this.audit.push({
      workflowId: this.workflowId,
      seq: this.seq,
      at: audit.at,
      role: audit.by.role,
      actorId: audit.by.id,
      eventType: delivery.event.type,
      event: audit.event,
      resultingState: describeValue(snapshot),
      commandId: audit.commandId,
    });
    this.outbox.push(...outboxRows(this.workflowId, this.seq, audit.at, this.system.takeEmitted()));
  }

  /** The X2 rows of the current state. */
  projection(): CancelOrderRow[] {
    const updatedAt = this.lastEventAt;
    const snapshot = this.snapshot;
    return cancelOrderViews(snapshot).map((view) => ({
      cancellationId: view.cancellationId,
      workflowId: this.workflowId,
      orderId: view.orderId,
      merchantId: view.merchantId,
      customerId: snapshot.context.customerId,
      status: view.status,
      reason: view.reason,
      refundReason: view.refundReason,
      origin: view.origin,
      refundTriggerKind: view.refundTrigger?.kind ?? null,
      createdAt: view.createdAt,
      updatedAt,
    }));
  }

  /** X2 rows that changed since the draft started (upserts). */
  changedProjection(): CancelOrderRow[] {
    const { projectionBefore } = this;
    if (!projectionBefore) throw new StepError(`workflow ${this.workflowId}: this draft keeps no projection`);
    const rows = this.projection();
    this.projectionAfter = byId(rows, cancellationIdOf);
    return rows.filter((row) => {
      const before = projectionBefore.get(row.cancellationId);
      return (
        !before ||
        before.status !== row.status ||
        before.reason !== row.reason ||
        before.refundReason !== row.refundReason ||
        before.refundTriggerKind !== row.refundTriggerKind
      );
    });
  }

  /**
   * The dispute rows of the current state (the work queues): each dispute's status, plan, whose move it
   * is, and the dispute's own pending deadline.
   */
  disputeProjection(): DisputeRow[] {
    const snapshot = this.snapshot;
    const { orderId, merchantId, customerId } = snapshot.context;
    // D1: each open dispute's own child (`dispute`, or `dispute:<id>` under disputesPerOrder several).
    const open = new Set(openDisputesOf(snapshot.context).map((dispute) => dispute.disputeId));
    const nextOf = (actorId: string) =>
      this.deadlines
        .filter((deadline) => deadline.actorPath.length === 1 && deadline.actorPath[0] === actorId)
        .reduce<PendingDeadline | null>((soonest, deadline) => (soonest && soonest.dueAt <= deadline.dueAt ? soonest : deadline), null);
    return disputeViews(snapshot).map((view) => {
      const deadline = open.has(view.disputeId) ? nextOf(disputeActorIdOf(snapshot.context, view.disputeId)) : null;
      return {
        disputeId: view.disputeId,
        workflowId: this.workflowId,
        orderId,
        merchantId,
        customerId,
        status: view.status,
        plan: view.plan,
        waitingOn: view.waitingOn,
        nextDueAt: deadline?.dueAt ?? null,
        nextTimer: deadline?.timer ?? null,
        openedAt: view.openedAt,
        updatedAt: this.lastEventAt,
      };
    });
  }

  /** Dispute rows that changed since the draft started (upserts). */
  changedDisputeProjection(): DisputeRow[] {
    const { disputesBefore } = this;
    if (!disputesBefore) throw new StepError(`workflow ${this.workflowId}: this draft keeps no projection`);
    const rows = this.disputeProjection();
    this.disputesAfter = byId(rows, disputeIdOf);
    return rows.filter((row) => {
      const before = disputesBefore.get(row.disputeId);
      return (
        !before ||
        before.status !== row.status ||
        before.plan !== row.plan ||
        before.waitingOn !== row.waitingOn ||
        before.nextDueAt !== row.nextDueAt ||
        before.nextTimer !== row.nextTimer
      );
    });
  }

  /**
   * INV1: the outbox rows of this draft as they are written. A refund request made in this unit of work
   * that the cancel order no longer waits for at its end (a command that followed a catch-up ended the
   * wait, or superseded the request, before it was ever stored) is written already retired: it is never
   * delivered, as if the command had come before the delivery (see awaitedRefundEffectId).
   */
  settledOutbox(): OutboxRow[] {
    const awaited = awaitedRefundEffectId(this.workflowId, this.snapshot);
    return this.outbox.map((row) => (row.kind === 'refund' && row.effectId !== awaited ? { ...row, status: 'done' } : row));
  }

  deadlineRows(): DeadlineRow[] {
    return deadlineRowsOf(this.workflowId, this.deadlines);
  }

  toCommit(now: number, command: Commit['command'], completesEffectId: string | null): Commit {
    const { base } = this;
    const { snapshot: _stored, ...header } = base as DraftBase & { snapshot?: unknown };
    return {
      workflow: withSnapshotText(
        {
          ...header,
          version: base.version + 1,
          machineVersion: this.machineVersion,
          auditSeq: this.seq,
          status: this.status,
          lastEventAt: this.lastEventAt,
          updatedAt: now,
        },
        this.system.persistText(),
      ),
      expectedVersion: base.version,
      audit: this.audit,
      deadlines: this.deadlineRows(),
      outbox: this.settledOutbox(),
      cancelOrders: this.changedProjection(),
      disputes: this.changedDisputeProjection(),
      command,
      completesEffectId,
      observedAt: now,
    } as Commit;
  }
}

const cancellationIdOf = (row: CancelOrderRow) => row.cancellationId;
const disputeIdOf = (row: DisputeRow) => row.disputeId;
const byId = <Row>(rows: readonly Row[], idOf: (row: Row) => string): Map<string, Row> => new Map(rows.map((row) => [idOf(row), row]));

/** The stored form of a workflow's pending deadlines. */
export function deadlineRowsOf(workflowId: string, deadlines: readonly PendingDeadline[]): DeadlineRow[] {
  return deadlines.map((deadline) => ({
    deadlineId: deadlineIdOf(workflowId, deadline),
    workflowId,
    actorPath: deadline.actorPath.join('/'),
    timer: deadline.timer,
    eventType: deadline.eventType,
    dueAt: deadline.dueAt,
  }));
}

/**
 * Outbox rows for what one step emitted at the root. A refund's or an interception's idempotency key
 * names it uniquely (the refund key numbers every request of its cancel order); a notification is keyed
 * by the audit row that caused it.
 */
export function outboxRows(workflowId: string, seq: number, at: number, emitted: EmittedEffect[]): OutboxRow[] {
  return emitted.map(({ event }, index) => {
    const effect = event as WorkflowEffect;
    const kind = outboxKindOf(effect);
    const idempotencyKey =
      effect.type === 'effect.notificationRequested' ? `${workflowId}:${seq}.${index}:${effect.kind}` : effect.idempotencyKey;
    return {
      effectId: `${workflowId}|${kind}|${idempotencyKey}`,
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

/** describeValue read straight from a persisted snapshot (no restore needed). */
export function describePersisted(persisted: unknown): Record<string, unknown> {
  const order = persisted as { value: unknown; children?: Record<string, { snapshot?: { value?: unknown } }> };
  const described: Record<string, unknown> = { order: order.value };
  for (const [id, child] of Object.entries(order.children ?? {})) described[id] = child.snapshot?.value;
  return described;
}
