import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type PaymentService,
  type SandboxPayments,
  type WorkflowRuntime,
  type WorkflowStore,
} from '../../src/runtime/index.js';
import { createPostgresStore } from '../../src/runtime/postgres.js';
import { freshSchema, pgUrl, requirePg } from '../support/postgres.js';
import { CUSTOMER, HOUR, MERCHANT, ManualClock, PLATFORM, VALID_EVIDENCE, host, orderInput, tempDir, type Host } from './helpers.js';

/**
 * A1–A4 on the durable runtime: the window closes across a restart (SQLite file, runtime closed, a new
 * runtime on the same file, the clock past the window), and the merchant's compensation goes through the
 * outbox like a refund: one key, retried under it when the outcome is unknown, recorded once.
 */

const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const PLATFORM_READER = { role: 'platform', id: 'cs-1' } as const;
const KEY = 'o-1/d-1/compensation';
const MERCHANT_APPEAL = {
  reason: 'GOODS_ALREADY_DELIVERED',
  proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1.jpg', sizeBytes: 90_000 }],
  explanation: 'The customer signed for the parcel the day before the cancellation.',
} as const;

const CUSTOMER_APPEAL = {
  reason: 'MERCHANT_AGREED_TO_CANCEL',
  proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat-7.png', sizeBytes: 40_000 }],
  explanation: 'The shop agreed in chat to cancel the order before it was shipped.',
} as const;

let commands = 0;
const send = (runtime: WorkflowRuntime, event: Record<string, unknown>) =>
  runtime.dispatch({ workflowId: 'o-1', commandId: `cmd-${(commands += 1)}`, event } as never);
const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return (error as Error).name;
  }
  return 'accepted';
};

