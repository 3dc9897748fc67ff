import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { OrderSnapshot } from '../machines/order.js';
import { allowedActions, type AllowedAction } from './allowed-actions.js';
import { parseEvent, parseOrderInput, type BoundaryOptions } from './commands.js';
import { LiveSystem, pendingDeadlines, type PendingDeadline } from './engine/step.js';
import { InvalidTimeError } from './errors.js';
import { assertMayReadOrder, parseCaller, visibleRefusals } from './visibility.js';
import { cancelOrderViews, disputeViews, merchantFollowUps, type CancelOrderView, type DisputeView, type MerchantFollowUp } from './queries.js';
import { capRefusals, isRefusal, refusalCap, refusalOf, storableRefusal, type Refusal } from './refusals.js';
import type { Role, Sender } from './schemas/common.js';
import type { WorkflowEffect } from './schemas/effects.js';
import type { OrderEvent, OrderEventInput } from './schemas/events.js';
import type { OrderInput } from './schemas/inputs.js';
import type { AuditRow, DeadlineRow } from './runtime/store.js';
import {
  catchUpPoint,
  checkTime,
  deadlineRowsOf,
  Draft,
  ORDER_WORKFLOW,
  restoreWorkflow,
  stampEvent,
  type DraftBase,
  type TimeRules,
} from './runtime/unit-of-work.js';

/** The input that creates an order workflow; `at` defaults to the clock's time. */
export type OrderWorkflowInput = Omit<OrderInput, 'at'> & { at?: number };

/** D9: one accepted event: who, when, what, and the state it led to (the durable runtime's audit row). */
export type AuditEntry = AuditRow;

/**
 * The host's clock. `now` stamps commands and decides what is due; with `setTimeout`/`clearTimeout`
 * (a real clock, or XState's `SimulatedClock`) the workflow also fires its deadlines on its own.
 */
export interface WorkflowClock {
  /** The current time in epoch milliseconds. */
  now(): number;
  /** Schedules `fn` after `timeout` ms; with `clearTimeout`, lets the workflow fire its own deadlines. */
  setTimeout?(fn: () => void, timeout: number): unknown;
  /** Cancels a timer that `setTimeout` returned. */
  clearTimeout?(id: unknown): void;
}

/** Options of {@link createOrderWorkflow}: the clock, boundary checks, timers, policy and effect handler. */
export interface OrderWorkflowOptions extends BoundaryOptions {
  /** Default: the system clock with real timers. Tests and demos pass `new SimulatedClock()`. */
  clock?: WorkflowClock;
  /** How far in the future a caller-supplied `at` may be (default 60 s), as in the durable runtime. */
  allowedSkewMs?: number;
  /** Accept a caller-supplied `at` before the clock (importing history), as in the durable runtime. */
  acceptHistory?: boolean;
  /** Extra inspection, e.g. a Stately inspector's `inspect`. */
  inspect?: (event: InspectionEvent) => void;
  /**
   * Called for every effect the machines request (refunds, interceptions, notifications), after the
   * command that requested it is complete. A `send` made from here runs after that command, in order.
   */
  onEffect?: (effect: WorkflowEffect) => void;
  /** D9: refusals kept when the order's policy has `refusalLog: 'separate'` (default 100, the newest). */
  refusalLogCap?: number;
}

const SYSTEM_CLOCK: WorkflowClock = {
  now: () => Date.now(),
  setTimeout: (fn, timeout) => {
    const timer = setTimeout(fn, timeout);
    timer.unref();
    return timer;
  },
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};

/** Real timers fire at once above this (2^31 - 1 ms): a longer wait is taken in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * An order workflow hosted in memory: the durable runtime's unit of work (same stamping, same time
 * rules, same catch-up, same checks, same audit rows and effects) on a system kept live in memory
 * instead of a store. Deadlines fire at their due time: on the clock's timers, or when a later command
 * or `runDueDeadlines` finds them due. For workflows that must outlive the process, use the durable runtime.
 */
