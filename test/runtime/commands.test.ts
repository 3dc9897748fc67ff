import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConflictingCancellationError,
  DuplicateCommandError,
  FinalStateError,
  InvalidPayloadError,
  InvalidTimeError,
  NotAllowedInStateError,
  VersionConflictError,
  WorkflowExistsError,
  WorkflowNotFoundError,
  WrongRoleError,
} from '../../src/errors.js';
import {
  CUSTOMER,
  dumpSqlite,
  dumpWorkflow,
  host,
  HOUR,
  LOGISTICS,
  MERCHANT,
  MINUTE,
  orderInput,
  PLATFORM,
  T0,
  tempDir,
  type Host,
} from './helpers.js';
import type { OrderEventInput, Plan } from '../../src/index.js';

let cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

async function memoryHost(extra: Parameters<typeof host>[0] = {}): Promise<Host> {
  const h = await host(extra);
  cleanups.push(() => h.close());
  return h;
}

async function sqliteHost(): Promise<Host & { filename: string }> {
  const tmp = tempDir();
  const filename = join(tmp.dir, 'runtime.db');
  const h = await host({ filename });
  cleanups.push(tmp.cleanup, () => h.close());
  return Object.assign(h, { filename });
}

const opened = { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' } satisfies OrderEventInput;
const plan = (p: Plan) => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p }) satisfies OrderEventInput;

describe('runtime commands: opening a workflow', () => {
  it('opens a workflow at version 1, stamped with the clock, and answers a repeated open with the first result', async () => {
    const h = await memoryHost();
    const first = await h.runtime.openOrder({ input: orderInput('order-1') });
    expect(first).toMatchObject({
      workflowId: 'order-1',
      commandId: 'open:order-1',
      version: 1,
      state: { order: { dispute: 'none', cancellation: 'idle' } },
    });
    expect((await h.store.load('order-1'))?.lastEventAt).toBe(T0);
    h.clock.advance(HOUR);
    expect(await h.runtime.openOrder({ input: orderInput('order-1') })).toEqual(first);
  });

  it('opening is idempotent per workflow: other input is refused with WorkflowExistsError, another command id gets the first result', async () => {
    const h = await memoryHost();
    const first = await h.runtime.openOrder({ input: orderInput('order-1') });
    await expect(h.runtime.openOrder({ input: orderInput('order-1', { deliveredBy: 'JD' }) })).rejects.toMatchObject({
      name: 'WorkflowExistsError',
      code: 'WORKFLOW_EXISTS',
      workflowId: 'order-1',
    });
    await expect(h.runtime.openOrder({ commandId: 'other', input: orderInput('order-1', { deliveredBy: 'JD' }) })).rejects.toBeInstanceOf(
      WorkflowExistsError,
    );
    expect(await h.runtime.openOrder({ commandId: 'other', input: orderInput('order-1') })).toEqual({
      ...first,
      commandId: 'other',
    });
    expect((await h.store.load('order-1'))?.version).toBe(1);
  });

  it('the runtime records the opening under its own scope: a client command id `open` is a client command', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    const result = await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'open', event: opened });
    expect(result).toMatchObject({ commandId: 'open', version: 2, state: { dispute: 'awaitingMerchantChoice' } });
    expect((await h.store.getCommand('order-1', 'runtime', 'open'))?.result).toMatchObject({ version: 1 });
    expect((await h.store.getCommand('order-1', 'client', 'open'))?.result).toMatchObject({ version: 2 });
  });

  it('INV4: invalid order input is refused with InvalidPayloadError', async () => {
    const h = await memoryHost();
    await expect(h.runtime.openOrderRaw({ input: { ...orderInput('order-1'), deliveredBy: 'UPS' } })).rejects.toBeInstanceOf(
      InvalidPayloadError,
    );
    expect(await h.store.load('order-1')).toBeUndefined();
  });
});

