import { createActor, type Actor, type AnyActorRef, type InspectionEvent } from 'xstate';
import { orderMachine, type OrderSnapshot } from '../machines/order.js';
import { delayNameOf, TIMER_SENDER } from '../machines/time.js';
import { allowedActions, type AllowedAction } from './allowed-actions.js';
import {
  checkEvent,
  describeValue,
  notAllowedError,
  parseEvent,
  parseOrderInput,
  precheckEvent,
  REFUSAL_KEEPS_SNAPSHOT,
  type BoundaryOptions,
} from './commands.js';
import { cancelOrderViews, type CancelOrderView } from './queries.js';
import type { Role, Sender } from './schemas/common.js';
import type { WorkflowEffect } from './schemas/effects.js';
import type { OrderEvent } from './schemas/events.js';
import type { OrderInput } from './schemas/inputs.js';

/** D9: one accepted event: who, when, what, and the state it led to. */
export interface AuditEntry {
  seq: number;
  at: number;
  by: Sender;
  eventType: string;
  /** Child actor the event went to ([] for the order itself). */
  actorPath: string[];
  event: Record<string, unknown>;
  resultingState: Record<string, unknown>;
}

export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
}

export interface OrderWorkflowOptions extends BoundaryOptions {
  /** XState clock for delayed transitions: `new SimulatedClock()` in tests and demos. */
  clock?: Clock;
  /** Extra inspection, e.g. a Stately inspector's `inspect`. */
  inspect?: (event: InspectionEvent) => void;
  /** Called for every effect a machine requests (refunds, interceptions, notifications). */
  onEffect?: (effect: WorkflowEffect) => void;
}

/**
 * An order workflow hosted in memory: a live actor whose every incoming event is parsed, role-checked
 * and state-checked first (INV4), with an audit trail (D9) and the effects the machines request.
 * Timers run on the given clock; for workflows that must outlive the process, use the durable runtime.
 */
export class OrderWorkflow {
  /** The live order actor. A refused event may notify its subscribers once with an unchanged snapshot. */
  readonly actor: Actor<typeof orderMachine>;
  readonly audit: AuditEntry[] = [];
  readonly effects: WorkflowEffect[] = [];
  private readonly options: OrderWorkflowOptions;
  /** Events relayed to the order and not processed yet: above 0, the order's mailbox is busy. */
  private rootPending = 0;

  constructor(input: OrderInput, options: OrderWorkflowOptions = {}) {
    this.options = options;
    const resolved = parseOrderInput(input);
    this.actor = createActor(orderMachine, {
      input: resolved,
      ...(options.clock ? { clock: options.clock as never } : {}),
      inspect: (event) => this.observe(event),
    });
    this.actor.start();
  }

  /** Validates and applies one event; throws a typed error and changes nothing when it is refused. */
  send(raw: unknown): OrderSnapshot {
    const event = parseEvent(raw, this.options);
    const before = this.actor.getSnapshot();
    if (this.rootPending === 0 && !this.options.inspect && REFUSAL_KEEPS_SNAPSHOT.has(event.type)) {
      // Sending is the check: the order is idle, so the event is processed right here, and a refused
      // event leaves the very same snapshot (see REFUSAL_KEEPS_SNAPSHOT); `can`, a second evaluation
      // of every guard (the children's `can` included), is not needed. With an extra inspector the
      // refused event would show there: that host keeps asking `can` first.
      precheckEvent(before, event);
      this.actor.send(event);
      if (this.actor.getSnapshot() === before) throw notAllowedError(before, event);
    } else {
      // Sent while the order is processing another event (from an effect or inspection callback): the
      // event is queued, so decide with `can` on the current snapshot first, as the check always did.
      checkEvent(before, event);
      this.actor.send(event);
    }
    this.record(event, [], event.by, event.at);
    return this.actor.getSnapshot();
  }

  getSnapshot(): OrderSnapshot {
    return this.actor.getSnapshot();
  }

  allowedActions(role: Role, senderId?: string): AllowedAction[] {
    return allowedActions(this.actor.getSnapshot(), role, senderId);
  }

  cancelOrders(): CancelOrderView[] {
    return cancelOrderViews(this.actor.getSnapshot());
  }

  stop(): void {
    this.actor.stop();
  }

  private observe(event: InspectionEvent): void {
    // Every event relayed to the order is announced (@xstate.event) and, once processed, followed by
    // its snapshot (@xstate.snapshot); a stop or the start has a snapshot only, hence the floor at 0.
    if (event.actorRef === this.actor) {
      if (event.type === '@xstate.event') this.rootPending += 1;
      else if (event.type === '@xstate.snapshot' && this.rootPending > 0) this.rootPending -= 1;
    }
    this.options.inspect?.(event);
    if (event.type === '@xstate.action' && event.action.type === 'xstate.emit') {
      const effect = (event.action.params as { event?: WorkflowEffect } | undefined)?.event;
      if (effect) {
        this.effects.push(effect);
        this.options.onEffect?.(effect);
      }
    }
    // Delayed transitions fire inside XState: audit them when their target has taken them.
    if (event.type === '@xstate.snapshot' && event.event.type.startsWith('xstate.after.')) {
      const context = (event.snapshot as { context?: { now?: number } }).context;
      this.record(event.event as OrderEvent, pathOf(event.actorRef as AnyActorRef), TIMER_SENDER, context?.now ?? 0);
    }
  }

  private record(event: OrderEvent | { type: string }, actorPath: string[], by: Sender, at: number): void {
    const timer = delayNameOf(event.type);
    this.audit.push({
      seq: this.audit.length + 1,
      at,
      by,
      eventType: event.type,
      actorPath,
      event: timer ? { ...event, timer } : { ...event },
      resultingState: describeValue(this.actor.getSnapshot()),
    });
  }
}

function pathOf(ref: AnyActorRef): string[] {
  const parent = ref._parent as AnyActorRef | undefined;
  return parent ? [...pathOf(parent), ref.id] : [];
}

export function createOrderWorkflow(input: OrderInput, options: OrderWorkflowOptions = {}): OrderWorkflow {
  return new OrderWorkflow(input, options);
}
