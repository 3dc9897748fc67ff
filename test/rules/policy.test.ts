import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InvalidPayloadError, NotAllowedInStateError } from '../../src/errors.js';
import { DEFAULT_POLICY, POLICY_RULES, PolicySettings } from '../../src/schemas/policy.js';
import { HOST_NAMES, play, type HostName, type Outcome, type OutsideWorld, type Run, type Step } from '../support/hosts.js';
import { CUSTOMER, HOUR, MERCHANT, PAYMENTS, PLATFORM, SYSTEM, VALID_EVIDENCE, world } from '../support/world.js';
import { dumpSqlite, host, orderInput, tempDir, type Host } from '../runtime/helpers.js';

/**
 * Issue 15, the `policy` input: every value of every setting that changes a transition (D1, C2, C5, D8,
 * D6), each test named with its rule ID and value. The scenarios run on the in-memory host and on the
 * durable runtime on SQLite and must agree event for event (as test/rules/hosts.test.ts); refused events
 * leave the SQLite file byte for byte unchanged (INV4).
 */

interface Scenario {
  /** Rule ID and value first: `C2 refundAtOnce: …`. */
  name: string;
  policy: Partial<PolicySettings>;
  input?: Record<string, unknown>;
  world?: OutsideWorld;
  steps: Step[];
  then(run: Run): void;
}

const send = (event: Record<string, unknown>, refused?: string): Step => ({ send: event, ...(refused ? { refused } : {}) });
const advance = (ms: number): Step => ({ advance: ms });
const opened = (disputeId = 'd', refused?: string) => send({ type: 'dispute.opened', by: CUSTOMER, disputeId }, refused);
const plan = (p: string, refused?: string, extra: Record<string, unknown> = {}) =>
  send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p, ...extra }, refused);
const evidencePlan = () => plan('PLATFORM_RULING', undefined, { evidence: VALID_EVIDENCE });
const submitted = (cancellationId: string, refused?: string) => send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId }, refused);
const merchant = (type: string, cancellationId: string, refused?: string) =>
  send({ type: `merchant.${type}`, by: MERCHANT, cancellationId }, refused);
const withdrawCancelOrder = (cancellationId: string, refused?: string) =>
  send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId }, refused);
const withdrawDispute = (refused?: string) => send({ type: 'customer.disputeWithdrawn', by: CUSTOMER }, refused);
const confirmed = (refused?: string) => send({ type: 'customer.settlementConfirmed', by: CUSTOMER }, refused);
const objected = () => send({ type: 'customer.settlementObjected', by: CUSTOMER });
const ruled = (ruling: 'MERCHANT_LIABLE' | 'MERCHANT_NOT_LIABLE', refused?: string) =>
  send({ type: 'platform.ruled', by: PLATFORM, ruling }, refused);
const paid = (cancellationId: string, n: number) =>
  send({
    type: 'payment.refundSucceeded',
    by: PAYMENTS,
    cancellationId,
    paymentRef: `pay-${cancellationId}`,
    idempotencyKey: `order-1/${cancellationId}/${n}`,
  });

const orders = (run: Run) => run.cancelOrders.map((o) => [o.cancellationId, o.status, o.reason, o.refundTrigger?.kind ?? null]);
const disputes = (run: Run) => run.disputes.map((d) => [d.disputeId, d.status, d.plan]);
const refused = (run: Run) => run.outcomes.filter((outcome): outcome is Extract<Outcome, { ok: false }> => !outcome.ok).map((o) => o.error);
const effectTypes = (run: Run) => run.effects.map((effect) => (JSON.parse(effect) as { type: string }).type);

