import { describe, expect, it } from 'vitest';
import { CUSTOMER, dumpWorkflow, host, HOUR, MERCHANT, PLATFORM, orderInput, type Host } from './helpers.js';

/**
 * Issue 12, the gaps left at the money boundary: a recorded failure retires the request it settles
 * (INV1), a late success is never lost (INV6), and a decline from outside names its request (INV1).
 */

const PAYMENTS = { role: 'system', id: 'payments' } as const;

/** Order `id` with DIRECT_REFUND chosen: one refund request (key `<id>/<cancellationId>/1`) in the outbox. */
async function directRefund(h: Host, id: string) {
  await h.runtime.openOrder({ input: orderInput(id) });
  await h.runtime.dispatch({ workflowId: id, commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
  await h.runtime.dispatch({ workflowId: id, commandId: 'p', event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' } });
  const [row] = (await h.store.listOutbox(id)).filter((r) => r.kind === 'refund');
  const cancellationId = (row!.payload as { cancellationId: string }).cancellationId;
  return { cancellationId, key: (n: number) => `${id}/${cancellationId}/${n}` };
}

const refundRows = async (h: Host, id: string) =>
  (await h.store.listOutbox(id)).filter((r) => r.kind === 'refund').map((r) => ({ key: r.idempotencyKey, status: r.status }));
const statusOf = async (h: Host, id: string) => (await h.runtime.getWorkflow(PLATFORM, id)).cancelOrders[0]?.status;

/** The refund's first request gets no answer (the provider is down) until the outcome counts as unknown. */
async function unknownOutcome(h: Host, id: string) {
  const refund = await directRefund(h, id);
  h.payments.failNextCalls(2);
  await h.runtime.tick(); // throws: retried under the same key
  h.clock.advance(24 * HOUR);
  await h.runtime.tick(); // refundReconcileWindow fires; the redelivery throws again
  expect(await statusOf(h, id)).toBe('refundOutcomeUnknown');
  return refund;
}

describe('issue 12: a recorded outcome settles the request (INV1)', () => {
  it('INV1: the platform records a failure: the pending request is retired in the same commit, a forced refund is the only one that moves money', async () => {
    const h = await host();
    const { cancellationId, key } = await unknownOutcome(h, 'o-1');
    expect(await refundRows(h, 'o-1')).toEqual([{ key: key(1), status: 'pending' }]);
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'record',
      event: { type: 'platform.refundOutcomeRecorded', by: PLATFORM, cancellationId, outcome: 'failed', error: 'no refund at the provider' },
    });
    expect(await refundRows(h, 'o-1')).toEqual([{ key: key(1), status: 'done' }]);
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'force', event: { type: 'merchant.refundForced', by: MERCHANT, cancellationId } });
    // The provider is back: whatever the outbox still holds is delivered, again and again.
    for (let i = 0; i < 5; i += 1) {
      h.clock.advance(HOUR);
      await h.runtime.tick();
    }
    expect(h.payments.executions().map((e) => e.idempotencyKey)).toEqual([key(2)]);
    expect(h.payments.calls.filter((call) => call.request.idempotencyKey === key(1)).map((call) => call.result)).toEqual(['threw', 'threw']);
    expect(await statusOf(h, 'o-1')).toBe('refunded');
    await h.close();
  });

  it('INV1/INV6: a late success of the retired request is recorded (refunded, never refused) and retires the forced request before it is delivered', async () => {
    const h = await host();
    const { cancellationId, key } = await unknownOutcome(h, 'o-1');
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'record',
      event: { type: 'platform.refundOutcomeRecorded', by: PLATFORM, cancellationId, outcome: 'failed', error: 'no refund at the provider' },
    });
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'force', event: { type: 'merchant.refundForced', by: MERCHANT, cancellationId } });
    expect(await refundRows(h, 'o-1')).toEqual([
      { key: key(1), status: 'done' },
      { key: key(2), status: 'pending' },
    ]);
    // The provider's webhook: request 1 moved the money after all.
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'webhook-1',
      event: { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef: 'late-1', idempotencyKey: key(1) },
    });
    expect(await refundRows(h, 'o-1')).toEqual([
      { key: key(1), status: 'done' },
      { key: key(2), status: 'done' },
    ]);
    h.clock.advance(HOUR);
    await h.runtime.tick();
    expect(h.payments.calls.filter((call) => call.request.idempotencyKey === key(2))).toEqual([]);
    expect((await h.runtime.getWorkflow(PLATFORM, 'o-1')).cancelOrders[0]).toMatchObject({ status: 'refunded' });
    await h.close();
  });

  it('INV6: a late success after a recorded failure (before anyone forced a refund) moves refundFailed to refunded', async () => {
    const h = await host();
    const { cancellationId, key } = await unknownOutcome(h, 'o-1');
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'record',
      event: { type: 'platform.refundOutcomeRecorded', by: PLATFORM, cancellationId, outcome: 'failed', error: 'no refund at the provider' },
    });
    expect(await statusOf(h, 'o-1')).toBe('refundFailed');
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'webhook-1',
      event: { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef: 'late-1', idempotencyKey: key(1) },
    });
    expect(await statusOf(h, 'o-1')).toBe('refunded');
    await h.close();
  });

  it('INV1: an answer that comes by webhook retires its request: the outbox does not deliver it again', async () => {
    const h = await host();
    const { cancellationId, key } = await directRefund(h, 'o-1');
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'webhook-decline-1',
      event: { type: 'payment.refundFailed', by: PAYMENTS, cancellationId, error: 'card closed', idempotencyKey: key(1) },
    });
    expect(await refundRows(h, 'o-1')).toEqual([{ key: key(1), status: 'done' }]);
    await h.runtime.tick();
    expect(h.payments.calls).toEqual([]);
    await h.close();
  });
});

