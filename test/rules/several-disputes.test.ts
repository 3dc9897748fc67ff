import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConflictingCancellationError, FinalStateError, InvalidPayloadError, NotAllowedInStateError } from '../../src/errors.js';
import { dumpSqlite, host, HOUR, orderInput, T0, tempDir, type Host } from '../runtime/helpers.js';
import {
  CUSTOMER,
  CUSTOMER_APPEAL_EVIDENCE,
  MERCHANT,
  MERCHANT_APPEAL_EVIDENCE,
  PAYMENTS,
  PLATFORM,
  VALID_EVIDENCE,
  world,
  type World,
} from '../support/world.js';

/**
 * Issue 15, D1 [I] as a setting: `disputesPerOrder: 'several'` lets any number of disputes be open on
 * one order, each in its own child with its own timers; events for a dispute name it (`disputeId`),
 * which may be left out while only one is open. The host scenarios both hosts must agree on are in
 * test/rules/policy.test.ts; this file holds the boundary, the reads and the durable runtime.
 */

const SEVERAL = { policy: { disputesPerOrder: 'several' as const } };

function twoOpen(): World {
  const w = world(SEVERAL);
  w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
  w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
  return w;
}

const disputeStates = (w: World) => w.workflow.disputes().map((d) => [d.disputeId, d.status]);

describe('D1 several: routing at the boundary', () => {
  it('D1 (disputesPerOrder several): each open dispute is its own child, listed with its zh-CN/en label', () => {
    const w = twoOpen();
    const snapshot = w.workflow.getSnapshot();
    expect(Object.keys(snapshot.children).sort()).toEqual(['dispute:a', 'dispute:b']);
    expect(snapshot.context.dispute).toBeNull();
    expect(snapshot.context.openDisputes?.map((d) => d.disputeId)).toEqual(['a', 'b']);
    expect(w.workflow.disputes().map((d) => [d.disputeId, d.status, d.statusLabel, d.waitingOn])).toEqual([
      ['a', 'awaitingMerchantChoice', { 'zh-CN': expect.any(String), en: expect.any(String) }, 'merchant'],
      ['b', 'awaitingMerchantChoice', { 'zh-CN': expect.any(String), en: expect.any(String) }, 'merchant'],
    ]);
  });

  it('D1 (disputesPerOrder several): with two open, an event naming no dispute is an InvalidPayloadError at disputeId that names D1 and the setting, and changes nothing', () => {
    const w = twoOpen();
    const before = w.workflow.getSnapshot();
    const attempt = () => w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    expect(attempt).toThrow(InvalidPayloadError);
    expect(attempt).toThrow(/disputeId: D1: .*disputesPerOrder 'several'.*\(a, b\)/);
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('D1 (disputesPerOrder several): an event naming a dispute goes to that one only', () => {
    const w = twoOpen();
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' });
    expect(disputeStates(w)).toEqual([
      ['a', 'awaitingMerchantChoice'],
      ['b', 'awaitingCustomerConfirmation'],
    ]);
  });

  it('D1 (disputesPerOrder several): with one open, an event naming no dispute goes to it (callers written for one are unchanged)', () => {
    const w = world(SEVERAL);
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    expect(disputeStates(w)).toEqual([['a', 'resolved']]);
  });

  it('D1 (disputesPerOrder several): an id that is not open is refused (closed: FinalStateError; unknown: NotAllowedInStateError) and changes nothing', () => {
    const w = twoOpen();
    w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'a' });
    const before = w.workflow.getSnapshot();
    expect(() => w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'a' })).toThrow(FinalStateError);
    expect(() => w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'zz' })).toThrow(
      /D1: no dispute zz is open/,
    );
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('D1 (disputesPerOrder several) hostile: a reused dispute id is refused, whether open or closed, and changes nothing', () => {
    const w = twoOpen();
    w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'a' });
    const before = w.workflow.getSnapshot();
    for (const disputeId of ['a', 'b']) {
      expect(() => w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId })).toThrow(NotAllowedInStateError);
    }
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('D1 (disputesPerOrder several) hostile: odd strings in disputeId are InvalidPayloadErrors at the boundary and change nothing', () => {
    const w = twoOpen();
    const before = w.workflow.getSnapshot();
    const odd: unknown[] = ['', 'a:direct-refund', 'dispute:a', '../a', 'a b', '\u0000', 'x'.repeat(65), 'é', 42, null, ['a'], { id: 'a' }];
    for (const disputeId of odd) {
      expect(() => w.sendRaw({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId }), JSON.stringify(disputeId)).toThrow(
        InvalidPayloadError,
      );
      expect(() => w.sendRaw({ type: 'dispute.opened', by: CUSTOMER, disputeId }), JSON.stringify(disputeId)).toThrow(InvalidPayloadError);
    }
    // a prototype key is just an id no dispute has
    expect(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'constructor' })).toThrow(NotAllowedInStateError);
    expect(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'toString' })).toThrow(NotAllowedInStateError);
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('D1 one: a disputeId must name the open dispute; naming it is the same as naming none', () => {
    const w = world();
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    expect(() => w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' })).toThrow(
      NotAllowedInStateError,
    );
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'a' });
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
    expect(w.workflow.getSnapshot().context).not.toHaveProperty('openDisputes');
    expect(Object.keys(w.workflow.getSnapshot().children)).toEqual(['dispute']);
  });
});

