import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictingCancellationError,
  DuplicateCommandError,
  FinalStateError,
  InvalidPayloadError,
  InvalidTimeError,
  NotAllowedInStateError,
  VersionConflictError,
  WorkflowError,
  WorkflowExistsError,
  WorkflowNotFoundError,
  WrongRoleError,
} from '../../src/errors.js';
import type { OrderEventInput } from '../../src/runtime/index.js';
import {
  CUSTOMER,
  dumpSqlite,
  host,
  HOUR,
  MERCHANT,
  MINUTE,
  orderInput,
  PLATFORM,
  T0,
  tempDir,
  VALID_EVIDENCE,
  type Host,
} from '../runtime/helpers.js';

/**
 * Hostile input catalogue (issue 6) against the durable runtime on a SQLite file. Each case names the
 * rule it proves and expects: the typed error class and its `code`, every row of every table unchanged,
 * no outbox row added (INV4: refused input changes nothing and says why). Requests go in as a network
 * client's JSON would, through `dispatchRaw` and `openOrderRaw`: most of them do not type-check.
 *
 * Fixture workflows (built once, never changed by a case):
 *   order-1        merchant-delivered; customer cancel order `cancel-1` pending; dispute `dispute-1` awaiting the merchant
 *   order-2        another order of the same merchant with cancel order `o2-cancel` pending
 *   order-other-m  an order of merchant-2
 *   order-ruling   dispute `ruling-d` awaiting the platform's ruling (evidence plan accepted)
 *   order-rejected cancel order `rej-cancel` rejected (final); the order is open
 *   order-refunding direct refund `refunding-d:direct-refund` requested, not answered yet
 *   order-resolved dispute `resolved-d` resolved (negotiated reject, confirmed); the order is open
 *   order-closed   refunded by a direct refund and the dispute resolved: the order is final
 */

const SYSTEM = { role: 'system', id: 'order-system' } as const;
const PAYMENTS = { role: 'system', id: 'payments' } as const;
const LOGISTICS = { role: 'system', id: 'jd-logistics' } as const;
const OTHER_MERCHANT = { role: 'merchant', id: 'merchant-2' } as const;
const OTHER_CUSTOMER = { role: 'customer', id: 'customer-2' } as const;

type ErrorClass = abstract new (...args: never[]) => WorkflowError;

interface Case {
  /** Rule id(s) first: what the case proves. */
  name: string;
  expected: ErrorClass;
  code: string;
  /** A dispatch request, or an openOrder request, of any shape. */
  dispatch?: Record<string, unknown>;
  open?: Record<string, unknown>;
}

const tmp = tempDir('hostile-');
const filename = join(tmp.dir, 'hostile.db');
let h: Host;
let commandCounter = 0;

const plan = (p: string, extra: Record<string, unknown> = {}) => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan: p, ...extra });
const evidencePlan = (evidence: unknown) => plan('PLATFORM_RULING', { evidence });
const approve = (cancellationId: string, by: unknown = MERCHANT) => ({ type: 'merchant.cancellationApproved', by, cancellationId });
const send = (workflowId: string, event: unknown, extra: { expectedVersion?: number } = {}): Record<string, unknown> => ({
  workflowId,
  commandId: `hostile-${(commandCounter += 1)}`,
  event,
  ...extra,
});
const deep = (depth: number): string => `${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}`;

