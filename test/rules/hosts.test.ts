import { afterAll, describe, expect, it } from 'vitest';
import { HOST_NAMES, play, type HostName, type Outcome, type OutsideWorld, type Run, type Step } from '../support/hosts.js';
import { CUSTOMER, HOUR, MERCHANT, PLATFORM, SYSTEM, VALID_EVIDENCE } from '../support/world.js';

/**
 * Issue 11, one host: every rule scenario runs on the in-memory host and on the durable runtime on
 * SQLite, and both must say the same thing, event for event: the same answers (accepted, or the same
 * typed error), the same audit trail (seq, time, role, actor, event, resulting state), the same effects,
 * cancel orders and disputes. Each scenario also checks what its rule says, on both hosts.
 */

const MINUTE = 60_000;

interface Scenario {
  /** Rule IDs first. */
  name: string;
  input?: Record<string, unknown>;
  world?: OutsideWorld;
  steps: Step[];
  /** What the rule says, checked on each host's run. */
  then(run: Run): void;
}

// --- the script's words --------------------------------------------------------------------------

const send = (event: Record<string, unknown>, refused?: string): Step => ({ send: event, ...(refused ? { refused } : {}) });
const advance = (ms: number): Step => ({ advance: ms });
const opened = (disputeId = 'd', refused?: string) => send({ type: 'dispute.opened', by: CUSTOMER, disputeId }, refused);
const plan = (p: string, refused?: string, extra: Record<string, unknown> = {}) =>
  send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p, ...extra }, refused);
const evidencePlan = () => plan('PLATFORM_RULING', undefined, { evidence: VALID_EVIDENCE });
const submitted = (cancellationId: string, refused?: string) => send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId }, refused);
const merchant = (type: string, cancellationId: string, refused?: string) =>
  send({ type: `merchant.${type}`, by: MERCHANT, cancellationId }, refused);
const confirmed = (refused?: string) => send({ type: 'customer.settlementConfirmed', by: CUSTOMER }, refused);
const objected = () => send({ type: 'customer.settlementObjected', by: CUSTOMER });
const ruled = (ruling: 'MERCHANT_LIABLE' | 'MERCHANT_NOT_LIABLE', refused?: string) =>
  send({ type: 'platform.ruled', by: PLATFORM, ruling }, refused);

const orders = (run: Run) => run.cancelOrders.map((o) => [o.cancellationId, o.status, o.reason, o.refundTrigger?.kind ?? null]);
const disputes = (run: Run) => run.disputes.map((d) => [d.disputeId, d.status, d.plan]);
const timers = (run: Run) => run.audit.filter((row) => row.actorId === 'timer').map((row) => [row.eventType.split('.')[2], row.at]);
const refused = (run: Run) => run.outcomes.filter((outcome): outcome is Extract<Outcome, { ok: false }> => !outcome.ok).map((o) => o.error);
const key = (cancellationId: string, n: number) => `order-1/${cancellationId}/${n}`;

// Appeals (A1–A4): only with policy.appeals 'on'
const APPEALS = { policy: { appeals: 'on' } };
const DAY = 24 * HOUR;
const COMPENSATION_KEY = 'order-1/d/compensation';
const merchantAppealed = (refused?: string) =>
  send(
    {
      type: 'merchant.rulingAppealed',
      by: MERCHANT,
      evidence: {
        reason: 'GOODS_ALREADY_DELIVERED',
        proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1.jpg', sizeBytes: 90_000 }],
        explanation: 'The customer signed for the parcel the day before the cancellation.',
      },
    },
    refused,
  );
const customerAppealed = (refused?: string) =>
  send(
    {
      type: 'customer.rulingAppealed',
      by: CUSTOMER,
      evidence: {
        reason: 'MERCHANT_AGREED_TO_CANCEL',
        proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat-7.png', sizeBytes: 40_000 }],
        explanation: 'The shop agreed in chat to cancel the order before it was shipped.',
      },
    },
    refused,
  );
const appealDecided = (decision: 'Upheld' | 'Overturned', refused?: string) =>
  send({ type: `platform.appeal${decision}`, by: PLATFORM }, refused);
const effectTypes = (run: Run) => run.effects.map((effect) => JSON.parse(effect).type as string);

