import { describe, expect, it } from 'vitest';
import { FinalStateError, InvalidPayloadError, NotAllowedInStateError, WrongRoleError, type WorkflowError } from '../src/errors.js';
import { parseEvent, parseOrderInput } from '../src/commands.js';
import {
  CUSTOMER,
  DIRECT_REFUND_ID,
  MERCHANT,
  PAYMENTS,
  PLATFORM,
  VALID_EVIDENCE,
  openDispute,
  refundSucceeded,
  submitPlan,
  world,
  type World,
} from './support/world.js';
import type { OrderEventInput } from '../src/schemas/events.js';

interface Raw {
  raw: Record<string, unknown>;
}
const raw = (event: Record<string, unknown>): Raw => ({ raw: event });

type Case = [
  name: string,
  arrange: (w: World) => void,
  /** A typed event goes to `send`; one the types refuse (`raw(...)`) to `sendRaw`, as JSON from a client would. */
  event: OrderEventInput | Raw,
  error: new (...args: never[]) => WorkflowError,
];

const disputed = (w: World) => openDispute(w);
const refunded = (w: World) => {
  openDispute(w);
  submitPlan(w, 'DIRECT_REFUND');
  refundSucceeded(w, DIRECT_REFUND_ID);
  w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
};

const cases: Case[] = [
  ['wrong role: a customer submits a plan', disputed, { type: 'merchant.planSubmitted', by: CUSTOMER, plan: 'DIRECT_REFUND' }, WrongRoleError],
  ['wrong role: a merchant rules', disputed, { type: 'platform.ruled', by: MERCHANT, ruling: 'MERCHANT_NOT_LIABLE' }, WrongRoleError],
  [
    'wrong role: a merchant reports a payment',
    disputed,
    { type: 'payment.refundSucceeded', by: MERCHANT, cancellationId: 'x', paymentRef: 'p' },
    WrongRoleError,
  ],
  [
    "another merchant's order",
    disputed,
    { type: 'merchant.planSubmitted', by: { role: 'merchant', id: 'merchant-2' }, plan: 'DIRECT_REFUND' },
    WrongRoleError,
  ],
  ["another customer's order", disputed, { type: 'customer.disputeWithdrawn', by: { role: 'customer', id: 'customer-2' } }, WrongRoleError],
  ['unknown event type', disputed, raw({ type: 'merchant.bribed', by: MERCHANT }), InvalidPayloadError],
  ['missing field', disputed, raw({ type: 'merchant.planSubmitted', by: MERCHANT }), InvalidPayloadError],
  ['extra field', disputed, raw({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND', amount: 1 }), InvalidPayloadError],
  ['wrong type', disputed, raw({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 42 }), InvalidPayloadError],
  [
    'evidence reason not in the catalogue',
    disputed,
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: { ...VALID_EVIDENCE, reason: 'BAD_WEATHER' } },
    InvalidPayloadError,
  ],
  ['evidence plan without evidence', disputed, { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING' }, InvalidPayloadError],
  [
    'explanation too long',
    disputed,
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: { ...VALID_EVIDENCE, explanation: 'x'.repeat(501) } },
    InvalidPayloadError,
  ],
  [
    'time before the last accepted event',
    disputed,
    { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'DIRECT_REFUND', at: -1 },
    InvalidPayloadError,
  ],
  ['ruling before any plan', disputed, { type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' }, NotAllowedInStateError],
  [
    'callback for an unknown refund',
    disputed,
    { type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId: 'ghost', paymentRef: 'p' },
    NotAllowedInStateError,
  ],
  ['event after the final state', refunded, { type: 'dispute.opened', by: CUSTOMER, disputeId: 'again' }, FinalStateError],
];

describe('INV4: hostile input at the boundary', () => {
  it.each(cases)('INV4: %s → typed error, nothing changes', (_name, arrange, event, error) => {
    const w = world();
    arrange(w);
    const snapshot = w.workflow.getSnapshot();
    const effects = w.workflow.effects.length;
    const audit = w.workflow.audit.length;
    let thrown: unknown;
    try {
      if ('raw' in event) w.sendRaw(event.raw);
      else w.send(event);
    } catch (caught) {
      thrown = caught;
    }
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as WorkflowError).code).toMatch(/^[A-Z_]+$/);
    expect(w.workflow.getSnapshot()).toBe(snapshot);
    expect(w.workflow.effects).toHaveLength(effects);
    expect(w.workflow.audit).toHaveLength(audit);
  });

  it('INV4: an invalid payload lists every issue with its path', () => {
    try {
      parseEvent({ type: 'merchant.planSubmitted', at: 'soon', by: { role: 'boss', id: '' } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect([...new Set((error as InvalidPayloadError).issues.map((issue) => issue.path))].sort()).toEqual(['at', 'by.id', 'by.role', 'plan']);
    }
  });

  it('INV4: order input is validated and gets the documented defaults', () => {
    expect(() => parseOrderInput({ orderId: 'o' })).toThrow(InvalidPayloadError);
    expect(parseOrderInput({ orderId: 'o', merchantId: 'm', customerId: 'c', deliveredBy: 'JD', at: 0 })).toMatchObject({
      conflictPolicy: 'fail',
      shipped: false,
      completed: false,
      timers: {},
    });
  });

  it('allowedActions lists what each role may do now and nothing that would be refused', () => {
    const w = world();
    openDispute(w);
    expect(w.workflow.allowedActions('merchant')).toEqual([
      { type: 'merchant.planSubmitted', plan: 'DIRECT_REFUND' },
      { type: 'merchant.planSubmitted', plan: 'NEGOTIATED_REJECT' },
      { type: 'merchant.planSubmitted', plan: 'WAIT_48H_INTERCEPT' },
      { type: 'merchant.planSubmitted', plan: 'PLATFORM_RULING' },
    ]);
    expect(w.workflow.allowedActions('customer')).toEqual([{ type: 'cancellation.submitted' }, { type: 'customer.disputeWithdrawn' }]);
    expect(w.workflow.allowedActions('platform')).toEqual([]);
    expect(w.workflow.allowedActions('merchant', 'merchant-2')).toEqual([]);
    w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c1' });
    expect(w.workflow.allowedActions('merchant')).toEqual([
      { type: 'merchant.planSubmitted', plan: 'NEGOTIATED_REJECT' },
      { type: 'merchant.planSubmitted', plan: 'PLATFORM_RULING' },
      { type: 'merchant.cancellationApproved', cancellationId: 'c1' },
      { type: 'merchant.cancellationRejected', cancellationId: 'c1' },
    ]);
  });
});
