/**
 * The multi-worker workload: many orders whose 48H deadline is already in the past when they are
 * seeded ("deadlines in the past"), so seeding, firing, refunding and the takeover after a SIGKILL all
 * overlap in one run. The runtime clock of every process is the real clock, which they share.
 *
 * Every order uses the same dispute id, so every 48H cancel order has the same cancel-order id
 * (`dispute-1:intercept-48h`): the X2 projection must keep one row per (workflow, cancel order).
 */
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export const MERCHANT = { role: 'merchant', id: 'merchant-1' } as const;
export const CUSTOMER = { role: 'customer', id: 'customer-1' } as const;
export const DISPUTE_ID = 'dispute-1';

/**
 * How far back an order starts: its 48H plan is chosen 48 h 1 min ago, so its 48H window (P3) is due when
 * it is seeded, and the customer's 72 h confirmation window (D5) is pending for another day.
 */
export const ORDER_AGE_MS = 48 * HOUR + 3 * MINUTE;
/** D7, configured per order (a documented [I] default of 48 h): not due before the plan. */
export const MERCHANT_RESPONSE_WINDOW_MS = 100 * HOUR;

export type OrderKind =
  /** P3a: merchant-delivered, 48H elapses, automatic refund. */
  | 'P3a'
  /** P3b: JD-delivered and shipped, 48H elapses, approved and intercepting, interception succeeds, refund. */
  | 'P3b'
  /** P3d: the order is already completed when the 48H elapses: nothing is refunded. */
  | 'P3d'
  /** P1: direct refund at once. */
  | 'P1';

/** Mostly P3a, with a few of the other plans mixed in. */
export function kindOf(index: number): OrderKind {
  switch (index % 20) {
    case 3:
    case 13:
      return 'P3b';
    case 7:
      return 'P3d';
    case 11:
      return 'P1';
    default:
      return 'P3a';
  }
}

export const REFUNDED_KINDS: readonly OrderKind[] = ['P3a', 'P3b', 'P1'];

export interface Command {
  /** 'open' opens the workflow; anything else is dispatched. Commands reach workers as JSON: `openOrderRaw`, `dispatchRaw`. */
  kind: 'open' | 'send';
  commandId: string;
  workflowId: string;
  input?: Record<string, unknown>;
  event?: Record<string, unknown>;
}

export const workflowIdOf = (index: number): string => `mw-${String(index).padStart(6, '0')}`;

/** The commands that seed order `index`, in order, with times counted back from `now`. */
export function seedCommands(index: number, now: number): Command[] {
  const workflowId = workflowIdOf(index);
  const kind = kindOf(index);
  const start = now - ORDER_AGE_MS;
  const facts =
    kind === 'P3b'
      ? { deliveredBy: 'JD', shipped: true }
      : kind === 'P3d'
        ? { deliveredBy: 'MERCHANT', shipped: true, completed: true }
        : { deliveredBy: 'MERCHANT' };
  return [
    {
      kind: 'open',
      commandId: `open:${workflowId}`,
      workflowId,
      input: {
        orderId: workflowId,
        merchantId: MERCHANT.id,
        customerId: CUSTOMER.id,
        ...facts,
        at: start,
        // D7 would be due before the plan is even seeded: a scheduler may fire it between the dispute and
        // the plan (the plan is then refused as older than the escalation). Longer, it is cancelled by the plan.
        timers: { merchantResponseWindow: MERCHANT_RESPONSE_WINDOW_MS },
      },
    },
    {
      kind: 'send',
      commandId: `${workflowId}:dispute`,
      workflowId,
      event: { type: 'dispute.opened', by: CUSTOMER, disputeId: DISPUTE_ID, at: start + MINUTE },
    },
    {
      kind: 'send',
      commandId: `${workflowId}:plan`,
      workflowId,
      event: {
        type: 'merchant.planSubmitted',
        by: MERCHANT,
        plan: kind === 'P1' ? 'DIRECT_REFUND' : 'WAIT_48H_INTERCEPT',
        // A 48H plan is 48 h 1 min old (its window is due). A direct refund is chosen a minute ago: one
        // requested 48 h back would be past its refundReconcileWindow (INV6, 24 h) before any worker could
        // deliver it, and whether that timer or the payment's answer comes first is a race between the
        // deadline and outbox loops that this test does not measure.
        at: kind === 'P1' ? now - MINUTE : start + 2 * MINUTE,
      },
    },
  ];
}

/** The cancel order a plan creates (the same id in every order). */
export const cancellationIdOf = (kind: OrderKind): string => (kind === 'P1' ? `${DISPUTE_ID}:direct-refund` : `${DISPUTE_ID}:intercept-48h`);