describe('D1 several: X1/INV1 across disputes', () => {
  it("X1/INV1 (disputesPerOrder several): a second dispute's refund plan conflicts with the first's cancel order in flight", () => {
    const w = twoOpen();
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT', disputeId: 'a' });
    const before = w.workflow.getSnapshot();
    expect(() => w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND', disputeId: 'b' })).toThrow(
      ConflictingCancellationError,
    );
    expect(w.workflow.getSnapshot()).toBe(before);
    // a plan that refunds nothing is still the second dispute's own business
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' });
    expect(disputeStates(w)).toEqual([
      ['a', 'awaitingCustomerConfirmation'],
      ['b', 'awaitingCustomerConfirmation'],
    ]);
    expect(w.cancelOrderIds()).toEqual(['a:intercept-48h']);
  });

  it('INV1 (disputesPerOrder several): a ruling against the merchant in one dispute and a refund plan in the other refund exactly once', () => {
    const w = twoOpen();
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId: 'b' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND', disputeId: 'a' });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'b' });
    expect(w.cancelOrderIds()).toEqual(['a:direct-refund']);
    expect(w.refundRequests()).toEqual([{ cancellationId: 'a:direct-refund', attempt: 1 }]);
    w.send({ type: 'payment.refundSucceeded', by: { role: 'system', id: 'payments' }, cancellationId: 'a:direct-refund', paymentRef: 'p-1' });
    expect(w.refundedBy()).toBe('a:direct-refund');
    // the refunded order takes no new dispute; the open one goes on as a single open dispute does
    expect(() => w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'c' })).toThrow(NotAllowedInStateError);
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    expect(w.workflow.getSnapshot().status).toBe('done');
    expect(w.workflow.getSnapshot().output?.disputes.map((d) => [d.disputeId, d.status])).toEqual([
      ['b', 'resolved'],
      ['a', 'resolved'],
    ]);
  });
});

describe('D1 several with appeals (A1/A3)', () => {
  it("A1/A3 (disputesPerOrder several, appeals on): the customer's appeal and its overturn reach the dispute they name; the refund follows D6", () => {
    const w = world({ policy: { disputesPerOrder: 'several', appeals: 'on' } });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId: 'a' });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE', disputeId: 'a' });
    const evidence = CUSTOMER_APPEAL_EVIDENCE;
    expect(() => w.send({ type: 'customer.rulingAppealed', by: CUSTOMER, evidence })).toThrow(InvalidPayloadError);
    expect(() => w.send({ type: 'customer.rulingAppealed', by: CUSTOMER, evidence, disputeId: 'b' })).toThrow(NotAllowedInStateError);
    w.send({ type: 'customer.rulingAppealed', by: CUSTOMER, evidence, disputeId: 'a' });
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    expect(w.cancelOrderIds()).toEqual(['a:ruling-refund']);
    expect(w.refundRequests()).toEqual([{ cancellationId: 'a:ruling-refund', attempt: 1 }]);
    expect(disputeStates(w)).toEqual([
      ['a', 'resolved'],
      ['b', 'awaitingMerchantChoice'],
    ]);
  });
});