/** Ruled with appeals on; the sandbox refunds a MERCHANT_LIABLE ruling at once. */
async function ruled(runtime: WorkflowRuntime, ruling: 'MERCHANT_LIABLE' | 'MERCHANT_NOT_LIABLE') {
  await runtime.openOrder({ workflowId: 'o-1', input: orderInput('o-1', { policy: { appeals: 'on' } }) as never });
  await send(runtime, { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd-1' });
  await send(runtime, { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });
  await send(runtime, { type: 'platform.ruled', by: PLATFORM, ruling });
  await runtime.tick();
}

/** The merchant appeals and wins, after the refund: the compensation is in the outbox. */
async function merchantWins(runtime: WorkflowRuntime) {
  await ruled(runtime, 'MERCHANT_LIABLE');
  await send(runtime, { type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL });
  await send(runtime, { type: 'platform.appealOverturned', by: PLATFORM });
}

const disputeOf = async (runtime: WorkflowRuntime) => (await runtime.getWorkflow(PLATFORM_READER, 'o-1')).disputes[0];
const compensationRows = async (store: WorkflowStore) => (await store.listOutbox('o-1')).filter((row) => row.kind === 'compensation');

describe('A1/A2: the appeal window on the durable runtime', () => {
  const tmp = tempDir('appeals-');
  let h: Host | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("A2/INV5: no appeal: the dispute closes at the window's end across a restart (SQLite file, a new runtime, the clock past the window)", async () => {
    h = await host({ filename: join(tmp.dir, 'window.db') });
    await ruled(h.runtime, 'MERCHANT_NOT_LIABLE');
    const ruledAt = h.clock.time;
    expect(await disputeOf(h.runtime)).toMatchObject({ status: 'ruled', waitingOn: 'customer' });
    expect(await h.store.listDeadlines('o-1')).toEqual([expect.objectContaining({ timer: 'appealWindow', dueAt: ruledAt + WEEK })]);
    const [queued] = (await h.runtime.queryDisputes(PLATFORM_READER, { waitingOn: ['customer'] })).items;
    expect(queued).toMatchObject({
      status: 'ruled',
      nextDeadline: { timer: 'appealWindow', dueAt: ruledAt + WEEK, label: { 'zh-CN': '申诉期' } },
    });

    await h.runtime.close();
    h.clock.advance(WEEK + HOUR);
    await h.restart();
    await h.runtime.tick();

    expect(await disputeOf(h.runtime)).toMatchObject({ status: 'resolved', waitingOn: null });
    const audit = await h.runtime.getAuditTrail(PLATFORM_READER, 'o-1');
    expect(audit.at(-1)).toMatchObject({ eventType: 'xstate.after.appealWindow.dispute.ruled', at: ruledAt + WEEK, role: 'system' });
    expect(await h.store.listDeadlines('o-1')).toEqual([]);
    expect(await refusal(send(h.runtime, { type: 'customer.rulingAppealed', by: CUSTOMER, evidence: CUSTOMER_APPEAL }))).toBe('FinalStateError');
    expect(h.payments.executionCount()).toBe(0);
  });

  it('A1/A2/INV1: a ruling against the merchant is refunded at once; the window closes the order across a restart with that one refund', async () => {
    h = await host({ filename: join(tmp.dir, 'liable.db') });
    await ruled(h.runtime, 'MERCHANT_LIABLE');
    expect(h.payments.executionCount()).toBe(1);
    expect((await h.runtime.getWorkflow(PLATFORM_READER, 'o-1')).status).toBe('active');
    await h.runtime.close();
    h.clock.advance(WEEK);
    await h.restart();
    await h.runtime.tick();
    expect((await h.runtime.getWorkflow(PLATFORM_READER, 'o-1')).status).toBe('done');
    expect(h.payments.executionCount()).toBe(1);
    expect(h.payments.compensationCount()).toBe(0);
  });
});

describe('A4: the compensation through the outbox', () => {
  const runtimes: WorkflowRuntime[] = [];
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
  });

  async function durable(payments: PaymentService) {
    const clock = new ManualClock();
    const store = createSqliteStore({ filename: ':memory:' });
    await store.migrate();
    const notifications = createSandboxNotifications();
    const runtime = createWorkflowRuntime({
      store,
      clock,
      payments,
      logistics: createSandboxLogistics(),
      notifications,
      workerId: 'appeals-test',
      onError: () => {},
      delivery: { backoffMs: 1_000, maxBackoffMs: 60_000 },
    });
    runtimes.push(runtime);
    return { runtime, store, clock, notifications };
  }

  it('A4/INV1: the merchant wins: one compensation executed under <orderId>/<disputeId>/compensation, the refund untouched, the row done', async () => {
    const payments = createSandboxPayments();
    const { runtime, store } = await durable(payments);
    await merchantWins(runtime);
    expect(await disputeOf(runtime)).toMatchObject({ status: 'compensating' });
    expect(await compensationRows(store)).toEqual([expect.objectContaining({ idempotencyKey: KEY, status: 'pending' })]);
    await runtime.tick();
    expect(payments.compensations()).toEqual([
      { idempotencyKey: KEY, orderId: 'o-1', disputeId: 'd-1', merchantId: MERCHANT.id, paymentRef: `sandbox-comp-${KEY}` },
    ]);
    expect(payments.executionCount()).toBe(1);
    expect(await compensationRows(store)).toEqual([expect.objectContaining({ status: 'done' })]);
    const audit = await runtime.getAuditTrail(PLATFORM_READER, 'o-1');
    expect(audit.at(-1)).toMatchObject({ eventType: 'payment.compensationSucceeded', role: 'system', actorId: 'payments' });
    expect((await runtime.getWorkflow(PLATFORM_READER, 'o-1')).status).toBe('done');
  });

  it('INV6/A4: findStrandedWorkflows finds a dispute left in compensating with no effect to deliver (its cancel order long refunded), page by page', async () => {
    const payments = createSandboxPayments();
    const { runtime, store } = await durable(payments);
    await merchantWins(runtime);
    expect(await disputeOf(runtime)).toMatchObject({ status: 'compensating' });
    expect(await runtime.findStrandedWorkflows()).toEqual({ items: [], nextCursor: null });

    // A broken host's damage: the compensation's row is dead, so nothing will ever answer it.
    const [row] = await compensationRows(store);
    await store.recordEffectFailure(row!.effectId, { error: 'dropped', availableAt: 0, dead: true });
    const stranded = { workflowId: 'o-1', parts: [{ actor: 'dispute', id: 'd-1', status: 'compensating' }] };
    expect(await runtime.findStrandedWorkflows()).toEqual({ items: [stranded], nextCursor: null });

    // One row a page: the cancel-order pass (nothing open), then the dispute pass.
    const pages: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = await runtime.findStrandedWorkflows({ limit: 1, cursor });
      pages.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual([stranded]);
    await expect(runtime.findStrandedWorkflows({ cursor: 'x:1' })).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
  });

  it('A4/INV6: the adapter throws: the same key is delivered again after the backoff, executed once', async () => {
    const payments = createSandboxPayments();
    const { runtime, store, clock } = await durable(payments);
    await merchantWins(runtime);
    payments.failNextCalls(1, 'payout service down');
    await runtime.tick();
    const [row] = await compensationRows(store);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringContaining('payout service down') });
    expect(await runtime.findStrandedWorkflows()).toEqual({ items: [], nextCursor: null });
    clock.advance(1_000);
    await runtime.tick();
    expect(payments.compensationCalls.map((call) => [call.request.idempotencyKey, call.result])).toEqual([
      [KEY, 'threw'],
      [KEY, 'executed'],
    ]);
    expect(payments.statusCalls).toEqual([KEY]);
    expect(payments.compensationCount(KEY)).toBe(1);
    expect(await disputeOf(runtime)).toMatchObject({ status: 'resolved' });
  });

  it('A4/INV1: the service answers twice (accepted, then its webhook delivered twice): recorded once, the second answer refused', async () => {
    const sandbox: SandboxPayments = createSandboxPayments();
    const payments: PaymentService = {
      refund: (request, call) => sandbox.refund(request, call),
      compensate: async () => ({ status: 'accepted' }),
    };
    const { runtime, store } = await durable(payments);
    await merchantWins(runtime);
    await runtime.tick();
    expect(await compensationRows(store)).toEqual([expect.objectContaining({ status: 'done' })]);
    const answer = {
      type: 'payment.compensationSucceeded',
      by: { role: 'system', id: 'payments' },
      disputeId: 'd-1',
      idempotencyKey: KEY,
      paymentRef: 'pay-77',
    };
    await runtime.dispatch({ workflowId: 'o-1', commandId: 'webhook-1', event: answer } as never);
    expect(await refusal(runtime.dispatch({ workflowId: 'o-1', commandId: 'webhook-2', event: answer } as never))).toBe('FinalStateError');
    const answers = (await runtime.getAuditTrail(PLATFORM_READER, 'o-1')).filter((row) => row.eventType === 'payment.compensationSucceeded');
    expect(answers).toHaveLength(1);
    expect(answers[0]?.event).toMatchObject({ paymentRef: 'pay-77', idempotencyKey: KEY });
  });

  it('A4/INV6: a malformed answer is an unknown outcome: asked by key, sent again under the same key; a success with an unreadable reference is kept, flagged', async () => {
    const sandbox = createSandboxPayments();
    const answers: unknown[] = [{ status: 'paid?' }, { status: 'succeeded', paymentRef: 42 }];
    const payments: PaymentService = {
      refund: (request, call) => sandbox.refund(request, call),
      status: (key, call) => sandbox.status(key, call),
      compensate: async () => answers.shift() as never,
    };
    const { runtime, store, clock } = await durable(payments);
    await merchantWins(runtime);
    await runtime.tick();
    expect(await compensationRows(store)).toEqual([
      expect.objectContaining({ status: 'pending', attempts: 1, lastError: expect.stringContaining('unreadable payment answer') }),
    ]);
    clock.advance(1_000);
    await runtime.tick();
    expect(answers).toEqual([]);
    expect(await compensationRows(store)).toEqual([expect.objectContaining({ status: 'done' })]);
    const audit = await runtime.getAuditTrail(PLATFORM_READER, 'o-1');
    expect(audit.at(-1)?.event).toMatchObject({
      type: 'payment.compensationSucceeded',
      idempotencyKey: KEY,
      referenceMalformed: true,
      paymentRef: expect.stringContaining('unreadable:42'),
    });
  });

  it('A4: a declined compensation is recorded once, the platform is notified, nothing is retried', async () => {
    const payments = createSandboxPayments();
    payments.declineNextCompensations(1);
    const { runtime, store, notifications, clock } = await durable(payments);
    await merchantWins(runtime);
    await runtime.tick();
    clock.advance(HOUR);
    await runtime.tick();
    expect(payments.compensationCalls.map((call) => call.result)).toEqual(['declined']);
    expect(await compensationRows(store)).toEqual([expect.objectContaining({ status: 'done' })]);
    expect(notifications.sent.map((sent) => sent.kind)).toContain('COMPENSATION_FAILED');
    const wf = await runtime.getWorkflow(PLATFORM_READER, 'o-1');
    expect(wf.status).toBe('done');
  });

  it('A4/INV6: a payment service without compensate(): the compensation stays in the outbox, retried, never dropped', async () => {
    const sandbox = createSandboxPayments();
    const { runtime, store, clock } = await durable({ refund: (request, call) => sandbox.refund(request, call) });
    await merchantWins(runtime);
    for (let round = 0; round < 10; round += 1) {
      await runtime.tick();
      clock.advance(60_000);
    }
    const [row] = await compensationRows(store);
    expect(row).toMatchObject({ status: 'pending', lastError: expect.stringContaining('no compensate()') });
    expect(row!.attempts).toBeGreaterThanOrEqual(8);
    expect(await disputeOf(runtime)).toMatchObject({ status: 'compensating' });
  });
});

