import { createServer, type AddressInfo } from 'node:net';
import { SimulatedClock } from 'xstate';
import type { Sender } from '../../src/schemas/common.js';
import type { InspectionSink } from '../../src/inspect.js';
import { toInspect } from '../../src/inspect.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';

export const HOUR = 3_600_000;
export const MERCHANT: Sender = { role: 'merchant', id: 'merchant-1' };
export const CUSTOMER: Sender = { role: 'customer', id: 'customer-1' };
export const PAYMENTS: Sender = { role: 'system', id: 'payments' };
export const ORDER_INPUT = {
  orderId: 'order-1',
  merchantId: MERCHANT.id,
  customerId: CUSTOMER.id,
  deliveredBy: 'MERCHANT',
  at: 0,
} as const;
export const CANCEL_ORDER_ID = 'dispute-1:intercept-48h';

/** A free TCP port on 127.0.0.1 (the probe binds loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * P3a in memory on a simulated clock, inspected: a dispute, the 48H plan (a cancel order appears as a
 * child), the customer confirms, the 48H window ends, the payment service confirms. Returns the closed workflow.
 */
export function playInterceptScenario(sink: InspectionSink): OrderWorkflow {
  const clock = new SimulatedClock();
  const workflow = createOrderWorkflow(ORDER_INPUT, { clock, inspect: toInspect(sink) });
  workflow.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'dispute-1' });
  workflow.send({ type: 'merchant.planSubmitted', at: 0, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
  workflow.send({ type: 'customer.settlementConfirmed', at: 0, by: CUSTOMER });
  clock.increment(48 * HOUR);
  workflow.send({ type: 'payment.refundSucceeded', at: 48 * HOUR, by: PAYMENTS, cancellationId: CANCEL_ORDER_ID, paymentRef: 'pay-1' });
  return workflow;
}

/** Resolves when `check` passes, polling; rejects with the last failure after `timeoutMs`. */
export async function eventually<T>(check: () => T, timeoutMs = 5_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}

/** Open handles that keep a process alive: sockets, servers and timers, counted by kind. */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPSocketWrap' || kind === 'TCPServerWrap' || kind === 'Timeout') counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** `liveHandles()` once it stops changing (sockets of an earlier test may still be closing). */
export async function settledHandles(): Promise<Record<string, number>> {
  let previous = JSON.stringify(liveHandles());
  for (let i = 0; i < 40; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const current = JSON.stringify(liveHandles());
    if (current === previous) break;
    previous = current;
  }
  return liveHandles();
}

/** Asserts that no kind of handle outnumbers the baseline. */
export function expectNoMoreHandlesThan(baseline: Record<string, number>): void {
  const now = liveHandles();
  const extra = Object.entries(now).filter(([kind, count]) => count > (baseline[kind] ?? 0));
  if (extra.length > 0) throw new Error(`handles left open: ${JSON.stringify(now)} (baseline ${JSON.stringify(baseline)})`);
}

/** One message the inspector server relays (the Stately wire format, parsed). */
export interface WireMessage {
  type: string;
  sessionId: string;
  rootId?: string;
  parentId?: string;
  name?: string;
  definition?: string;
  event?: { type: string };
  snapshot?: { value?: unknown; status?: string };
}
