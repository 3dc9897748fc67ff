import { InvalidPayloadError } from '../errors.js';
import { sanitizeText } from '../schemas/text.js';

/**
 * Adapter answers are input like a client's events: read at the boundary, never trusted. What cannot be
 * read as a definite outcome is an *unknown* outcome: the effect is delivered again under the same
 * idempotency key (or reconciled by asking the service), never dropped and never taken for a decline.
 */

export const MAX_REFERENCE_LENGTH = 128;
export const MAX_ERROR_LENGTH = 500;

export type RefundAnswer =
  /** Money moved. `referenceMalformed`: the reference was unreadable and is kept truncated and flagged. */
  | { kind: 'succeeded'; paymentRef: string; referenceMalformed: boolean }
  | { kind: 'failed'; error: string }
  /** The result arrives later as a command. */
  | { kind: 'accepted' }
  /** Not a definite answer: retried with the same key. */
  | { kind: 'unknown'; reason: string };

export type InterceptionAnswer =
  | { kind: 'succeeded' }
  | { kind: 'failed'; note: string | null }
  | { kind: 'accepted' }
  | { kind: 'unknown'; reason: string };

/** What a reconciliation query (`status(key)`) answers: a refund answer, or "no such request". */
export type RefundStatusAnswer = RefundAnswer | { kind: 'notFound' };
export type InterceptionStatusAnswer = InterceptionAnswer | { kind: 'notFound' };

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** A short, storable rendering of whatever came back, for the record and for people. */
function describe(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return sanitizeText(text, 200);
}

function statusOf(raw: unknown): string | undefined {
  return isObject(raw) && typeof raw.status === 'string' ? raw.status : undefined;
}

function readReference(value: unknown): { paymentRef: string; referenceMalformed: boolean } {
  if (typeof value === 'string' && value.length > 0) {
    const paymentRef = sanitizeText(value, MAX_REFERENCE_LENGTH);
    return { paymentRef, referenceMalformed: paymentRef !== value };
  }
  const kept = sanitizeText(`unreadable:${describe(value)}`, MAX_REFERENCE_LENGTH);
  return { paymentRef: kept, referenceMalformed: true };
}

function readText(value: unknown, fallback: string, max: number): string {
  const text = typeof value === 'string' ? sanitizeText(value.trim(), max) : '';
  return text.length > 0 ? text : fallback;
}

/** Reads a payment service's answer to `refund` (or to `status` when `allowNotFound`). */
export function readRefundAnswer(raw: unknown): RefundAnswer;
export function readRefundAnswer(raw: unknown, allowNotFound: true): RefundStatusAnswer;
export function readRefundAnswer(raw: unknown, allowNotFound = false): RefundStatusAnswer {
  const status = statusOf(raw);
  const answer = raw as Record<string, unknown>;
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded', ...readReference(answer.paymentRef) };
    case 'failed':
      return { kind: 'failed', error: readText(answer.error, 'declined without a reason', MAX_ERROR_LENGTH) };
    case 'accepted':
      return { kind: 'accepted' };
    case 'notFound':
      if (allowNotFound) return { kind: 'notFound' };
      break;
  }
  return { kind: 'unknown', reason: `unreadable payment answer: ${describe(raw)}` };
}

/** Reads a logistics service's answer to `intercept` (or to `status` when `allowNotFound`). */
export function readInterceptionAnswer(raw: unknown): InterceptionAnswer;
export function readInterceptionAnswer(raw: unknown, allowNotFound: true): InterceptionStatusAnswer;
export function readInterceptionAnswer(raw: unknown, allowNotFound = false): InterceptionStatusAnswer {
  const status = statusOf(raw);
  const answer = raw as Record<string, unknown>;
  switch (status) {
    case 'succeeded':
      return { kind: 'succeeded' };
    case 'failed': {
      const note = typeof answer.note === 'string' ? sanitizeText(answer.note, MAX_ERROR_LENGTH) : '';
      return { kind: 'failed', note: note.length > 0 ? note : null };
    }
    case 'accepted':
      return { kind: 'accepted' };
    case 'notFound':
      if (allowNotFound) return { kind: 'notFound' };
      break;
  }
  return { kind: 'unknown', reason: `unreadable logistics answer: ${describe(raw)}` };
}

/**
 * INV1: a payment decline that comes from outside the runtime (a provider's webhook, an operator's
 * script) must name the request it declines. A keyless decline would be taken for the request in flight
 * while that request may have moved the money, and the cancel order would make a new request under a
 * new key: two refunds. The runtime's own outbox always names the key; a client's decline without one is
 * refused here (InvalidPayloadError, nothing written).
 *
 * A keyless *success* is accepted on purpose: it can only end a refund (it never starts one, so it cannot
 * cause a second), and refusing it could lose the record of money that moved (INV6).
 */
export function requireDeclineKey(raw: unknown): void {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
  const event = raw as Record<string, unknown>;
  if (event.type === 'payment.refundFailed' && event.idempotencyKey === undefined) {
    throw new InvalidPayloadError([{ path: 'idempotencyKey', message: 'a payment decline names the request it declines (its idempotencyKey)' }]);
  }
}