describe.skipIf(!pgUrl && !requirePg)('A4 on PostgreSQL (migration 8 widens the outbox kinds)', () => {
  it('A4/INV1: the compensation row is stored, delivered once and done on PostgreSQL', async () => {
    const { schema, drop } = await freshSchema();
    const store = createPostgresStore({ connectionString: pgUrl!, schema });
    await store.migrate();
    const payments = createSandboxPayments();
    const runtime = createWorkflowRuntime({
      store,
      clock: new ManualClock(),
      payments,
      logistics: createSandboxLogistics(),
      notifications: createSandboxNotifications(),
      workerId: 'appeals-pg',
      onError: () => {},
    });
    try {
      await merchantWins(runtime);
      expect(await compensationRows(store)).toEqual([expect.objectContaining({ kind: 'compensation', idempotencyKey: KEY, status: 'pending' })]);
      await runtime.tick();
      expect(payments.compensationCount(KEY)).toBe(1);
      expect(await compensationRows(store)).toEqual([expect.objectContaining({ status: 'done' })]);
      expect((await runtime.getWorkflow(PLATFORM_READER, 'o-1')).status).toBe('done');
    } finally {
      await runtime.close();
      await drop();
    }
  });
});

describe('R1/A1: appeal evidence is shown to the platform and the side that appealed', () => {
  let h: Host | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const customerReader = { role: 'customer', id: CUSTOMER.id } as const;
  const merchantReader = { role: 'merchant', id: MERCHANT.id } as const;
  const systemReader = { role: 'system', id: 'sys-1' } as const;
  const evidenceFor = async (caller: typeof PLATFORM_READER | typeof customerReader | typeof merchantReader | typeof systemReader) =>
    (await h!.runtime.getWorkflow(caller, 'o-1')).evidence;
  const appealOf = (caller: Parameters<typeof evidenceFor>[0]) =>
    evidenceFor(caller).then((all) => all.filter((item) => item.kind === 'appeal'));

  it("R1/A1: the customer's appeal proofs and explanation: the platform and the customer; the merchant and system see its reason only", async () => {
    h = await host();
    await ruled(h.runtime, 'MERCHANT_NOT_LIABLE');
    await send(h.runtime, { type: 'customer.rulingAppealed', by: CUSTOMER, evidence: CUSTOMER_APPEAL });
    const full = {
      disputeId: 'd-1',
      kind: 'appeal',
      submittedBy: 'customer',
      reason: CUSTOMER_APPEAL.reason,
      proofs: CUSTOMER_APPEAL.proofs,
      explanation: CUSTOMER_APPEAL.explanation,
    };
    const reasonOnly = { ...full, proofs: null, explanation: null };

    expect(await appealOf(PLATFORM_READER)).toEqual([expect.objectContaining(full)]);
    expect(await appealOf(customerReader)).toEqual([expect.objectContaining(full)]);
    expect(await appealOf(merchantReader)).toEqual([expect.objectContaining(reasonOnly)]);
    expect(await appealOf(systemReader)).toEqual([expect.objectContaining(reasonOnly)]);
    // The merchant's plan evidence keeps its rule: the merchant's, hidden from the customer.
    const plan = async (caller: Parameters<typeof evidenceFor>[0]) => (await evidenceFor(caller)).find((item) => item.kind === 'plan');
    expect(await plan(merchantReader)).toMatchObject({ submittedBy: 'merchant', proofs: VALID_EVIDENCE.proofs });
    expect(await plan(customerReader)).toMatchObject({ submittedBy: 'merchant', proofs: null, explanation: null });
    // The audit trail holds the same event, redacted alike.
    const appealEvent = async (caller: Parameters<typeof evidenceFor>[0]) =>
      (await h!.runtime.getAuditTrail(caller, 'o-1')).find((row) => row.eventType === 'customer.rulingAppealed')?.event;
    expect(await appealEvent(merchantReader)).toMatchObject({ evidence: { reason: CUSTOMER_APPEAL.reason, proofs: null, explanation: null } });
    expect(await appealEvent(customerReader)).toMatchObject({ evidence: CUSTOMER_APPEAL });
  });

  it("R1/A1: the merchant's appeal proofs and explanation: the platform and the merchant; the customer sees its reason only", async () => {
    h = await host();
    await ruled(h.runtime, 'MERCHANT_LIABLE');
    await send(h.runtime, { type: 'merchant.rulingAppealed', by: MERCHANT, evidence: MERCHANT_APPEAL });
    const full = {
      disputeId: 'd-1',
      kind: 'appeal',
      submittedBy: 'merchant',
      reason: MERCHANT_APPEAL.reason,
      proofs: MERCHANT_APPEAL.proofs,
      explanation: MERCHANT_APPEAL.explanation,
    };

    expect(await appealOf(PLATFORM_READER)).toEqual([expect.objectContaining(full)]);
    expect(await appealOf(merchantReader)).toEqual([expect.objectContaining(full)]);
    expect(await appealOf(customerReader)).toEqual([expect.objectContaining({ ...full, proofs: null, explanation: null })]);
  });
});
