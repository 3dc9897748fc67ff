import { createActor } from 'xstate';
import { cancellationMachine } from '../../machines/cancellation.js';
import { orderMachine } from '../../machines/order.js';
import type { CancellationInput } from '../../src/schemas/inputs.js';
import { createOrderWorkflow } from '../../src/workflow.js';
import { compareRates, round, roundSpread, type BenchContext, type Metric } from '../harness.js';
import type { OrderEvent } from '../../src/schemas/events.js';

const merchant = { role: 'merchant', id: 'm' } as const;
const customer = { role: 'customer', id: 'c' } as const;
const payments = { role: 'system', id: 'payments' } as const;
const orderInput = { orderId: 'o', merchantId: 'm', customerId: 'c', deliveredBy: 'MERCHANT', at: 0 } as const;

/** One order's life: the 48H plan, the merchant refunds within the window, the customer confirms. */
const ORDER_EVENTS: OrderEvent[] = [
  { type: 'dispute.opened', at: 0, by: customer, disputeId: 'd' },
  { type: 'merchant.planSubmitted', at: 1, by: merchant, plan: 'WAIT_48H_INTERCEPT' },
  { type: 'merchant.refundForced', at: 2, by: merchant, cancellationId: 'd:intercept-48h' },
  { type: 'payment.refundSucceeded', at: 3, by: payments, cancellationId: 'd:intercept-48h', paymentRef: 'p' },
  { type: 'customer.settlementConfirmed', at: 4, by: customer },
];

/**
 * The host's clock stands at the orders' time 0 (the events carry their own `at`), with real timers as
 * the bare actor has: the in-memory host refuses an `at` behind its clock, like the durable runtime.
 */
const clockAtZero = {
  now: () => 0,
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
  clearTimeout: (id: unknown) => clearTimeout(id as NodeJS.Timeout),
};

function validated(orders: number): void {
  for (let order = 0; order < orders; order++) {
    const workflow = createOrderWorkflow(orderInput, { clock: clockAtZero });
    for (const event of ORDER_EVENTS) workflow.send(event);
    if (workflow.getSnapshot().status !== 'done') throw new Error('validated run did not finish');
    workflow.stop();
  }
}

function bare(orders: number): void {
  for (let order = 0; order < orders; order++) {
    const actor = createActor(orderMachine, { input: orderInput }).start();
    for (const event of ORDER_EVENTS) actor.send(event);
    if (actor.getSnapshot().status !== 'done') throw new Error('bare run did not finish');
    actor.stop();
  }
}

const cancellationInput: CancellationInput = {
  cancellationId: 'c1',
  orderId: 'o',
  merchantId: 'm',
  customerId: 'c',
  reason: 'INTERCEPT_48H_DISPUTE_PLAN',
  facts: { deliveredBy: 'MERCHANT', shipped: true, completed: false },
  start: { state: 'logisticsFollowUp' },
  createdBy: merchant,
  at: 0,
};
const WINDOW_ELAPSED = { type: 'xstate.after.interceptWindow.cancellation.logisticsFollowUp' } as never;
const REFUND_SUCCEEDED = { type: 'payment.refundSucceeded', at: 5, by: payments, cancellationId: 'c1', paymentRef: 'p' } as const;

function bareCancellation(orders: number): void {
  for (let order = 0; order < orders; order++) {
    const actor = createActor(cancellationMachine, { input: cancellationInput }).start();
    actor.send(WINDOW_ELAPSED);
    actor.send(REFUND_SUCCEEDED);
    if (actor.getSnapshot().value !== 'refunded') throw new Error('bare cancellation did not refund');
    actor.stop();
  }
}

/** The same 48H logic (P3a/P3b/P3d, C4) as a plain reducer: the floor any engine pays. */
type Plain =
  | { status: 'logisticsFollowUp'; deliveredBy: 'JD' | 'MERCHANT'; completed: boolean; dueAt: number }
  | { status: 'intercepting' | 'refunding' | 'refunded' | 'closedWithoutRefund'; attempts: number };
type PlainEvent = { type: 'windowElapsed' } | { type: 'refundSucceeded' } | { type: 'refundForced' };

function reduce(state: Plain, event: PlainEvent): Plain {
  switch (state.status) {
    case 'logisticsFollowUp':
      if (event.type === 'windowElapsed') {
        if (state.completed) return { status: 'closedWithoutRefund', attempts: 0 };
        return { status: state.deliveredBy === 'JD' ? 'intercepting' : 'refunding', attempts: 1 };
      }
      if (event.type === 'refundForced') return { status: 'refunding', attempts: 1 };
      return state;
    case 'refunding':
      return event.type === 'refundSucceeded' ? { status: 'refunded', attempts: state.attempts } : state;
    default:
      return state;
  }
}

function reducer(orders: number): void {
  for (let order = 0; order < orders; order++) {
    let state: Plain = { status: 'logisticsFollowUp', deliveredBy: 'MERCHANT', completed: false, dueAt: 48 * 3_600_000 };
    state = reduce(state, { type: 'windowElapsed' });
    state = reduce(state, { type: 'refundSucceeded' });
    if (state.status !== 'refunded') throw new Error('reducer did not refund');
  }
}

export async function sendMetrics(ctx: BenchContext): Promise<Record<string, Metric>> {
  // Many short samples: the ratio is the median of per-pair ratios, robust to a load change mid-run.
  const samples = ctx.quick ? 15 : 41;
  const perOrder = ORDER_EVENTS.length;
  const send = compareRates(validated, bare, { candidate: 150, baseline: 150 }, samples);
  ctx.log(
    `send.validatedVsBare: ${round(send.ratio)}, on CPU time ${round(send.cpuRatio)} (${round(send.candidate.opsPerSecond * perOrder, 0)} vs ${round(send.baseline.opsPerSecond * perOrder, 0)} commands/s)`,
  );
  const machine = compareRates(bareCancellation, reducer, { candidate: 500, baseline: 200_000 }, samples);
  ctx.log(
    `send.bareVsReducer: ${round(machine.ratio, 5)} (${round(machine.candidate.opsPerSecond * 2, 0)} vs ${round(machine.baseline.opsPerSecond * 2, 0)} events/s)`,
  );
  return {
    'send.validatedVsBare': {
      ratio: round(send.ratio),
      ratioSpread: roundSpread(send.ratioSpread),
      cpuRatio: round(send.cpuRatio),
      cpuRatioSpread: roundSpread(send.cpuRatioSpread),
      value: round(send.candidate.opsPerSecond * perOrder, 0),
      baseline: round(send.baseline.opsPerSecond * perOrder, 0),
      unit: 'commands/s',
      target: 0.7,
      workload: `${perOrder} commands per order (48H plan, forced refund, confirmation), new actor per order`,
    },
    'send.bareVsReducer': {
      ratio: round(machine.ratio, 5),
      ratioSpread: roundSpread(machine.ratioSpread, 5),
      cpuRatio: round(machine.cpuRatio, 5),
      value: round(machine.candidate.opsPerSecond * 2, 0),
      baseline: round(machine.baseline.opsPerSecond * 2, 0),
      unit: 'events/s',
      workload: 'cancel order created in logisticsFollowUp, 48H elapses, refund confirmed (actor creation included)',
    },
  };
}
