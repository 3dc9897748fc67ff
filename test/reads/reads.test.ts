import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { OrderSnapshot } from '../../machines/order.js';
import { WorkflowNotFoundError, WrongRoleError } from '../../src/errors.js';
import { queryCancelOrders as queryInMemory } from '../../src/queries.js';
import type { WorkflowStore } from '../../src/runtime/index.js';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import type { Sender } from '../../src/schemas/common.js';
import { createOrderWorkflow } from '../../src/workflow.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

/**
 * The runtime's reads (issue 17): scoped to their caller (R1), labelled in zh-CN and en, and the work
 * queues read from the projections. Four orders, two merchants, two customers:
 * - o-1 (m-1, c-1): the customer's cancel order, NEGOTIATED_REJECT, an objection, MERCHANT_LIABLE (D6),
 *   refunded on the customer's own cancel order;
 * - o-2 (m-1, c-2): a dispute waiting for the merchant's plan;
 * - o-3 (m-2, c-1): the evidence plan, waiting for the platform's ruling;
 * - o-4 (m-1, c-1): the 48H plan, waiting for the customer's confirmation.
 */

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 1, 0);
const M1 = { role: 'merchant', id: 'm-1' } as const;
const M2 = { role: 'merchant', id: 'm-2' } as const;
const C1 = { role: 'customer', id: 'c-1' } as const;
const C2 = { role: 'customer', id: 'c-2' } as const;
const PLATFORM = { role: 'platform', id: 'cs-7' } as const;
const SYSTEM = { role: 'system', id: 'order-system' } as const;
const EVIDENCE = {
  reason: 'GOODS_ALREADY_SHIPPED',
  proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-3.jpg', sizeBytes: 120_000 }],
  explanation: 'The parcel left our warehouse before the cancellation request.',
} as const;

let runtime: WorkflowRuntime;
let store: WorkflowStore;
const clock = { time: T0, now: () => clock.time };

async function play(orderId: string, parties: { merchant: Sender; customer: Sender }, events: OrderEventInput[]) {
  await runtime.openOrder({ input: { orderId, merchantId: parties.merchant.id, customerId: parties.customer.id, deliveredBy: 'MERCHANT' } });
  for (const [index, event] of events.entries()) {
    clock.time += 10 * 60_000;
    await runtime.dispatch({ workflowId: orderId, commandId: `${orderId}-${index}`, event });
  }
}