describe('runtime commands: time', () => {
  it('stamps a missing `at` from the clock', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    h.clock.advance(5 * MINUTE);
    const result = await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    expect(result.event?.at).toBe(T0 + 5 * MINUTE);
  });

  it('INV4: an `at` before the last event, or beyond the allowed skew, is refused with InvalidTimeError', async () => {
    const h = await memoryHost({ allowedSkewMs: MINUTE });
    await h.runtime.openOrder({ input: orderInput('order-1') });
    h.clock.advance(HOUR);
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    const past = h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: { ...plan('DIRECT_REFUND'), at: T0 } });
    await expect(past).rejects.toMatchObject({ name: 'InvalidTimeError', code: 'INVALID_TIME', at: T0 });
    const future = h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c3',
      event: { ...plan('DIRECT_REFUND'), at: h.clock.now() + MINUTE + 1 },
    });
    await expect(future).rejects.toMatchObject({ name: 'InvalidTimeError', code: 'INVALID_TIME' });
    const withinSkew = await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c4',
      event: { ...plan('NEGOTIATED_REJECT'), at: h.clock.now() + MINUTE },
    });
    expect(withinSkew.version).toBe(3);
  });
});

describe('runtime commands: concurrency and idempotency', () => {
  it('a stale expectedVersion is refused with VersionConflictError and changes nothing', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', expectedVersion: 1, event: opened });
    const before = await dumpWorkflow(h.store, 'order-1');
    const stale = h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', expectedVersion: 1, event: plan('DIRECT_REFUND') });
    await expect(stale).rejects.toMatchObject({ name: 'VersionConflictError', expectedVersion: 1, actualVersion: 2 });
    expect(await dumpWorkflow(h.store, 'order-1')).toEqual(before);
  });

  it('concurrent commands without expectedVersion are retried on conflict; with it, the loser gets VersionConflictError', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    const shipped = { type: 'order.shipped', by: { role: 'system', id: 'order-system' } } satisfies OrderEventInput;
    const both = await Promise.all([
      h.runtime.dispatch({ workflowId: 'order-1', commandId: 'a', event: opened }),
      h.runtime.dispatch({ workflowId: 'order-1', commandId: 'b', event: shipped }),
    ]);
    expect(both.map((r) => r.version).sort()).toEqual([2, 3]);

    const raced = await Promise.allSettled([
      h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c', expectedVersion: 3, event: plan('NEGOTIATED_REJECT') }),
      h.runtime.dispatch({ workflowId: 'order-1', commandId: 'd', expectedVersion: 3, event: plan('NEGOTIATED_REJECT') }),
    ]);
    expect(raced.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const loser = raced.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(VersionConflictError);
  });

  it('a repeated command id with the same payload returns the original result and writes nothing', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    const first = await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    h.clock.advance(HOUR);
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('NEGOTIATED_REJECT') });
    const before = await dumpWorkflow(h.store, 'order-1');
    // the retry carries no `at`, like the original: same payload, even though the clock moved on
    const again = await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', expectedVersion: 1, event: opened });
    expect(again).toEqual(first);
    expect(await dumpWorkflow(h.store, 'order-1')).toEqual(before);
  });

  it('a repeated command id with another payload is refused with DuplicateCommandError; ids are per workflow', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.openOrder({ input: orderInput('order-2') });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    await expect(
      h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: { ...opened, disputeId: 'dispute-2' } }),
    ).rejects.toBeInstanceOf(DuplicateCommandError);
    // command ids are unique per workflow: the same id for another workflow is another command
    const other = await h.runtime.dispatch({ workflowId: 'order-2', commandId: 'c1', event: opened });
    expect(other).toMatchObject({ workflowId: 'order-2', commandId: 'c1', version: 2 });
  });
});

