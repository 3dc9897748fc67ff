import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { createOrderWorkflow } from '../../src/workflow.js';
import { HOST_NAMES, ORDER_INPUT, play, type Run, type Step } from '../support/hosts.js';
import { CUSTOMER, HOUR, MERCHANT, PAYMENTS } from '../support/world.js';

/**
 * Issue 11, the three repros, each on the in-memory host and on the durable runtime on SQLite: the
 * typed outcomes, the audit trails and the cancel orders must be the same on both.
 *
 * Found before the fix: (a) a plan stamped 10 h ahead of the in-memory host's clock was taken, the 48H
 * fired at clock 48 h stamped 58 h and the payment's answer at 48 h was refused as "before the last
 * event"; (b) a `send` from inside `onEffect` was checked against a stale snapshot, audited out of order
 * and dropped by the machine; (c) a customer cancel order `d.direct-refund` was overwritten, history and
 * all, by the one DIRECT_REFUND made for dispute `d`.
 */

async function playBoth(script: Parameters<typeof play>[1]): Promise<Run> {
  const [memory, sqlite] = await Promise.all(HOST_NAMES.map((name) => play(name, script)));
  expect(sqlite!.outcomes).toEqual(memory!.outcomes);
  expect(sqlite!.audit).toEqual(memory!.audit);
  expect(sqlite!.cancelOrders).toEqual(memory!.cancelOrders);
  expect(sqlite!.disputes).toEqual(memory!.disputes);
  expect(sqlite!.effects).toEqual(memory!.effects);
  expect(sqlite!.status).toBe(memory!.status);
  return memory!;
}

const opened: Step = { send: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } };
const plan = (p: string, extra: Record<string, unknown> = {}, refused?: string): Step => ({
  send: { type: 'merchant.planSubmitted', by: MERCHANT, plan: p, ...extra },
  ...(refused ? { refused } : {}),
});

describe('issue 11 (a): one time rule on both hosts', () => {
  it('INV4/P3: a plan stamped 10 h while the host clock reads 0 is refused with InvalidTimeError on both hosts, nothing written', async () => {
    const run = await playBoth({ steps: [opened, plan('WAIT_48H_INTERCEPT', { at: 10 * HOUR }, 'InvalidTimeError')] });
    expect(run.outcomes).toEqual([{ ok: true }, { ok: false, error: 'InvalidTimeError', code: 'INVALID_TIME' }]);
    expect(run.audit.map((row) => row.eventType)).toEqual(['dispute.opened']);
    expect(run.cancelOrders).toEqual([]);
  });

  it('P3a: with the plan stamped by the clock, the 48H fires at clock 48 h stamped 48 h and the payment’s answer at 48 h is accepted', async () => {
    const run = await playBoth({
      world: { refundAnswers: 'later' },
      steps: [
        opened,
        plan('WAIT_48H_INTERCEPT'),
        { advance: 48 * HOUR - 1 },
        { advance: 1 },
        {
          send: {
            type: 'payment.refundSucceeded',
            at: 48 * HOUR,
            by: PAYMENTS,
            cancellationId: 'd:intercept-48h',
            paymentRef: 'pay-48h',
          },
        },
      ],
    });
    expect(run.outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(run.audit.map((row) => [row.eventType, row.at])).toEqual([
      ['dispute.opened', 0],
      ['merchant.planSubmitted', 0],
      ['xstate.after.interceptWindow.cancellation.logisticsFollowUp', 48 * HOUR],
      ['payment.refundSucceeded', 48 * HOUR],
    ]);
    expect(run.refundCalls).toEqual([{ key: 'order-1/d:intercept-48h/1', result: 'accepted' }]);
    expect(run.cancelOrders).toMatchObject([
      { cancellationId: 'd:intercept-48h', status: 'refunded', refundTrigger: { kind: 'timer', at: 48 * HOUR } },
    ]);
  });

  it('INV4: on the in-memory host an `at` within the allowed skew is taken, beyond it refused, as on the runtime', async () => {
    const run = await playBoth({
      steps: [
        opened,
        plan('NEGOTIATED_REJECT', { at: 60_000 + 1 }, 'InvalidTimeError'),
        plan('NEGOTIATED_REJECT', { at: 60_000 }),
        { send: { type: 'customer.settlementConfirmed', by: CUSTOMER, at: 60_000 - 1 }, refused: 'InvalidTimeError' },
        { send: { type: 'customer.settlementConfirmed', by: CUSTOMER } },
      ],
    });
    // the clock still reads 0: the confirmation is stamped with the last event's time, never earlier
    expect(run.audit.map((row) => [row.eventType, row.at])).toEqual([
      ['dispute.opened', 0],
      ['merchant.planSubmitted', 60_000],
      ['customer.settlementConfirmed', 60_000],
    ]);
  });
});

describe('issue 11 (b): effects leave after the command; a send made while handling one comes after it', () => {
  it('D3/D5/P1: a confirmation sent from the notification handler and the payment’s answer are audited after the plan, in order, none dropped', async () => {
    const run = await playBoth({
      world: {
        // the customer's app confirms as soon as it is asked (a host reacting inside onEffect)
        onNotification: (notification) =>
          notification.kind === 'CUSTOMER_CONFIRMATION_REQUESTED' ? { type: 'customer.settlementConfirmed', by: CUSTOMER } : null,
      },
      steps: [opened, { advance: HOUR }, plan('DIRECT_REFUND')],
    });
    expect(run.audit.map((row) => [row.seq, row.eventType, row.at])).toEqual([
      [1, 'dispute.opened', 0],
      [2, 'merchant.planSubmitted', HOUR],
      [3, 'customer.settlementConfirmed', HOUR],
      [4, 'payment.refundSucceeded', HOUR],
    ]);
    expect(run.disputes).toMatchObject([{ disputeId: 'd', status: 'resolved', plan: 'DIRECT_REFUND' }]);
    expect(run.cancelOrders).toMatchObject([{ cancellationId: 'd:direct-refund', status: 'refunded' }]);
    expect(run.status).toBe('done');
  });

  it('the in-memory host: `send` returns before any effect is handled; the re-entrant send sees the state the first command left', () => {
    const clock = new SimulatedClock();
    const seen: Array<{ effect: string; version: number; dispute: unknown }> = [];
    let sendReturned = false;
    const workflow = createOrderWorkflow(
      { ...ORDER_INPUT, deliveredBy: 'MERCHANT', at: 0 },
      {
        clock,
        onEffect: (effect: WorkflowEffect) => {
          seen.push({ effect: effect.type, version: workflow.version, dispute: workflow.disputes()[0]?.status });
          if (effect.type === 'effect.refundRequested') {
            expect(sendReturned).toBe(false); // delivered after the command completed, before `send` returns
            workflow.send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: effect.cancellationId, paymentRef: 'p' });
          }
        },
      },
    );
    workflow.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' });
    const after = workflow.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' });
    sendReturned = true;
    // both effects were handled against the committed state of the plan (version 3), none dropped
    expect(seen).toEqual([
      { effect: 'effect.notificationRequested', version: 3, dispute: 'awaitingCustomerConfirmation' },
      { effect: 'effect.refundRequested', version: 3, dispute: 'awaitingCustomerConfirmation' },
    ]);
    expect(workflow.audit.map((row) => [row.seq, row.eventType])).toEqual([
      [1, 'dispute.opened'],
      [2, 'merchant.planSubmitted'],
      [3, 'payment.refundSucceeded'],
    ]);
    expect(after).toBe(workflow.getSnapshot());
    expect(workflow.cancelOrders()).toMatchObject([{ cancellationId: 'd:direct-refund', status: 'refunded' }]);
    workflow.stop();
  });
});

