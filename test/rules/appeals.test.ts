import { describe, expect, it } from 'vitest';
import { allowedActions } from '../../src/allowed-actions.js';
import { strandedParts } from '../../src/invariants.js';
import { APPEAL_WINDOW_MS } from '../../src/schemas/timers.js';
import {
  CUSTOMER_APPEAL_EVIDENCE,
  CUSTOMER,
  DIRECT_REFUND_ID,
  HOUR,
  MERCHANT,
  PAYMENTS,
  MERCHANT_APPEAL_EVIDENCE,
  PLATFORM,
  RULING_REFUND_ID,
  VALID_EVIDENCE,
  openDispute,
  refundSucceeded,
  submitPlan,
  world,
  type World,
} from '../support/world.js';

/** A1–A4 on the in-memory host: the test answers the payment service itself. */

const DAY = 24 * HOUR;
const KEY = 'order-1/dispute-1/compensation';

/** Sends what the types would refuse (a hostile or malformed payload) through the same validation. */
const raw = (w: World, event: Record<string, unknown>) => (w.send as (event: unknown) => unknown)(event);

const appealsOn = (input: Record<string, unknown> = {}) => world({ policy: { appeals: 'on' }, ...input });

function ruled(w: World, ruling: 'MERCHANT_LIABLE' | 'MERCHANT_NOT_LIABLE') {
  openDispute(w);
  submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
  w.advance(HOUR);
  w.send({ type: 'platform.ruled', by: PLATFORM, ruling });
}

const merchantAppeals = (w: World, evidence: unknown = MERCHANT_APPEAL_EVIDENCE) =>
  raw(w, { type: 'merchant.rulingAppealed', by: MERCHANT, evidence });
const customerAppeals = (w: World, evidence: unknown = CUSTOMER_APPEAL_EVIDENCE) =>
  raw(w, { type: 'customer.rulingAppealed', by: CUSTOMER, evidence });
const upheld = (w: World) => w.send({ type: 'platform.appealUpheld', by: PLATFORM });
const overturned = (w: World) => w.send({ type: 'platform.appealOverturned', by: PLATFORM });
const compensated = (w: World, idempotencyKey = KEY) =>
  w.send({ type: 'payment.compensationSucceeded', by: PAYMENTS, disputeId: 'dispute-1', idempotencyKey, paymentRef: 'comp-1' });

const effectsOf = (w: World, type: string) => w.workflow.effects.filter((effect) => effect.type === type);
const refused = (send: () => unknown) => {
  try {
    send();
  } catch (error) {
    return error as Error;
  }
  throw new Error('accepted, expected a refusal');
};

