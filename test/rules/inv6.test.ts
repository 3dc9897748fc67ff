import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { strandedParts } from '../../src/invariants.js';
import type { OrderEventInput } from '../../src/schemas/events.js';
import {
  CUSTOMER,
  DIRECT_REFUND_ID,
  HOUR,
  LOGISTICS,
  MERCHANT,
  PAYMENTS,
  PLATFORM,
  SYSTEM,
  VALID_EVIDENCE,
  openDispute,
  submitPlan,
  world,
  type World,
} from '../support/world.js';

const pendingOf = (w: World) => ({ deadlines: w.workflow.pendingDeadlines().map((deadline) => deadline.actorPath), effects: [] });

/** Every command a party or a callback can send, against the ids the order can have. */
const IDS = ['cancel-1', 'dispute-1:direct-refund', 'dispute-1:intercept-48h', 'dispute-1:ruling-refund'];
const command = fc.oneof(
  fc.constant({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' }),
  fc.constant({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'cancel-1' }),
  fc
    .constantFrom('DIRECT_REFUND', 'NEGOTIATED_REJECT', 'WAIT_48H_INTERCEPT')
    .map((plan): OrderEventInput => ({ type: 'merchant.planSubmitted', by: MERCHANT, plan })),
  fc.constant({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE }),
  fc.constant({ type: 'customer.settlementConfirmed', by: CUSTOMER }),
  fc.constant({ type: 'customer.settlementObjected', by: CUSTOMER }),
  fc.constant({ type: 'customer.disputeWithdrawn', by: CUSTOMER }),
  fc.constantFrom('MERCHANT_LIABLE', 'MERCHANT_NOT_LIABLE').map((ruling): OrderEventInput => ({ type: 'platform.ruled', by: PLATFORM, ruling })),
  fc.constant({ type: 'order.shipped', by: SYSTEM }),
  fc.constant({ type: 'order.completed', by: SYSTEM }),
  fc
    .tuple(
      fc.constantFrom(
        ['merchant.cancellationApproved', MERCHANT],
        ['merchant.cancellationRejected', MERCHANT],
        ['merchant.refundForced', MERCHANT],
        ['merchant.closedWithoutRefund', MERCHANT],
        ['customer.cancellationWithdrawn', CUSTOMER],
        ['logistics.interceptSucceeded', LOGISTICS],
        ['logistics.interceptFailed', LOGISTICS],
      ),
      fc.constantFrom(...IDS),
    )
    .map(([[type, by], cancellationId]): OrderEventInput => ({ type, by, cancellationId })),
  fc
    .constantFrom(...IDS)
    .map((cancellationId): OrderEventInput => ({ type: 'payment.refundSucceeded', by: PAYMENTS, cancellationId, paymentRef: 'pay-1' })),
  fc
    .constantFrom(...IDS)
    .map((cancellationId): OrderEventInput => ({ type: 'payment.refundFailed', by: PAYMENTS, cancellationId, error: 'declined' })),
  fc.constantFrom(...IDS).map(
    (cancellationId): OrderEventInput => ({
      type: 'platform.refundOutcomeRecorded',
      by: PLATFORM,
      cancellationId,
      outcome: 'failed',
      error: 'none',
    }),
  ),
  fc.constantFrom(1, 24, 48, 73).map((hours) => ({ advance: hours * HOUR })),
);

describe('INV6: no stranded workflow', () => {
  it('INV6: after every accepted command and every fired deadline, each open dispute and cancel order can still move', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('JD', 'MERCHANT'),
        fc.boolean(),
        fc.constantFrom('fail', 'adopt'),
        fc.array(command, { maxLength: 30 }),
        (deliveredBy, shipped, conflictPolicy, commands) => {
          const w = world({ deliveredBy: deliveredBy as 'JD' | 'MERCHANT', shipped, conflictPolicy: conflictPolicy as 'fail' | 'adopt' });
          for (const next of commands) {
            if ('advance' in next) w.advance(next.advance as number);
            else {
              try {
                w.send(next);
              } catch {
                // refused: INV4 keeps it from changing anything
              }
            }
            expect(strandedParts(w.workflow.getSnapshot(), pendingOf(w))).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('INV6/A1–A4: with appeals on, the appeal window, the appeal and the compensation always have a way out', () => {
    const KEY = 'order-1/dispute-1/compensation';
    const appealCommand = fc.oneof(
      command,
      fc.constant({
        type: 'merchant.rulingAppealed',
        by: MERCHANT,
        evidence: {
          reason: 'GOODS_ALREADY_DELIVERED',
          proofs: [{ kind: 'SIGNED_DELIVERY', fileId: 'signed-1.jpg', sizeBytes: 90_000 }],
          explanation: 'The customer signed for the parcel the day before.',
        },
      }),
      fc.constant({
        type: 'customer.rulingAppealed',
        by: CUSTOMER,
        evidence: {
          reason: 'MERCHANT_AGREED_TO_CANCEL',
          proofs: [{ kind: 'CHAT_RECORD', fileId: 'chat-7.png', sizeBytes: 40_000 }],
          explanation: 'The shop agreed in chat to cancel the order.',
        },
      }),
      fc.constantFrom('platform.appealUpheld', 'platform.appealOverturned').map((type) => ({ type, by: PLATFORM })),
      fc.constant({ type: 'payment.compensationSucceeded', by: PAYMENTS, disputeId: 'dispute-1', idempotencyKey: KEY, paymentRef: 'comp-1' }),
      fc.constant({ type: 'payment.compensationFailed', by: PAYMENTS, disputeId: 'dispute-1', idempotencyKey: KEY, error: 'declined' }),
      fc.constant({ advance: 7 * 24 * HOUR }),
    );
    // The in-memory host has no outbox: a compensation requested and not answered yet is the pending effect.
    const pendingWithCompensation = (w: World) => {
      const answered = new Set(
        w.workflow.audit
          .filter((row) => row.eventType.startsWith('payment.compensation'))
          .map((row) => (row.event as { disputeId: string }).disputeId),
      );
      const requested = w.workflow.effects.flatMap((effect) => (effect.type === 'effect.compensationRequested' ? [effect.disputeId] : []));
      return { ...pendingOf(w), effects: requested.filter((id) => !answered.has(id)) };
    };
    fc.assert(
      fc.property(
        fc.constantFrom('MERCHANT_LIABLE', 'MERCHANT_NOT_LIABLE', null),
        fc.array(appealCommand, { maxLength: 30 }),
        (ruling, commands) => {
          const w = world({ policy: { appeals: 'on' } });
          // Most runs start ruled, so that the appeal states are reached often.
          const ruled = ruling
            ? [
                { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' },
                { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'PLATFORM_RULING', evidence: VALID_EVIDENCE },
                { type: 'platform.ruled', by: PLATFORM, ruling },
              ]
            : [];
          for (const next of [...ruled, ...commands]) {
            if ('advance' in next) w.advance(next.advance as number);
            else {
              try {
                w.send(next as never);
              } catch {
                // refused: INV4 keeps it from changing anything
              }
            }
            expect(strandedParts(w.workflow.getSnapshot(), pendingWithCompensation(w))).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('INV6: the check finds a refund nothing will move (no deadline, no effect, no party may act): it can fail', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'DIRECT_REFUND');
    expect(strandedParts(w.workflow.getSnapshot(), pendingOf(w))).toEqual([]);
    expect(strandedParts(w.workflow.getSnapshot(), { deadlines: ['dispute'], effects: [] })).toEqual([
      { actor: 'cancellation', id: DIRECT_REFUND_ID, status: 'refunding' },
    ]);
    expect(strandedParts(w.workflow.getSnapshot(), { deadlines: ['dispute'], effects: [DIRECT_REFUND_ID] })).toEqual([]);
  });
});
