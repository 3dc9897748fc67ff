/**
 * The machines' own helpers, called directly: timeOf and delayNameOf (machines/time.ts), which date every
 * event without a clock (INV5: a restored workflow computes the same times), and policyIs
 * (machines/policy.ts), the one guard that reads the `policy` input.
 */
import { describe, expect, it } from 'vitest';
import { policyIs } from '../../machines/policy.js';
import { delayNameOf, TIMER_SENDER, timeOf } from '../../machines/time.js';
import { DEFAULT_POLICY } from '../../src/schemas/policy.js';

const context = { now: 1_000, deadlines: { merchantResponseWindow: 5_000, refundRetryBackoff: 7_000 } };

describe('timeOf and delayNameOf (INV5: times come from events, never from a clock)', () => {
  it('INV5: an event with an at is dated by it, even a delayed one', () => {
    expect(timeOf(context, { type: 'merchant.planSubmitted', at: 2_500 } as never)).toBe(2_500);
    expect(timeOf(context, { type: 'xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', at: 0 } as never)).toBe(0);
  });

  it('INV5: a delayed event is dated by the deadline that fired, not by the last event', () => {
    expect(timeOf(context, { type: 'xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice' })).toBe(5_000);
    expect(timeOf(context, { type: 'xstate.after.refundRetryBackoff.cancellation.refunding.backingOff' })).toBe(7_000);
  });

  it('INV5: an event with no at and no recorded deadline is dated by the last event', () => {
    expect(timeOf(context, { type: 'xstate.init' })).toBe(1_000);
    expect(timeOf(context, { type: 'xstate.after.interceptWindow.cancellation.logisticsFollowUp' })).toBe(1_000);
    expect(timeOf(context, { type: 'order.shipped', at: 'soon' } as never)).toBe(1_000);
  });

  it('INV5: delayNameOf names the delay of an xstate.after event, and of nothing else', () => {
    expect(delayNameOf('xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice')).toBe('merchantResponseWindow');
    expect(delayNameOf('xstate.after.1000.dispute.ruled')).toBe('1000');
    expect(delayNameOf('xstate.after.window2.x')).toBe('window2');
    expect(delayNameOf('order.xstate.after.window.x')).toBeUndefined();
    expect(delayNameOf('xstate.after.window')).toBeUndefined();
    expect(delayNameOf('xstate.after..x')).toBeUndefined();
    expect(delayNameOf('xstate.after.refund-window.x')).toBeUndefined();
    expect(delayNameOf('xstate.done.actor.dispute')).toBeUndefined();
  });

  it('INV2: the timer that triggers a refund is named as the system timer', () => {
    expect(TIMER_SENDER).toEqual({ role: 'system', id: 'timer' });
  });
});

describe('policyIs (C2, C5, D6, D8, A1: the policy input)', () => {
  const policy = { ...DEFAULT_POLICY, cancelOrderWithdrawal: 'never' as const };

  it('C5: holds when the named setting has the value, not otherwise', () => {
    expect(policyIs({ context: { policy } }, { cancelOrderWithdrawal: 'never' })).toBe(true);
    expect(policyIs({ context: { policy } }, { cancelOrderWithdrawal: 'whilePendingReview' })).toBe(false);
  });

  it('C2/C5: with several settings named, holds only when every one has its value', () => {
    expect(policyIs({ context: { policy } }, { cancelOrderWithdrawal: 'never', shippedJdApproval: 'intercept' })).toBe(true);
    expect(policyIs({ context: { policy } }, { cancelOrderWithdrawal: 'never', shippedJdApproval: 'refundAtOnce' })).toBe(false);
    expect(policyIs({ context: { policy } }, { shippedJdApproval: 'refundAtOnce', cancelOrderWithdrawal: 'never' })).toBe(false);
  });

  it('C2: naming no setting holds under every policy', () => {
    expect(policyIs({ context: { policy } }, {})).toBe(true);
  });
});