describe('runtime commands: INV4 at the durable boundary (store contents compared byte for byte)', () => {
  it('INV4: refused commands of every kind change nothing in the SQLite file', async () => {
    const h = await sqliteHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c1',
      event: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' },
    });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: opened });
    await h.runtime.openOrder({ input: orderInput('order-done') });
    const refused: Array<[unknown, string, Record<string, unknown>]> = [
      [InvalidPayloadError, 'order-1', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'REFUND_EVERYTHING' }],
      [InvalidPayloadError, 'order-1', { type: 'no.such.event', by: MERCHANT }],
      [InvalidPayloadError, 'order-1', { ...plan('PLATFORM_RULING'), evidence: { reason: 'NOPE', proofs: [], explanation: '' } }],
      [InvalidTimeError, 'order-1', { ...opened, at: T0 - 1 }],
      [InvalidPayloadError, 'order-1', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'd:direct-refund' }],
      [WrongRoleError, 'order-1', { ...plan('DIRECT_REFUND'), by: CUSTOMER }],
      [WrongRoleError, 'order-1', { ...plan('DIRECT_REFUND'), by: { role: 'merchant', id: 'merchant-2' } }],
      [ConflictingCancellationError, 'order-1', plan('DIRECT_REFUND')],
      [NotAllowedInStateError, 'order-1', { type: 'customer.settlementConfirmed', by: CUSTOMER }],
      [NotAllowedInStateError, 'order-1', { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'nope' }],
      [WorkflowNotFoundError, 'order-404', opened],
    ];
    const before = dumpSqlite(h.filename);
    // Some of these do not type-check (a plan or event that does not exist): the table goes in as JSON from a client would, through dispatchRaw.
    for (const [type, workflowId, event] of refused) {
      await expect(h.runtime.dispatchRaw({ workflowId, commandId: `bad-${JSON.stringify(event)}`, event })).rejects.toBeInstanceOf(type);
    }
    expect(dumpSqlite(h.filename)).toEqual(before);
  });

  it('INV3/INV4: a command to a final cancel order is refused with FinalStateError and changes nothing', async () => {
    const h = await sqliteHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    const cancel = { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' } satisfies OrderEventInput;
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: cancel });
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c2',
      event: { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'cancel-1' },
    });
    const before = dumpSqlite(h.filename);
    await expect(
      h.runtime.dispatch({
        workflowId: 'order-1',
        commandId: 'c3',
        event: { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 'cancel-1' },
      }),
    ).rejects.toBeInstanceOf(FinalStateError);
    expect(dumpSqlite(h.filename)).toEqual(before);
  });

  it('INV4: a refused command does not write the deadlines it found due, but is judged after them (D7)', async () => {
    const h = await sqliteHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    h.clock.advance(48 * HOUR); // the merchant response window (D7) has passed, nobody ticked
    const before = dumpSqlite(h.filename);
    const late = h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('DIRECT_REFUND') });
    await expect(late).rejects.toBeInstanceOf(NotAllowedInStateError);
    expect(dumpSqlite(h.filename)).toEqual(before);
    // a valid command at the same time records the escalation first, at its due time
    const ruled = await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c3',
      event: { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' },
    });
    expect(ruled.firedDeadlines).toHaveLength(1);
    const audit = await h.store.listAudit('order-1');
    expect(audit.map((row) => [row.eventType, row.at - T0, row.role])).toEqual([
      ['dispute.opened', 0, 'customer'],
      ['xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', 48 * HOUR, 'system'],
      ['platform.ruled', 48 * HOUR, 'platform'],
    ]);
  });
});

