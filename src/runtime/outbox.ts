import type { OrderSnapshot } from '../../machines/order.js';
import { refundIdempotencyKey } from '../../machines/cancellation.js';
import { isWorkflowError } from '../errors.js';
import { cancellationChild } from '../queries.js';
import type { CompensationRequested, InterceptionRequested, RefundRequested, WorkflowEffect } from '../schemas/effects.js';
import { sanitizeText } from '../schemas/text.js';
import {
  LOGISTICS_SENDER,
  PAYMENTS_SENDER,
  type AdapterCall,
  type LogisticsService,
  type NotificationService,
  type PaymentService,
} from './adapters.js';
import { MAX_ERROR_LENGTH, readInterceptionAnswer, readRefundAnswer, type InterceptionAnswer, type RefundAnswer } from './answers.js';
import type { OutboxKind, OutboxRow, WorkflowStore } from './store.js';

/**
 * The outbox dispatcher: performs the effects that commits left in the outbox, at least once, through
 * the host adapters.
 *
 * Two kinds of retry, deliberately kept apart:
 *
 * - **Delivery retries (here).** The adapter threw or did not answer in time: we do not know whether the
 *   effect happened, so the *same* effect (same idempotency key) is offered again after a backoff. The
 *   workflow does not see these. A refund whose outcome is unknown never gives up: it is offered again,
 *   same key, at the longest backoff, because the money may have moved (INV1, INV6). Anything else is
 *   marked `dead` after `maxAttempts` (the interception has its own machine timeout, interceptResultWait).
 * - **Business retries (the machines).** The adapter *answered* that the refund failed: that answer is a
 *   `payment.refundFailed` command; the cancel order backs off (C4, a durable deadline) and requests a new
 *   attempt under a new key, which is a new outbox row.
 *
 * Results go back as commands with command id `effect:<effectId>` and `completesEffectId`, so recording
 * the result and completing the outbox row are one transaction: a crash in between redelivers the effect
 * and the adapter's deduplication answers with the original result.
 */

/** How the outbox delivers effects: per-call timeout, attempts, and the backoff between them. */
export interface DeliveryPolicy {
  /** How long to wait for an adapter before counting the call as failed. */
  timeoutMs: number;
  /** Delivery attempts before giving up on an effect. */
  maxAttempts: number;
  /** First delivery backoff; doubles on every failure. */
  backoffMs: number;
  maxBackoffMs: number;
}

/** Default outbox delivery: 10 s per call, up to 8 attempts with exponential backoff. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = Object.freeze({
  timeoutMs: 10_000,
  maxAttempts: 8,
  backoffMs: 1_000,
  maxBackoffMs: 5 * 60_000,
});

/** Delivery backoff after `failures` failed deliveries (1, 2, …). */
export function deliveryBackoffMs(policy: DeliveryPolicy, failures: number): number {
  return Math.min(policy.backoffMs * 2 ** Math.max(0, failures - 1), policy.maxBackoffMs);
}

/** A result fed back to the workflow that requested the effect (recorded under the runtime's scope). */
export interface EffectResultCommand {
  workflowId: string;
  commandId: string;
  /** The result event without `at`: the runtime stamps it from its clock. */
  event: Record<string, unknown>;
  completesEffectId: string;
}

export interface OutboxDeps {
  store: WorkflowStore;
  now(): number;
  payments: PaymentService;
  logistics: LogisticsService;
  notifications: NotificationService | undefined;
  policy: DeliveryPolicy;
  /** This worker, whose lease on a claimed row the heartbeat extends. */
  workerId: string;
  leaseMs: number;
  /** Runs a result command through the runtime's pipeline. */
  record(command: EffectResultCommand): Promise<unknown>;
  onError(error: unknown, context: string): void;
}

/** `lost`: the row's lease went to another worker during the call; that worker delivers it (same key). */
export type DeliveryOutcome = 'recorded' | 'completed' | 'retrying' | 'gaveUp' | 'lost';

/** An adapter call did not answer within the delivery policy's timeout (an unknown outcome, delivered again). */
export class DeliveryTimeoutError extends Error {
  override readonly name = 'DeliveryTimeoutError';
}

/** The adapter answered, but not with a definite outcome (INV6: retried under the same key). */
export class UnknownOutcomeError extends Error {
  override readonly name = 'UnknownOutcomeError';
}

/**
 * INV1: the refund request the cancel order in flight waits for: its outbox row is the only refund row
 * of the workflow that may still be delivered. A cancel order waits for its current request while it is
 * `refunding.requesting` or `refundOutcomeUnknown`; in any other state it waits for none. When a step
 * ends the wait for a request (the platform recorded the outcome, an answer came by webhook, a late
 * success of an earlier request settled the cancel order), the runtime retires that request's row in
 * the same commit, so the request is never delivered again after a new request with a new key exists.
 */
export function awaitedRefundEffectId(workflowId: string, snapshot: OrderSnapshot): string | null {
  const child = cancellationChild(snapshot);
  if (child?.status !== 'active') return null;
  const { value } = child;
  const waiting =
    value === 'refundOutcomeUnknown' ||
    (typeof value === 'object' && value !== null && (value as Record<string, unknown>).refunding === 'requesting');
  return waiting ? `${workflowId}|refund|${refundIdempotencyKey(child.context)}` : null;
}

