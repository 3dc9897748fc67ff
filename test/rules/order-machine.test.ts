/**
 * The order machine on its own (orderMachine, machines/order.ts), where the boundary (src/commands.ts)
 * would refuse first: what the machine itself does with an event for a dispute that is not open, and A4
 * under D1 several, where the overturn is forwarded with where the customer's refund stands.
 */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { orderMachine } from '../../machines/order.js';
import { CUSTOMER, HOUR, MERCHANT, PAYMENTS, PLATFORM, refundSucceeded, VALID_EVIDENCE, world } from '../support/world.js';

const SEVERAL_INPUT = {
  orderId: 'order-1',
  merchantId: MERCHANT.id,
  customerId: CUSTOMER.id,
  deliveredBy: 'MERCHANT' as const,
  at: 0,
  policy: { disputesPerOrder: 'several' as const },
};

const MERCHANT_APPEAL_EVIDENCE = {
  reason: 'GOODS_ALREADY_DELIVERED',
  proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1.jpg', sizeBytes: 90_000 }],
  explanation: 'The customer signed for the parcel the day before the cancellation.',
} as const;

describe('the order machine without the boundary', () => {
  it('D1 (disputesPerOrder several): an event naming a dispute that is not open is not taken; the open one is unchanged', () => {
    const actor = createActor(orderMachine, { input: SEVERAL_INPUT, clock: new SimulatedClock() }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'a' });
    const before = actor.getSnapshot();
    actor.send({ type: 'merchant.planSubmitted', at: 1, by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'nope' });
    const after = actor.getSnapshot();
    expect(after.status).toBe('active');
    expect(after.context).toEqual(before.context);
    expect((after.children as Record<string, { getSnapshot(): { value: unknown } }>)['dispute:a']!.getSnapshot().value).toBe(
      'awaitingMerchantChoice',
    );
  });
});

describe('A4 under D1 several (appeals on)', () => {
  const severalWithAppeals = () => {
    const w = world({ policy: { disputesPerOrder: 'several', appeals: 'on' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId: 'a' });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'a' });
    return w;
  };
  const status = (w: ReturnType<typeof world>, disputeId: string) => w.workflow.disputes().find((d) => d.disputeId === disputeId)?.status;

  it("A4/D1 (disputesPerOrder several): the merchant's win after the refund compensates it, naming the cancel order that refunded", () => {
    const w = severalWithAppeals();
    refundSucceeded(w, 'a:ruling-refund');
    w.advance(HOUR);
    w.send({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId: 'a' });
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    expect(status(w, 'a')).toBe('compensating');
    expect(status(w, 'b')).toBe('awaitingMerchantChoice');
    expect(w.workflow.effects.filter((effect) => effect.type === 'effect.compensationRequested')).toEqual([
      expect.objectContaining({ disputeId: 'a', refundedBy: 'a:ruling-refund', idempotencyKey: 'order-1/a/compensation' }),
    ]);
    w.send({
      type: 'payment.compensationSucceeded',
      by: PAYMENTS,
      disputeId: 'a',
      idempotencyKey: 'order-1/a/compensation',
      paymentRef: 'comp-1',
    });
    expect(status(w, 'a')).toBe('resolved');
  });

  it("A4/INV1 (disputesPerOrder several): before the refund the merchant's win is not taken; the dispute stays under appeal", () => {
    const w = severalWithAppeals();
    w.send({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId: 'a' });
    expect(() => w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' })).toThrow(/A4\/INV1/);
    expect(status(w, 'a')).toBe('underAppeal');
    expect(w.workflow.effects.filter((effect) => effect.type === 'effect.compensationRequested')).toEqual([]);
  });
});