describe('A1: the appeal window', () => {
  it('A1/D6: with appeals on, MERCHANT_LIABLE opens the window for the merchant and orders the refund at the ruling', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    expect(w.disputeState()).toEqual({ ruled: 'merchantMayAppeal' });
    expect(w.workflow.pendingDeadlines()).toContainEqual(
      expect.objectContaining({ actorPath: 'dispute', timer: 'appealWindow', dueAt: HOUR + APPEAL_WINDOW_MS }),
    );
    expect(w.refundRequests()).toEqual([{ cancellationId: RULING_REFUND_ID, attempt: 1 }]);
    expect(w.workflow.disputes().at(-1)).toMatchObject({ status: 'ruled', waitingOn: 'merchant', statusLabel: { 'zh-CN': '已判责，申诉期内' } });
  });

  it('A1: MERCHANT_NOT_LIABLE opens the window for the customer; nothing is refunded', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    expect(w.disputeState()).toEqual({ ruled: 'customerMayAppeal' });
    expect(w.workflow.disputes().at(-1)?.waitingOn).toBe('customer');
    expect(w.refundRequests()).toEqual([]);
  });

  it('A2/INV3: no appeal: the window closes the dispute with the ruling at 7 days, not a millisecond before; nothing changes it after', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    w.advance(APPEAL_WINDOW_MS - 1);
    w.workflow.runDueDeadlines();
    expect(w.disputeState()).toEqual({ ruled: 'customerMayAppeal' });
    w.advance(1);
    w.workflow.runDueDeadlines();
    expect(w.disputeState()).toBe('resolved');
    expect(w.closedDispute('dispute-1')).toMatchObject({ status: 'resolved', resolution: 'RULED', ruling: 'MERCHANT_NOT_LIABLE' });
    expect(refused(() => customerAppeals(w)).name).toBe('FinalStateError');
    expect(w.closedDispute('dispute-1')?.appeal).toBeUndefined();
  });

  it('A1: the window is a timer like the others (timers.appealWindow)', () => {
    const w = appealsOn({ timers: { appealWindow: 2 * HOUR } });
    ruled(w, 'MERCHANT_NOT_LIABLE');
    w.advance(2 * HOUR);
    w.workflow.runDueDeadlines();
    expect(w.disputeState()).toBe('resolved');
  });

  it('A1/INV4: the side that won may not appeal; the refusal says who may, and changes nothing', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    const before = w.workflow.audit.length;
    const error = refused(() => customerAppeals(w));
    expect(error.name).toBe('NotAllowedInStateError');
    expect(error.message).toContain('A1: only the side ruled against (the merchant) may appeal');
    expect(w.workflow.audit).toHaveLength(before);
    const w2 = appealsOn();
    ruled(w2, 'MERCHANT_NOT_LIABLE');
    expect(refused(() => merchantAppeals(w2)).message).toContain('(the customer) may appeal');
    expect(refused(() => raw(w2, { type: 'merchant.rulingAppealed', by: CUSTOMER, evidence: CUSTOMER_APPEAL_EVIDENCE })).name).toBe(
      'WrongRoleError',
    );
  });

  it('A1/INV4: a ruling is appealed once', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    merchantAppeals(w);
    expect(w.disputeState()).toBe('underAppeal');
    const error = refused(() => merchantAppeals(w));
    expect(error.name).toBe('NotAllowedInStateError');
    expect(error.message).toContain('A1: a ruling is appealed once');
  });

  it('A1/INV4: an appeal after the window is refused (the dispute is final)', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    w.advance(APPEAL_WINDOW_MS);
    expect(refused(() => customerAppeals(w)).name).toBe('FinalStateError');
  });

  it('A1/D4: an appeal brings new evidence from the catalogue, among the reasons its party may give', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    expect(refused(() => merchantAppeals(w, VALID_EVIDENCE)).message).toContain('A1: an appeal brings new evidence');
    expect(refused(() => merchantAppeals(w, { ...MERCHANT_APPEAL_EVIDENCE, proofs: [] })).name).toBe('InvalidPayloadError');
    expect(refused(() => merchantAppeals(w, CUSTOMER_APPEAL_EVIDENCE)).message).toContain('is not one the merchant may give');
    expect(refused(() => raw(w, { type: 'merchant.rulingAppealed', by: MERCHANT })).name).toBe('InvalidPayloadError');
    const w2 = appealsOn();
    ruled(w2, 'MERCHANT_NOT_LIABLE');
    expect(refused(() => customerAppeals(w2, VALID_EVIDENCE)).message).toContain('is not one the customer may give');
    customerAppeals(w2);
    expect(w2.disputeContext()?.appeal).toMatchObject({
      by: CUSTOMER,
      ruling: 'MERCHANT_NOT_LIABLE',
      evidence: CUSTOMER_APPEAL_EVIDENCE,
      decision: null,
    });
  });

  it('D8/A1: once ruled, the customer may not withdraw the dispute', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    expect(refused(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER })).name).toBe('NotAllowedInStateError');
  });

  it('A1: appeals off (the default): the ruling is final, no window, no appeal', () => {
    const w = world();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    expect(w.disputeState()).toBe('resolved');
    expect(w.workflow.pendingDeadlines()).toEqual([]);
    expect(refused(() => customerAppeals(w)).name).toBe('FinalStateError');
  });
});