const SCENARIOS: Scenario[] = [
  // --- C2 shippedJdApproval ---------------------------------------------------------------------------
  {
    name: 'C2 intercept: approving a shipped JD order intercepts it first, the interception refunds it',
    policy: { shippedJdApproval: 'intercept' },
    input: { deliveredBy: 'JD', shipped: true },
    steps: [submitted('c'), merchant('cancellationApproved', 'c')],
    then: (run) => {
      expect(effectTypes(run)).toContain('effect.interceptionRequested');
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'logisticsCallback']]);
      expect(run.refundCalls).toHaveLength(1);
    },
  },
  {
    name: 'C2 refundAtOnce: approving a shipped JD order refunds at once, with no interception',
    policy: { shippedJdApproval: 'refundAtOnce' },
    input: { deliveredBy: 'JD', shipped: true },
    // the interception would fail: refundAtOnce never asks for one
    world: { interception: 'failed' },
    steps: [
      submitted('c'),
      merchant('cancellationApproved', 'c'),
      send({ type: 'logistics.interceptSucceeded', by: SYSTEM, cancellationId: 'c' }, 'FinalStateError'),
    ],
    then: (run) => {
      expect(effectTypes(run)).not.toContain('effect.interceptionRequested');
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
      expect(run.refundCalls).toHaveLength(1);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'C2 refundAtOnce: an order shipped after the cancel order was submitted is refunded at once too',
    policy: { shippedJdApproval: 'refundAtOnce' },
    input: { deliveredBy: 'JD', shipped: false },
    steps: [submitted('c'), send({ type: 'order.shipped', by: SYSTEM }), advance(HOUR), merchant('cancellationApproved', 'c')],
    then: (run) => {
      expect(effectTypes(run)).not.toContain('effect.interceptionRequested');
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
    },
  },
  // --- C5 cancelOrderWithdrawal -----------------------------------------------------------------------
  {
    name: 'C5 whilePendingReview: the customer withdraws a cancel order pending review; it closes without refund',
    policy: { cancelOrderWithdrawal: 'whilePendingReview' },
    steps: [submitted('c'), advance(HOUR), withdrawCancelOrder('c'), merchant('cancellationApproved', 'c', 'FinalStateError')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'withdrawn', 'CUSTOMER_REQUEST', null]]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  {
    name: 'C5 never: withdrawing a pending cancel order is refused (typed error, nothing changes); the merchant still decides',
    policy: { cancelOrderWithdrawal: 'never' },
    steps: [submitted('c'), advance(HOUR), withdrawCancelOrder('c', 'NotAllowedInStateError'), merchant('cancellationApproved', 'c')],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError']);
      expect(run.audit.map((row) => row.eventType)).not.toContain('customer.cancellationWithdrawn');
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
    },
  },
  // --- D8 disputeWithdrawal ---------------------------------------------------------------------------
  {
    name: 'D8 untilResolved: the customer withdraws a dispute after the plan was accepted, until it is resolved',
    policy: { disputeWithdrawal: 'untilResolved' },
    steps: [
      opened('d'),
      plan('NEGOTIATED_REJECT'),
      advance(HOUR),
      withdrawDispute(),
      opened('d2'),
      plan('NEGOTIATED_REJECT'),
      confirmed(),
      withdrawDispute('FinalStateError'),
    ],
    then: (run) => {
      expect(disputes(run)).toEqual([
        ['d', 'withdrawn', 'NEGOTIATED_REJECT'],
        ['d2', 'resolved', 'NEGOTIATED_REJECT'],
      ]);
    },
  },
  {
    name: 'D8 untilPlanAccepted: the customer withdraws before the merchant chooses; once a plan is accepted, withdrawal is refused',
    policy: { disputeWithdrawal: 'untilPlanAccepted' },
    steps: [
      opened('d'),
      advance(HOUR),
      withdrawDispute(),
      opened('d2'),
      plan('NEGOTIATED_REJECT'),
      withdrawDispute('NotAllowedInStateError'),
      objected(),
      withdrawDispute('NotAllowedInStateError'),
      ruled('MERCHANT_NOT_LIABLE'),
    ],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError', 'NotAllowedInStateError']);
      expect(disputes(run)).toEqual([
        ['d', 'withdrawn', null],
        ['d2', 'resolved', 'NEGOTIATED_REJECT'],
      ]);
    },
  },
  {
    name: 'D8 never: the customer cannot withdraw a dispute at all, even before the merchant chooses',
    policy: { disputeWithdrawal: 'never' },
    steps: [
      opened('d'),
      withdrawDispute('NotAllowedInStateError'),
      evidencePlan(),
      withdrawDispute('NotAllowedInStateError'),
      advance(HOUR),
      ruled('MERCHANT_NOT_LIABLE'),
    ],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError', 'NotAllowedInStateError']);
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(run.audit.map((row) => row.eventType)).not.toContain('customer.disputeWithdrawn');
    },
  },
  // --- D6 rulingRefundRoute ---------------------------------------------------------------------------
  {
    name: 'D6 cancelOrderInFlight: a ruling against the merchant refunds through the customer cancel order pending review',
    policy: { rulingRefundRoute: 'cancelOrderInFlight' },
    steps: [submitted('c'), opened('d'), evidencePlan(), advance(HOUR), ruled('MERCHANT_LIABLE')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'platformRuling']]);
      expect(run.cancelOrders[0]?.refundReason).toBe('PLATFORM_RULING_REFUND');
      expect(run.refundCalls).toHaveLength(1);
    },
  },
  {
    name: 'D6 ownCancelOrder: the customer cancel order pending review closes (关闭未退款) and the ruling refunds through its own 平台判责退款 cancel order',
    policy: { rulingRefundRoute: 'ownCancelOrder' },
    steps: [
      submitted('c'),
      opened('d'),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_LIABLE'),
      merchant('cancellationApproved', 'c', 'FinalStateError'),
      withdrawCancelOrder('c', 'FinalStateError'),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([
        ['c', 'closedWithoutRefund', 'CUSTOMER_REQUEST', null],
        ['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling'],
      ]);
      expect(run.cancelOrders.map((o) => o.origin)).toEqual(['customer', 'platform']);
      expect(run.refundCalls.map((call) => call.key)).toEqual(['order-1/d:ruling-refund/1']);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'D6 ownCancelOrder: a 48H plan cancel order in logistics follow-up closes; its countdown stops and the ruling refunds through its own cancel order',
    policy: { rulingRefundRoute: 'ownCancelOrder' },
    input: { deliveredBy: 'JD' },
    steps: [
      opened('d'),
      plan('WAIT_48H_INTERCEPT'),
      confirmed(),
      opened('d2'),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_LIABLE'),
      advance(48 * HOUR),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([
        ['d:intercept-48h', 'closedWithoutRefund', 'INTERCEPT_48H_DISPUTE_PLAN', null],
        ['d2:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling'],
      ]);
      expect(effectTypes(run)).not.toContain('effect.interceptionRequested');
      expect(run.refundCalls).toHaveLength(1);
    },
  },
  {
    name: 'D6 ownCancelOrder: a refund already under way carries the ruling, no second cancel order or refund (INV1)',
    policy: { rulingRefundRoute: 'ownCancelOrder' },
    world: { refundAnswers: 'later' },
    steps: [
      submitted('c'),
      merchant('cancellationApproved', 'c'),
      opened('d'),
      evidencePlan(),
      advance(HOUR),
      ruled('MERCHANT_LIABLE'),
      paid('c', 1),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'refunded', 'CUSTOMER_REQUEST', 'merchant']]);
      expect(disputes(run)).toEqual([['d', 'resolved', 'PLATFORM_RULING']]);
      expect(run.refundCalls.map((call) => call.key)).toEqual(['order-1/c/1']);
      expect(run.status).toBe('done');
    },
  },
  {
    name: 'D6 ownCancelOrder: with no cancel order in flight the ruling refunds through its own cancel order, as by default',
    policy: { rulingRefundRoute: 'ownCancelOrder' },
    steps: [opened('d'), evidencePlan(), advance(HOUR), ruled('MERCHANT_LIABLE')],
    then: (run) => {
      expect(orders(run)).toEqual([['d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']]);
    },
  },
  {
    name: 'D6 ownCancelOrder: MERCHANT_NOT_LIABLE leaves the customer cancel order pending review, untouched',
    policy: { rulingRefundRoute: 'ownCancelOrder' },
    steps: [submitted('c'), opened('d'), evidencePlan(), advance(HOUR), ruled('MERCHANT_NOT_LIABLE'), merchant('cancellationRejected', 'c')],
    then: (run) => {
      expect(orders(run)).toEqual([['c', 'rejected', 'CUSTOMER_REQUEST', null]]);
      expect(run.refundCalls).toEqual([]);
    },
  },
  // --- D1 disputesPerOrder ----------------------------------------------------------------------------
  {
    name: 'D1 one: a second dispute is refused while one is open, and opens once the first is closed',
    policy: { disputesPerOrder: 'one' },
    steps: [opened('d'), opened('d2', 'NotAllowedInStateError'), plan('NEGOTIATED_REJECT'), confirmed(), opened('d2')],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError']);
      expect(disputes(run)).toEqual([
        ['d', 'resolved', 'NEGOTIATED_REJECT'],
        ['d2', 'awaitingMerchantChoice', null],
      ]);
    },
  },
  {
    name: 'D1 several: two disputes open at once, each named by its disputeId, and each reaches a different end',
    policy: { disputesPerOrder: 'several' },
    steps: [
      opened('a'),
      opened('b'),
      plan('NEGOTIATED_REJECT', undefined, { disputeId: 'a' }),
      send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'b' }),
      send({ type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'a' }),
    ],
    then: (run) => {
      expect(refused(run)).toEqual([]);
      expect(disputes(run)).toEqual([
        ['b', 'withdrawn', null],
        ['a', 'resolved', 'NEGOTIATED_REJECT'],
      ]);
    },
  },
  {
    name: 'D1 several: no disputeId goes to the only open dispute; with two open it is refused (which dispute?), as is an id not open',
    policy: { disputesPerOrder: 'several' },
    steps: [
      opened('a'),
      plan('NEGOTIATED_REJECT'),
      opened('b'),
      opened('a', 'NotAllowedInStateError'),
      confirmed('InvalidPayloadError'),
      send({ type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'nope' }, 'NotAllowedInStateError'),
      send({ type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'a' }),
      send({ type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'a' }, 'FinalStateError'),
      plan('NEGOTIATED_REJECT'),
    ],
    then: (run) => {
      expect(refused(run)).toEqual(['NotAllowedInStateError', 'InvalidPayloadError', 'NotAllowedInStateError', 'FinalStateError']);
      expect(disputes(run)).toEqual([
        ['a', 'resolved', 'NEGOTIATED_REJECT'],
        ['b', 'awaitingCustomerConfirmation', 'NEGOTIATED_REJECT'],
      ]);
    },
  },
  {
    name: "D1 several: X1/INV1 across disputes: a second dispute's refund plan conflicts with the first's cancel order, and once refunded no dispute refunds again",
    policy: { disputesPerOrder: 'several' },
    steps: [
      opened('a'),
      opened('b'),
      plan('DIRECT_REFUND', undefined, { disputeId: 'a' }),
      plan('DIRECT_REFUND', 'ConflictingCancellationError', { disputeId: 'b' }),
      plan('WAIT_48H_INTERCEPT', 'ConflictingCancellationError', { disputeId: 'b' }),
      opened('c', 'NotAllowedInStateError'),
      send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'b' }),
      send({ type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'a' }),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['a:direct-refund', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'disputePlan']]);
      expect(run.refundCalls).toHaveLength(1);
      expect(disputes(run)).toEqual([
        ['b', 'withdrawn', null],
        ['a', 'resolved', 'DIRECT_REFUND'],
      ]);
      // INV1: refunded with no dispute open, the order is done
      expect(run.status).toBe('done');
    },
  },
  {
    name: "D1 several: a ruling against the merchant in one dispute while another dispute's refund plan is in flight refunds once (D6 through the cancel order in flight)",
    policy: { disputesPerOrder: 'several' },
    steps: [
      opened('a'),
      opened('b'),
      plan('PLATFORM_RULING', undefined, { disputeId: 'b', evidence: VALID_EVIDENCE }),
      plan('WAIT_48H_INTERCEPT', undefined, { disputeId: 'a' }),
      send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'b' }),
      opened('c', 'NotAllowedInStateError'),
    ],
    then: (run) => {
      expect(orders(run)).toEqual([['a:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'platformRuling']]);
      expect(run.refundCalls).toHaveLength(1);
      expect(disputes(run).map(([id, status]) => [id, status])).toEqual([
        ['b', 'resolved'],
        ['a', 'awaitingCustomerConfirmation'],
      ]);
    },
  },
  {
    name: 'D1 several: each open dispute runs its own timers (D7: each escalates when its own merchantResponseWindow ends)',
    policy: { disputesPerOrder: 'several' },
    steps: [opened('a'), advance(24 * HOUR), opened('b'), advance(25 * HOUR)],
    then: (run) => {
      expect(disputes(run).map(([id, status]) => [id, status])).toEqual([
        ['a', 'awaitingPlatformRuling'],
        ['b', 'awaitingMerchantChoice'],
      ]);
      expect(run.audit.filter((row) => row.actorId === 'timer').map((row) => row.eventType)).toEqual([
        'xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice',
      ]);
    },
  },
];

describe.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))('%s', (_name, scenario) => {
  const runs = new Map<HostName, Run>();
  const script = { ...scenario, input: { ...scenario.input, policy: scenario.policy } };

  it.each(HOST_NAMES)('on the %s host, as the setting says', async (name) => {
    const run = await play(name, script);
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
  });
});