/** Maps an outbox row's effect to an outbox kind (the `kind` column). */
export function outboxKindOf(effect: WorkflowEffect): OutboxKind {
  switch (effect.type) {
    case 'effect.refundRequested':
      return 'refund';
    case 'effect.interceptionRequested':
      return 'interception';
    case 'effect.notificationRequested':
      return 'notification';
    case 'effect.compensationRequested':
      return 'compensation';
  }
}

const messageOf = (error: unknown) => sanitizeText(error instanceof Error ? `${error.name}: ${error.message}` : String(error), MAX_ERROR_LENGTH);

/** What one delivery came to: a result to record, nothing to record, or no definite outcome. */
type Delivered = { kind: 'record'; event: Record<string, unknown> } | { kind: 'complete' } | { kind: 'unknown'; reason: string };

export class OutboxDispatcher {
  constructor(private readonly deps: OutboxDeps) {}

  /**
   * Delivers one claimed effect and records what came of it. From the claim until its result is recorded,
   * a heartbeat keeps the row's lease with this worker (a slow record must not let another worker deliver
   * the same key); if the lease is lost anyway, nothing is recorded here.
   */
  async deliver(row: OutboxRow): Promise<DeliveryOutcome> {
    const effect = row.payload as WorkflowEffect;
    const lease = this.holdLease(row);
    try {
      let delivered: Delivered;
      try {
        delivered = await this.withTimeout((call) => this.perform(row, effect, call));
      } catch (error) {
        delivered = { kind: 'unknown', reason: messageOf(error) };
      }
      if (!(await lease.stillHeld())) return 'lost';
      switch (delivered.kind) {
        case 'complete':
          await this.deps.store.completeEffect(row.effectId);
          return 'completed';
        case 'record':
          return await this.recordResult(row, delivered.event);
        case 'unknown':
          return await this.unknownOutcome(row, effect, delivered.reason);
      }
    } finally {
      lease.release();
    }
  }

  /** Calls the adapter (asking `status` first after an unknown outcome) and reads its answer. */
  private async perform(row: OutboxRow, effect: WorkflowEffect, call: AdapterCall): Promise<Delivered> {
    switch (effect.type) {
      case 'effect.refundRequested':
        return this.refund(row, effect, call);
      case 'effect.interceptionRequested':
        return this.intercept(row, effect, call);
      case 'effect.notificationRequested': {
        const { type: _type, ...notification } = effect;
        await this.deps.notifications?.notify({ ...notification, idempotencyKey: row.idempotencyKey }, call);
        return { kind: 'complete' };
      }
      case 'effect.compensationRequested':
        return this.compensate(row, effect, call);
    }
  }

  /**
   * A4: the merchant's compensation, delivered like a refund: one key per dispute, the answer read at
   * the boundary (the payment answer's shape), `status(key)` asked first after an unknown outcome, and a
   * service without `compensate` is an unknown outcome too (kept, retried, its reason on the row).
   */
  private async compensate(row: OutboxRow, effect: CompensationRequested, call: AdapterCall): Promise<Delivered> {
    const { payments } = this.deps;
    if (!payments.compensate) throw new UnknownOutcomeError('the payment service has no compensate(): the compensation waits for one');
    if (row.attempts > 0 && payments.status) {
      const known = readRefundAnswer(await payments.status(effect.idempotencyKey, call), true);
      if (known.kind !== 'notFound') return compensationResult(effect, known.kind === 'accepted' ? pending() : known);
    }
    const { type: _type, ...request } = effect;
    return compensationResult(effect, readRefundAnswer(await payments.compensate(request, call)));
  }

  private async refund(row: OutboxRow, effect: RefundRequested, call: AdapterCall): Promise<Delivered> {
    const { payments } = this.deps;
    if (row.attempts > 0 && payments.status) {
      const known = readRefundAnswer(await payments.status(effect.idempotencyKey, call), true);
      if (known.kind !== 'notFound') return this.refundResult(effect, known.kind === 'accepted' ? pending() : known);
    }
    const { type: _type, ...request } = effect;
    return this.refundResult(effect, readRefundAnswer(await payments.refund(request, call)));
  }

  private refundResult(effect: RefundRequested, answer: RefundAnswer): Delivered {
    const base = { by: PAYMENTS_SENDER, cancellationId: effect.cancellationId, idempotencyKey: effect.idempotencyKey };
    switch (answer.kind) {
      case 'succeeded':
        return {
          kind: 'record',
          event: {
            type: 'payment.refundSucceeded',
            ...base,
            paymentRef: answer.paymentRef,
            ...(answer.referenceMalformed ? { referenceMalformed: true } : {}),
          },
        };
      case 'failed':
        return { kind: 'record', event: { type: 'payment.refundFailed', ...base, error: answer.error } };
      case 'accepted':
        return { kind: 'complete' };
      case 'unknown':
        return answer;
    }
  }