/** Two disputes, each ruled against the merchant and appealed by it; the order refunded once (INV1). */
function twoAppealedAfterOneRefund(): World {
  const w = world({ policy: { disputesPerOrder: 'several', appeals: 'on' } });
  for (const disputeId of ['a', 'b']) {
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId });
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId });
  }
  w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'b' });
  w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId: 'a' });
  expect(w.refundRequests()).toEqual([{ cancellationId: 'b:ruling-refund', attempt: 1 }]);
  w.send({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'b:ruling-refund', paymentRef: 'p-1' });
  for (const disputeId of ['a', 'b']) w.send({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId });
  return w;
}

const compensations = (w: World) =>
  w.workflow.effects.filter((effect) => effect.type === 'effect.compensationRequested').map((effect) => [effect.disputeId, effect.refundedBy]);

describe('D1 several with appeals: one compensation per refund (A4/INV1)', () => {
  for (const [first, second] of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    it(`A4/INV1 (disputesPerOrder several, appeals on): both merchant appeals won (${first} first): the one refund is compensated once; the second overturn is recorded and compensates nothing`, () => {
      const w = twoAppealedAfterOneRefund();
      w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: first });
      expect(compensations(w)).toEqual([[first, 'b:ruling-refund']]);
      expect(w.workflow.getSnapshot().context.compensatedRefund).toEqual({ disputeId: first, refundedBy: 'b:ruling-refund' });
      w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: second });
      expect(compensations(w)).toEqual([[first, 'b:ruling-refund']]);
      expect(disputeStates(w)).toEqual([
        [second, 'resolved'],
        [first, 'compensating'],
      ]);
      expect(w.closedDispute(second)).toMatchObject({ ruling: 'MERCHANT_NOT_LIABLE', appeal: { decision: 'OVERTURNED' } });
      expect(w.closedDispute(second)).not.toHaveProperty('compensation');
      w.send({
        type: 'payment.compensationSucceeded',
        by: PAYMENTS,
        idempotencyKey: `order-1/${first}/compensation`,
        paymentRef: 'comp-1',
        disputeId: first,
      });
      expect(w.workflow.getSnapshot().status).toBe('done');
      expect(w.refundRequests()).toEqual([{ cancellationId: 'b:ruling-refund', attempt: 1 }]);
    });
  }

  it('A4/INV1 (disputesPerOrder several, appeals on): after a declined compensation, a second overturn does not ask again (one request per refund)', () => {
    const w = twoAppealedAfterOneRefund();
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    w.send({
      type: 'payment.compensationFailed',
      by: PAYMENTS,
      idempotencyKey: 'order-1/a/compensation',
      error: 'merchant account closed',
      disputeId: 'a',
    });
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'b' });
    expect(compensations(w)).toEqual([['a', 'b:ruling-refund']]);
    expect(disputeStates(w)).toEqual([
      ['a', 'resolved'],
      ['b', 'resolved'],
    ]);
  });

  it('A2/A4 (disputesPerOrder several, appeals on): the other appeal upheld leaves the compensation of the one overturned as it was', () => {
    const w = twoAppealedAfterOneRefund();
    w.send({ type: 'platform.appealUpheld', by: PLATFORM, disputeId: 'b' });
    w.send({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    expect(compensations(w)).toEqual([['a', 'b:ruling-refund']]);
  });
});