afterAll(() => {
  // every value of every setting this file is about has a scenario named with its rule ID and value
  const names = SCENARIOS.map((scenario) => scenario.name);
  for (const setting of ['shippedJdApproval', 'cancelOrderWithdrawal', 'disputeWithdrawal', 'rulingRefundRoute', 'disputesPerOrder'] as const) {
    for (const value of PolicySettings.shape[setting].options) {
      expect(
        names.some((name) => name.startsWith(`${POLICY_RULES[setting]} ${value}:`)),
        `${POLICY_RULES[setting]} ${value}`,
      ).toBe(true);
    }
  }
});

// --- the boundary: typed errors that name the setting, allowed actions, INV4 on the store ------------

describe('policy at the boundary', () => {
  it('C5 never: the refusal names the setting, and the customer is not offered the withdrawal', () => {
    const w = world({ policy: { cancelOrderWithdrawal: 'never' } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    const before = w.workflow.getSnapshot();
    const attempt = () => w.send({ type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'c' });
    expect(attempt).toThrow(NotAllowedInStateError);
    expect(attempt).toThrow(/C5: .*cancelOrderWithdrawal 'never'/);
    expect(w.workflow.getSnapshot()).toBe(before);
    expect(w.workflow.allowedActions('customer').map((action) => action.type)).not.toContain('customer.cancellationWithdrawn');
    expect(w.workflow.allowedActions('merchant').map((action) => action.type)).toContain('merchant.cancellationApproved');
  });

  it('C5 whilePendingReview: the customer is offered the withdrawal while the cancel order is pending review', () => {
    const w = world({ policy: { cancelOrderWithdrawal: 'whilePendingReview' } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    expect(w.workflow.allowedActions('customer')).toContainEqual({ type: 'customer.cancellationWithdrawn', cancellationId: 'c' });
  });

  it('D8 untilPlanAccepted: offered while the merchant chooses, refused with the setting named once a plan is accepted', () => {
    const w = world({ policy: { disputeWithdrawal: 'untilPlanAccepted' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    expect(w.workflow.allowedActions('customer').map((action) => action.type)).toContain('customer.disputeWithdrawn');
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    expect(w.workflow.allowedActions('customer').map((action) => action.type)).not.toContain('customer.disputeWithdrawn');
    expect(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER })).toThrow(/D8: .*disputeWithdrawal 'untilPlanAccepted'/);
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
  });

  it('D8 never: never offered, refused with the setting named', () => {
    const w = world({ policy: { disputeWithdrawal: 'never' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    expect(w.workflow.allowedActions('customer').map((action) => action.type)).not.toContain('customer.disputeWithdrawn');
    expect(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER })).toThrow(/D8: .*disputeWithdrawal 'never'/);
    expect(w.disputeState()).toBe('awaitingMerchantChoice');
  });

  it('D8 untilResolved: offered while awaiting the customer confirmation', () => {
    const w = world({ policy: { disputeWithdrawal: 'untilResolved' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    expect(w.workflow.allowedActions('customer').map((action) => action.type)).toContain('customer.disputeWithdrawn');
  });

  it('D6 ownCancelOrder: a refund that failed for good is started again by the ruling on that same cancel order (INV1: a late success of the earlier request still lands there)', () => {
    const w = world({ policy: { rulingRefundRoute: 'ownCancelOrder' }, timers: { refundMaxAttempts: 1 } });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    w.send({ type: 'payment.refundFailed', by: PAYMENTS, cancellationId: 'c', error: 'declined' });
    expect(w.cancellation('c')).toBe('refundFailed');
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    expect(w.cancelOrderIds()).toEqual(['c']);
    expect(w.cancellation('c')).toBe('refunding');
    expect(w.cancellationContext()?.refundTrigger?.kind).toBe('platformRuling');
    expect(w.refundRequests()).toEqual([
      { cancellationId: 'c', attempt: 1 },
      { cancellationId: 'c', attempt: 1 },
    ]);
  });

  it('D6 ownCancelOrder: the order keeps no pending ruling once the ruling has its own cancel order (and none under the default)', () => {
    const own = world({ policy: { rulingRefundRoute: 'ownCancelOrder' } });
    const inFlight = world();
    for (const w of [own, inFlight]) {
      w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
      w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
      w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });
      w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
      expect(w.workflow.getSnapshot().context.pendingRulingRefund).toBeNull();
    }
    expect(own.cancelOrderIds()).toEqual(['c', 'd:ruling-refund']);
    expect(own.closedCancelOrder('c')).toMatchObject({ status: 'closedWithoutRefund', refunded: false });
    expect(inFlight.cancelOrderIds()).toEqual(['c']);
  });

  it('D1 one/several: the values of disputesPerOrder, one the default; another value is an InvalidPayloadError at the input', () => {
    expect(PolicySettings.shape.disputesPerOrder.options).toEqual(['one', 'several']);
    expect(DEFAULT_POLICY.disputesPerOrder).toBe('one');
    expect(() => world({ policy: { disputesPerOrder: 'many' } as never })).toThrow(InvalidPayloadError);
  });

  it("D1/C2/C5/D6/D8: the default policy is today's behaviour, stored in the order and every child", () => {
    const w = world({ deliveredBy: 'JD', shipped: true });
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    expect(w.workflow.getSnapshot().context.policy).toEqual(DEFAULT_POLICY);
    expect(w.cancellationContext()?.policy).toEqual(DEFAULT_POLICY);
    expect(w.disputeContext()?.policy).toEqual(DEFAULT_POLICY);
    w.send({ type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'c' });
    expect(w.cancellation('c')).toBe('intercepting');
  });
});

describe('policy refusals on the durable runtime (INV4: the SQLite file is unchanged byte for byte)', () => {
  let cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  async function sqliteHost(): Promise<Host & { filename: string }> {
    const tmp = tempDir('policy-test-');
    const filename = join(tmp.dir, 'runtime.db');
    const h = await host({ filename });
    cleanups.push(tmp.cleanup, () => h.close());
    return Object.assign(h, { filename });
  }

  it('C5 never and D8 never/untilPlanAccepted: each refused withdrawal is a NotAllowedInStateError that writes nothing', async () => {
    const h = await sqliteHost();
    await h.runtime.openOrder({ input: orderInput('o-c5', { policy: { cancelOrderWithdrawal: 'never' } }) });
    await h.runtime.openOrder({ input: orderInput('o-d8-never', { policy: { disputeWithdrawal: 'never' } }) });
    await h.runtime.openOrder({ input: orderInput('o-d8-plan', { policy: { disputeWithdrawal: 'untilPlanAccepted' } }) });
    let n = 0;
    const dispatch = (workflowId: string, event: Record<string, unknown>) =>
      h.runtime.dispatchRaw({ workflowId, commandId: `c${(n += 1)}`, event });
    await dispatch('o-c5', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
    await dispatch('o-d8-never', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    await dispatch('o-d8-plan', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    await dispatch('o-d8-plan', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    const before = dumpSqlite(h.filename);
    const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
      ['o-c5', { type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'c' }, /C5/],
      ['o-d8-never', { type: 'customer.disputeWithdrawn', by: CUSTOMER }, /D8: .*'never'/],
      ['o-d8-plan', { type: 'customer.disputeWithdrawn', by: CUSTOMER }, /D8: .*'untilPlanAccepted'/],
    ];
    for (const [workflowId, event, message] of refusals) {
      const attempt = dispatch(workflowId, event);
      await expect(attempt).rejects.toBeInstanceOf(NotAllowedInStateError);
      await expect(attempt).rejects.toThrow(message);
    }
    expect(dumpSqlite(h.filename)).toEqual(before);
  });
});
