import { isWorkflowError } from '../errors.js';
import type { WorkflowEffect } from '../schemas/effects.js';
import {
  LOGISTICS_SENDER,
  PAYMENTS_SENDER,
  type AdapterCall,
  type LogisticsService,
  type NotificationService,
  type PaymentService,
} from './adapters.js';
import type { OutboxKind, OutboxRow, WorkflowStore } from './store.js';

/**
 * The outbox dispatcher: performs the effects that commits left in the outbox, at least once, through
 * the host adapters.
 *
 * Two kinds of retry, deliberately kept apart:
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

export interface DeliveryPolicy {
  /** How long to wait for an adapter before counting the call as failed. */
  timeoutMs: number;
  /** Delivery attempts before giving up on an effect. */
  maxAttempts: number;
  /** First delivery backoff; doubles on every failure. */
  backoffMs: number;
  maxBackoffMs: number;
}

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

/** A result fed back to the workflow that requested the effect. */
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
  /** Runs a result command through the runtime's pipeline. */
  record(command: EffectResultCommand): Promise<unknown>;
  onError(error: unknown, context: string): void;
}

export type DeliveryOutcome = 'recorded' | 'completed' | 'retrying' | 'gaveUp';

export class DeliveryTimeoutError extends Error {
  override readonly name = 'DeliveryTimeoutError';
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
  }
}

const MAX_ERROR_LENGTH = 500;
const messageOf = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, MAX_ERROR_LENGTH);

export class OutboxDispatcher {
  constructor(private readonly deps: OutboxDeps) {}

  /** Delivers one claimed effect and records what came of it. */
  async deliver(row: OutboxRow): Promise<DeliveryOutcome> {
    const effect = row.payload as WorkflowEffect;
    let result: EffectResultCommand | null;
    try {
      result = await this.withTimeout((call) => this.perform(row, effect, call));
    } catch (error) {
      return this.deliveryFailed(row, effect, error);
    }
    if (result === null) {
      await this.deps.store.completeEffect(row.effectId);
      return 'completed';
    }
    return this.recordResult(row, result);
  }

  /** Calls the adapter; returns the command that records its answer, or null when nothing is to record. */
  private async perform(row: OutboxRow, effect: WorkflowEffect, call: AdapterCall): Promise<EffectResultCommand | null> {
    const command = (event: Record<string, unknown>): EffectResultCommand => ({
      workflowId: row.workflowId,
      commandId: `effect:${row.effectId}`,
      event,
      completesEffectId: row.effectId,
    });
    switch (effect.type) {
      case 'effect.refundRequested': {
        const { type: _type, ...request } = effect;
        const outcome = await this.deps.payments.refund(request, call);
        if (outcome.status === 'accepted') return null;
        const base = { by: PAYMENTS_SENDER, cancellationId: effect.cancellationId };
        return outcome.status === 'succeeded'
          ? command({ type: 'payment.refundSucceeded', ...base, paymentRef: outcome.paymentRef })
          : command({ type: 'payment.refundFailed', ...base, error: outcome.error.slice(0, MAX_ERROR_LENGTH) || 'failed' });
      }
      case 'effect.interceptionRequested': {
        const { type: _type, ...request } = effect;
        const outcome = await this.deps.logistics.intercept(request, call);
        if (outcome.status === 'accepted') return null;
        const base = { by: LOGISTICS_SENDER, cancellationId: effect.cancellationId };
        return outcome.status === 'succeeded'
          ? command({ type: 'logistics.interceptSucceeded', ...base })
          : command({
              type: 'logistics.interceptFailed',
              ...base,
              ...(outcome.note ? { note: outcome.note.slice(0, MAX_ERROR_LENGTH) } : {}),
            });
      }
      case 'effect.notificationRequested': {
        const { type: _type, ...notification } = effect;
        await this.deps.notifications?.notify({ ...notification, idempotencyKey: row.idempotencyKey }, call);
        return null;
      }
    }
  }

  private async recordResult(row: OutboxRow, result: EffectResultCommand): Promise<DeliveryOutcome> {
    try {
      await this.deps.record(result);
      return 'recorded';
    } catch (error) {
      if (!isWorkflowError(error)) throw error;
      // The workflow refuses the answer (e.g. the interception result came after interceptResultWait):
      // nothing will ever accept it, so retrying is pointless. Kept as `dead` with the reason.
      this.deps.onError(error, `result of effect ${row.effectId} refused`);
      await this.deps.store.recordEffectFailure(row.effectId, {
        error: `result refused: ${messageOf(error)}`.slice(0, MAX_ERROR_LENGTH),
        availableAt: this.deps.now(),
        dead: true,
      });
      return 'gaveUp';
    }
  }

  private async deliveryFailed(row: OutboxRow, effect: WorkflowEffect, error: unknown): Promise<DeliveryOutcome> {
    const { policy, store } = this.deps;
    const failures = row.attempts + 1;
    const message = messageOf(error);
    if (failures < policy.maxAttempts) {
      await store.recordEffectFailure(row.effectId, {
        error: message,
        availableAt: this.deps.now() + deliveryBackoffMs(policy, failures),
        dead: false,
      });
      return 'retrying';
    }
    if (effect.type === 'effect.refundRequested') {
      // Unknown outcome: the money may have moved, so the same key is offered again, never a decline.
      await store.recordEffectFailure(row.effectId, {
        error: message,
        availableAt: this.deps.now() + policy.maxBackoffMs,
        dead: false,
      });
      return 'retrying';
    }
    await store.recordEffectFailure(row.effectId, { error: message, availableAt: this.deps.now(), dead: true });
    return 'gaveUp';
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