describe('D1 several: allowed actions', () => {
  it('D1 (disputesPerOrder several): each action for a dispute is offered once per open dispute, with its disputeId', () => {
    const w = twoOpen();
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' });
    const customer = w.workflow.allowedActions('customer');
    expect(customer.filter((a) => a.type === 'customer.settlementConfirmed')).toEqual([
      { type: 'customer.settlementConfirmed', disputeId: 'b' },
    ]);
    expect(customer.filter((a) => a.type === 'customer.disputeWithdrawn')).toEqual([
      { type: 'customer.disputeWithdrawn', disputeId: 'a' },
      { type: 'customer.disputeWithdrawn', disputeId: 'b' },
    ]);
    const merchant = w.workflow.allowedActions('merchant').filter((a) => a.type === 'merchant.planSubmitted');
    expect(new Set(merchant.map((a) => a.disputeId))).toEqual(new Set(['a']));
    // every offered action is accepted as offered
    for (const action of customer.filter((a) => a.disputeId !== undefined)) {
      const copy = twoOpen();
      copy.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' });
      expect(() => copy.send({ ...action, by: CUSTOMER } as never)).not.toThrow();
    }
  });

  it('D1 one: allowed actions name no dispute, as before', () => {
    const w = world();
    w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    expect(w.workflow.allowedActions('customer')).toContainEqual({ type: 'customer.disputeWithdrawn' });
  });
});