describe('A2: upheld', () => {
  it('A2: the platform upholds: resolved with the original ruling; the refund stands, nothing compensated', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    refundSucceeded(w, RULING_REFUND_ID);
    merchantAppeals(w);
    expect(w.workflow.effects.at(-1)).toMatchObject({
      type: 'effect.notificationRequested',
      kind: 'APPEAL_DECISION_REQUESTED',
      recipient: 'platform',
    });
    expect(w.workflow.disputes().at(-1)).toMatchObject({ status: 'underAppeal', waitingOn: 'platform', statusLabel: { 'zh-CN': '申诉中' } });
    upheld(w);
    expect(w.closedDispute('dispute-1')).toMatchObject({
      status: 'resolved',
      ruling: 'MERCHANT_LIABLE',
      appeal: { decision: 'UPHELD', decidedBy: PLATFORM, ruling: 'MERCHANT_LIABLE' },
    });
    expect(effectsOf(w, 'effect.compensationRequested')).toEqual([]);
    expect(w.workflow.getSnapshot().status).toBe('done');
  });
});

describe("A3: overturned in the customer's favour", () => {
  it('A3/INV1: the customer appeals MERCHANT_NOT_LIABLE and wins: exactly one refund, through a 平台判责退款 cancel order', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    customerAppeals(w);
    overturned(w);
    expect(w.closedDispute('dispute-1')).toMatchObject({
      ruling: 'MERCHANT_LIABLE',
      appeal: { decision: 'OVERTURNED', ruling: 'MERCHANT_NOT_LIABLE' },
    });
    expect(w.refundRequests()).toEqual([{ cancellationId: RULING_REFUND_ID, attempt: 1 }]);
    refundSucceeded(w, RULING_REFUND_ID);
    expect(w.workflow.cancelOrders()).toEqual([
      expect.objectContaining({
        cancellationId: RULING_REFUND_ID,
        status: 'refunded',
        reason: 'PLATFORM_RULING_REFUND',
        refundTrigger: expect.objectContaining({ kind: 'platformRuling', by: PLATFORM }),
      }),
    ]);
    expect(w.refundRequests()).toHaveLength(1);
    expect(w.workflow.getSnapshot().status).toBe('done');
  });

  it('A3: the refund goes through the customer cancel order in flight (D6), not a second cancel order', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_NOT_LIABLE');
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c-1' });
    customerAppeals(w);
    overturned(w);
    expect(w.refundRequests()).toEqual([{ cancellationId: 'c-1', attempt: 1 }]);
    expect(w.cancelOrderIds()).toEqual(['c-1']);
  });

  it('A3/INV1: overturned when the order is already refunded (a direct refund before the objection): no second refund', () => {
    const w = appealsOn();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    refundSucceeded(w, DIRECT_REFUND_ID);
    w.send({ type: 'customer.settlementObjected', by: CUSTOMER });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' });
    customerAppeals(w);
    overturned(w);
    expect(w.refundRequests()).toEqual([{ cancellationId: DIRECT_REFUND_ID, attempt: 1 }]);
    expect(w.cancelOrderIds()).toEqual([DIRECT_REFUND_ID]);
    expect(w.workflow.getSnapshot().status).toBe('done');
  });
});

