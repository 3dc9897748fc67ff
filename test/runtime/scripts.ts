import { CUSTOMER, HOUR, MERCHANT, MINUTE, orderInput, PLATFORM, VALID_EVIDENCE, type Host } from './helpers.js';
import type { Plan } from '../../src/schemas/common.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

/** One step of a scripted run; a restart may happen between any two. */
export type Step =
  | { op: 'open'; input: Record<string, unknown> }
  | { op: 'send'; id: string; event: OrderEventInput; refusedWith?: string }
  | { op: 'advance'; ms: number }
  | { op: 'tick' };

export interface Script {
  name: string;
  workflowId: string;
  /** The outside world's behaviour (sandbox settings), applied once. */
  world?: (h: Host) => void;
  steps: Step[];
}

const send = (id: string, event: OrderEventInput, refusedWith?: string): Step => ({
  op: 'send',
  id,
  event,
  ...(refusedWith ? { refusedWith } : {}),
});
const advance = (ms: number): Step => ({ op: 'advance', ms });
const tick: Step = { op: 'tick' };
const opened = (disputeId: string) => ({ type: 'dispute.opened', by: CUSTOMER, disputeId }) satisfies OrderEventInput;
const plan = (p: Plan, extra: Pick<Extract<OrderEventInput, { type: 'merchant.planSubmitted' }>, 'evidence'> = {}) =>
  ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p, ...extra }) satisfies OrderEventInput;

/** The four plans, plus X1, each as an uninterrupted script with its timers and effects. */
export const PLAN_SCRIPTS: Script[] = [
  {
    name: 'P1 DIRECT_REFUND, merchant-delivered, first refund attempt declined (C4)',
    workflowId: 'p1',
    world: (h) => h.payments.declineAttempts(1, 'p1-d:direct-refund'),
    steps: [
      { op: 'open', input: orderInput('p1') },
      send('p1-1', opened('p1-d')),
      advance(HOUR),
      send('p1-2', plan('DIRECT_REFUND')),
      tick,
      advance(MINUTE),
      tick,
      advance(2 * HOUR),
      send('p1-3', { type: 'customer.settlementConfirmed', by: CUSTOMER }),
    ],
  },
  {
    name: 'P2 NEGOTIATED_REJECT with a pending customer cancel order, confirmed by silence (D5)',
    workflowId: 'p2',
    steps: [
      { op: 'open', input: orderInput('p2') },
      send('p2-1', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'p2-cancel' }),
      send('p2-2', opened('p2-d')),
      advance(HOUR),
      send('p2-3', plan('NEGOTIATED_REJECT')),
      tick,
      advance(72 * HOUR),
      tick,
      advance(HOUR),
      send('p2-4', { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'p2-cancel' }),
    ],
  },
  {
    name: 'P3b WAIT_48H_INTERCEPT, JD-delivered: 48H → 通过并拦截 → interception succeeded → refund',
    workflowId: 'p3',
    steps: [
      { op: 'open', input: orderInput('p3', { deliveredBy: 'JD', shipped: true }) },
      send('p3-1', opened('p3-d')),
      advance(HOUR),
      send('p3-2', plan('WAIT_48H_INTERCEPT')),
      tick,
      advance(30 * HOUR),
      tick,
      advance(18 * HOUR),
      tick,
      advance(24 * HOUR),
      tick,
    ],
  },
  {
    name: 'P4 PLATFORM_RULING with evidence → MERCHANT_LIABLE → refund (D6)',
    workflowId: 'p4',
    steps: [
      { op: 'open', input: orderInput('p4') },
      send('p4-1', opened('p4-d')),
      advance(HOUR),
      send('p4-2', plan('PLATFORM_RULING', { evidence: VALID_EVIDENCE })),
      tick,
      advance(5 * HOUR),
      send('p4-3', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' }),
      tick,
    ],
  },
  {
    name: "X1 fail policy: the plan is refused, the merchant approves the customer's cancel order; D7 escalates",
    workflowId: 'x1',
    steps: [
      { op: 'open', input: orderInput('x1') },
      send('x1-1', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'x1-cancel' }),
      send('x1-2', opened('x1-d')),
      advance(HOUR),
      send('x1-3', plan('DIRECT_REFUND'), 'ConflictingCancellationError'),
      send('x1-4', { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'x1-cancel' }),
      tick,
      advance(48 * HOUR),
      tick,
      advance(HOUR),
      send('x1-5', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' }),
    ],
  },
];

/** Runs one step; returns what a caller would see (a result, or the error's name). */
export async function runStep(h: Host, script: Script, step: Step): Promise<unknown> {
  switch (step.op) {
    case 'open':
      return h.runtime.openOrder({ workflowId: script.workflowId, input: step.input as never });
    case 'send':
      try {
        return await h.runtime.dispatch({ workflowId: script.workflowId, commandId: step.id, event: step.event });
      } catch (error) {
        if (error instanceof Error && error.name === step.refusedWith) return error.name;
        throw error;
      }
    case 'advance':
      h.clock.advance(step.ms);
      return null;
    case 'tick':
      return h.runtime.tick();
  }
}