beforeAll(async () => {
  h = await host({ filename, allowedSkewMs: MINUTE });
  const r = h.runtime;
  let n = 0;
  const setup = (workflowId: string, event: OrderEventInput) => r.dispatch({ workflowId, commandId: `setup-${workflowId}-${(n += 1)}`, event });

  await r.openOrder({ input: orderInput('order-1') });
  await setup('order-1', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' });
  await setup('order-1', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' });

  await r.openOrder({ input: orderInput('order-2') });
  await setup('order-2', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'o2-cancel' });

  await r.openOrder({ input: { ...orderInput('order-other-m'), merchantId: OTHER_MERCHANT.id } });

  await r.openOrder({ input: orderInput('order-ruling') });
  await setup('order-ruling', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'ruling-d' });
  await setup('order-ruling', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE });

  await r.openOrder({ input: orderInput('order-rejected') });
  await setup('order-rejected', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'rej-cancel' });
  await setup('order-rejected', { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'rej-cancel' });

  await r.openOrder({ input: orderInput('order-refunding') });
  await setup('order-refunding', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'refunding-d' });
  await setup('order-refunding', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' });

  await r.openOrder({ input: orderInput('order-resolved') });
  await setup('order-resolved', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'resolved-d' });
  await setup('order-resolved', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
  await setup('order-resolved', { type: 'customer.settlementConfirmed', by: CUSTOMER });

  await r.openOrder({ input: orderInput('order-closed') });
  await setup('order-closed', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'closed-d' });
  h.clock.advance(HOUR);
  // No tick runs in this file: refunds stay requested until a payment callback answers them.
  await setup('order-closed', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND' });
  h.clock.advance(MINUTE);
  await setup('order-closed', { type: 'customer.settlementConfirmed', by: CUSTOMER });
  await r.dispatch({
    workflowId: 'order-closed',
    commandId: 'setup-closed-refund',
    event: { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'closed-d:direct-refund', paymentRef: 'pay-1' },
  });
  expect((await r.getWorkflow(PLATFORM, 'order-closed')).status).toBe('done');
  const refunding = await r.getWorkflow(PLATFORM, 'order-refunding');
  expect(refunding.state).toMatchObject({ cancellation: { refunding: 'requesting' } });
  expect(refunding.cancelOrders.map((c) => c.cancellationId)).toEqual(['refunding-d:direct-refund']);
  const rejected = await r.getWorkflow(PLATFORM, 'order-rejected');
  expect(rejected.state).toEqual({ order: { dispute: 'none', cancellation: 'idle' } });
  expect(rejected.cancelOrders.map((c) => [c.cancellationId, c.status])).toEqual([['rej-cancel', 'rejected']]);
  const resolved = await r.getWorkflow(PLATFORM, 'order-resolved');
  expect(resolved.state).toEqual({ order: { dispute: 'none', cancellation: 'idle' } });
  expect(resolved.disputes.map((d) => [d.disputeId, d.status])).toEqual([['resolved-d', 'resolved']]);
  expect((await r.getWorkflow(PLATFORM, 'order-ruling')).state).toMatchObject({ dispute: 'awaitingPlatformRuling' });
});

afterAll(async () => {
  await h?.close();
  tmp.cleanup();
});

