import * as z from 'zod';

const HOUR = 3_600_000;

/** The 48H interception window of the notice (P3). */
export const INTERCEPT_WINDOW_MS = 48 * HOUR;
/** D7 [I]: merchant response window. */
export const MERCHANT_RESPONSE_WINDOW_MS = 48 * HOUR;
/** D5 [I]: customer confirmation window. */
export const CUSTOMER_CONFIRMATION_WINDOW_MS = 72 * HOUR;
/** P3e [I]: how long to wait for JD logistics' interception result. */
export const INTERCEPT_RESULT_WAIT_MS = 72 * HOUR;
/** C4 [I]: first refund retry backoff; it doubles on every failure. */
export const REFUND_RETRY_BACKOFF_MS = 60_000;
/** C4 [I]: refund attempts before the cancel order reports failure. */
export const REFUND_MAX_ATTEMPTS = 6;
/** INV6 [I]: how long a refund request may stay without an answer before its outcome counts as unknown. */
export const REFUND_RECONCILE_WINDOW_MS = 24 * HOUR;
/** A1 [I]: how long the side ruled against may appeal a ruling (only with `policy.appeals: 'on'`). */
export const APPEAL_WINDOW_MS = 7 * 24 * HOUR;

/** The named delays of the machines, each backed by one constant. */
export const TimerName = z.enum([
  'interceptWindow',
  'merchantResponseWindow',
  'customerConfirmationWindow',
  'interceptResultWait',
  'refundRetryBackoff',
  'refundReconcileWindow',
  'appealWindow',
]);
export type TimerName = z.infer<typeof TimerName>;

const Duration = z
  .number()
  .int()
  .positive()
  .max(365 * 24 * HOUR);

/** A duration (ms) for every named delay; a deployment may override them. */
export const TimerSettings = z.strictObject({
  interceptWindow: Duration,
  merchantResponseWindow: Duration,
  customerConfirmationWindow: Duration,
  interceptResultWait: Duration,
  refundRetryBackoff: Duration,
  refundMaxAttempts: z.number().int().min(1).max(20),
  refundReconcileWindow: Duration,
  appealWindow: Duration,
});
export type TimerSettings = z.infer<typeof TimerSettings>;

/** The durations of JD's policy: 48H interception, 48H merchant response, and the others. */
export const DEFAULT_TIMERS: TimerSettings = Object.freeze({
  interceptWindow: INTERCEPT_WINDOW_MS,
  merchantResponseWindow: MERCHANT_RESPONSE_WINDOW_MS,
  customerConfirmationWindow: CUSTOMER_CONFIRMATION_WINDOW_MS,
  interceptResultWait: INTERCEPT_RESULT_WAIT_MS,
  refundRetryBackoff: REFUND_RETRY_BACKOFF_MS,
  refundMaxAttempts: REFUND_MAX_ATTEMPTS,
  refundReconcileWindow: REFUND_RECONCILE_WINDOW_MS,
  appealWindow: APPEAL_WINDOW_MS,
});

/** Per-deployment overrides merged over the defaults. */
export function resolveTimers(overrides: Partial<TimerSettings> = {}): TimerSettings {
  return TimerSettings.parse({ ...DEFAULT_TIMERS, ...overrides });
}

/** C4: backoff before retry number `attempt + 1`, after `attempt` failures. */
export function refundBackoffMs(timers: TimerSettings, failedAttempts: number): number {
  return timers.refundRetryBackoff * 2 ** Math.max(0, failedAttempts - 1);
}
