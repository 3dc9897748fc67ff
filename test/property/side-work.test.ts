import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../src/schemas/policy.js';
import { INTERCEPT_RESULT_WAIT_MS } from '../../src/schemas/timers.js';
import { CUSTOMER_ID, MERCHANT_ID } from './model.js';
import { InvariantViolation, RuntimeWorld, type WorldConfig } from './runtime-driven.js';

/**
 * The property world's own guarantee: work an adversarial adapter starts during its call (a second
 * worker's tick, a webhook) may outlive the call when the runtime's delivery timeout abandons it, and the
 * world waits for it before it checks the store. Before, a second worker still delivering the
 * interception held its lease while the world found the row due and unclaimed: a false INV6 failure
 * (seed 126638022 of the memory-store property).
 */

const HOUR = 3_600_000;
const MERCHANT = { role: 'merchant', id: MERCHANT_ID } as const;
const CUSTOMER = { role: 'customer', id: CUSTOMER_ID } as const;
const CONFIG: WorldConfig = {
  store: 'memory',
  deliveredBy: 'JD',
  shipped: true,
  conflictPolicy: 'fail',
  deliveryAttempts: 8,
  inspected: false,
  policy: { ...DEFAULT_POLICY, disputesPerOrder: 'several' },
};

const rowOf = async (world: RuntimeWorld, kind: string) => (await world.h.store.listOutbox('order-1')).find((row) => row.kind === kind)!;

describe('property world: side work of an abandoned adapter call', () => {
  it('INV6: a second worker still delivering after the runtime abandoned the slow refund call is awaited before the outbox is checked', async () => {
    const world = await RuntimeWorld.open(CONFIG);
    try {
      await world.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' });
      await world.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
      // Down past the 48H and the interception's result wait: the interception is requested, its first
      // delivery hangs (retried 1 s later), and the cancel order waits for the merchant (P3e).
      world.setMood({ service: 'logistics', does: 'hang', n: 1 });
      world.advanceTo(world.h.clock.now() + 48 * HOUR + INTERCEPT_RESULT_WAIT_MS + HOUR);
      await world.tickUntilQuiet();
      const start = world.h.clock.now();
      expect(await rowOf(world, 'interception')).toMatchObject({ status: 'pending', attempts: 1, availableAt: start + 1_000 });

      // The refund call runs past the lease; inside it a second worker claims the refund and the now due
      // interception, whose call hangs again: the runtime abandons the refund call first (same timeout,
      // started earlier), while the second worker still holds the interception.
      world.setMood({ service: 'payments', does: 'trick', trick: 'slowPastLease' });
      world.setMood({ service: 'logistics', does: 'hang', n: 1 });
      await world.send({ type: 'merchant.refundForced', by: MERCHANT, cancellationId: 'dispute-1:intercept-48h' });
      await world.tickUntilQuiet();

      const now = world.h.clock.now();
      expect(now).toBe(start + 30_001);
      expect((await world.h.runtime.getWorkflow({ role: 'platform', id: 'cs-1' }, 'order-1')).cancelOrders[0]?.status).toBe('refunded');
      // The second worker's delivery ended and was recorded: a second attempt, its lease released, due later.
      const interception = await rowOf(world, 'interception');
      expect(interception).toMatchObject({ status: 'pending', attempts: 2 });
      expect(interception.availableAt).toBeGreaterThan(now);
      expect(world.h.payments.executions().map((e) => e.idempotencyKey)).toEqual(['order-1/dispute-1:intercept-48h/1']);
    } finally {
      await world.close();
    }
  });

  it('INV4: a violation inside side work is reported as a background error, never swallowed by the abandoned call', async () => {
    const world = await RuntimeWorld.open(CONFIG);
    try {
      await world.alongsideCall('a probe', async () => {
        throw new InvariantViolation('seen inside an adapter call');
      });
      expect(await world.settleSideWork()).toBe(false);
      expect(() => world.checkDurable({ dueBound: null })).toThrow(/background error: a probe: InvariantViolation: seen inside an adapter call/);
    } finally {
      await world.close();
    }
  });
});