describe("A4: overturned in the merchant's favour", () => {
  it('A4/INV1: the merchant appeals MERCHANT_LIABLE and wins after the refund: the refund stands, exactly one compensation under one key', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    refundSucceeded(w, RULING_REFUND_ID);
    w.advance(DAY);
    merchantAppeals(w);
    w.advance(DAY);
    overturned(w);
    expect(w.disputeState()).toBe('compensating');
    expect(w.workflow.disputes().at(-1)).toMatchObject({ status: 'compensating', waitingOn: null });
    expect(effectsOf(w, 'effect.compensationRequested')).toEqual([
      {
        type: 'effect.compensationRequested',
        at: HOUR + 2 * DAY,
        orderId: 'order-1',
        disputeId: 'dispute-1',
        merchantId: MERCHANT.id,
        refundedBy: RULING_REFUND_ID,
        idempotencyKey: KEY,
      },
    ]);
    compensated(w);
    expect(w.closedDispute('dispute-1')).toMatchObject({
      ruling: 'MERCHANT_NOT_LIABLE',
      appeal: { decision: 'OVERTURNED', ruling: 'MERCHANT_LIABLE' },
      compensation: { idempotencyKey: KEY, status: 'succeeded', paymentRef: 'comp-1', refundedBy: RULING_REFUND_ID },
    });
    expect(w.workflow.cancelOrders()).toEqual([expect.objectContaining({ cancellationId: RULING_REFUND_ID, status: 'refunded' })]);
    expect(w.refundRequests()).toHaveLength(1);
    expect(w.workflow.getSnapshot().status).toBe('done');
    // the payment service answering again is refused: the result is recorded once
    expect(refused(() => compensated(w)).name).toBe('FinalStateError');
    expect(effectsOf(w, 'effect.compensationRequested')).toHaveLength(1);
  });

  it('A4/INV4: an answer under another key is refused and changes nothing', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    refundSucceeded(w, RULING_REFUND_ID);
    merchantAppeals(w);
    overturned(w);
    expect(refused(() => compensated(w, 'order-1/other/compensation')).name).toBe('NotAllowedInStateError');
    expect(w.disputeState()).toBe('compensating');
  });

  it('A4: a declined compensation is recorded once and the platform is told (COMPENSATION_FAILED)', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    refundSucceeded(w, RULING_REFUND_ID);
    merchantAppeals(w);
    overturned(w);
    w.send({ type: 'payment.compensationFailed', by: PAYMENTS, disputeId: 'dispute-1', idempotencyKey: KEY, error: 'payout account closed' });
    expect(w.closedDispute('dispute-1')?.compensation).toMatchObject({ status: 'failed', error: 'payout account closed' });
    expect(w.workflow.effects.at(-1)).toMatchObject({ kind: 'COMPENSATION_FAILED', recipient: 'platform', subjectId: 'dispute-1' });
  });

  it("A4/INV1: while the customer's refund is in flight the merchant's win is refused; once refunded it compensates", () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    merchantAppeals(w);
    const error = refused(() => overturned(w));
    expect(error.name).toBe('NotAllowedInStateError');
    expect(error.message).toContain(`A4/INV1: the customer's refund (cancel order ${RULING_REFUND_ID}) is not settled yet`);
    expect(w.disputeState()).toBe('underAppeal');
    expect(allowedActions(w.workflow.getSnapshot(), 'platform').map((action) => action.type)).toEqual(['platform.appealUpheld']);
    refundSucceeded(w, RULING_REFUND_ID);
    expect(allowedActions(w.workflow.getSnapshot(), 'platform').map((action) => action.type)).toEqual([
      'platform.appealUpheld',
      'platform.appealOverturned',
    ]);
    overturned(w);
    expect(effectsOf(w, 'effect.compensationRequested')).toHaveLength(1);
  });
});

describe('INV6 and the work queue with appeals on', () => {
  it('INV6: the window, the appeal and the compensation each have a way out (a deadline, a platform action, a pending effect)', () => {
    const w = appealsOn();
    ruled(w, 'MERCHANT_LIABLE');
    refundSucceeded(w, RULING_REFUND_ID);
    const snapshot = () => w.workflow.getSnapshot();
    // ruled: its deadline, and the merchant's appeal
    expect(strandedParts(snapshot(), { deadlines: ['dispute'], effects: [] })).toEqual([]);
    expect(allowedActions(snapshot(), 'merchant').map((action) => action.type)).toEqual(['merchant.rulingAppealed']);
    merchantAppeals(w);
    // underAppeal: no deadline; the platform's decision is the way out
    expect(strandedParts(snapshot(), { deadlines: [], effects: [] })).toEqual([]);
    overturned(w);
    // compensating: the effect in the outbox moves it; without one nothing would
    expect(strandedParts(snapshot(), { deadlines: [], effects: ['dispute-1'] })).toEqual([]);
    expect(strandedParts(snapshot(), { deadlines: [], effects: [] })).toEqual([{ actor: 'dispute', id: 'dispute-1', status: 'compensating' }]);
  });
});