describe('issue 11 (c): client ids and the ids the order makes never meet', () => {
  it('C1/P1: a rejected customer cancel order `d.direct-refund` keeps its id, entry and history beside the plan’s `d:direct-refund`', async () => {
    const run = await playBoth({
      steps: [
        { send: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'd.direct-refund' } },
        { send: { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'd.direct-refund' } },
        { advance: HOUR },
        opened,
        plan('DIRECT_REFUND'),
        // the customer's order is still there, final (INV3), and still answers for itself
        { send: { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'd.direct-refund' }, refused: 'FinalStateError' },
      ],
    });
    expect(run.cancelOrders.map((order) => [order.cancellationId, order.status, order.reason, order.origin, order.createdAt])).toEqual([
      ['d.direct-refund', 'rejected', 'CUSTOMER_REQUEST', 'customer', 0],
      ['d:direct-refund', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'dispute', HOUR],
    ]);
    // its history: the two audit rows that made it, unchanged by what came after
    expect(
      run.audit.slice(0, 2).map((row) => [row.eventType, (row.event as { cancellationId: string }).cancellationId, row.resultingState]),
    ).toEqual([
      ['cancellation.submitted', 'd.direct-refund', { order: { dispute: 'none', cancellation: 'inFlight' }, cancellation: 'pendingReview' }],
      ['merchant.cancellationRejected', 'd.direct-refund', { order: { dispute: 'none', cancellation: 'idle' } }],
    ]);
    expect(run.refundCalls).toEqual([{ key: 'order-1/d:direct-refund/1', result: 'executed' }]);
  });

  it.each([
    ['C1: a customer cancel order', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'd:direct-refund' }, 'cancellationId'],
    ['D1: a dispute', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd:direct-refund' }, 'disputeId'],
  ] as const)('%s id with ‘:’ is refused with a typed error on both hosts, nothing written', async (_name, event, path) => {
    const run = await playBoth({ steps: [{ send: event, refused: 'InvalidPayloadError' }] });
    expect(run.outcomes).toEqual([{ ok: false, error: 'InvalidPayloadError', code: 'INVALID_PAYLOAD' }]);
    expect(run.audit).toEqual([]);
    // the message names the field and the reason
    const workflow = createOrderWorkflow({ ...ORDER_INPUT, deliveredBy: 'MERCHANT', at: 0 }, { clock: new SimulatedClock() });
    expect(() => workflow.send(event)).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path, message: expect.stringMatching(/':' is reserved/) })] }),
    );
    workflow.stop();
  });
});