describe('D1 several on the durable runtime (SQLite)', () => {
  let cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  async function sqliteHost(): Promise<Host & { filename: string }> {
    const tmp = tempDir('several-disputes-');
    const filename = join(tmp.dir, 'runtime.db');
    const h = await host({ filename });
    cleanups.push(tmp.cleanup, () => h.close());
    return Object.assign(h, { filename });
  }

  it("D1/D5/D7 (disputesPerOrder several): both disputes' deadlines fire across a restart, each at its own time, once", async () => {
    const h = await sqliteHost();
    h.clock.time = T0;
    await h.runtime.openOrder({ input: orderInput('o', SEVERAL) });
    let n = 0;
    const dispatch = (event: Record<string, unknown>) => h.runtime.dispatchRaw({ workflowId: 'o', commandId: `c${(n += 1)}`, event });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    h.clock.advance(10 * HOUR);
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'b' });
    const deadlines = (await h.store.listDeadlines('o')).map((d) => [d.actorPath, d.dueAt - T0]);
    expect(deadlines).toEqual(
      expect.arrayContaining([
        ['dispute:a', 48 * HOUR],
        ['dispute:b', 10 * HOUR + 72 * HOUR],
      ]),
    );
    const listed = async () =>
      (await h.runtime.queryDisputes(PLATFORM, { orderId: 'o' })).items.map((d) => [
        d.disputeId,
        d.status,
        d.nextDeadline && d.nextDeadline.dueAt - T0,
      ]);
    expect(await listed()).toEqual(
      expect.arrayContaining([
        ['a', 'awaitingMerchantChoice', 48 * HOUR],
        ['b', 'awaitingCustomerConfirmation', 82 * HOUR],
      ]),
    );

    h.clock.time = T0 + 30 * HOUR;
    await h.restart();
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0 });
    h.clock.time = T0 + 48 * HOUR;
    await h.restart();
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 1 });
    h.clock.time = T0 + 82 * HOUR;
    await h.restart();
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 1 });
    expect(await h.runtime.tick()).toMatchObject({ deadlinesFired: 0 });

    const view = await h.runtime.getWorkflow(PLATFORM, 'o');
    expect(view.disputes.map((d) => [d.disputeId, d.status])).toEqual([
      ['b', 'resolved'],
      ['a', 'awaitingPlatformRuling'],
    ]);
    const timers = (await h.store.listAudit('o')).filter((row) => row.actorId === 'timer').map((row) => [row.eventType, row.at - T0]);
    expect(timers).toEqual([
      ['xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', 48 * HOUR],
      ['xstate.after.customerConfirmationWindow.dispute.awaitingCustomerConfirmation', 82 * HOUR],
    ]);
  });

  it('A4/INV1 (disputesPerOrder several, appeals on): two merchant appeals won across a restart: one compensation row, executed once; the refund untouched', async () => {
    const h = await sqliteHost();
    h.clock.time = T0;
    await h.runtime.openOrder({ input: orderInput('o', { policy: { disputesPerOrder: 'several', appeals: 'on' } }) });
    let n = 0;
    const dispatch = (event: Record<string, unknown>) => h.runtime.dispatchRaw({ workflowId: 'o', commandId: `c${(n += 1)}`, event });
    for (const disputeId of ['a', 'b']) {
      await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId });
      await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId });
      await dispatch({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE', disputeId });
    }
    await h.runtime.tick();
    expect(h.payments.executionCount()).toBe(1);
    for (const disputeId of ['a', 'b'])
      await dispatch({ type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL_EVIDENCE, disputeId });
    await dispatch({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'b' });
    await h.restart();
    await dispatch({ type: 'platform.appealOverturned', by: PLATFORM, disputeId: 'a' });
    await h.runtime.tick();
    await h.runtime.tick();
    const rows = (await h.store.listOutbox('o')).filter((row) => row.kind === 'compensation');
    expect(rows).toEqual([expect.objectContaining({ idempotencyKey: 'o/b/compensation', status: 'done' })]);
    expect(h.payments.compensations().map((c) => c.idempotencyKey)).toEqual(['o/b/compensation']);
    expect(h.payments.executionCount()).toBe(1);
    const view = await h.runtime.getWorkflow(PLATFORM, 'o');
    expect(view.status).toBe('done');
    expect(view.disputes.map((d) => [d.disputeId, d.status])).toEqual(
      expect.arrayContaining([
        ['a', 'resolved'],
        ['b', 'resolved'],
      ]),
    );
  });

  it('D4/R1 (disputesPerOrder several): evidence given without a disputeId belongs to the only open dispute, not to the one opened last', async () => {
    const h = await sqliteHost();
    h.clock.time = T0;
    await h.runtime.openOrder({ input: orderInput('o', SEVERAL) });
    let n = 0;
    const dispatch = (event: Record<string, unknown>) => h.runtime.dispatchRaw({ workflowId: 'o', commandId: `c${(n += 1)}`, event });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    await dispatch({ type: 'customer.disputeWithdrawn', by: CUSTOMER, disputeId: 'b' });
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'c' });
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE, disputeId: 'c' });
    const view = await h.runtime.getWorkflow(PLATFORM, 'o');
    expect(view.evidence.map((e) => [e.disputeId, e.kind])).toEqual([
      ['a', 'plan'],
      ['c', 'plan'],
    ]);
  });

  it('D1 (disputesPerOrder several): allowed actions name their dispute and its status; a refused event for no dispute writes nothing (INV4)', async () => {
    const h = await sqliteHost();
    h.clock.time = T0;
    await h.runtime.openOrder({ input: orderInput('o', SEVERAL) });
    let n = 0;
    const dispatch = (event: Record<string, unknown>) => h.runtime.dispatchRaw({ workflowId: 'o', commandId: `c${(n += 1)}`, event });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' });
    await dispatch({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'b' });
    await dispatch({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT', disputeId: 'a' });
    const actions = await h.runtime.allowedActions(CUSTOMER, 'o');
    expect(actions.filter((a) => a.type === 'customer.disputeWithdrawn').map((a) => [a.disputeId, a.subject?.id, a.subject?.status])).toEqual([
      ['a', 'a', 'awaitingCustomerConfirmation'],
      ['b', 'b', 'awaitingMerchantChoice'],
    ]);
    const before = dumpSqlite(h.filename);
    for (const event of [
      { type: 'customer.settlementConfirmed', by: CUSTOMER },
      { type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'b' },
      { type: 'customer.settlementConfirmed', by: CUSTOMER, disputeId: 'zz' },
      { type: 'dispute.opened', by: CUSTOMER, disputeId: 'a' },
    ]) {
      await expect(dispatch(event)).rejects.toThrow();
    }
    expect(dumpSqlite(h.filename)).toEqual(before);
  });
});