const SCENARIOS: Scenario[] = [
  {
    name: 'D1/D2/D3/D5: a settlement plan goes to the customer, who confirms; a second dispute, a second plan and a wrong role are refused',
    steps: [
      opened(),
      opened('d2', 'NotAllowedInStateError'),
      send({ type: 'merchant.planSubmitted', by: CUSTOMER, plan: 'NEGOTIATED_REJECT' }, 'WrongRoleError'),
      advance(HOUR),
      plan('NEGOTIATED_REJECT'),
      plan('DIRECT_REFUND', 'NotAllowedInStateError'),
      advance(2 * HOUR),
      confirmed(),
    ],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError', 'WrongRoleError', 'NotAllowedInStateError']);
      expect(disputes(run)).toEqual([['d', 'resolved', 'NEGOTIATED_REJECT']]);
      expect(run.cancelOrders).toEqual([]);
      expect(run.effects.map((effect) => JSON.parse(effect).kind)).toEqual(['CUSTOMER_CONFIRMATION_REQUESTED']);
    },
  },
  {
    name: 'D4/D6: the evidence plan goes to a ruling; MERCHANT_LIABLE refunds through a 平台判责退款 cancel order',
    steps: [
      opened(),
      plan('PLATFORM_RULING', 'InvalidPayloadError'),
      advance(HOUR),
      evidencePlan(),
      advance(4 * HOUR),
      ruled('MERCHANT_LIABLE'),
    ],
    then: (run) => {
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'D6: MERCHANT_NOT_LIABLE resolves the dispute without any refund',
    steps: [opened(), evidencePlan(), advance(HOUR), ruled('MERCHANT_NOT_LIABLE'), ruled('MERCHANT_LIABLE', 'FinalStateError')],
    then: (run) => {
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(run.cancelOrders).toEqual([]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'D5: an objection escalates to the platform',
    steps: [opened(), plan('DIRECT_REFUND'), advance(HOUR), objected(), ruled('MERCHANT_NOT_LIABLE')],
    then: (run) => {
      expect(run.audit.map((row) => row.resultingState)).toContainEqual(expect.objectContaining({ dispute: 'awaitingPlatformRuling' }));
      // the direct refund already happened (P1); the ruling changes nothing (INV1)
      expect(orders(run)).toEqual([['d:direct-refund', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'disputePlan']]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'DIRECT_REFUND']]);
    },
  },
  {
    name: 'D5: silence confirms the settlement after 72h, not a millisecond before',
    steps: [opened(), plan('NEGOTIATED_REJECT'), advance(72 * HOUR - 1), advance(1), confirmed('FinalStateError')],
    then: (run) => {
      expect(timers(run)).toEqual([['customerConfirmationWindow', 72 * HOUR]]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'NEGOTIATED_REJECT']]);
      expect(refused(run)).toEqual(['FinalStateError']);
    },
  },
  {
    name: 'D7: a merchant silent for 48h is escalated to the platform; its late plan is refused',
    steps: [opened(), advance(48 * HOUR), plan('DIRECT_REFUND', 'NotAllowedInStateError'), ruled('MERCHANT_LIABLE')],
    then: (run) => {
      expect(timers(run)).toEqual([['merchantResponseWindow', 48 * HOUR]]);
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
    },
  },
  {
    name: 'D8/D1: the customer withdraws the dispute; another one may open',
    steps: [
      opened(),
      advance(HOUR),
      send({ type: 'customer.disputeWithdrawn', by: CUSTOMER }),
      opened('d2'),
      opened('d', 'NotAllowedInStateError'),
    ],
    then: (run) => {
      expect(disputes(run)).toEqual([
        ['d', 'withdrawn', null],
        ['d2', 'awaitingMerchantChoice', null],
      ]);
    },
  },
  {
    name: 'P1/C4: DIRECT_REFUND refunds at once through its own cancel order; a declined request is retried after 1 min under a new key',
    world: { declines: { 'd:direct-refund': 1 } },
    steps: [opened(), advance(HOUR), plan('DIRECT_REFUND'), advance(MINUTE - 1), advance(1), advance(HOUR), confirmed()],
    then: (run) => {
      expect(run.refundCalls).toEqual([
        { key: key('d:direct-refund', 1), result: 'declined' },
        { key: key('d:direct-refund', 2), result: 'executed' },
      ]);
      expect(timers(run)).toEqual([['refundRetryBackoff', HOUR + MINUTE]]);
      expect(orders(run)).toEqual([['d:direct-refund', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'disputePlan']]);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'P2: NEGOTIATED_REJECT leaves the pending customer cancel order to the merchant, who rejects it by hand',
    steps: [
      submitted('c'),
      opened(),
      advance(HOUR),
      plan('NEGOTIATED_REJECT'),
      advance(HOUR),
      merchant('cancellationRejected', 'c'),
      confirmed(),
    ],
    then: (run) => {
      expect(run.effects.map((effect) => JSON.parse(effect).kind).sort()).toEqual([
        'CUSTOMER_CONFIRMATION_REQUESTED',
        'REJECT_PENDING_CANCELLATION',
      ]);
      expect(orders(run)).toEqual([['c', 'rejected', 'CUSTOMER_REQUEST', null]]);
      expect(run.audit.filter((row) => row.eventType === 'merchant.cancellationRejected').map((row) => row.role)).toEqual(['merchant']);
    },
  },
  {
    name: 'P3a: WAIT_48H_INTERCEPT on a merchant-delivered order refunds automatically at 48H, not a millisecond before',
    steps: [opened(), plan('WAIT_48H_INTERCEPT'), advance(48 * HOUR - 1), advance(1)],
    then: (run) => {
      expect(timers(run)).toEqual([['interceptWindow', 48 * HOUR]]);
      expect(orders(run)).toEqual([['d:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'timer']]);
      expect(run.audit.find((row) => row.eventType === 'payment.refundSucceeded')?.at).toBe(48 * HOUR);
    },
  },
  {
    name: 'P3b: JD-delivered and shipped: 48H → 通过并拦截 → the interception succeeds → refund',
    input: { deliveredBy: 'JD', shipped: true },
    steps: [opened(), advance(HOUR), plan('WAIT_48H_INTERCEPT'), advance(48 * HOUR)],
    then: (run) => {
      expect(run.audit.map((row) => row.eventType)).toEqual([
        'dispute.opened',
        'merchant.planSubmitted',
        'xstate.after.interceptWindow.cancellation.logisticsFollowUp',
        'logistics.interceptSucceeded',
        'payment.refundSucceeded',
      ]);
      expect(orders(run)).toEqual([['d:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'logisticsCallback']]);
    },
  },
  {
    name: 'P3c: the merchant approves within the 48H; the window never fires',
    steps: [opened(), plan('WAIT_48H_INTERCEPT'), advance(10 * HOUR), merchant('cancellationApproved', 'd:intercept-48h'), advance(48 * HOUR)],
    then: (run) => {
      expect(timers(run).map(([timer]) => timer)).not.toContain('interceptWindow');
      expect(orders(run)).toEqual([['d:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'merchant']]);
    },
  },
  {
    name: 'P3d: the order completes before the 48H and the merchant does not refund: closed without refund',
    steps: [opened(), plan('WAIT_48H_INTERCEPT'), advance(10 * HOUR), send({ type: 'order.completed', by: SYSTEM }), advance(38 * HOUR)],
    then: (run) => {
      expect(orders(run)).toEqual([['d:intercept-48h', 'closedWithoutRefund', 'INTERCEPT_48H_DISPUTE_PLAN', null]]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'P3d/C1: the order completes while a customer cancel order is in flight: the order itself knows it, so a later 48H plan closes without refund and no new customer cancel order is taken',
    steps: [
      submitted('c'),
      send({ type: 'order.completed', by: SYSTEM }),
      send({ type: 'order.completed', by: SYSTEM }, 'NotAllowedInStateError'),
      merchant('cancellationRejected', 'c'),
      submitted('c2', 'NotAllowedInStateError'),
      opened(),
      plan('WAIT_48H_INTERCEPT'),
      advance(48 * HOUR),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([
        ['c', 'rejected', 'CUSTOMER_REQUEST', null],
        ['d:intercept-48h', 'closedWithoutRefund', 'INTERCEPT_48H_DISPUTE_PLAN', null],
      ]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'P3e: the interception fails: nothing is refunded automatically; the merchant closes without refund',
    input: { deliveredBy: 'JD', shipped: true },
    world: { interception: 'failed' },
    steps: [opened(), plan('WAIT_48H_INTERCEPT'), advance(48 * HOUR), merchant('closedWithoutRefund', 'd:intercept-48h')],
    then: (run) => {
      expect(run.audit.map((row) => row.resultingState)).toContainEqual(expect.objectContaining({ cancellation: 'interceptFailed' }));
      expect(orders(run)).toEqual([['d:intercept-48h', 'closedWithoutRefund', 'INTERCEPT_48H_DISPUTE_PLAN', null]]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'P3e: no interception result within interceptResultWait counts as failed; the merchant forces the refund',
    input: { deliveredBy: 'JD', shipped: true },
    world: { interception: 'accepted' },
    steps: [opened(), plan('WAIT_48H_INTERCEPT'), advance(48 * HOUR), advance(72 * HOUR), merchant('refundForced', 'd:intercept-48h')],
    then: (run) => {
      expect(timers(run)).toEqual(
        [
          ['interceptWindow', 48 * HOUR],
          ['interceptResultWait', 120 * HOUR],
          ['customerConfirmationWindow', 72 * HOUR],
        ].sort((a, b) => Number(a[1]) - Number(b[1])),
      );
      expect(orders(run)).toEqual([['d:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'merchant']]);
    },
  },
  {
    name: 'C1/C2: a customer cancel order of an unshipped order is approved and refunded; a second one meanwhile is refused',
    steps: [submitted('c1'), submitted('c2', 'NotAllowedInStateError'), advance(HOUR), merchant('cancellationApproved', 'c1')],
    then: (run) => {
      expect(orders(run)).toEqual([['c1', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'C1/C3: a rejected cancel order is final; a new one may follow; none after the order completed',
    steps: [
      submitted('c1'),
      merchant('cancellationRejected', 'c1'),
      merchant('cancellationApproved', 'c1', 'FinalStateError'),
      submitted('c2'),
      send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'c2' }),
      send({ type: 'order.completed', by: SYSTEM }),
      submitted('c3', 'NotAllowedInStateError'),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([
        ['c1', 'rejected', 'CUSTOMER_REQUEST', null],
        ['c2', 'withdrawn', 'CUSTOMER_REQUEST', null],
      ]);
    },
  },
  {
    name: 'C2: approving a cancel order of a shipped JD-delivered order intercepts the parcel first',
    input: { deliveredBy: 'JD', shipped: true },
    steps: [submitted('c'), advance(HOUR), merchant('cancellationApproved', 'c')],
    then: (run) => {
      expect(run.audit.map((row) => row.eventType)).toEqual([
        'cancellation.submitted',
        'merchant.cancellationApproved',
        'logistics.interceptSucceeded',
        'payment.refundSucceeded',
      ]);
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'logisticsCallback']]);
    },
  },
  {
    name: 'C4: every request declined: refundFailed and a notice to the merchant; a forced refund retries under new keys',
    input: { timers: { refundMaxAttempts: 2 } },
    world: { declines: { c: 2 } },
    steps: [submitted('c'), merchant('cancellationApproved', 'c'), advance(MINUTE), merchant('refundForced', 'c'), advance(MINUTE)],
    then: (run) => {
      expect(run.refundCalls).toEqual([1, 2, 3, 4].map((n) => ({ key: key('c', n), result: 'declined' })));
      expect(run.effects.map((effect) => JSON.parse(effect).kind).filter(Boolean)).toEqual(['REFUND_FAILED', 'REFUND_FAILED']);
      expect(orders(run)).toEqual([['c', 'refundFailed', 'CUSTOMER_REQUEST', 'merchant']]);
    },
  },
  {
    name: 'C5: the customer withdraws a cancel order pending review; it closes without refund',
    steps: [
      submitted('c'),
      advance(HOUR),
      send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'c' }),
      merchant('cancellationApproved', 'c', 'FinalStateError'),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'withdrawn', 'CUSTOMER_REQUEST', null]]);
    },
  },
  {
    name: "X1 fail: refund plans are refused while the customer's cancel order is pending; the merchant approves it directly",
    steps: [
      submitted('c'),
      opened(),
      advance(HOUR),
      plan('DIRECT_REFUND', 'ConflictingCancellationError'),
      plan('WAIT_48H_INTERCEPT', 'ConflictingCancellationError'),
      merchant('cancellationApproved', 'c'),
      plan('DIRECT_REFUND', 'ConflictingCancellationError'),
      plan('NEGOTIATED_REJECT'),
      confirmed(),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'NEGOTIATED_REJECT']]);
      expect(run.status).toBe('done');
    },
  },
  {
    name: "X1 adopt: DIRECT_REFUND runs on the customer's pending cancel order",
    input: { conflictPolicy: 'adopt' },
    steps: [submitted('c'), opened(), advance(HOUR), plan('DIRECT_REFUND')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'disputePlan']]);
      expect(run.refundCalls).toEqual([{ key: key('c', 1), result: 'executed' }]);
    },
  },
  {
    name: "X1 adopt: WAIT_48H_INTERCEPT runs on the customer's pending cancel order",
    input: { conflictPolicy: 'adopt' },
    steps: [submitted('c'), opened(), plan('WAIT_48H_INTERCEPT'), advance(48 * HOUR)],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'timer']]);
    },
  },
  {
    name: 'D6/INV1: a ruling against the merchant drives the cancel order in flight instead of opening a second one',
    steps: [submitted('c'), opened(), evidencePlan(), advance(HOUR), ruled('MERCHANT_LIABLE')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'platformRuling']]);
    },
  },
  // Issue 15, the policy input: one scenario per non-default value (all values: test/rules/policy.test.ts)
  {
    name: 'C2 refundAtOnce (policy): approving a shipped JD order refunds at once, no interception',
    input: { deliveredBy: 'JD', shipped: true, policy: { shippedJdApproval: 'refundAtOnce' } },
    steps: [submitted('c'), merchant('cancellationApproved', 'c')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
      expect(run.effects.map((effect) => JSON.parse(effect).type)).not.toContain('effect.interceptionRequested');
    },
  },
  {
    name: 'C5 never (policy): the customer cannot withdraw a pending cancel order; the merchant rejects it',
    input: { policy: { cancelOrderWithdrawal: 'never' } },
    steps: [
      submitted('c'),
      send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'c' }, 'NotAllowedInStateError'),
      merchant('cancellationRejected', 'c'),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'rejected', 'CUSTOMER_REQUEST', null]]);
    },
  },
  {
    name: 'D8 untilPlanAccepted (policy): withdrawal refused once a plan is accepted',
    input: { policy: { disputeWithdrawal: 'untilPlanAccepted' } },
    steps: [
      opened(),
      plan('NEGOTIATED_REJECT'),
      send({ type: 'customer.disputeWithdrawn', by: CUSTOMER }, 'NotAllowedInStateError'),
      confirmed(),
    ],
    then: (run) => {
      expect(disputes(run)).toEqual([['d', 'resolved', 'NEGOTIATED_REJECT']]);
    },
  },
  {
    name: 'D6 ownCancelOrder (policy): the pending customer cancel order closes, the ruling refunds through its own cancel order',
    input: { policy: { rulingRefundRoute: 'ownCancelOrder' } },
    steps: [submitted('c'), opened(), evidencePlan(), advance(HOUR), ruled('MERCHANT_LIABLE')],
    then: (run) => {
      expect(orders(run)).toEqual([
        ['c', 'closedWithoutRefund', 'CUSTOMER_REQUEST', null],
        ['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling'],
      ]);
      expect(run.refundCalls).toHaveLength(1);
    },
  },
  {
    name: "A1/A4/INV1: the merchant appeals MERCHANT_LIABLE and wins: exactly one compensation under one key, the customer's refund untouched",
    input: APPEALS,
    steps: [
      opened(),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_LIABLE'),
      customerAppealed('NotAllowedInStateError'),
      advance(DAY),
      merchantAppealed(),
      merchantAppealed('NotAllowedInStateError'),
      advance(DAY),
      appealDecided('Overturned'),
      appealDecided('Overturned', 'FinalStateError'),
    ],
    then: (run) => {
      expect(run.compensationCalls).toEqual([{ key: COMPENSATION_KEY, result: 'executed' }]);
      expect(run.refundCalls).toEqual([{ key: key('d:ruling-refund', 1), result: 'executed' }]);
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(run.audit.map((row) => row.eventType).slice(-2)).toEqual(['platform.appealOverturned', 'payment.compensationSucceeded']);
      expect(effectTypes(run).filter((type) => type === 'effect.compensationRequested')).toHaveLength(1);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'A1/A3/INV1: the customer appeals MERCHANT_NOT_LIABLE and wins: exactly one refund, through a 平台判责退款 cancel order',
    input: APPEALS,
    steps: [
      opened(),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_NOT_LIABLE'),
      merchantAppealed('NotAllowedInStateError'),
      advance(6 * DAY),
      customerAppealed(),
      advance(3 * DAY),
      appealDecided('Overturned'),
    ],
    then: (run) => {
      expect(run.refundCalls).toEqual([{ key: key('d:ruling-refund', 1), result: 'executed' }]);
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
      expect(run.compensationCalls).toEqual([]);
      expect(timers(run)).toEqual([]);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'A1/A2/INV3: no appeal: the window closes the dispute with the ruling at 7 days, not a millisecond before; a late appeal is refused',
    input: APPEALS,
    steps: [
      opened(),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_NOT_LIABLE'),
      advance(7 * DAY - 1),
      advance(1),
      customerAppealed('FinalStateError'),
    ],
    then: (run) => {
      expect(timers(run)).toEqual([['appealWindow', HOUR + 7 * DAY]]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(run.cancelOrders).toEqual([]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'A2: the platform upholds the appeal: the ruling and its refund stand, nothing is compensated',
    input: APPEALS,
    steps: [opened(), evidencePlan(), ruled('MERCHANT_LIABLE'), merchantAppealed(), advance(DAY), appealDecided('Upheld'), advance(7 * DAY)],
    then: (run) => {
      expect(run.compensationCalls).toEqual([]);
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
      expect(effectTypes(run)).not.toContain('effect.compensationRequested');
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'A1: appeals off (the default): the ruling is final and no appeal is taken',
    steps: [opened(), evidencePlan(), ruled('MERCHANT_NOT_LIABLE'), customerAppealed('FinalStateError'), advance(8 * DAY)],
    then: (run) => {
      expect(timers(run)).toEqual([]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
    },
  },
];

describe.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', (_name, scenario) => {
  const runs = new Map<HostName, Run>();

  it.each(HOST_NAMES)('on the %s host, as the rule says', async (name) => {
    const run = await play(name, scenario);
    runs.set(name, run);
    scenario.then(run);
  });

  it('the in-memory host and SQLite agree, event for event', () => {
    const [memory, sqlite] = HOST_NAMES.map((name) => runs.get(name));
    expect(memory && sqlite, 'both hosts ran').toBeTruthy();
    expect(sqlite!.audit).toEqual(memory!.audit);
    expect(sqlite!.outcomes).toEqual(memory!.outcomes);
    expect(sqlite!.effects).toEqual(memory!.effects);
    expect(sqlite!.cancelOrders).toEqual(memory!.cancelOrders);
    expect(sqlite!.disputes).toEqual(memory!.disputes);
    expect(sqlite!.status).toBe(memory!.status);
    expect(sqlite!.refundCalls).toEqual(memory!.refundCalls);
    expect(sqlite!.compensationCalls).toEqual(memory!.compensationCalls);
  });
});

afterAll(() => {
  // every rule the brief lists is covered by a scenario's name
  const names = SCENARIOS.map((scenario) => scenario.name).join(' ');
  for (const rule of [
    'D1',
    'D2',
    'D3',
    'D4',
    'D5',
    'D6',
    'D7',
    'D8',
    'P1',
    'P2',
    'P3a',
    'P3b',
    'P3c',
    'P3d',
    'P3e',
    'C1',
    'C2',
    'C3',
    'C4',
    'C5',
    'X1 fail',
    'X1 adopt',
    'A1',
    'A2',
    'A3',
    'A4',
  ]) {
    expect(names, rule).toContain(rule);
  }
});
