import * as z from 'zod';

/**
 * The `policy` input: one setting per [I] rule that changes a transition (DOMAIN.md, Settings). Each is
 * an enum of named behaviours whose first value is the default, today's behaviour. Guards read them;
 * invariants, C3 and C4 are not settings.
 */

/**
 * D1 [I]: how many disputes may be open on one order at a time: `one` (the notice's rule), or `several`,
 * each running its own lifecycle and timers, addressed by `disputeId` (X1/INV1 hold across them).
 */
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

/** One setting per [I] rule that changes a transition; each defaults to today's behaviour. */
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
/** The name of a policy setting. */
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

/**
 * What each value of each setting does, one line each (docs/configuration.md's Policy table is generated
 * from this record, the default first).
 */
export const POLICY_VALUES: { readonly [Name in PolicyName]: Readonly<Record<PolicySettings[Name], string>> } = Object.freeze({
  disputesPerOrder: {
    one: 'At most one open dispute per order; another may be opened once it is closed (a second one meanwhile is refused with NotAllowedInStateError).',
    several:
      'Any number of open disputes per order, each with an unused id and its own lifecycle and timers (D2–D8, appeals); an event for a dispute names it in disputeId, which may be left out while only one is open (with several open that is refused: InvalidPayloadError at disputeId). X1/INV1 hold across them: one cancel order in flight, one refund per order.',
  },
  shippedJdApproval: {
    intercept:
      'Approving a pending cancel order of a shipped JD-delivered order intercepts the parcel first (通过并拦截); a successful interception refunds it, a failed one refunds nothing (P3e).',
    refundAtOnce:
      'Approving a pending cancel order of a shipped JD-delivered order refunds at once (trigger merchant), with no interception; unshipped and merchant-delivered orders refund at once under both values.',
  },
  cancelOrderWithdrawal: {
    whilePendingReview: 'The customer may withdraw a cancel order while it is pending review (用户撤销); it closes without refund.',
    never:
      'The customer may not withdraw a cancel order: customer.cancellationWithdrawn is refused (NotAllowedInStateError naming the setting) and changes nothing; the merchant approves or rejects it.',
  },
  disputeWithdrawal: {
    untilResolved: 'The customer may withdraw a dispute until it is resolved (not once it is ruled on).',
    untilPlanAccepted:
      'The customer may withdraw a dispute only while the merchant has not chosen a plan (awaitingMerchantChoice); later it is refused (NotAllowedInStateError naming the setting).',
    never: 'The customer may not withdraw a dispute; customer.disputeWithdrawn is always refused (NotAllowedInStateError naming the setting).',
  },
  rulingRefundRoute: {
    cancelOrderInFlight:
      'A MERCHANT_LIABLE ruling refunds through the cancel order in flight when there is one (it keeps its reason and is listed under 平台判责退款 by its refund reason), otherwise through its own cancel order with reason PLATFORM_RULING_REFUND.',
    ownCancelOrder:
      'A MERCHANT_LIABLE ruling always refunds through its own cancel order with reason PLATFORM_RULING_REFUND: a cancel order in flight with no refund started (pending review, 48H follow-up, intercepting, interception failed) is closed first as closedWithoutRefund (关闭未退款); one whose refund was started (refunding, outcome unknown, refund failed) carries the ruling instead, never a second refund (INV1).',
  },
  refusalLog: {
    none: 'Refused attempts are not kept (the audit trail holds accepted events only).',
    separate:
      'Refused attempts are kept in a separate, capped log of refusals that never touches the audit trail, the version or the sequence (INV4 holds).',
  },
  appeals: {
    off: "A ruling is final (the notice's behaviour).",
    on: 'A ruling opens an appeal window (timers.appealWindow); the side ruled against may appeal once with new evidence, and the platform upholds or overturns (A1–A4).',
  },
});

/** Per-workflow overrides merged over the defaults. */
export function resolvePolicy(overrides: Partial<PolicySettings> = {}): PolicySettings {
  return PolicySettings.parse({ ...DEFAULT_POLICY, ...overrides });
}
