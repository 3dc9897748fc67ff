import { isWorkflowError } from '../../../src/errors.js';
import type { WorkflowRuntime } from '../../../src/runtime/index.js';

/**
 * The kill test's workload: many orders through every plan, with refund declines (C4), interceptions
 * and crash-after-execute refunds, played as a flat list of operations each carrying the time it
 * happens at. A worker process and the in-process reference run the same list with `applyOp`; the
 * worker gets it as JSON, so operations go through `openOrderRaw` and `dispatchRaw`.
 */

export type Op =
  | { seq: number; op: 'open'; now: number; workflowId: string; input: Record<string, unknown> }
  | { seq: number; op: 'send'; now: number; workflowId: string; commandId: string; event: Record<string, unknown> }
  | { seq: number; op: 'tick'; now: number };

export type Reply = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };

/** The outside world's behaviour, the same for the worker and the reference (crashes aside). */
export interface World {
  /** Business attempts declined per cancel order (C4). */
  declines: Record<string, number>;
  /** Refund keys whose first execution kills the worker right after the money moved. */
  crashKeys: string[];
  /**
   * Issue 12: besides `crashKeys`, this share (0..1) of all refund keys, picked by a hash of the key and
   * `killSeed`, kills the worker between the payment executing and the runtime recording its result.
   */
  killAfterExecuteRate?: number;
  killSeed?: number;
}

/** Whether the worker dies right after executing the refund with this key (deterministic per key and seed). */
export function killsAfterExecuting(world: World, idempotencyKey: string): boolean {
  if (world.crashKeys.includes(idempotencyKey)) return true;
  const rate = world.killAfterExecuteRate ?? 0;
  if (rate <= 0) return false;
  let hash = 2_166_136_261 ^ (world.killSeed ?? 0);
  for (const char of idempotencyKey) hash = Math.imul(hash ^ char.charCodeAt(0), 16_777_619);
  return (hash >>> 0) / 4_294_967_296 < rate;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const SOAK_T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
/** Leases of the worker, in the workload's (manual) time. */
export const LEASE_MS = MINUTE;

const MERCHANT = { role: 'merchant', id: 'merchant-1' };
const CUSTOMER = { role: 'customer', id: 'customer-1' };
const PLATFORM = { role: 'platform', id: 'cs-1' };
const EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1.jpg', sizeBytes: 120_000 }],
  explanation: 'The parcel left our warehouse before the cancellation request.',
};

/** Deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Without<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type OpBody = Without<Op, 'seq'>;
type Timed = { at: number; order: number; step: number; op: Without<Op, 'seq' | 'now'> };

/** One round: `orders` orders starting minutes apart, ticks every 6 h and after every command, then a drain. */
export function buildRound(round: number, orders: number, world: World): OpBody[] {
  const base = SOAK_T0 + round * 40 * DAY;
  const timed: Timed[] = [];
  for (let index = 0; index < orders; index += 1) {
    const id = `r${round}-o${index}`;
    const d = `${id}-d`;
    const start = base + index * 7 * MINUTE;
    let step = 0;
    const at = (offset: number, op: Timed['op']) => timed.push({ at: start + offset, order: index, step: step++, op });
    const send = (offset: number, name: string, event: Record<string, unknown>) =>
      at(offset, { op: 'send', workflowId: id, commandId: `${id}:${name}`, event });
    const open = (extra: Record<string, unknown> = {}) =>
      at(0, {
        op: 'open',
        workflowId: id,
        input: { orderId: id, merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT', ...extra },
      });
    const plan = (offset: number, plan: string, extra: Record<string, unknown> = {}) =>
      send(offset, 'plan', { type: 'merchant.planSubmitted', by: MERCHANT, plan, ...extra });
    const dispute = (offset: number) => send(offset, 'dispute', { type: 'dispute.opened', by: CUSTOMER, disputeId: d });
    const customerCancel = (offset: number) =>
      send(offset, 'cancel', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: `${id}-c` });

    switch (index % 8) {
      case 0: // P1
        open();
        dispute(MINUTE);
        plan(HOUR, 'DIRECT_REFUND');
        send(3 * HOUR, 'confirm', { type: 'customer.settlementConfirmed', by: CUSTOMER });
        break;
      case 1: // P1 with two declined attempts: C4 backoff deadlines
        open();
        world.declines[`${d}:direct-refund`] = 2;
        dispute(MINUTE);
        plan(HOUR, 'DIRECT_REFUND');
        send(20 * HOUR, 'confirm', { type: 'customer.settlementConfirmed', by: CUSTOMER });
        break;
      case 2: // P2
        open();
        customerCancel(MINUTE);
        dispute(2 * MINUTE);
        plan(HOUR, 'NEGOTIATED_REJECT');
        send(5 * HOUR, 'reject', { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: `${id}-c` });
        break;
      case 3: // P3b, interception answered at once
        open({ deliveredBy: 'JD', shipped: true });
        dispute(MINUTE);
        plan(HOUR, 'WAIT_48H_INTERCEPT');
        break;
      case 4: // P3a, the refund kills the worker right after the money moved
        open();
        world.crashKeys.push(`${id}/${d}:intercept-48h/1`); // its first refund request
        dispute(MINUTE);
        plan(HOUR, 'WAIT_48H_INTERCEPT');
        break;
      case 5: // P4
        open();
        if (round % 2 === 1) world.crashKeys.push(`${id}/${d}:ruling-refund/1`);
        dispute(MINUTE);
        plan(HOUR, 'PLATFORM_RULING', { evidence: EVIDENCE });
        send(10 * HOUR, 'ruling', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
        break;
      case 6: // X1 fail: the plan is refused, the merchant approves the customer's cancel order
        open();
        customerCancel(MINUTE);
        dispute(2 * MINUTE);
        plan(HOUR, 'DIRECT_REFUND');
        send(2 * HOUR, 'approve', { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: `${id}-c` });
        send(60 * HOUR, 'ruling', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' });
        break;
      case 7: // D7: the merchant stays silent, the platform rules
        open();
        dispute(MINUTE);
        send(55 * HOUR, 'ruling', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
        break;
    }
  }
  for (let t = base; t <= base + 8 * DAY; t += 6 * HOUR) timed.push({ at: t, order: orders, step: 0, op: { op: 'tick' } });
  for (const entry of [...timed]) {
    if (entry.op.op !== 'tick') timed.push({ at: entry.at, order: entry.order, step: entry.step + 0.5, op: { op: 'tick' } });
  }
  timed.push({ at: base + 30 * DAY, order: orders, step: 0, op: { op: 'tick' } });
  timed.push({ at: base + 30 * DAY, order: orders, step: 1, op: { op: 'tick' } });
  timed.sort((a, b) => a.at - b.at || a.order - b.order || a.step - b.step);
  return timed.map(({ at, op }) => ({ ...op, now: at }) as OpBody);
}

/** Runs one operation on a runtime; refusals are answers too (typed errors), anything else throws. */
export async function applyOp(runtime: WorkflowRuntime, clock: { time: number }, op: Op): Promise<Reply> {
  clock.time = op.now;
  try {
    switch (op.op) {
      case 'open':
        return { seq: op.seq, ok: true, result: await runtime.openOrderRaw({ workflowId: op.workflowId, input: op.input }) };
      case 'send':
        return {
          seq: op.seq,
          ok: true,
          result: await runtime.dispatchRaw({ workflowId: op.workflowId, commandId: op.commandId, event: op.event }),
        };
      case 'tick':
        // Counts may differ after a crash (part of the round was done before it); state may not.
        await runtime.tick();
        return { seq: op.seq, ok: true, result: null };
    }
  } catch (error) {
    if (isWorkflowError(error)) return { seq: op.seq, ok: false, error: error.name };
    throw error;
  }
}