  private async intercept(row: OutboxRow, effect: InterceptionRequested, call: AdapterCall): Promise<Delivered> {
    const { logistics } = this.deps;
    if (row.attempts > 0 && logistics.status) {
      const known = readInterceptionAnswer(await logistics.status(effect.idempotencyKey, call), true);
      if (known.kind !== 'notFound') return this.interceptionResult(effect, known.kind === 'accepted' ? pending() : known);
    }
    const { type: _type, ...request } = effect;
    return this.interceptionResult(effect, readInterceptionAnswer(await logistics.intercept(request, call)));
  }

  private interceptionResult(effect: InterceptionRequested, answer: InterceptionAnswer): Delivered {
    const base = { by: LOGISTICS_SENDER, cancellationId: effect.cancellationId };
    switch (answer.kind) {
      case 'succeeded':
        return { kind: 'record', event: { type: 'logistics.interceptSucceeded', ...base } };
      case 'failed':
        return { kind: 'record', event: { type: 'logistics.interceptFailed', ...base, ...(answer.note ? { note: answer.note } : {}) } };
      case 'accepted':
        return { kind: 'complete' };
      case 'unknown':
        return answer;
    }
  }

  private async recordResult(row: OutboxRow, event: Record<string, unknown>): Promise<DeliveryOutcome> {
    try {
      await this.deps.record({ workflowId: row.workflowId, commandId: `effect:${row.effectId}`, event, completesEffectId: row.effectId });
      return 'recorded';
    } catch (error) {
      if (!isWorkflowError(error) || (error as { retryable?: boolean }).retryable) throw error;
      // The workflow refuses the answer (e.g. the interception result came after interceptResultWait):
      // nothing will ever accept it, so retrying is pointless. Kept as `dead` with the reason.
      this.deps.onError(error, `result of effect ${row.effectId} refused`);
      await this.deps.store.recordEffectFailure(row.effectId, {
        error: sanitizeText(`result refused: ${messageOf(error)}`, MAX_ERROR_LENGTH),
        availableAt: this.deps.now(),
        dead: true,
        workerId: this.deps.workerId,
      });
      return 'gaveUp';
    }
  }

  /**
   * No definite outcome (a throw, a timeout, an unreadable answer). A refund or an interception may have
   * happened, so it is offered again under the same key, never dropped and never taken for a decline
   * (INV1, INV6): after `maxAttempts` at the longest backoff, while the machine's own timer
   * (refundReconcileWindow, interceptResultWait) tells the people who can settle it. A notification is
   * marked dead after `maxAttempts`.
   */
  private async unknownOutcome(row: OutboxRow, effect: WorkflowEffect, reason: string): Promise<DeliveryOutcome> {
    const { policy, store, workerId } = this.deps;
    const failures = row.attempts + 1;
    const error = sanitizeText(reason, MAX_ERROR_LENGTH);
    if (failures < policy.maxAttempts || effect.type !== 'effect.notificationRequested') {
      const backoff = failures < policy.maxAttempts ? deliveryBackoffMs(policy, failures) : policy.maxBackoffMs;
      await store.recordEffectFailure(row.effectId, { error, availableAt: this.deps.now() + backoff, dead: false, workerId });
      return 'retrying';
    }
    await store.recordEffectFailure(row.effectId, { error, availableAt: this.deps.now(), dead: true, workerId });
    return 'gaveUp';
  }

  /** Extends the row's lease every third of it while the adapter works. */
  private holdLease(row: OutboxRow): { release(): void; stillHeld(): Promise<boolean> } {
    const { store, workerId, leaseMs } = this.deps;
    let held = true;
    let beat: Promise<void> = Promise.resolve();
    const timer = setInterval(
      () => {
        beat = beat.then(async () => {
          if (!held) return;
          held = await store.extendEffectLease(row.effectId, workerId, this.deps.now() + leaseMs).catch(() => held);
        });
      },
      Math.max(1, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return {
      release: () => clearInterval(timer),
      stillHeld: async () => {
        await beat;
        return held;
      },
    };
  }

  private async withTimeout<T>(run: (call: AdapterCall) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new DeliveryTimeoutError(`no answer within ${this.deps.policy.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.deps.policy.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([run({ signal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A4: a payment answer to a compensation, as the result event the dispute records. */
function compensationResult(effect: CompensationRequested, answer: RefundAnswer): Delivered {
  const base = { by: PAYMENTS_SENDER, disputeId: effect.disputeId, idempotencyKey: effect.idempotencyKey };
  switch (answer.kind) {
    case 'succeeded':
      return {
        kind: 'record',
        event: {
          type: 'payment.compensationSucceeded',
          ...base,
          paymentRef: answer.paymentRef,
          ...(answer.referenceMalformed ? { referenceMalformed: true } : {}),
        },
      };
    case 'failed':
      return { kind: 'record', event: { type: 'payment.compensationFailed', ...base, error: answer.error } };
    case 'accepted':
      return { kind: 'complete' };
    case 'unknown':
      return answer;
  }
}

/** The service knows the request but has no outcome yet: ask again later. */
const pending = (): { kind: 'unknown'; reason: string } => ({ kind: 'unknown', reason: 'the service has no outcome yet' });