const CASES: Case[] = [
  // --- INV4: wrong role, other party -------------------------------------------------------------
  {
    name: 'INV4/D2: a customer cannot submit the merchant’s plan',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', { ...plan('NEGOTIATED_REJECT'), by: CUSTOMER }),
  },
  {
    name: 'INV4/D1: a merchant cannot open a dispute',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', { type: 'dispute.opened', by: MERCHANT, disputeId: 'd-x' }),
  },
  {
    name: 'INV4/D6: the system cannot rule in the platform’s place',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-ruling', { type: 'platform.ruled', by: SYSTEM, ruling: 'MERCHANT_LIABLE' }),
  },
  {
    name: 'INV4/C4: a merchant cannot confirm its own refund (payment callback)',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-refunding', {
      type: 'payment.refundSucceeded',
      by: MERCHANT,
      cancellationId: 'refunding-d:direct-refund',
      paymentRef: 'p',
    }),
  },
  {
    name: 'INV4/P3b: a customer cannot report the interception result',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', { type: 'logistics.interceptSucceeded', by: CUSTOMER, cancellationId: 'cancel-1' }),
  },
  {
    name: 'INV4/C2: another merchant cannot approve this order’s cancel order',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', approve('cancel-1', OTHER_MERCHANT)),
  },
  {
    name: 'INV4/D2: this merchant cannot act on another merchant’s order',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-other-m', { type: 'order.shipped', by: MERCHANT }),
  },
  {
    name: 'INV4/D8: another customer cannot withdraw the dispute',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', { type: 'customer.disputeWithdrawn', by: OTHER_CUSTOMER }),
  },
  {
    name: 'INV4/C5: another customer cannot withdraw the cancel order',
    expected: WrongRoleError,
    code: 'WRONG_ROLE',
    dispatch: send('order-1', { type: 'customer.cancellationWithdrawn', by: OTHER_CUSTOMER, cancellationId: 'cancel-1' }),
  },

  // --- INV4: other order, unknown workflow ------------------------------------------------------
  {
    name: 'INV4/C2: another order’s cancel order cannot be approved through this order',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', approve('o2-cancel')),
  },
  {
    name: 'INV4: a command to an unknown workflow',
    expected: WorkflowNotFoundError,
    code: 'WORKFLOW_NOT_FOUND',
    dispatch: send('order-404', { type: 'order.shipped', by: SYSTEM }),
  },
  {
    name: 'INV4: a workflow id with a control character is refused',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1\u0000', { type: 'order.shipped', by: SYSTEM }),
  },

  // --- INV4: event type -------------------------------------------------------------------------
  {
    name: 'INV4: unknown event type',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'merchant.bribed', by: MERCHANT }),
  },
  {
    name: 'INV4: missing event type',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { by: MERCHANT, plan: 'DIRECT_REFUND' }),
  },
  {
    name: 'INV4: event type of the wrong type (number)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 42, by: MERCHANT }),
  },
  {
    name: 'INV4: internal machine event from outside (order.refundOrdered)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.refundOrdered', by: PLATFORM }),
  },
  {
    name: 'INV4/INV5: a timer event from outside (xstate.after…)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'xstate.after.merchantResponseWindow.dispute.awaitingMerchantChoice', by: SYSTEM }),
  },
  {
    name: 'INV4: event type "__proto__"',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: '__proto__', by: MERCHANT }),
  },
  {
    name: 'INV4: event type "constructor"',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'constructor', by: MERCHANT }),
  },

  // --- INV4: missing, extra, oversized fields ----------------------------------------------------
  { name: 'INV4: missing sender', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', { type: 'order.shipped' }) },
  {
    name: 'INV4/C2: missing cancellationId',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'merchant.cancellationApproved', by: MERCHANT }),
  },
  {
    name: 'INV4/D2: missing plan',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'merchant.planSubmitted', by: MERCHANT }),
  },
  {
    name: 'INV4/D6: missing ruling',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-ruling', { type: 'platform.ruled', by: PLATFORM }),
  },
  {
    name: 'INV4/C2: extra field (an amount) on an approval',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { ...approve('cancel-1'), amount: 1_000_000 }),
  },
  {
    name: 'INV4: extra field in the sender',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1', { ...MERCHANT, admin: true })),
  },
  {
    name: 'INV4/D1: dispute id longer than 64 characters',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-2', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd'.repeat(65) }),
  },
  {
    name: 'INV4/C2: rejection note longer than 500 characters',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'merchant.cancellationRejected', by: MERCHANT, cancellationId: 'cancel-1', note: 'n'.repeat(501) }),
  },
  {
    name: 'INV4/C4: payment reference longer than 128 characters',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-refunding', {
      type: 'payment.refundSucceeded',
      by: PAYMENTS,
      cancellationId: 'refunding-d:direct-refund',
      paymentRef: 'p'.repeat(129),
    }),
  },
  {
    name: 'INV4/C4: empty payment reference',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-refunding', {
      type: 'payment.refundSucceeded',
      by: PAYMENTS,
      cancellationId: 'refunding-d:direct-refund',
      paymentRef: '',
    }),
  },
  {
    name: 'INV4: a 1 MB string in an unknown field',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, blob: 'x'.repeat(1 << 20) }),
  },

  // --- INV4: wrong types --------------------------------------------------------------------------
  {
    name: 'INV4: unknown role',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1', { role: 'admin', id: 'root' })),
  },
  {
    name: 'INV4: sender as a string',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1', 'merchant-1')),
  },
  { name: 'INV4: sender null', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', approve('cancel-1', null)) },
  {
    name: 'INV4/D6: ruling of the wrong type (boolean)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-ruling', { type: 'platform.ruled', by: PLATFORM, ruling: true }),
  },
  {
    name: 'INV4/D2: plan not in the list',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', plan('REFUND_EVERYTHING')),
  },
  {
    name: 'INV4/C2: cancellation id of the wrong type (number)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'merchant.cancellationApproved', by: MERCHANT, cancellationId: 1 }),
  },
  {
    name: 'INV4: time as a date string',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: '2026-01-05T09:00:00Z' }),
  },

  // --- D4: evidence -------------------------------------------------------------------------------
  {
    name: 'D4: evidence plan without evidence',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-2', plan('PLATFORM_RULING')),
  },
  {
    name: 'D4: evidence reason not in the catalogue',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, reason: 'MERCHANT_FEELS_LIKE_IT' })),
  },
  {
    name: 'D4: proof missing for the chosen reason (signed delivery for GOODS_ALREADY_DELIVERED)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, reason: 'GOODS_ALREADY_DELIVERED' })),
  },
  {
    name: 'D4: one of two required proofs missing (CUSTOM_MADE_GOODS)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send(
      'order-1',
      evidencePlan({ ...VALID_EVIDENCE, reason: 'CUSTOM_MADE_GOODS', proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat.png', sizeBytes: 10 }] }),
    ),
  },
  {
    name: 'D4: explanation shorter than the limit',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, explanation: 'shipped' })),
  },
  {
    name: 'D4: explanation only whitespace',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, explanation: ' '.repeat(100) })),
  },
  {
    name: 'D4: explanation beyond the limit (501 characters)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, explanation: 'e'.repeat(501) })),
  },
  {
    name: 'D4: more proofs than the limit (10 > 9)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send(
      'order-1',
      evidencePlan({
        ...VALID_EVIDENCE,
        proofs: Array.from({ length: 10 }, (_, i) => ({ kind: 'LOGISTICS_RECEIPT', fileId: `r${i}`, sizeBytes: 1 })),
      }),
    ),
  },
  {
    name: 'D4: a proof over the size limit',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send(
      'order-1',
      evidencePlan({ ...VALID_EVIDENCE, proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'big', sizeBytes: 10 * 1024 * 1024 + 1 }] }),
    ),
  },
  {
    name: 'D4: a proof kind not in the catalogue',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, proofs: [{ kind: 'SELFIE', fileId: 'me.jpg', sizeBytes: 1 }] })),
  },
  {
    name: 'D4: a proof with a negative size',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', evidencePlan({ ...VALID_EVIDENCE, proofs: [{ kind: 'LOGISTICS_RECEIPT', fileId: 'r', sizeBytes: -1 }] })),
  },
  {
    name: 'D4: a huge proof array (100,000 entries)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send(
      'order-1',
      evidencePlan({ ...VALID_EVIDENCE, proofs: new Array(100_000).fill({ kind: 'LOGISTICS_RECEIPT', fileId: 'r', sizeBytes: 1 }) }),
    ),
  },
  {
    name: 'D2/D4: evidence attached to a settlement plan',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', plan('NEGOTIATED_REJECT', { evidence: VALID_EVIDENCE })),
  },

  // --- D2, X1: plans ----------------------------------------------------------------------------
  {
    name: 'D2: a second plan after one was accepted',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-ruling', plan('DIRECT_REFUND')),
  },
  {
    name: 'D2: a plan with no open dispute',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-2', plan('NEGOTIATED_REJECT')),
  },
  {
    name: 'X1: DIRECT_REFUND while the customer’s cancel order is pending (conflictPolicy fail)',
    expected: ConflictingCancellationError,
    code: 'CONFLICTING_CANCELLATION',
    dispatch: send('order-1', plan('DIRECT_REFUND')),
  },
  {
    name: 'X1: WAIT_48H_INTERCEPT while the customer’s cancel order is pending',
    expected: ConflictingCancellationError,
    code: 'CONFLICTING_CANCELLATION',
    dispatch: send('order-1', plan('WAIT_48H_INTERCEPT')),
  },
  {
    name: 'D1: a second open dispute on the same order',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-2' }),
  },
  {
    name: 'C1: a second cancel order while one is in flight',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-2' }),
  },
  {
    name: 'D1/C1: a dispute id already used by a cancel order',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-2', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'o2-cancel' }),
  },

  // --- INV4: time -----------------------------------------------------------------------------------
  {
    name: 'INV4: a timestamp beyond the allowed clock skew (future)',
    expected: InvalidTimeError,
    code: 'INVALID_TIME',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: T0 + 10 * 365 * 24 * HOUR }),
  },
  {
    name: 'INV4: a timestamp before the workflow’s last event',
    expected: InvalidTimeError,
    code: 'INVALID_TIME',
    dispatch: send('order-closed', { type: 'order.shipped', by: SYSTEM, at: T0 }),
  },
  {
    name: 'INV4: a timestamp before the order existed (epoch 0)',
    expected: InvalidTimeError,
    code: 'INVALID_TIME',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: 0 }),
  },
  {
    name: 'INV4: NaN timestamp',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: Number.NaN }),
  },
  {
    name: 'INV4: Infinity timestamp',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: Number.POSITIVE_INFINITY }),
  },
  {
    name: 'INV4: negative timestamp',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: -1 }),
  },
  {
    name: 'INV4: fractional timestamp',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: T0 + 0.5 }),
  },
  {
    name: 'INV4: timestamp beyond the Date range',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM, at: Number.MAX_SAFE_INTEGER }),
  },

  // --- commands: idempotency, concurrency -------------------------------------------------------
  {
    name: 'INV4/D9: a command id replayed with a different payload',
    expected: DuplicateCommandError,
    code: 'DUPLICATE_COMMAND',
    dispatch: { workflowId: 'order-1', commandId: 'setup-order-1-2', event: { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-9' } },
  },
  {
    name: 'INV4: opening an existing workflow with other input',
    expected: WorkflowExistsError,
    code: 'WORKFLOW_EXISTS',
    open: { input: orderInput('order-1', { deliveredBy: 'JD' }) },
  },
  {
    name: 'INV4: opening an existing workflow with other input under another command id',
    expected: WorkflowExistsError,
    code: 'WORKFLOW_EXISTS',
    open: { commandId: 'open-again', input: orderInput('order-1', { deliveredBy: 'JD' }) },
  },
  {
    name: 'INV4: a stale expected version',
    expected: VersionConflictError,
    code: 'VERSION_CONFLICT',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM }, { expectedVersion: 1 }),
  },
  {
    name: 'INV4: an expected version from the future',
    expected: VersionConflictError,
    code: 'VERSION_CONFLICT',
    dispatch: send('order-1', { type: 'order.shipped', by: SYSTEM }, { expectedVersion: 99 }),
  },

  // --- INV3: final states -----------------------------------------------------------------------
  {
    name: 'INV3/C3: approving a rejected (final) cancel order',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-rejected', approve('rej-cancel')),
  },
  {
    name: 'INV3/C5: withdrawing a rejected (final) cancel order',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-rejected', { type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'rej-cancel' }),
  },
  {
    name: 'INV3/D6: ruling on a resolved dispute',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-resolved', { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' }),
  },
  {
    name: 'INV3/D5: confirming a resolved settlement again',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-resolved', { type: 'customer.settlementConfirmed', by: CUSTOMER }),
  },
  {
    name: 'INV3/INV1: any event to a closed (refunded) order',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-closed', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'again' }),
  },
  {
    name: 'INV3/INV1: a second payment.refundSucceeded for an already refunded cancel order',
    expected: FinalStateError,
    code: 'FINAL_STATE',
    dispatch: send('order-closed', {
      type: 'payment.refundSucceeded',
      by: PAYMENTS,
      cancellationId: 'closed-d:direct-refund',
      paymentRef: 'pay-2',
    }),
  },

  // --- C4/P3: adapter callbacks -------------------------------------------------------------------
  {
    name: 'C4: payment callback for an unknown refund',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-refunding', { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'ghost-refund', paymentRef: 'p' }),
  },
  {
    name: 'C4: payment callback for a cancel order that requested no refund',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'cancel-1', paymentRef: 'p' }),
  },
  {
    name: 'C4: refund failure for an unknown refund',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-refunding', {
      type: 'payment.refundFailed',
      by: PAYMENTS,
      cancellationId: 'ghost-refund',
      error: 'x',
      idempotencyKey: 'ghost/1',
    }),
  },
  {
    name: 'INV1: a refund failure that names no request (no idempotencyKey)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-refunding', { type: 'payment.refundFailed', by: PAYMENTS, cancellationId: 'ghost-refund', error: 'x' }),
  },
  {
    name: 'P3b: interception result for a cancel order that is not intercepting',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-refunding', { type: 'logistics.interceptSucceeded', by: LOGISTICS, cancellationId: 'refunding-d:direct-refund' }),
  },
  {
    name: 'C4: payment callback addressed to another order’s refund',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'refunding-d:direct-refund', paymentRef: 'p' }),
  },

  // --- INV4: non-object payloads ----------------------------------------------------------------
  { name: 'INV4: null event', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', null) },
  { name: 'INV4: undefined event', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', undefined) },
  {
    name: 'INV4: string event',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', 'merchant.cancellationApproved'),
  },
  { name: 'INV4: number event', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', 42) },
  { name: 'INV4: array event', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', [approve('cancel-1')]) },
  { name: 'INV4: boolean event', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', true) },

  // --- INV4: prototype pollution ------------------------------------------------------------------
  {
    name: 'INV4: "__proto__" key in the event (JSON)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', JSON.parse('{"type":"order.shipped","by":{"role":"system","id":"s"},"__proto__":{"polluted":true}}')),
  },
  {
    name: 'INV4: "__proto__" key in the sender (JSON)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', JSON.parse('{"type":"order.shipped","by":{"role":"system","id":"s","__proto__":{"role":"platform"}}}')),
  },
  {
    name: 'INV4: "constructor" key in the event',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send(
      'order-1',
      JSON.parse('{"type":"order.shipped","by":{"role":"system","id":"s"},"constructor":{"prototype":{"polluted":true}}}'),
    ),
  },
  {
    name: 'INV4: "__proto__" as a cancellation id',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('__proto__')),
  },
  // BUG (see report): ids that are Object.prototype keys pass the id schema and crash the lookup with a TypeError.
  {
    name: 'INV4: "constructor" as a cancellation id (an Object.prototype key)',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', approve('constructor')),
  },
  {
    name: 'INV4/C4: "toString" as the cancellation id of a payment callback',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-refunding', { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'toString', paymentRef: 'p' }),
  },
  {
    name: 'INV4: "hasOwnProperty" as the cancellation id of a withdrawal',
    expected: NotAllowedInStateError,
    code: 'NOT_ALLOWED_IN_STATE',
    dispatch: send('order-1', { type: 'customer.cancellationWithdrawn', by: CUSTOMER, cancellationId: 'hasOwnProperty' }),
  },

  // --- INV4: control characters and look-alikes in ids ------------------------------------------
  {
    name: 'INV4: NUL in a cancellation id',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1\u0000')),
  },
  {
    name: 'INV4: newline in a sender id',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1', { role: 'merchant', id: 'merchant-1\n' })),
  },
  {
    name: 'INV4: right-to-left override in a dispute id',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-2', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'd\u202Eevil' }),
  },
  {
    name: 'INV4: zero-width space in a sender id (looks like merchant-1)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', approve('cancel-1', { role: 'merchant', id: 'merchant\u200B-1' })),
  },
  { name: 'INV4: empty cancellation id', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', dispatch: send('order-1', approve('')) },

  // --- C1/D1: client ids never enter the namespace of the cancel orders the order makes ('<disputeId>:<plan>')
  {
    name: 'C1: a customer cancel order id with ‘:’ (the order’s own namespace)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-rejected', { type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'd:direct-refund' }),
  },
  {
    name: 'D1: a dispute id with ‘:’',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-2', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'a:b' }),
  },

  // --- INV4: opening a workflow ---------------------------------------------------------------------
  { name: 'INV4: order input null', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', open: { input: null } },
  { name: 'INV4: order input an array', expected: InvalidPayloadError, code: 'INVALID_PAYLOAD', open: { input: [] } },
  {
    name: 'INV4/C2: unknown delivery party',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order-new', { deliveredBy: 'UPS' }) },
  },
  {
    name: 'INV4/P3: a negative interception window',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order-new', { timers: { interceptWindow: -1 } }) },
  },
  {
    name: 'INV4/C4: refund attempts beyond the limit',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order-new', { timers: { refundMaxAttempts: 1000 } }) },
  },
  {
    name: 'INV4/X1: unknown conflict policy',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order-new', { conflictPolicy: 'ignore' }) },
  },
  {
    name: 'INV4: control character in the order id',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order\u0007new') },
  },
  {
    name: 'INV4: extra field in the order input',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    open: { input: orderInput('order-new', { price: 10 }) },
  },
  {
    name: 'INV4: order created in the future',
    expected: InvalidTimeError,
    code: 'INVALID_TIME',
    open: { input: { ...orderInput('order-new'), at: T0 + 365 * 24 * HOUR } },
  },

  // BUG (see report): the payload is hashed (recursively) before it is validated.
  {
    name: 'INV4: deeply nested JSON payload (depth 20,000)',
    expected: InvalidPayloadError,
    code: 'INVALID_PAYLOAD',
    dispatch: send('order-1', JSON.parse(`{"type":"order.shipped","by":{"role":"system","id":"s"},"extra":${deep(20_000)}}`)),
  },
];

const outboxRows = (dump: Record<string, unknown[]>) => dump.outbox?.length ?? 0;

describe('hostile input catalogue: refused with a typed error, nothing written (SQLite)', () => {
  it('has at least 40 cases, each named after its rule', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    for (const c of CASES) expect(c.name).toMatch(/^(INV\d|[CDPX]\d)/);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = dumpSqlite(filename);
    const attempt = c.open ? h.runtime.openOrderRaw(c.open) : h.runtime.dispatchRaw(c.dispatch);
    const error = await attempt.then(
      (result) => ({ accepted: result }),
      (thrown: unknown) => thrown,
    );
    expect(error, 'a typed WorkflowError').toBeInstanceOf(WorkflowError);
    expect(error).toBeInstanceOf(c.expected);
    expect((error as WorkflowError).code).toBe(c.code);
    expect((error as Error).message.length).toBeGreaterThan(10);
    const after = dumpSqlite(filename);
    expect(outboxRows(after)).toBe(outboxRows(before));
    expect(after).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