describe('a refund requested and no longer awaited in one unit of work (INV1)', () => {
  /**
   * Found by the durable property model (seed -902640727): nothing ran for 100 h after the 48H plan, then
   * the platform recorded the refund as failed. That one command first caught up the deadlines (the 48H
   * window fell due: refund request 1; its reconcile window: outcome unknown) and then took the recorded
   * failure, which ended the wait for request 1 before it was ever in the outbox. Request 1 was written as
   * pending all the same, so after a forced refund (request 2) both were delivered: two refunds, and
   * request 1's late success then retired request 2's row in place of its own.
   */
  async function requestEndedInItsOwnUnit(h: Host, id: string) {
    await h.runtime.openOrder({ input: orderInput(id, { shipped: true }) });
    await h.runtime.dispatch({ workflowId: id, commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    await h.runtime.dispatch({
      workflowId: id,
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' },
    });
    const cancellationId = 'd:intercept-48h';
    h.clock.advance(100 * HOUR);
    const recorded = await h.runtime.dispatch({
      workflowId: id,
      commandId: 'record',
      event: { type: 'platform.refundOutcomeRecorded', by: PLATFORM, cancellationId, outcome: 'failed', error: 'no refund at the provider' },
    });
    return { cancellationId, recorded, key: (n: number) => `${id}/${cancellationId}/${n}` };
  }

  it('INV1: the request is written already retired (never delivered); a forced refund is the only one that moves money', async () => {
    const h = await host();
    const { cancellationId, recorded, key } = await requestEndedInItsOwnUnit(h, 'o-9');
    expect(recorded.firedDeadlines.length).toBeGreaterThanOrEqual(2);
    expect(await statusOf(h, 'o-9')).toBe('refundFailed');
    expect(await refundRows(h, 'o-9')).toEqual([{ key: key(1), status: 'done' }]);
    await h.runtime.dispatch({ workflowId: 'o-9', commandId: 'force', event: { type: 'merchant.refundForced', by: MERCHANT, cancellationId } });
    for (let i = 0; i < 5; i += 1) {
      h.clock.advance(HOUR);
      await h.runtime.tick();
    }
    expect(h.payments.calls.map((call) => call.request.idempotencyKey)).toEqual([key(2)]);
    expect(h.payments.executions().map((e) => e.idempotencyKey)).toEqual([key(2)]);
    expect(await refundRows(h, 'o-9')).toEqual([
      { key: key(1), status: 'done' },
      { key: key(2), status: 'done' },
    ]);
    expect(await statusOf(h, 'o-9')).toBe('refunded');
    await h.close();
  });
});

describe('issue 12: a decline from outside names its request (INV1)', () => {
  it('INV1/INV4: a payment.refundFailed without idempotencyKey is refused with InvalidPayloadError and changes nothing', async () => {
    const h = await host();
    const { cancellationId, key } = await directRefund(h, 'o-1');
    const before = JSON.stringify(await dumpWorkflow(h.store, 'o-1'));
    await expect(
      h.runtime.dispatch({
        workflowId: 'o-1',
        commandId: 'keyless',
        event: { type: 'payment.refundFailed', by: PAYMENTS, cancellationId, error: 'declined' },
      }),
    ).rejects.toMatchObject({ name: 'InvalidPayloadError', code: 'INVALID_PAYLOAD', issues: [{ path: 'idempotencyKey' }] });
    expect(JSON.stringify(await dumpWorkflow(h.store, 'o-1'))).toBe(before);
    // Named, the same decline counts for its request (C4: backing off).
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'keyed',
      event: { type: 'payment.refundFailed', by: PAYMENTS, cancellationId, error: 'declined', idempotencyKey: key(1) },
    });
    expect((await h.runtime.getWorkflow(PLATFORM, 'o-1')).state).toMatchObject({ cancellation: { refunding: 'backingOff' } });
    await h.close();
  });

  it('INV6: a keyless payment.refundSucceeded is still accepted: a success can only end a refund, and refusing it would lose money that moved', async () => {
    const h = await host();
    const { cancellationId } = await directRefund(h, 'o-1');
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'ok',
      event: { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef: 'pay-9' },
    });
    expect(await statusOf(h, 'o-1')).toBe('refunded');
    await h.close();
  });
});

