import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type {
  CompensationRequest,
  InterceptionOutcome,
  InterceptionRequest,
  LogisticsService,
  Notification,
  NotificationService,
  PaymentService,
  RefundOutcome,
  RefundRequest,
} from './adapters.js';

/**
 * In-process payment, logistics and notification services for demos and tests, behind the same
 * interfaces as the real ones. Deterministic (no clock, no randomness) and scriptable: fail the next
 * calls, decline business attempts, never answer, or execute and then "crash" before answering.
 */

/** Thrown by a sandbox told to fail a call (a delivery failure, e.g. the network is down). */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

/** Thrown after a refund was executed, as if the process died before it could record the answer. */
export class SimulatedCrashError extends Error {
  override readonly name = 'SimulatedCrashError';
}

/** One refund that moved money. */
export interface RefundExecution {
  idempotencyKey: string;
  orderId: string;
  cancellationId: string;
  attempt: number;
  paymentRef: string;
}

/** A4: one compensation of a merchant that moved money. */
export interface CompensationExecution {
  idempotencyKey: string;
  orderId: string;
  disputeId: string;
  merchantId: string;
  paymentRef: string;
}

/** A4: one compensation call the sandbox payment service received, and what it did with it. */
export interface CompensationCall {
  request: CompensationRequest;
  result: 'executed' | 'deduplicated' | 'declined' | 'replayedDecline' | 'threw' | 'hung';
}

/** One call the sandbox payment service received, and what it did with it. */
export interface RefundCall {
  request: RefundRequest;
  /** What the call did: executed a refund, answered from an earlier execution, declined, threw, hung. */
  result: 'executed' | 'deduplicated' | 'declined' | 'replayedDecline' | 'threw' | 'hung' | 'crashed';
}

/** Options of {@link createSandboxPayments}. */
export interface SandboxPaymentsOptions {
  /**
   * Keep executed refunds in this file (JSON lines), so a restarted process sees what an earlier one
   * executed, as a real payment service would. Without it the ledger lives in memory.
   */
  ledgerFile?: string;
  /** Business attempts 1..n of each refund are declined (`failed`): the machine's C4 retry. */
  declineAttempts?: number;
  /** Decides per execution whether to "crash" right after executing (see `crashAfterExecuting`). */
  crashWhen?: (execution: RefundExecution) => boolean;
  /** What a crash does; default: throw SimulatedCrashError. A worker process may SIGKILL itself here. */
  onCrash?: (execution: RefundExecution) => void;
  /**
   * Answer like a provider that reports by webhook: a refund that moved money answers `accepted`, and its
   * result waits in `takeWebhooks()` as a body signed with this secret (see `signPaymentWebhook`).
   */
  webhookSecret?: string;
}

/** An in-process payment service for tests and demos: keeps INV1's contract (one refund per idempotency key) and can fail, hang, decline or crash on demand. */
export interface SandboxPayments extends Required<PaymentService> {
  /** The next `n` calls throw without doing anything (delivery failure). */
  failNextCalls(n: number, message?: string): void;
  /** The next `n` calls never answer (the dispatcher times out). */
  hangNextCalls(n: number): void;
  /** Business attempts 1..n of the given cancel order (or of every one) are declined. */
  declineAttempts(n: number, cancellationId?: string): void;
  /** The next `n` refunds that execute then "crash" before answering. */
  crashAfterExecuting(n: number): void;
  /** Every refund that moved money, oldest first. */
  executions(): RefundExecution[];
  /** How many refunds moved money for this key (or in total). */
  executionCount(idempotencyKey?: string): number;
  readonly calls: RefundCall[];
  /** Keys the runtime asked `status` about (reconciliation after an unknown outcome). */
  readonly statusCalls: string[];
  /** With `webhookSecret`: the signed webhooks not taken yet, oldest first (taking them empties the list). */
  takeWebhooks(): PaymentWebhook[];
  /** A4: the next `n` compensations are declined (`failed`); a declined key stays declined. */
  declineNextCompensations(n: number): void;
  /** A4: every compensation that moved money, oldest first (kept in memory, not in `ledgerFile`). */
  compensations(): CompensationExecution[];
  /** A4: how many compensations moved money for this key (or in total). */
  compensationCount(idempotencyKey?: string): number;
  readonly compensationCalls: CompensationCall[];
}

