import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import type { BatchEffectStore } from '../../src/runtime/store.js';
import type { OrderEventInput } from '../../src/index.js';
import { CUSTOMER, ManualClock, MERCHANT, MINUTE, orderInput, tempDir } from './helpers.js';

/**
 * The effects of one outbox pass are completed together (EffectCompleter, src/runtime/group-commit.ts):
 * the notifications a pass delivered are marked done in one store transaction. Each effect is still
 * delivered at least once and completed exactly when it was delivered; a completion that fails leaves
 * its effects under their lease, delivered again (same idempotency key) when the lease expires.
 */

const ORDERS = ['o1', 'o2', 'o3'];
const LEASE_MS = 5 * MINUTE;

type CountingStore = WorkflowStore & BatchEffectStore & { groups: string[][]; failNext: number };

function counting(store: WorkflowStore & BatchEffectStore): CountingStore {
  const wrapped: CountingStore = {
    ...store,
    groups: [],
    failNext: 0,
    async completeEffects(effectIds) {
      wrapped.groups.push([...effectIds]);
      if (wrapped.failNext > 0) {
        wrapped.failNext -= 1;
        throw new Error('store unavailable during completion');
      }
      return store.completeEffects(effectIds);
    },
  };
  return wrapped;
}

const backends: Array<[string, (dir: string) => WorkflowStore & BatchEffectStore]> = [
  ['memory store', () => createMemoryStore()],
  ['SQLite file', (dir) => createSqliteStore({ filename: join(dir, 'effects.db') })],
];

describe.each(backends)('effects of one outbox pass completed together, %s', (_name, open) => {
  let temp = tempDir('effect-completion-');
  let runtime: WorkflowRuntime | undefined;
  afterEach(async () => {
    await runtime?.close().catch(() => {});
    runtime = undefined;
    temp.cleanup();
    temp = tempDir('effect-completion-');
  });

  /** Three orders whose 48H plans each asked for a notification: three pending effects. */
  async function threeNotifications() {
    const store = counting(open(temp.dir));
    await store.migrate();
    const clock = new ManualClock();
    const notifications = createSandboxNotifications();
    runtime = createWorkflowRuntime({
      store,
      clock,
      payments: createSandboxPayments(),
      logistics: createSandboxLogistics(),
      notifications,
      leaseMs: LEASE_MS,
      workerId: 'w',
      onError: () => {},
    });
    for (const orderId of ORDERS) {
      await runtime.openOrder({ input: orderInput(orderId) });
      await runtime.dispatch({
        workflowId: orderId,
        commandId: `${orderId}:d`,
        event: { type: 'dispute.opened', by: CUSTOMER, disputeId: `${orderId}-d` } satisfies OrderEventInput,
      });
      await runtime.dispatch({
        workflowId: orderId,
        commandId: `${orderId}:p`,
        event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' } satisfies OrderEventInput,
      });
    }
    const pending = await Promise.all(ORDERS.map((orderId) => store.listOutbox(orderId)));
    const effects = pending.flat().filter((row) => row.kind === 'notification' && row.status === 'pending');
    expect(effects).toHaveLength(ORDERS.length);
    return { store, clock, notifications, runtime, effects };
  }

  it('delivers every notification of a pass once and marks them done in one completion', async () => {
    const { store, notifications, runtime, effects } = await threeNotifications();

    const tick = await runtime.tick();

    expect(tick.effectsDelivered).toBe(ORDERS.length);
    expect(store.groups.map((ids) => [...ids].sort())).toEqual([effects.map((row) => row.effectId).sort()]);
    expect(notifications.sent.map((sent) => sent.idempotencyKey).sort()).toEqual(effects.map((row) => row.idempotencyKey).sort());
    for (const orderId of ORDERS) {
      expect((await store.listOutbox(orderId)).filter((row) => row.kind === 'notification').map((row) => row.status)).toEqual(['done']);
    }
    expect((await runtime.tick()).effectsDelivered).toBe(0);
  });

  it("a failed completion leaves the pass's effects pending under their lease; they are delivered again after it (same keys) and then done", async () => {
    const { store, clock, notifications, runtime, effects } = await threeNotifications();
    store.failNext = 1;

    const failed = await runtime.tick();

    expect(failed.effectsDelivered).toBe(0);
    expect(failed.errors).toBe(ORDERS.length);
    for (const orderId of ORDERS) {
      expect((await store.listOutbox(orderId)).filter((row) => row.kind === 'notification').map((row) => row.status)).toEqual(['pending']);
    }
    // Still under this worker's lease: nothing is claimable before it expires.
    expect((await runtime.tick()).effectsDelivered).toBe(0);

    clock.advance(LEASE_MS + 1);
    const again = await runtime.tick();

    expect(again.effectsDelivered).toBe(ORDERS.length);
    for (const orderId of ORDERS) {
      expect((await store.listOutbox(orderId)).filter((row) => row.kind === 'notification').map((row) => row.status)).toEqual(['done']);
    }
    // The service saw each key twice and kept one message per key.
    expect(notifications.sent.map((sent) => sent.idempotencyKey).sort()).toEqual(effects.map((row) => row.idempotencyKey).sort());
  });
});
