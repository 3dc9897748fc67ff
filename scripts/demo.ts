/**
 * A tour of the durable runtime: `npm run demo`.
 *
 * Five orders (and a sixth with appeals on, section 7) go through the JD cancel-order dispute policy on the embedded SQLite store (a temp file)
 * with a manual clock and in-process payment and logistics services. Each order's timeline is read back
 * from its audit trail. Then the runtime is dropped in the middle of a 48H window, a new one opens the
 * same file after the 48H have passed, and a single tick refunds the order, exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWorkflowError } from '../src/errors.js';
import { CANCELLATION_STATUS_LABELS, DISPUTE_STATUS_LABELS } from '../src/labels.js';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../src/runtime/index.js';
import type { OrderEventInput } from '../src/schemas/events.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

// --- the world around the runtime ------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'jd-dispute-demo-'));
const filename = join(dir, 'workflows.db');
/** A manual clock: time moves only when the demo says so. */
const clock = { time: Date.UTC(2026, 0, 5, 1, 0), now: () => clock.time };
// The payment and logistics services outlive any runtime, as real ones would.
const payments = createSandboxPayments();
const logistics = createSandboxLogistics();
const notifications = createSandboxNotifications();

async function openRuntime(): Promise<WorkflowRuntime> {
  const store = createSqliteStore({ filename });
  await store.migrate();
  return createWorkflowRuntime({ store, clock, payments, logistics, notifications });
}

const customer = { role: 'customer', id: 'customer-1' } as const;
const merchant = { role: 'merchant', id: 'merchant-1' } as const;
const platform = { role: 'platform', id: 'cs-7' } as const;
/** Reads name their caller (R1): the timelines are customer service's view, which sees everything. */
const reader = platform;
const order = (orderId: string, deliveredBy: 'JD' | 'MERCHANT', shipped = false) => ({
  orderId,
  merchantId: merchant.id,
  customerId: customer.id,
  deliveredBy,
  shipped,
});

// --- printing ------------------------------------------------------------------------------------------

const say = (line = '') => console.log(line);
const heading = (title: string) => say(`\n━━ ${title} ${'━'.repeat(Math.max(0, 92 - title.length))}`);

