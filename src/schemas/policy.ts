import * as z from 'zod';

/**
 * The `policy` input: one setting per [I] rule that changes a transition (DOMAIN.md, Settings). Each is
 * an enum of named behaviours whose first value is the default, today's behaviour. Guards read them;
 * invariants, C3 and C4 are not settings.
 */

/** D1 [I]: how many disputes may be open on one order at a time. */
export const DisputesPerOrder = z.enum(['one', 'several']);
/** C2 [I]: what the merchant's approval of a shipped, JD-delivered order does. */
export const ShippedJdApproval = z.enum(['intercept', 'refundAtOnce']);
/** C5 [I]: until when the customer may withdraw a cancel order. */
export const CancelOrderWithdrawal = z.enum(['whilePendingReview', 'never']);
/** D8 [I]: until when the customer may withdraw a dispute. */
export const DisputeWithdrawal = z.enum(['untilResolved', 'untilPlanAccepted', 'never']);
/** D6 [I]: which cancel order carries the refund of a ruling against the merchant. */
export const RulingRefundRoute = z.enum(['cancelOrderInFlight', 'ownCancelOrder']);
/** D9 [I]: whether refused attempts are kept, apart from the audit trail (INV4 holds either way). */
export const RefusalLog = z.enum(['none', 'separate']);
/** A1–A4 [I]: appeals of a ruling; off keeps the notice's behaviour (a ruling is final). */
export const Appeals = z.enum(['off', 'on']);

export const PolicySettings = z.strictObject({
  disputesPerOrder: DisputesPerOrder,
  shippedJdApproval: ShippedJdApproval,
  cancelOrderWithdrawal: CancelOrderWithdrawal,
  disputeWithdrawal: DisputeWithdrawal,
  rulingRefundRoute: RulingRefundRoute,
  refusalLog: RefusalLog,
  appeals: Appeals,
});
export type PolicySettings = z.infer<typeof PolicySettings>;
export type PolicyName = keyof PolicySettings;

/** Today's behaviour: every setting at its first value. */
export const DEFAULT_POLICY: PolicySettings = Object.freeze({
  disputesPerOrder: 'one',
  shippedJdApproval: 'intercept',
  cancelOrderWithdrawal: 'whilePendingReview',
  disputeWithdrawal: 'untilResolved',
  rulingRefundRoute: 'cancelOrderInFlight',
  refusalLog: 'none',
  appeals: 'off',
});

/** The rule each setting configures, for docs and errors. */
export const POLICY_RULES: Readonly<Record<PolicyName, string>> = Object.freeze({
  disputesPerOrder: 'D1',
  shippedJdApproval: 'C2',
  cancelOrderWithdrawal: 'C5',
  disputeWithdrawal: 'D8',
  rulingRefundRoute: 'D6',
  refusalLog: 'D9',
  appeals: 'A1',
});

/** Per-workflow overrides merged over the defaults. */
export function resolvePolicy(overrides: Partial<PolicySettings> = {}): PolicySettings {
  return PolicySettings.parse({ ...DEFAULT_POLICY, ...overrides });
}