describe('runtime reads', () => {
  it('allowed actions follow the state, and count a due deadline as fired (P3c ends at 48H)', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1', { deliveredBy: 'JD', shipped: true }) });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c1', event: opened });
    const types = async (caller: typeof MERCHANT | typeof CUSTOMER | typeof PLATFORM | typeof LOGISTICS) =>
      (await h.runtime.allowedActions(caller, 'order-1')).map(({ type, cancellationId, plan }) => ({
        type,
        ...(cancellationId === undefined ? {} : { cancellationId }),
        ...(plan === undefined ? {} : { plan }),
      }));
    expect(await types(MERCHANT)).toEqual([
      { type: 'merchant.planSubmitted', plan: 'DIRECT_REFUND' },
      { type: 'merchant.planSubmitted', plan: 'NEGOTIATED_REJECT' },
      { type: 'merchant.planSubmitted', plan: 'WAIT_48H_INTERCEPT' },
      { type: 'merchant.planSubmitted', plan: 'PLATFORM_RULING' },
    ]);
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: plan('WAIT_48H_INTERCEPT') });
    const id = 'dispute-1:intercept-48h';
    expect(await types(MERCHANT)).toEqual([
      { type: 'merchant.cancellationApproved', cancellationId: id },
      { type: 'merchant.refundForced', cancellationId: id },
    ]);
    // R1: another customer is refused, not answered with an empty list.
    await expect(h.runtime.allowedActions({ role: 'customer', id: 'customer-2' }, 'order-1')).rejects.toBeInstanceOf(WrongRoleError);
    h.clock.advance(48 * HOUR);
    expect(await types(MERCHANT)).toEqual([]);
    expect(await types(LOGISTICS)).toContainEqual({ type: 'logistics.interceptSucceeded', cancellationId: id });
  });

  it('P2: getWorkflow shows the merchant follow-up, the cancel orders with labels and the pending deadlines', async () => {
    const h = await memoryHost();
    await h.runtime.openOrder({ input: orderInput('order-1') });
    await h.runtime.dispatch({
      workflowId: 'order-1',
      commandId: 'c1',
      event: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' },
    });
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c2', event: opened });
    h.clock.advance(HOUR);
    await h.runtime.dispatch({ workflowId: 'order-1', commandId: 'c3', event: plan('NEGOTIATED_REJECT') });
    const view = await h.runtime.getWorkflow(PLATFORM, 'order-1');
    expect(view).toMatchObject({
      version: 4,
      status: 'active',
      state: {
        order: { dispute: 'open', cancellation: 'inFlight' },
        dispute: 'awaitingCustomerConfirmation',
        cancellation: 'pendingReview',
      },
      followUps: [{ kind: 'REJECT_PENDING_CANCELLATION', cancellationId: 'cancel-1', disputeId: 'dispute-1', at: T0 + HOUR }],
      cancelOrders: [{ cancellationId: 'cancel-1', status: 'pendingReview', statusLabel: { 'zh-CN': '待审核' } }],
      disputes: [{ disputeId: 'dispute-1', status: 'awaitingCustomerConfirmation', plan: 'NEGOTIATED_REJECT' }],
      deadlines: [{ timer: 'customerConfirmationWindow', actorPath: 'dispute', dueAt: T0 + HOUR + 72 * HOUR }],
    });
    await expect(h.runtime.getWorkflow(PLATFORM, 'nope')).rejects.toBeInstanceOf(WorkflowNotFoundError);
  });

  it('X2: cancel orders are listed through the store by merchant, status, reason and time, page by page', async () => {
    const h = await memoryHost();
    const scenarios: Array<[string, Plan, 'JD' | 'MERCHANT']> = [
      ['o1', 'DIRECT_REFUND', 'MERCHANT'],
      ['o2', 'WAIT_48H_INTERCEPT', 'MERCHANT'],
      ['o3', 'DIRECT_REFUND', 'MERCHANT'],
      ['o4', 'WAIT_48H_INTERCEPT', 'JD'],
      ['o5', 'DIRECT_REFUND', 'MERCHANT'],
    ];
    for (const [orderId, p, deliveredBy] of scenarios) {
      await h.runtime.openOrder({ input: orderInput(orderId, { deliveredBy, shipped: true }) });
      // cancel-order ids derive from dispute ids, which must be unique across orders (refund idempotency key)
      await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}-1`, event: { ...opened, disputeId: `${orderId}-dispute` } });
      await h.runtime.dispatch({ workflowId: orderId, commandId: `${orderId}-2`, event: plan(p) });
      h.clock.advance(HOUR);
    }
    await h.runtime.openOrder({ input: { ...orderInput('o6'), merchantId: 'merchant-2' } });
    await h.runtime.dispatch({
      workflowId: 'o6',
      commandId: 'o6-1',
      event: { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'o6-cancel' },
    });
    await h.runtime.tick(); // the direct refunds go through

    const all = async (query: Parameters<Host['runtime']['queryCancelOrders']>[1]) => {
      const items: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await h.runtime.queryCancelOrders(PLATFORM, { ...query, limit: 2, cursor });
        items.push(...page.items.map((item) => `${item.orderId}:${item.status}`));
        cursor = page.nextCursor;
      } while (cursor);
      return items;
    };
    expect(await all({ merchantId: MERCHANT.id })).toEqual([
      'o1:refunded',
      'o2:logisticsFollowUp',
      'o3:refunded',
      'o4:logisticsFollowUp',
      'o5:refunded',
    ]);
    expect(await all({ reason: ['INTERCEPT_48H_DISPUTE_PLAN'], status: ['logisticsFollowUp'] })).toEqual([
      'o2:logisticsFollowUp',
      'o4:logisticsFollowUp',
    ]);
    expect(await all({ createdFrom: T0 + HOUR, createdTo: T0 + 3 * HOUR })).toEqual(['o2:logisticsFollowUp', 'o3:refunded']);
    expect(await all({ merchantId: 'merchant-2' })).toEqual(['o6:pendingReview']);
    const [first] = (await h.runtime.queryCancelOrders(PLATFORM, { reason: ['DIRECT_REFUND_DISPUTE_PLAN'], limit: 1 })).items;
    expect(first).toMatchObject({
      reasonLabel: { 'zh-CN': '直接退款纠纷方案' },
      statusLabel: { 'zh-CN': '退款成功' },
      refundTriggerKind: 'disputePlan',
    });
  });
});