const sinceStart = (at: number, start: number) => {
  const minutes = Math.round((at - start) / MINUTE);
  return `+${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
};

/** Terminal columns a string takes: CJK characters and emoji take two. */
const widthOf = (text: string): number =>
  [...text].reduce(
    (width, char) =>
      width + (/[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFF00-\uFF60\u23F0\u{1F300}-\u{1FAFF}]/u.test(char) ? 2 : 1),
    0,
  );
/** `padEnd` by terminal columns, so that columns holding Chinese labels line up. */
const pad = (text: string, columns: number): string => text + ' '.repeat(Math.max(1, columns - widthOf(text)));

/** A state value as a status name: `{ refunding: 'requesting' }` is `refunding`. */
const statusOf = (value: unknown): string =>
  typeof value === 'string' ? value : value && typeof value === 'object' ? (Object.keys(value)[0] ?? '?') : '—';

/** A status with its zh-CN label, as the merchant console shows it: `refunding 退款中`. */
const labelled = (status: string, labels: Record<string, { 'zh-CN': string }>): string =>
  Object.hasOwn(labels, status) ? `${status} ${labels[status]!['zh-CN']}` : status;

function describeEvent(event: Record<string, unknown>, disputeId: string): string {
  const type = String(event.type);
  if (type.startsWith('xstate.after.')) return `⏰ ${String(event.timer)} elapsed`;
  const detail = event.plan ?? event.ruling ?? event.cancellationId ?? '';
  return `${type} ${String(detail).replace(`${disputeId}:`, '…:')}`.trim();
}

/** What the audit stores after each event: the order's regions and the value of each child in flight. */
interface ResultingState {
  order: { dispute: string; cancellation: string };
  dispute?: unknown;
  cancellation?: unknown;
}

/**
 * The order's timeline, read from its audit trail (D9). A row holds the order's two regions and the
 * children in flight; a finished child leaves the row, and its final status is read from the order's
 * history (one dispute and one cancel order at most in flight, so they finish in the order they start).
 */
async function printTimeline(runtime: WorkflowRuntime, workflowId: string, start: number, disputeId: string) {
  const { disputes, cancelOrders } = await runtime.getWorkflow(reader, workflowId);
  const column = (child: unknown, history: Array<{ status: string; id: string }>, labels: Record<string, { 'zh-CN': string }>) => {
    let index = -1;
    let open = false;
    return (value: unknown): string => {
      if (value !== undefined && !open) [index, open] = [index + 1, true];
      else if (value === undefined && open) open = false;
      const entry = history[index];
      if (!entry) return '—';
      const status = open ? statusOf(value) : entry.status;
      return `${entry.id === child ? '' : `${entry.id.replace(`${disputeId}:`, '…:')} `}${labelled(status, labels)}`;
    };
  };
  const disputeColumn = column(
    disputeId,
    disputes.map((d) => ({ status: d.status, id: d.disputeId })),
    DISPUTE_STATUS_LABELS,
  );
  const cancelColumn = column(
    null,
    cancelOrders.map((c) => ({ status: c.status, id: c.cancellationId })),
    CANCELLATION_STATUS_LABELS,
  );
  const widths = [8, 21, 46, 17, 40];
  const line = (cells: string[]) => say(`  ${cells.map((cell, i) => (i < widths.length ? pad(cell, widths[i]!) : cell)).join('')}`);
  line(['time', 'actor', 'event', 'order regions', 'dispute', 'cancel order']);
  for (const row of await runtime.getAuditTrail(reader, workflowId)) {
    const state = row.resultingState as ResultingState;
    line([
      sinceStart(row.at, start),
      `${row.role}:${row.actorId}`,
      describeEvent(row.event as Record<string, unknown>, disputeId),
      `${state.order.dispute}|${state.order.cancellation}`,
      disputeColumn(state.dispute),
      cancelColumn(state.cancellation),
    ]);
  }
}

/** Sends one command; a refusal is printed, not thrown (it changed nothing: INV4). */
async function send(runtime: WorkflowRuntime, workflowId: string, commandId: string, event: OrderEventInput) {
  try {
    // Command ids are idempotency keys per workflow: `c1` of one order is not `c1` of another.
    await runtime.dispatch({ workflowId, commandId, event });
  } catch (error) {
    if (!isWorkflowError(error)) throw error;
    say(`  ${sinceStart(clock.time, start).padEnd(7)} ✗ refused, nothing written (${error.name}): ${error.message}`);
  }
}

// --- the tour ------------------------------------------------------------------------------------------

say('JD cancel-order disputes on the durable runtime');
say(`store: embedded SQLite at ${filename}; clock: manual; payments and JD logistics: in-process sandboxes`);

let runtime = await openRuntime();
/** Start of the current order's story: timelines count from here. */
let start = clock.time;

// 1. P1: the system refunds at once; nobody submits or reviews a cancel order.
heading('1. DIRECT_REFUND (直接退款), merchant-delivered order');
await runtime.openOrder({ input: order('order-1001', 'MERCHANT') });
await send(runtime, 'order-1001', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1001' });
clock.time += 30 * MINUTE;
await send(runtime, 'order-1001', 'c2', { type: 'merchant.planSubmitted', by: merchant, plan: 'DIRECT_REFUND' });
await runtime.tick(); // the outbox calls the payment service; its answer comes back as a command
clock.time += 90 * MINUTE;
await send(runtime, 'order-1001', 'c3', { type: 'customer.settlementConfirmed', by: customer });
await printTimeline(runtime, 'order-1001', start, 'dispute-1001');

// 2. P2: nothing is refunded, and the customer's pending cancel order is left for the merchant.
heading('2. NEGOTIATED_REJECT (已协商驳回取消) with a pending customer cancel order');
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: order('order-1002', 'MERCHANT') });
await send(runtime, 'order-1002', 'c1', { type: 'cancellation.submitted', by: customer, cancellationId: 'cancel-1002' });
clock.time += 5 * MINUTE;
await send(runtime, 'order-1002', 'c2', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1002' });
clock.time += HOUR;
await send(runtime, 'order-1002', 'c3', { type: 'merchant.planSubmitted', by: merchant, plan: 'NEGOTIATED_REJECT' });
await runtime.tick();
for (const followUp of (await runtime.getWorkflow(merchant, 'order-1002')).followUps) {
  say(`  ➜ P2 follow-up for the merchant: ${followUp.kind} ${followUp.cancellationId} (not rejected automatically)`);
}
for (const sent of notifications.sent.filter((n) => n.orderId === 'order-1002')) {
  say(`  ✉ notification to the ${sent.recipient}: ${sent.kind}`);
}
clock.time += 2 * HOUR;
await send(runtime, 'order-1002', 'c4', { type: 'merchant.cancellationRejected', by: merchant, cancellationId: 'cancel-1002' });
await send(runtime, 'order-1002', 'c5', { type: 'customer.settlementConfirmed', by: customer });
await printTimeline(runtime, 'order-1002', start, 'dispute-1002');

// 3. P3b: after 48H a JD-delivered order is approved and intercepted; a successful interception refunds.
heading('3. WAIT_48H_INTERCEPT (已协商同意等待48H物流拦截), JD-delivered and shipped');
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: order('order-1003', 'JD', true) });
await send(runtime, 'order-1003', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1003' });
clock.time += HOUR;
await send(runtime, 'order-1003', 'c2', { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H_INTERCEPT' });
await runtime.tick();
clock.time += 48 * HOUR; // the 48H pass
await runtime.tick(); // 48H → 通过并拦截 → JD logistics intercepts → refund
clock.time += HOUR;
await send(runtime, 'order-1003', 'c3', { type: 'customer.settlementConfirmed', by: customer });
await printTimeline(runtime, 'order-1003', start, 'dispute-1003');

// 4. P4/D6: evidence, a ruling against the merchant, and a refund through a cancel order.
heading('4. PLATFORM_RULING (无法自主处理,需平台介入判责) with evidence, ruled MERCHANT_LIABLE');
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: order('order-1004', 'MERCHANT') });
await send(runtime, 'order-1004', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1004' });
clock.time += 2 * HOUR;
await send(runtime, 'order-1004', 'c2', {
  type: 'merchant.planSubmitted',
  by: merchant,
  plan: 'PLATFORM_RULING',
  evidence: {
    reason: 'GOODS_ALREADY_SHIPPED',
    proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1004.jpg', sizeBytes: 180_000 }],
    explanation: 'The parcel left our warehouse two hours before the cancellation request.',
  },
});
await runtime.tick();
clock.time += 4 * HOUR;
await send(runtime, 'order-1004', 'c3', { type: 'platform.ruled', by: platform, ruling: 'MERCHANT_LIABLE' });
await runtime.tick();
await printTimeline(runtime, 'order-1004', start, 'dispute-1004');

// 5. X1: under the grey-rollout policy `fail`, a refund plan fails while a customer cancel order is pending.
heading("5. X1 conflict: the plan fails, the merchant approves the customer's cancel order instead");
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: order('order-1005', 'MERCHANT') });
await send(runtime, 'order-1005', 'c1', { type: 'cancellation.submitted', by: customer, cancellationId: 'cancel-1005' });
clock.time += 10 * MINUTE;
await send(runtime, 'order-1005', 'c2', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1005' });
clock.time += HOUR;
await send(runtime, 'order-1005', 'c3', { type: 'merchant.planSubmitted', by: merchant, plan: 'DIRECT_REFUND' });
clock.time += 5 * MINUTE;
await send(runtime, 'order-1005', 'c4', { type: 'merchant.cancellationApproved', by: merchant, cancellationId: 'cancel-1005' });
await runtime.tick();
clock.time += HOUR;
await send(runtime, 'order-1005', 'c5', { type: 'customer.disputeWithdrawn', by: customer });
await printTimeline(runtime, 'order-1005', start, 'dispute-1005');

// X2: the merchant console's cancel-order module, through the store.
heading('X2: cancel orders created by dispute plans (merchant console query)');
const page = await runtime.queryCancelOrders(merchant, {
  reason: ['DIRECT_REFUND_DISPUTE_PLAN', 'INTERCEPT_48H_DISPUTE_PLAN', 'PLATFORM_RULING_REFUND'],
});
for (const item of page.items) {
  say(`  ${item.cancellationId.padEnd(28)} ${item.statusLabel['zh-CN']}  ${item.reasonLabel['zh-CN']}`);
}

// 6. INV5: the process stops in the middle of the 48H and comes back after it.
heading('6. Restart: the runtime is dropped in the middle of a 48H window');
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: order('order-1006', 'MERCHANT') });
await send(runtime, 'order-1006', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1006' });
await send(runtime, 'order-1006', 'c2', { type: 'merchant.planSubmitted', by: merchant, plan: 'WAIT_48H_INTERCEPT' });
await runtime.tick();
clock.time += 20 * HOUR;
await runtime.close();
say(`  ${sinceStart(clock.time, start)}  runtime closed and dropped; nothing runs while it is down`);
clock.time += 30 * HOUR;
runtime = await openRuntime();
const [deadline] = (await runtime.getWorkflow(reader, 'order-1006')).deadlines;
say(`  ${sinceStart(clock.time, start)}  a new runtime opens ${filename}`);
if (deadline) {
  say(
    `          pending: ${deadline.timer} due at ${sinceStart(deadline.dueAt, start)}, overdue by ${sinceStart(clock.time, deadline.dueAt).slice(1)}`,
  );
}
const round = await runtime.tick();
say(`          one tick: ${round.deadlinesFired} deadline fired, ${round.effectsDelivered} effect(s) delivered`);
await runtime.tick(); // a second tick finds nothing to do
await printTimeline(runtime, 'order-1006', start, 'dispute-1006');
const key = 'order-1006/dispute-1006:intercept-48h/1'; // the key of the cancel order's first refund request
const executed = payments.executionCount(key);
say(`  payment sandbox: refunds executed for ${key}: ${executed}`);
if (executed !== 1) {
  console.error(`INV1/INV5 broken: expected exactly one refund after the restart, saw ${executed}`);
  process.exitCode = 1;
}

// The merchant console's dispute queue (京麦), read as the merchant: its own disputes only (R1).
heading('Merchant queue: the disputes of merchant-1, soonest deadline first (纠纷单列表)');
clock.time += HOUR;
await runtime.openOrder({ input: order('order-1007', 'MERCHANT') });
await send(runtime, 'order-1007', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1007' });
const shanghai = (at: number) => new Date(at + 8 * HOUR).toISOString().slice(0, 16).replace('T', ' ');
for (const item of (await runtime.queryDisputes(merchant)).items) {
  const due = item.nextDeadline ? `${item.nextDeadline.label['zh-CN']} ${shanghai(item.nextDeadline.dueAt)} 到期` : '—';
  say(`  ${pad(item.orderId, 12)}${pad(item.statusLabel['zh-CN'], 16)}${pad(item.planLabel?.['zh-CN'] ?? '—', 30)}${due}`);
}
const counts = await runtime.countDisputes(merchant);
say(
  `  待商家选择方案 ${counts.byStatus.awaitingMerchantChoice?.count ?? 0} 单, 24 小时内到期 ${counts.total.dueWithinDay} 单, 共 ${counts.total.count} 单`,
);

// 7. A1–A4: with appeals on, the merchant appeals a ruling against it and wins; the refund stands and
// the platform compensates the merchant through the outbox, once.
heading('7. Appeal (申诉, policy.appeals on): the merchant appeals MERCHANT_LIABLE and wins');
clock.time += 24 * HOUR;
start = clock.time;
await runtime.openOrder({ input: { ...order('order-1008', 'MERCHANT'), policy: { appeals: 'on' } } });
await send(runtime, 'order-1008', 'c1', { type: 'dispute.opened', by: customer, disputeId: 'dispute-1008' });
clock.time += HOUR;
await send(runtime, 'order-1008', 'c2', {
  type: 'merchant.planSubmitted',
  by: merchant,
  plan: 'PLATFORM_RULING',
  evidence: {
    reason: 'GOODS_ALREADY_SHIPPED',
    proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'receipt-1008.jpg', sizeBytes: 150_000 }],
    explanation: 'The parcel left our warehouse before the cancellation request.',
  },
});
clock.time += 3 * HOUR;
await send(runtime, 'order-1008', 'c3', { type: 'platform.ruled', by: platform, ruling: 'MERCHANT_LIABLE' });
await runtime.tick(); // A1: the ruling's refund is ordered at once; the 7-day appeal window runs
const [appealWindow] = (await runtime.getWorkflow(reader, 'order-1008')).deadlines;
if (appealWindow) say(`  pending: ${appealWindow.timer} (${appealWindow.label['zh-CN']}) due at ${sinceStart(appealWindow.dueAt, start)}`);
clock.time += 2 * 24 * HOUR;
const customerAppeal = {
  reason: 'MERCHANT_AGREED_TO_CANCEL',
  proofs: [{ kind: 'CHAT_RECORD' as const, fileId: 'chat-1008.png', sizeBytes: 60_000 }],
  explanation: 'The shop agreed in chat to cancel the order.',
};
await send(runtime, 'order-1008', 'c4', { type: 'customer.rulingAppealed', by: customer, evidence: customerAppeal });
await send(runtime, 'order-1008', 'c5', {
  type: 'merchant.rulingAppealed',
  by: merchant,
  evidence: {
    reason: 'GOODS_ALREADY_DELIVERED',
    proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1008.jpg', sizeBytes: 95_000 }],
    explanation: 'The customer signed for the parcel before asking to cancel.',
  },
});
await runtime.tick();
clock.time += 24 * HOUR;
await send(runtime, 'order-1008', 'c6', { type: 'platform.appealOverturned', by: platform });
await runtime.tick(); // A4: the outbox asks the payment service to compensate the merchant
await printTimeline(runtime, 'order-1008', start, 'dispute-1008');
const compensationKey = 'order-1008/dispute-1008/compensation';
say(`  payment sandbox: compensations executed for ${compensationKey}: ${payments.compensationCount(compensationKey)}`);
say(
  `  payment sandbox: refunds executed for order-1008: ${payments.executions().filter((e) => e.orderId === 'order-1008').length} (the customer's refund stands)`,
);

heading('Refunds executed by the payment sandbox (INV1: at most one per order)');
for (const execution of payments.executions()) {
  say(`  ${execution.orderId.padEnd(12)} ${execution.idempotencyKey.padEnd(40)} ${execution.paymentRef}`);
}

await runtime.close();
rmSync(dir, { recursive: true, force: true });
say('\nDone. `npm run soak:kill` SIGKILLs a runtime process hundreds of times and checks the same guarantees.');
