import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { orderMachine } from '../machines/order.js';
import { restoreSystem } from '../src/engine/step.js';
import { CUSTOMER, HOUR, MERCHANT, PAYMENTS } from './support/world.js';

const input = { orderId: 'o', merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'JD' as const, at: 0 };

const roundTrip = (persisted: unknown) => JSON.parse(JSON.stringify(persisted));
// XState's options type wants `input` even when a snapshot is given
const restore = (snapshot: unknown, clock?: SimulatedClock) =>
  createActor(orderMachine, { snapshot, ...(clock ? { clock } : {}) } as never as { input: never });

describe('persisted snapshots (upstream statelyai/xstate#5077, #4873)', () => {
  it('INV5: the order with its dispute and cancel-order children survives persist → JSON → restore → persist', () => {
    const actor = createActor(orderMachine, { input }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    actor.send({ type: 'merchant.planSubmitted', at: HOUR, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    const first = roundTrip(actor.getPersistedSnapshot());
    actor.stop();

    const stored = JSON.stringify(first);
    const restored = restore(first).start();
    const second = roundTrip(restored.getPersistedSnapshot());
    expect(second).toEqual(JSON.parse(stored));
    expect(Object.keys(second.children)).toEqual(['d', 'd.intercept-48h']);

    // the revived child refs in context still route events and accept replies
    restored.send({ type: 'merchant.refundForced', at: 2 * HOUR, by: MERCHANT, cancellationId: 'd.intercept-48h' });
    restored.send({
      type: 'payment.refundSucceeded',
      at: 2 * HOUR,
      by: PAYMENTS,
      cancellationId: 'd.intercept-48h',
      paymentRef: 'p',
    });
    expect(restored.getSnapshot().context.refundedBy).toBe('d.intercept-48h');
    restored.send({ type: 'customer.settlementConfirmed', at: 3 * HOUR, by: CUSTOMER });
    expect(restored.getSnapshot().status).toBe('done');
    const third = roundTrip(restored.getPersistedSnapshot());
    expect(restore(third).start().getSnapshot().status).toBe('done');
  });

  it('INV5: restoring revives refs inside the given snapshot object: the engine restores from a copy', () => {
    const actor = createActor(orderMachine, { input }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    const persisted = roundTrip(actor.getPersistedSnapshot());
    const before = JSON.stringify(persisted);
    restore(persisted).start();
    expect(persisted.context.disputes.d.ref).not.toEqual({ xstate$$type: 1, id: 'd' });
    const copy = roundTrip(JSON.parse(before));
    restoreSystem(orderMachine, copy).stop();
    expect(JSON.stringify(copy)).toBe(before);
  });

  it('INV5: XState itself drops timers on restore (why the durable runtime schedules deadlines itself)', () => {
    const clock = new SimulatedClock();
    const actor = createActor(orderMachine, { input, clock }).start();
    actor.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    const persisted = roundTrip(actor.getPersistedSnapshot());
    actor.stop();
    const restoredClock = new SimulatedClock();
    const restored = restore(persisted, restoredClock).start();
    restoredClock.increment(100 * HOUR);
    const dispute = restored.getSnapshot().context.disputes['d']!.ref.getSnapshot();
    expect(dispute.value).toBe('awaitingMerchantChoice');
    expect(dispute.context.deadlines).toEqual({ merchantResponseWindow: 48 * HOUR });
  });
});