beforeAll(async () => {
  store = createMemoryStore();
  runtime = createWorkflowRuntime({ store, clock, payments: createSandboxPayments(), logistics: createSandboxLogistics(), onError: () => {} });
  await play('o-1', { merchant: M1, customer: C1 }, [
    { type: 'cancellation.submitted', by: C1, cancellationId: 'cancel-1' },
    { type: 'dispute.opened', by: C1, disputeId: 'd-1' },
    { type: 'merchant.planSubmitted', by: M1, plan: 'NEGOTIATED_REJECT' },
    { type: 'customer.settlementObjected', by: C1 },
    { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' },
  ]);
  await runtime.tick(); // the sandbox pays the ruling's refund
  await play('o-2', { merchant: M1, customer: C2 }, [{ type: 'dispute.opened', by: C2, disputeId: 'd-2' }]);
  await play('o-3', { merchant: M2, customer: C1 }, [
    { type: 'dispute.opened', by: C1, disputeId: 'd-3' },
    { type: 'merchant.planSubmitted', by: M2, plan: 'PLATFORM_RULING', evidence: EVIDENCE },
  ]);
  await play('o-4', { merchant: M1, customer: C1 }, [
    { type: 'dispute.opened', by: C1, disputeId: 'd-4' },
    { type: 'merchant.planSubmitted', by: M1, plan: 'WAIT_48H_INTERCEPT' },
  ]);
});

afterAll(() => runtime.close());

describe('D6/X2: the listing by reason finds every refund a ruling ordered', () => {
  it('D6/X2: customer submits → NEGOTIATED_REJECT → customer objects → MERCHANT_LIABLE: the refund runs on the customer cancel order and is listed under 平台判责退款', async () => {
    const page = await runtime.queryCancelOrders(M1, { reason: ['PLATFORM_RULING_REFUND'] });

    expect(page.items).toEqual([
      expect.objectContaining({
        cancellationId: 'cancel-1',
        orderId: 'o-1',
        status: 'refunded',
        reason: 'CUSTOMER_REQUEST',
        reasonLabel: { 'zh-CN': '用户申请取消', en: "Customer's cancellation request" },
        refundReason: 'PLATFORM_RULING_REFUND',
        refundReasonLabel: { 'zh-CN': '平台判责退款', en: 'Refund ordered by a platform ruling' },
        refundTriggerKind: 'platformRuling',
      }),
    ]);
    // Opened by the customer: the listing by 用户申请取消 finds it too, and the workflow view says both.
    expect((await runtime.queryCancelOrders(M1, { reason: ['CUSTOMER_REQUEST'] })).items.map((item) => item.cancellationId)).toEqual([
      'cancel-1',
    ]);
    const [view] = (await runtime.getWorkflow(M1, 'o-1')).cancelOrders;
    expect(view).toMatchObject({ reason: 'CUSTOMER_REQUEST', refundReason: 'PLATFORM_RULING_REFUND', status: 'refunded' });
  });

  it('D6/X2: the in-memory listing over snapshots matches the ruling refund by either reason as well', () => {
    const at = 0;
    const order = createOrderWorkflow(
      { orderId: 'o-9', merchantId: 'm-1', customerId: 'c-1', deliveredBy: 'MERCHANT', at },
      { clock: new SimulatedClock() },
    );
    for (const event of [
      { type: 'cancellation.submitted', by: C1, cancellationId: 'cancel-9' },
      { type: 'dispute.opened', by: C1, disputeId: 'd-9' },
      { type: 'merchant.planSubmitted', by: M1, plan: 'NEGOTIATED_REJECT' },
      { type: 'customer.settlementObjected', by: C1 },
      { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' },
    ]) {
      order.send({ ...event, at } as never);
    }
    const snapshots: OrderSnapshot[] = [order.getSnapshot()];

    expect(
      queryInMemory(snapshots, { reason: ['PLATFORM_RULING_REFUND'] }).map((row) => [row.cancellationId, row.status, row.refundReason]),
    ).toEqual([['cancel-9', 'refunding', 'PLATFORM_RULING_REFUND']]);
    order.stop();
  });
});

describe('R1: every read names its caller and answers only what that party may see', () => {
  const reads: Array<[string, (caller: unknown) => Promise<unknown>]> = [
    ['getWorkflow', (caller) => runtime.getWorkflow(caller as Sender, 'o-1')],
    ['getAuditTrail', (caller) => runtime.getAuditTrail(caller as Sender, 'o-1')],
    ['allowedActions', (caller) => runtime.allowedActions(caller as Sender, 'o-1')],
    ['queryCancelOrders', (caller) => runtime.queryCancelOrders(caller as Sender)],
    ['queryDisputes', (caller) => runtime.queryDisputes(caller as Sender)],
    ['countDisputes', (caller) => runtime.countDisputes(caller as Sender)],
  ];
  const nobody: unknown[] = [
    undefined,
    null,
    {},
    'platform',
    { role: 'platform' },
    { id: 'cs-7' },
    { role: 'admin', id: 'root' },
    { role: 'platform', id: '' },
  ];

  it.each(reads)('R1: %s refuses nobody (no caller, or not a { role, id }) with WrongRoleError', async (read, call) => {
    for (const caller of nobody) {
      const error = await call(caller).then(
        () => null,
        (refusal: unknown) => refusal,
      );
      expect(error, `${read} as ${JSON.stringify(caller)}`).toBeInstanceOf(WrongRoleError);
      expect(error).toMatchObject({ code: 'WRONG_ROLE', role: 'nobody', eventType: read });
    }
  });

  it.each(reads.slice(0, 3))("R1: %s refuses another merchant's and another customer's order with WrongRoleError", async (read, call) => {
    for (const caller of [M2, C2]) {
      const error = await call(caller).catch((refusal: unknown) => refusal);
      expect(error, `${read} as ${caller.role} ${caller.id}`).toBeInstanceOf(WrongRoleError);
      expect((error as WrongRoleError).message).toMatch(new RegExp(`${caller.role} ${caller.id} may not read ${read}: this is another`));
    }
    // The order's own parties, the platform and system may read it.
    for (const caller of [M1, C1, PLATFORM, SYSTEM]) await expect(call(caller)).resolves.toBeDefined();
  });

  it("R1: a listing or count that names another party's id is refused, never answered with an empty page", async () => {
    const refused = [
      runtime.queryCancelOrders(M1, { merchantId: 'm-2' }),
      runtime.queryDisputes(M1, { merchantId: 'm-2' }),
      runtime.countDisputes(M1, { merchantId: 'm-2' }),
      runtime.queryCancelOrders(C1, { customerId: 'c-2' }),
      runtime.queryDisputes(C1, { customerId: 'c-2' }),
      runtime.countDisputes(C1, { customerId: 'c-2' }),
    ];
    for (const read of refused) await expect(read).rejects.toBeInstanceOf(WrongRoleError);
    // A party may still narrow its own listing by the other side of its orders.
    expect((await runtime.queryDisputes(M1, { customerId: 'c-1' })).items.map((item) => item.orderId)).toEqual(['o-4', 'o-1']);
  });

  it('R1: a merchant lists and counts its own disputes and cancel orders, a customer its own, the platform and system all', async () => {
    const orders = async (caller: Sender) => (await runtime.queryDisputes(caller)).items.map((item) => item.orderId).sort();
    expect(await orders(M1)).toEqual(['o-1', 'o-2', 'o-4']);
    expect(await orders(M2)).toEqual(['o-3']);
    expect(await orders(C1)).toEqual(['o-1', 'o-3', 'o-4']);
    expect(await orders(C2)).toEqual(['o-2']);
    expect(await orders(PLATFORM)).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    expect(await orders(SYSTEM)).toEqual(['o-1', 'o-2', 'o-3', 'o-4']);
    const cancelOrders = async (caller: Sender) => (await runtime.queryCancelOrders(caller)).items.map((item) => item.orderId).sort();
    expect(await cancelOrders(M2)).toEqual([]);
    expect(await cancelOrders(C1)).toEqual(['o-1', 'o-4']);
    expect(await cancelOrders(C2)).toEqual([]);
    expect(await cancelOrders(PLATFORM)).toEqual(['o-1', 'o-4']);
    expect((await runtime.countDisputes(M2)).total.count).toBe(1);
    expect((await runtime.countDisputes(C1)).total.count).toBe(3);
    expect((await runtime.countDisputes(PLATFORM)).total.count).toBe(4);
  });

  it('R1: evidence proofs and explanation are shown to the platform and the merchant; the customer and system see the reason and that evidence was given', async () => {
    const evidenceFor = async (caller: Sender) => (await runtime.getWorkflow(caller, 'o-3')).evidence;
    const reasonOnly = [
      {
        disputeId: 'd-3',
        kind: 'plan',
        submittedBy: 'merchant',
        reason: 'GOODS_ALREADY_SHIPPED',
        reasonLabel: { 'zh-CN': '商品已发货', en: 'Goods already shipped' },
        proofs: null,
        explanation: null,
        submittedAt: expect.any(Number),
      },
    ];
    const everything = [{ ...reasonOnly[0], proofs: EVIDENCE.proofs, explanation: EVIDENCE.explanation }];

    expect(await evidenceFor(PLATFORM)).toEqual(everything);
    expect(await evidenceFor(M2)).toEqual(everything);
    expect(await evidenceFor(C1)).toEqual(reasonOnly);
    expect(await evidenceFor(SYSTEM)).toEqual(reasonOnly);
    // The audit trail holds the same event: redacted alike.
    const planEvent = async (caller: Sender) =>
      (await runtime.getAuditTrail(caller, 'o-3')).find((row) => row.eventType === 'merchant.planSubmitted')?.event;
    expect(await planEvent(C1)).toMatchObject({
      plan: 'PLATFORM_RULING',
      evidence: { reason: 'GOODS_ALREADY_SHIPPED', proofs: null, explanation: null },
    });
    expect(await planEvent(M2)).toMatchObject({ evidence: EVIDENCE });
  });

  it("R1: another party's internal ids: payment references and system ids for the platform and system, platform staff ids for the platform, a client's command ids for its sender and the platform", async () => {
    const seen = async (caller: Sender) => {
      const audit = await runtime.getAuditTrail(caller, 'o-1');
      const row = (type: string) => audit.find((entry) => entry.eventType === type)!;
      const [cancelOrder] = (await runtime.getWorkflow(caller, 'o-1')).cancelOrders;
      return {
        paymentRef: cancelOrder?.paymentRef ?? null,
        triggeredBy: cancelOrder?.refundTrigger?.by,
        payment: {
          actorId: row('payment.refundSucceeded').actorId,
          commandId: row('payment.refundSucceeded').commandId,
          paymentRef: (row('payment.refundSucceeded').event as { paymentRef: unknown }).paymentRef,
        },
        ruling: {
          actorId: row('platform.ruled').actorId,
          by: (row('platform.ruled').event as { by: unknown }).by,
          commandId: row('platform.ruled').commandId,
        },
        objection: { actorId: row('customer.settlementObjected').actorId, commandId: row('customer.settlementObjected').commandId },
      };
    };
    const ref = 'sandbox-pay-o-1/cancel-1/1';
    const payment = (visible: boolean) => ({
      actorId: visible ? 'payments' : null,
      commandId: visible ? expect.any(String) : null,
      paymentRef: visible ? ref : null,
    });

    expect(await seen(PLATFORM)).toEqual({
      paymentRef: ref,
      triggeredBy: PLATFORM,
      payment: payment(true),
      ruling: { actorId: 'cs-7', by: PLATFORM, commandId: 'o-1-4' },
      objection: { actorId: 'c-1', commandId: 'o-1-3' },
    });
    expect(await seen(SYSTEM)).toEqual({
      paymentRef: ref,
      triggeredBy: { role: 'platform', id: null },
      payment: payment(true),
      ruling: { actorId: null, by: { role: 'platform', id: null }, commandId: null },
      objection: { actorId: 'c-1', commandId: null },
    });
    expect(await seen(C1)).toEqual({
      paymentRef: null,
      triggeredBy: { role: 'platform', id: null },
      payment: payment(false),
      ruling: { actorId: null, by: { role: 'platform', id: null }, commandId: null },
      objection: { actorId: 'c-1', commandId: 'o-1-3' },
    });
    expect(await seen(M1)).toEqual({
      paymentRef: null,
      triggeredBy: { role: 'platform', id: null },
      payment: payment(false),
      ruling: { actorId: null, by: { role: 'platform', id: null }, commandId: null },
      objection: { actorId: 'c-1', commandId: null },
    });
  });

  it('R1: an unknown workflow is WorkflowNotFoundError for a caller who could read it, WrongRoleError for nobody', async () => {
    await expect(runtime.getWorkflow(M1, 'o-404')).rejects.toBeInstanceOf(WorkflowNotFoundError);
    await expect(runtime.getWorkflow(undefined as never, 'o-404')).rejects.toBeInstanceOf(WrongRoleError);
  });
});

describe('work queues and labels', () => {
  it("the merchant's queue: disputes waiting for its plan, soonest deadline first, with zh-CN/en labels of status, plan and the pending deadline", async () => {
    const queue = await runtime.queryDisputes(M1, { waitingOn: ['merchant'] });

    expect(queue).toEqual({
      nextCursor: null,
      items: [
        expect.objectContaining({
          orderId: 'o-2',
          disputeId: 'd-2',
          status: 'awaitingMerchantChoice',
          statusLabel: { 'zh-CN': '待商家选择方案', en: "Awaiting the merchant's plan" },
          plan: null,
          planLabel: null,
          waitingOn: 'merchant',
          waitingOnLabel: { 'zh-CN': '商家', en: 'Merchant' },
          nextDeadline: {
            timer: 'merchantResponseWindow',
            dueAt: expect.any(Number),
            label: { 'zh-CN': '商家处理时限', en: 'Merchant response window' },
          },
        }),
      ],
    });
    const [item] = queue.items;
    const opened = (await runtime.getWorkflow(M1, 'o-2')).disputes[0]!.openedAt;
    expect(item!.nextDeadline!.dueAt).toBe(opened + 48 * HOUR);

    const all = await runtime.queryDisputes(M1);
    expect(all.items.map((row) => [row.orderId, row.status, row.planLabel?.['zh-CN'] ?? null, row.nextDeadline?.timer ?? null])).toEqual([
      ['o-2', 'awaitingMerchantChoice', null, 'merchantResponseWindow'],
      ['o-4', 'awaitingCustomerConfirmation', '已协商同意等待48H物流拦截', 'customerConfirmationWindow'],
      ['o-1', 'resolved', '已协商驳回取消', null],
    ]);
  });

  it('the platform queue: disputes awaiting a ruling; the customer sees what waits on it', async () => {
    expect(
      (await runtime.queryDisputes(PLATFORM, { waitingOn: ['platform'] })).items.map((row) => [row.orderId, row.planLabel?.['zh-CN']]),
    ).toEqual([['o-3', '无法自主处理,需平台介入判责']]);
    expect((await runtime.queryDisputes(C1, { waitingOn: ['customer'] })).items.map((row) => row.orderId)).toEqual(['o-4']);
  });

  it('countDisputes: per status and the deadlines due within the hour and the day, per merchant and overall, without loading a workflow', async () => {
    const loads: string[] = [];
    const counting = createWorkflowRuntime({
      store: {
        ...store,
        load: (id) => {
          loads.push(id);
          return store.load(id);
        },
      },
      clock,
      payments: createSandboxPayments(),
      logistics: createSandboxLogistics(),
    });
    try {
      const overall = await counting.countDisputes(PLATFORM);
      const mine = await counting.countDisputes(M1);
      await counting.queryDisputes(M1);
      await counting.queryCancelOrders(M1);
      expect(loads).toEqual([]);

      expect(overall.at).toBe(clock.time);
      expect(overall.total).toEqual({ count: 4, overdue: 0, dueWithinHour: 0, dueWithinDay: 0 });
      expect(overall.byStatus).toMatchObject({
        awaitingMerchantChoice: { count: 1, label: { 'zh-CN': '待商家选择方案' } },
        awaitingCustomerConfirmation: { count: 1 },
        awaitingPlatformRuling: { count: 1 },
        resolved: { count: 1 },
        withdrawn: { count: 0, label: { 'zh-CN': '用户撤销' } },
      });
      expect(mine).toMatchObject({ merchantId: 'm-1', customerId: null, total: { count: 3 } });

      // 47h later the merchant's 48H window is under a day away; 1 ms short of 48h it is under an hour.
      const dueAt = (await counting.queryDisputes(M1, { waitingOn: ['merchant'] })).items[0]!.nextDeadline!.dueAt;
      clock.time = dueAt - HOUR;
      expect((await counting.countDisputes(M1)).byStatus.awaitingMerchantChoice).toMatchObject({
        overdue: 0,
        dueWithinHour: 0,
        dueWithinDay: 1,
      });
      clock.time = dueAt - HOUR + 1;
      expect((await counting.countDisputes(M1)).byStatus.awaitingMerchantChoice).toMatchObject({
        overdue: 0,
        dueWithinHour: 1,
        dueWithinDay: 1,
      });
      clock.time = dueAt + 1;
      expect((await counting.countDisputes(M1)).byStatus.awaitingMerchantChoice).toMatchObject({ overdue: 1, dueWithinHour: 1 });
    } finally {
      clock.time = T0 + 2 * HOUR;
      await counting.stop();
    }
  });

  it('allowedActions and the workflow view carry the zh-CN/en label of every status and action, and what each action addresses', async () => {
    const actions = await runtime.allowedActions(M1, 'o-2');

    expect(actions.map((action) => action.label['zh-CN'])).toEqual([
      '提交方案：直接退款',
      '提交方案：已协商驳回取消',
      '提交方案：已协商同意等待48H物流拦截',
      '提交方案：无法自主处理,需平台介入判责',
    ]);
    expect(actions[0]).toEqual({
      type: 'merchant.planSubmitted',
      plan: 'DIRECT_REFUND',
      label: { 'zh-CN': '提交方案：直接退款', en: 'Submit a plan: Direct refund' },
      subject: {
        kind: 'dispute',
        id: 'd-2',
        status: 'awaitingMerchantChoice',
        statusLabel: { 'zh-CN': '待商家选择方案', en: "Awaiting the merchant's plan" },
      },
    });
    const view = await runtime.getWorkflow(M1, 'o-4');
    expect(view).toMatchObject({
      statusLabel: { 'zh-CN': '处理中', en: 'In progress' },
      disputes: [
        {
          status: 'awaitingCustomerConfirmation',
          statusLabel: { 'zh-CN': '待客户确认' },
          planLabel: { 'zh-CN': '已协商同意等待48H物流拦截' },
          waitingOn: 'customer',
        },
      ],
      cancelOrders: [
        {
          status: 'logisticsFollowUp',
          statusLabel: { 'zh-CN': '物流待跟进' },
          reasonLabel: { 'zh-CN': '48H物流拦截退款纠纷方案' },
          refundReason: null,
        },
      ],
    });
    expect(view.deadlines.map((row) => [row.timer, row.label['zh-CN']])).toEqual([
      ['interceptWindow', '48H物流拦截'],
      ['customerConfirmationWindow', '客户确认时限'],
    ]);
    expect(view.actions).toEqual(await runtime.allowedActions(M1, 'o-4'));
    expect(view.actions.map((action) => [action.label['zh-CN'], action.subject?.statusLabel['zh-CN']])).toEqual([
      ['审核通过', '物流待跟进'],
      ['强制退款', '物流待跟进'],
    ]);
    const audit = await runtime.getAuditTrail(C1, 'o-4');
    expect(audit.map((row) => row.label['zh-CN'])).toEqual(['发起纠纷单', '提交方案：已协商同意等待48H物流拦截']);
  });
});

describe('the workflow view after a deadline fell due', () => {
  it('shows the workflow as stored while its actions count the due deadline as fired (P3a: after 48H the merchant may no longer approve)', async () => {
    const before = await runtime.getWorkflow(M1, 'o-4');
    const dueAt = before.deadlines.find((row) => row.timer === 'interceptWindow')!.dueAt;
    const now = clock.time;
    clock.time = dueAt;
    try {
      const view = await runtime.getWorkflow(M1, 'o-4');
      expect(view.state).toEqual(before.state);
      expect(view.cancelOrders).toEqual(before.cancelOrders);
      expect(view.disputes).toEqual(before.disputes);
      expect(view.state).toMatchObject({ cancellation: 'logisticsFollowUp' });
      expect(before.actions.map((action) => action.type)).toEqual(['merchant.cancellationApproved', 'merchant.refundForced']);
      expect(view.actions).toEqual([]);
      expect(view.actions).toEqual(await runtime.allowedActions(M1, 'o-4'));
    } finally {
      clock.time = now;
    }
  });
});

describe('type-level read API', () => {
  it('R1: every read takes its caller first; the old signatures do not compile', () => {
    expectTypeOf<WorkflowRuntime['getWorkflow']>().parameters.toEqualTypeOf<[caller: Sender, workflowId: string]>();
    expectTypeOf<WorkflowRuntime['allowedActions']>().parameters.toEqualTypeOf<[caller: Sender, workflowId: string]>();
    expectTypeOf<WorkflowRuntime['queryDisputes']>().parameter(0).toEqualTypeOf<Sender>();
    expectTypeOf<WorkflowRuntime['countDisputes']>().parameter(0).toEqualTypeOf<Sender>();
    const compileOnly = (r: WorkflowRuntime) => {
      // @ts-expect-error: a read names its caller
      void r.getWorkflow('o-1');
      // @ts-expect-error: allowedActions is (caller, workflowId), no longer (workflowId, role, senderId)
      void r.allowedActions('o-1', 'merchant', 'm-1');
      // @ts-expect-error: a listing's caller comes first
      void r.queryCancelOrders({ merchantId: 'm-1' });
    };
    expect(typeof compileOnly).toBe('function');
    expectTypeOf<Awaited<ReturnType<WorkflowRuntime['getAuditTrail']>>[number]['actorId']>().toEqualTypeOf<string | null>();
  });
});
