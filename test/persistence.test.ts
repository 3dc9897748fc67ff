import { describe, expect, it } from 'vitest';
import { createActor, createMachine, setup, SimulatedClock } from 'xstate';
import { orderMachine, refundedBy } from '../machines/order.js';
import { restoreSystem } from '../src/engine/step.js';
import { disputeChild } from '../src/queries.js';
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
    // the invoked children under their fixed ids; context keeps identities only
    expect(Object.keys(second.children)).toEqual(['dispute', 'cancellation']);
    expect(second.context.cancellation).toMatchObject({ cancellationId: 'd:intercept-48h', origin: 'dispute' });

    // the revived children still take the events the order routes to them and answer it
    restored.send({ type: 'merchant.refundForced', at: 2 * HOUR, by: MERCHANT, cancellationId: 'd:intercept-48h' });
    restored.send({
      type: 'payment.refundSucceeded',
      at: 2 * HOUR,
      by: PAYMENTS,
      cancellationId: 'd:intercept-48h',
      paymentRef: 'p',
    });
    expect(refundedBy(restored.getSnapshot().context)?.cancellationId).toBe('d:intercept-48h');
    restored.send({ type: 'customer.settlementConfirmed', at: 3 * HOUR, by: CUSTOMER });
    expect(restored.getSnapshot().status).toBe('done');
    const third = roundTrip(restored.getPersistedSnapshot());
    expect(restore(third).start().getSnapshot().status).toBe('done');
  });

  it('INV5: XState revives actor refs inside the snapshot object it is given: the engine restores from a copy', () => {
    // The order keeps no refs in context any more; a machine that does shows why the copy matters.
    const holder = setup({ actors: { child: createMachine({}) } }).createMachine({
      context: ({ spawn }) => ({ ref: spawn('child', { id: 'kept' }) }),
    });
    const persisted = roundTrip(createActor(holder).start().getPersistedSnapshot());
    const before = JSON.stringify(persisted);
    expect(persisted.context.ref).toEqual({ xstate$$type: 1, id: 'kept' });
    createActor(holder, { snapshot: persisted }).start();
    expect(typeof persisted.context.ref.send).toBe('function'); // the stored object now holds a live ref
    const copy = roundTrip(JSON.parse(before));
    restoreSystem(holder, copy).stop();
    expect(copy.context.ref).toEqual({ xstate$$type: 1, id: 'kept' });
    expect(JSON.stringify(copy)).toBe(before);

    const order = createActor(orderMachine, { input }).start();
    order.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'd' });
    const stored = roundTrip(order.getPersistedSnapshot());
    const storedJson = JSON.stringify(stored);
    restoreSystem(orderMachine, stored).stop();
    expect(JSON.stringify(stored)).toBe(storedJson);
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
    const dispute = disputeChild(restored.getSnapshot())!;
    expect(dispute.value).toBe('awaitingMerchantChoice');
    expect(dispute.context.deadlines).toEqual({ merchantResponseWindow: 48 * HOUR });
  });
});