describe('issue 12: the reconcile window and requests from the past (known gap b, not fixed)', () => {
  // refundReconcileWindow counts from the request's time as the machine sees it, so a refund requested
  // more than 24 h in the past is marked outcome-unknown (and the platform notified) in the same round,
  // before any delivery could answer. Intended: the window starts at the first delivery without a definite
  // answer (docs/persistence.md, "The money boundary"). These repros pass once that is built.
  const unknownMarks = async (h: Host, id: string) => ({
    windowFired: (await h.store.listAudit(id)).some((row) => row.eventType.startsWith('xstate.after.refundReconcileWindow')),
    notified: h.notifications.sent.some((n) => n.kind === 'REFUND_OUTCOME_UNKNOWN'),
  });

  it.fails('INV6: catch-up after an outage: a refund requested by a deadline 32 h ago is delivered before its outcome counts as unknown', async () => {
    const h = await host();
    await h.runtime.openOrder({ input: orderInput('o-1') });
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd' } });
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' },
    });
    h.clock.advance(80 * HOUR); // down from before the 48H until 32 h after it
    await h.runtime.tick();
    expect(await statusOf(h, 'o-1')).toBe('refunded');
    expect(await unknownMarks(h, 'o-1')).toEqual({ windowFired: false, notified: false });
    await h.close();
  });

  it.fails('INV6: imported history (acceptHistory): a refund requested 30 h ago is delivered before its outcome counts as unknown', async () => {
    const h = await host({ acceptHistory: true });
    const past = h.clock.now() - 30 * HOUR;
    await h.runtime.openOrder({ input: { ...orderInput('o-1'), at: past } });
    await h.runtime.dispatch({ workflowId: 'o-1', commandId: 'd', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd', at: past } });
    await h.runtime.dispatch({
      workflowId: 'o-1',
      commandId: 'p',
      event: { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND', at: past },
    });
    await h.runtime.tick();
    expect(await statusOf(h, 'o-1')).toBe('refunded');
    expect(await unknownMarks(h, 'o-1')).toEqual({ windowFired: false, notified: false });
    await h.close();
  });
});