/** A webhook of the sandbox payment service: the raw JSON body and its signature header's value. */
export interface PaymentWebhook {
  body: string;
  signature: string;
}

/** What a sandbox payment webhook reports: the refund of this request moved money. */
export interface PaymentWebhookBody {
  type: 'refund.succeeded';
  orderId: string;
  cancellationId: string;
  idempotencyKey: string;
  paymentRef: string;
}

/** The header the sandbox payment service signs its webhooks in. */
export const PAYMENT_SIGNATURE_HEADER = 'x-sandbox-signature';

/** The sandbox's signature of a webhook: `v1=` and the hex HMAC-SHA256 of the raw body under the secret. */
export function signPaymentWebhook(secret: string, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(rawBody, 'utf8').digest('hex')}`;
}

/** Whether `signature` is the sandbox's signature of exactly this raw body (compared in constant time). */
export function verifyPaymentWebhook(secret: string, rawBody: string, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(signPaymentWebhook(secret, rawBody));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const never = <T>() => new Promise<T>(() => {});

/** Creates the sandbox payment service, optionally remembering its executions in a file across restarts. */
export function createSandboxPayments(options: SandboxPaymentsOptions = {}): SandboxPayments {
  const ledger = new Map<string, RefundExecution>();
  const order: RefundExecution[] = [];
  if (options.ledgerFile && existsSync(options.ledgerFile)) {
    for (const line of readFileSync(options.ledgerFile, 'utf8').split('\n')) {
      // A torn last line (the process died mid-write) did not execute anything.
      if (!line.trim()) continue;
      let execution: RefundExecution;
      try {
        execution = JSON.parse(line) as RefundExecution;
      } catch {
        continue;
      }
      order.push(execution);
      if (!ledger.has(execution.idempotencyKey)) ledger.set(execution.idempotencyKey, execution);
    }
  }
  const calls: RefundCall[] = [];
  const statusCalls: string[] = [];
  let failing = 0;
  let failMessage = 'payment service unavailable';
  let hanging = 0;
  let crashing = 0;
  let declineAll = options.declineAttempts ?? 0;
  const declinePer = new Map<string, number>();
  /** Like real providers (Stripe replays the first response for a key), a declined key stays declined. */
  const declinedKeys = new Map<string, string>();

  const execute = (request: RefundRequest): RefundExecution => {
    const execution: RefundExecution = {
      idempotencyKey: request.idempotencyKey,
      orderId: request.orderId,
      cancellationId: request.cancellationId,
      attempt: request.attempt,
      paymentRef: `sandbox-pay-${request.idempotencyKey}`,
    };
    // The ledger write is the money movement: it is on disk before anyone hears of it.
    if (options.ledgerFile) appendFileSync(options.ledgerFile, `${JSON.stringify(execution)}\n`);
    ledger.set(execution.idempotencyKey, execution);
    order.push(execution);
    return execution;
  };

  const compensationLedger = new Map<string, CompensationExecution>();
  const compensationOrder: CompensationExecution[] = [];
  const compensationCalls: CompensationCall[] = [];
  const declinedCompensations = new Map<string, string>();
  let decliningCompensations = 0;

  const webhooks: PaymentWebhook[] = [];
  const sandbox: SandboxPayments = {
    calls,
    compensationCalls,
    async compensate(request): Promise<RefundOutcome> {
      // Delivery failures are shared with refunds: `failNextCalls` / `hangNextCalls` count every call.
      if (failing > 0) {
        failing -= 1;
        compensationCalls.push({ request, result: 'threw' });
        throw new SandboxUnavailableError(failMessage);
      }
      if (hanging > 0) {
        hanging -= 1;
        compensationCalls.push({ request, result: 'hung' });
        return never();
      }
      const earlier = compensationLedger.get(request.idempotencyKey);
      if (earlier) {
        compensationCalls.push({ request, result: 'deduplicated' });
        return { status: 'succeeded', paymentRef: earlier.paymentRef };
      }
      const replayed = declinedCompensations.get(request.idempotencyKey);
      if (replayed !== undefined) {
        compensationCalls.push({ request, result: 'replayedDecline' });
        return { status: 'failed', error: replayed };
      }
      if (decliningCompensations > 0) {
        decliningCompensations -= 1;
        const error = 'sandbox declined the compensation';
        declinedCompensations.set(request.idempotencyKey, error);
        compensationCalls.push({ request, result: 'declined' });
        return { status: 'failed', error };
      }
      const execution: CompensationExecution = {
        idempotencyKey: request.idempotencyKey,
        orderId: request.orderId,
        disputeId: request.disputeId,
        merchantId: request.merchantId,
        paymentRef: `sandbox-comp-${request.idempotencyKey}`,
      };
      compensationLedger.set(execution.idempotencyKey, execution);
      compensationOrder.push(execution);
      compensationCalls.push({ request, result: 'executed' });
      return { status: 'succeeded', paymentRef: execution.paymentRef };
    },
    declineNextCompensations(n) {
      decliningCompensations = n;
    },
    compensations: () => [...compensationOrder],
    compensationCount: (key) =>
      key === undefined ? compensationOrder.length : compensationOrder.filter((e) => e.idempotencyKey === key).length,
    takeWebhooks: () => webhooks.splice(0),
    async refund(request): Promise<RefundOutcome> {
      if (failing > 0) {
        failing -= 1;
        calls.push({ request, result: 'threw' });
        throw new SandboxUnavailableError(failMessage);
      }
      if (hanging > 0) {
        hanging -= 1;
        calls.push({ request, result: 'hung' });
        return never();
      }
      const earlier = ledger.get(request.idempotencyKey);
      if (earlier) {
        calls.push({ request, result: 'deduplicated' });
        return { status: 'succeeded', paymentRef: earlier.paymentRef };
      }
      const replayed = declinedKeys.get(request.idempotencyKey);
      if (replayed !== undefined) {
        calls.push({ request, result: 'replayedDecline' });
        return { status: 'failed', error: replayed };
      }
      const declined = declinePer.get(request.cancellationId) ?? declineAll;
      if (request.attempt <= declined) {
        const error = `sandbox declined attempt ${request.attempt}`;
        declinedKeys.set(request.idempotencyKey, error);
        calls.push({ request, result: 'declined' });
        return { status: 'failed', error };
      }
      const execution = execute(request);
      const crash = crashing > 0 || (options.crashWhen?.(execution) ?? false);
      if (crash) {
        if (crashing > 0) crashing -= 1;
        calls.push({ request, result: 'crashed' });
        if (options.onCrash) options.onCrash(execution);
        throw new SimulatedCrashError(`crashed after executing refund ${execution.idempotencyKey}`);
      }
      calls.push({ request, result: 'executed' });
      return { status: 'succeeded', paymentRef: execution.paymentRef };
    },
    async status(idempotencyKey): Promise<RefundOutcome | { status: 'notFound' }> {
      statusCalls.push(idempotencyKey);
      const executed = ledger.get(idempotencyKey) ?? compensationLedger.get(idempotencyKey);
      if (executed) return { status: 'succeeded', paymentRef: executed.paymentRef };
      const declined = declinedKeys.get(idempotencyKey) ?? declinedCompensations.get(idempotencyKey);
      if (declined !== undefined) return { status: 'failed', error: declined };
      return { status: 'notFound' };
    },
    statusCalls,
    failNextCalls(n, message) {
      failing = n;
      if (message) failMessage = message;
    },
    hangNextCalls(n) {
      hanging = n;
    },
    declineAttempts(n, cancellationId) {
      if (cancellationId === undefined) declineAll = n;
      else declinePer.set(cancellationId, n);
    },
    crashAfterExecuting(n) {
      crashing = n;
    },
    executions: () => [...order],
    executionCount: (key) => (key === undefined ? order.length : order.filter((e) => e.idempotencyKey === key).length),
  };
  const secret = options.webhookSecret;
  if (secret === undefined) return sandbox;
  return {
    ...sandbox,
    async refund(request, call): Promise<RefundOutcome> {
      const outcome = await sandbox.refund(request, call);
      if (outcome.status !== 'succeeded') return outcome;
      const { orderId, cancellationId, idempotencyKey } = request;
      const body: PaymentWebhookBody = { type: 'refund.succeeded', orderId, cancellationId, idempotencyKey, paymentRef: outcome.paymentRef };
      const text = JSON.stringify(body);
      webhooks.push({ body: text, signature: signPaymentWebhook(secret, text) });
      return { status: 'accepted' };
    },
  };
}

/** One call the sandbox logistics service received, and what it answered. */
export interface InterceptionCall {
  request: InterceptionRequest;
  result: InterceptionOutcome['status'] | 'threw' | 'hung';
}

/** Options of {@link createSandboxLogistics}. */
export interface SandboxLogisticsOptions {
  /** How JD logistics answers (default: `succeeded` at once). */
  outcome?: InterceptionOutcome['status'];
}

/** An in-process JD logistics service for tests and demos: answers interceptions as configured and records every call. */
export interface SandboxLogistics extends LogisticsService {
  /** How interceptions of this cancel order (or of every one) end. */
  setOutcome(outcome: InterceptionOutcome['status'], cancellationId?: string): void;
  /** The next `n` calls throw. */
  failNextCalls(n: number, message?: string): void;
  /** The next `n` calls never answer. */
  hangNextCalls(n: number): void;
  readonly calls: InterceptionCall[];
}

/** Creates the sandbox logistics service. */
export function createSandboxLogistics(options: SandboxLogisticsOptions = {}): SandboxLogistics {
  const calls: InterceptionCall[] = [];
  let defaultOutcome = options.outcome ?? 'succeeded';
  const outcomes = new Map<string, InterceptionOutcome['status']>();
  let failing = 0;
  let failMessage = 'JD logistics unavailable';
  let hanging = 0;
  return {
    calls,
    async intercept(request): Promise<InterceptionOutcome> {
      if (failing > 0) {
        failing -= 1;
        calls.push({ request, result: 'threw' });
        throw new SandboxUnavailableError(failMessage);
      }
      if (hanging > 0) {
        hanging -= 1;
        calls.push({ request, result: 'hung' });
        return never();
      }
      const status = outcomes.get(request.cancellationId) ?? defaultOutcome;
      calls.push({ request, result: status });
      return status === 'failed' ? { status, note: 'sandbox: the parcel could not be intercepted' } : { status };
    },
    setOutcome(outcome, cancellationId) {
      if (cancellationId === undefined) defaultOutcome = outcome;
      else outcomes.set(cancellationId, outcome);
    },
    failNextCalls(n, message) {
      failing = n;
      if (message) failMessage = message;
    },
    hangNextCalls(n) {
      hanging = n;
    },
  };
}

/** An in-process notification service that records what it delivered. */
export interface SandboxNotifications extends NotificationService {
  /** Delivered notifications; a repeated idempotency key is delivered once. */
  readonly sent: Notification[];
  /** The next `n` calls throw. */
  failNextCalls(n: number): void;
}

/** Creates the sandbox notification service. */
export function createSandboxNotifications(): SandboxNotifications {
  const sent: Notification[] = [];
  const keys = new Set<string>();
  let failing = 0;
  return {
    sent,
    async notify(notification) {
      if (failing > 0) {
        failing -= 1;
        throw new SandboxUnavailableError('notification service unavailable');
      }
      if (keys.has(notification.idempotencyKey)) return;
      keys.add(notification.idempotencyKey);
      sent.push(notification);
    },
    failNextCalls(n) {
      failing = n;
    },
  };
}