export class OrderWorkflow {
  readonly workflowId: string;
  readonly audit: AuditEntry[] = [];
  /** Every effect requested so far, in order (what the durable runtime puts in its outbox). */
  readonly effects: WorkflowEffect[] = [];
  private readonly system: LiveSystem;
  private readonly clock: WorkflowClock;
  private readonly timeRules: TimeRules;
  private readonly boundary: BoundaryOptions;
  private base: DraftBase;
  /** What the live system waits for, as the last draft left it (a new draft need not read it again). */
  private pending: PendingDeadline[];
  private readonly undelivered: WorkflowEffect[] = [];
  /** D9: refused attempts kept apart, oldest first, capped. */
  private readonly refusals: Refusal[] = [];
  private readonly refusalLogCap: number;
  private delivering = false;
  private timer: unknown;
  private stopped = false;

  constructor(
    input: OrderWorkflowInput,
    private readonly options: OrderWorkflowOptions = {},
  ) {
    this.refusalLogCap = refusalCap(options.refusalLogCap);
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.timeRules = { allowedSkewMs: options.allowedSkewMs ?? 60_000, acceptHistory: options.acceptHistory ?? false };
    this.boundary = options.evidenceCatalogue ? { evidenceCatalogue: options.evidenceCatalogue } : {};
    const now = Math.floor(this.clock.now());
    const raw = input as unknown as Record<string, unknown>;
    const resolved = parseOrderInput(raw !== null && typeof raw === 'object' && raw.at === undefined ? { ...raw, at: now } : raw);
    this.workflowId = resolved.orderId;
    this.system = new LiveSystem(ORDER_WORKFLOW.machine, { input: resolved }, options.inspect ? { inspect: options.inspect } : {});
    this.pending = pendingDeadlines(this.system.actor);
    this.base = {
      workflowId: resolved.orderId,
      orderId: resolved.orderId,
      merchantId: resolved.merchantId,
      version: 1,
      auditSeq: 0,
      lastEventAt: resolved.at,
      status: 'active',
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Validates and applies one event; throws a typed error and changes nothing when it is refused (INV4).
   * Typed with the events' schemas, so a wrong payload does not compile; it is checked again here all the same.
   */
  send(event: OrderEventInput): OrderSnapshot {
    return this.sendRaw(event);
  }

  /**
   * `send` for input nobody has typed (JSON from a network or a queue): the same validation, the same
   * typed errors (`InvalidPayloadError` for a payload the schemas refuse), the same unit of work.
   */
  sendRaw(raw: unknown): OrderSnapshot {
    const now = Math.floor(this.clock.now());
    let draft: Draft | undefined;
    try {
      const event = parseEvent(stampEvent(raw, now, this.base.lastEventAt), this.boundary);
      checkTime(event, now, this.base.lastEventAt, this.timeRules);
      draft = this.draft();
      // Deadlines due by then happened whatever becomes of this event: they stay even if it is refused.
      draft.catchUp(catchUpPoint(event, now, this.timeRules));
      if (event.at < draft.lastEventAt) {
        throw new InvalidTimeError(event.at, `is before a deadline that fell due first (${draft.lastEventAt})`);
      }
      draft.apply(event, null);
    } catch (error) {
      this.keepRefusal(raw, error, now);
      throw error;
    } finally {
      if (draft) this.commit(draft, now);
    }
    this.deliverEffects();
    return this.getSnapshot();
  }

  /**
   * D9 with `refusalLog: 'separate'`: the refused attempts, oldest first (the newest `refusalLogCap`),
   * apart from the audit trail, as the durable runtime's `getRefusals` shows them (R1: the platform and
   * `system` all, the order's merchant or customer its own attempts; anyone else is refused).
   */
  getRefusals(untrustedCaller: Sender): Refusal[] {
    const caller = parseCaller(untrustedCaller, 'getRefusals');
    const { merchantId, customerId } = this.getSnapshot().context;
    assertMayReadOrder(caller, { merchantId, customerId }, 'getRefusals');
    return visibleRefusals(caller, this.refusals);
  }

  /** D9: a refused attempt kept apart (never in the audit trail, the version or the sequence: INV4). */
  private keepRefusal(raw: unknown, error: unknown, now: number): void {
    if (!isRefusal(error) || this.getSnapshot().context.policy?.refusalLog !== 'separate') return;
    const { workflowId: _workflowId, ...refusal } = storableRefusal({ workflowId: this.workflowId, ...refusalOf(raw, error, now) });
    this.refusals.push(refusal);
    capRefusals(this.refusals, this.refusalLogCap);
  }

  /** Fires every deadline due by the clock's time (what the clock's timers do on their own). */
  runDueDeadlines(): OrderSnapshot {
    const now = Math.floor(this.clock.now());
    const draft = this.draft();
    try {
      draft.catchUp(now);
    } finally {
      this.commit(draft, now);
    }
    this.deliverEffects();
    return this.getSnapshot();
  }

  /** The order's current snapshot (the children are live refs). */
  getSnapshot(): OrderSnapshot {
    return this.system.snapshot() as OrderSnapshot;
  }

  /**
   * The live order actor, to read or to inspect (`attachInspector`). It has no `send`: events go
   * through `send` above, which checks, stamps and audits them and fires due deadlines first.
   */
  get actor(): Pick<AnyActorRef, 'id' | 'sessionId' | 'system' | 'getSnapshot' | 'subscribe'> {
    return this.system.actor;
  }

  /** The workflow's version: one more for every accepted event or fired deadline batch. */
  get version(): number {
    return this.base.version;
  }

  /** Pending delayed transitions with their absolute due times. */
  pendingDeadlines(): DeadlineRow[] {
    return deadlineRowsOf(this.workflowId, this.pending);
  }

  /** What this role (and sender) may do now, each with its label (R1). */
  allowedActions(role: Role, senderId?: string): AllowedAction[] {
    return allowedActions(this.getSnapshot(), role, senderId);
  }

  /** Every cancel order of the order, current and closed. */
  cancelOrders(): CancelOrderView[] {
    return cancelOrderViews(this.getSnapshot());
  }

  /** Every dispute of the order, open and closed. */
  disputes(): DisputeView[] {
    return disputeViews(this.getSnapshot());
  }

  /** P2: what the merchant must still do by hand. */
  followUps(): MerchantFollowUp[] {
    return merchantFollowUps(this.getSnapshot());
  }

  /** The persisted snapshot with the machine version that wrote it, as the durable runtime stores it. */
  persist(): { machineVersion: number; snapshot: unknown } {
    return { machineVersion: ORDER_WORKFLOW.version, snapshot: this.system.persist() };
  }

  /** Stops the actor system and its timers; the workflow accepts nothing afterwards. */
  stop(): void {
    this.stopped = true;
    this.clearTimer();
    this.system.stop();
  }

  private draft(): Draft {
    return new Draft(this.base, this.system, ORDER_WORKFLOW.version, { deadlines: this.pending, projection: false });
  }

  /** Keeps what a draft did: the in-memory counterpart of a store commit. */
  private commit(draft: Draft, now: number): void {
    if (!draft.changed) return;
    this.base = {
      ...this.base,
      version: this.base.version + 1,
      auditSeq: draft.seq,
      lastEventAt: draft.lastEventAt,
      status: draft.status,
      updatedAt: now,
    };
    this.audit.push(...draft.audit);
    for (const row of draft.settledOutbox()) {
      const effect = row.payload as WorkflowEffect;
      this.effects.push(effect);
      // INV1: a refund request the order stopped waiting for in the same command is never handed out.
      if (row.status === 'pending') this.undelivered.push(effect);
    }
    this.pending = draft.deadlines;
    this.schedule();
  }

  private deliverEffects(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let effect = this.undelivered.shift(); effect; effect = this.undelivered.shift()) this.options.onEffect?.(effect);
    } finally {
      this.delivering = false;
    }
  }

  /** One clock timer for the earliest deadline. */
  private schedule(): void {
    this.clearTimer();
    const next = this.pending[0];
    const { clock } = this;
    if (!next || !clock.setTimeout || this.stopped) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next.dueAt - clock.now()));
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      if (this.pending[0] && this.pending[0].dueAt <= clock.now()) this.runDueDeadlines();
      else this.schedule();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout?.(this.timer);
    this.timer = undefined;
  }
}

/** Restores a workflow that `persist()` wrote (migrating it to this release's machine version). */
export function restoreOrderWorkflowSystem(persisted: { machineVersion: number; snapshot: unknown }, workflowId = 'restored') {
  return restoreWorkflow(ORDER_WORKFLOW, { workflowId, ...persisted });
}

/** Starts one order's workflow in memory (the in-memory host); for durable hosting use `createWorkflowRuntime`. */
export function createOrderWorkflow(input: OrderWorkflowInput, options: OrderWorkflowOptions = {}): OrderWorkflow {
  return new OrderWorkflow(input, options);
}

export type { OrderEvent, OrderEventInput };
