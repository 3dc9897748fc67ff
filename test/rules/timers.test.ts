import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMERS, resolveTimers } from '../../src/schemas/timers.js';
import { DIRECT_REFUND_ID, HOUR, INTERCEPT_ID, openDispute, refundFailed, submitPlan, world } from '../support/world.js';

describe('timer boundaries: 1 ms before the deadline nothing moves, at the deadline it fires', () => {
  it('P3: interceptWindow, 48h', () => {
    const w = world({ deliveredBy: 'JD' });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR - 1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('logisticsFollowUp');
    w.advance(1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('intercepting');
  });

  it('D7: merchantResponseWindow, 48h', () => {
    const w = world();
    openDispute(w);
    w.advance(48 * HOUR - 1);
    expect(w.disputeState()).toBe('awaitingMerchantChoice');
    w.advance(1);
    expect(w.disputeState()).toBe('awaitingPlatformRuling');
  });

  it('D5: customerConfirmationWindow, 72h', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.advance(72 * HOUR - 1);
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
    w.advance(1);
    expect(w.disputeState()).toBe('resolved');
  });

  it('P3e: interceptResultWait, 72h', () => {
    const w = world({ deliveredBy: 'JD' });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    w.advance(48 * HOUR);
    w.advance(72 * HOUR - 1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('intercepting');
    w.advance(1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('interceptFailed');
  });

  it('C4: refundRetryBackoff, 1 min after the first failure', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundFailed(w, DIRECT_REFUND_ID);
    w.advance(60_000 - 1);
    expect(w.refundRequests()).toHaveLength(1);
    w.advance(1);
    expect(w.refundRequests()).toHaveLength(2);
  });

  it('P3: a deployment overrides the window through input timers, and the due time follows', () => {
    const w = world({ timers: { interceptWindow: 2 * HOUR } });
    openDispute(w);
    submitPlan(w, 'WAIT_48H_INTERCEPT');
    const child = { context: w.cancellationContext()! };
    expect(child.context.deadlines.interceptWindow).toBe(2 * HOUR);
    w.advance(2 * HOUR - 1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('logisticsFollowUp');
    w.advance(1);
    expect(w.cancellation(INTERCEPT_ID)).toBe('refunding');
  });

  it('A1: the defaults are the table of DOMAIN.md (plus the INV6 reconcile window, and the appeal window) and overrides are validated', () => {
    expect(DEFAULT_TIMERS).toEqual({
      interceptWindow: 48 * HOUR,
      merchantResponseWindow: 48 * HOUR,
      customerConfirmationWindow: 72 * HOUR,
      interceptResultWait: 72 * HOUR,
      refundRetryBackoff: 60_000,
      refundMaxAttempts: 6,
      refundReconcileWindow: 24 * HOUR,
      // A1: the appeal window, 7 days (DOMAIN.md's Timers table)
      appealWindow: 7 * 24 * HOUR,
    });
    expect(() => resolveTimers({ interceptWindow: -1 })).toThrow();
  });
});
