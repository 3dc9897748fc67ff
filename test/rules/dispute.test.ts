import { describe, expect, it } from 'vitest';
import { NotAllowedInStateError } from '../../src/errors.js';
import { CUSTOMER, HOUR, MERCHANT, PLATFORM, VALID_EVIDENCE, openDispute, submitPlan, world } from '../support/world.js';

describe('dispute lifecycle', () => {
  it('D1: an opened dispute waits for the merchant choice', () => {
    const w = world();
    openDispute(w);
    expect(w.disputeState()).toBe('awaitingMerchantChoice');
    expect(w.openDisputeId()).toBe('dispute-1');
  });

  it('D1: at most one open dispute per order', () => {
    const w = world();
    openDispute(w);
    expect(() => w.send({ type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-2' })).toThrow(NotAllowedInStateError);
    expect(w.workflow.disputes().map((dispute) => dispute.disputeId)).toEqual(['dispute-1']);
  });

  it('D1: a new dispute may be opened once the previous one is closed', () => {
    const w = world();
    openDispute(w);
    w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER });
    w.send({ type: 'dispute.opened', by: PLATFORM, disputeId: 'dispute-2' });
    expect(w.openDisputeId()).toBe('dispute-2');
  });

  it.each(['DIRECT_REFUND', 'NEGOTIATED_REJECT', 'WAIT_48H_INTERCEPT'] as const)(
    'D2/D3: the settlement plan %s moves the dispute to awaitingCustomerConfirmation',
    (plan) => {
      const w = world();
      openDispute(w);
      submitPlan(w, plan);
      expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
      expect(w.workflow.disputes().find((dispute) => dispute.disputeId === 'dispute-1')?.plan).toBe(plan);
      expect(w.workflow.effects.map((effect) => effect.type === 'effect.notificationRequested' && effect.kind)).toContain(
        'CUSTOMER_CONFIRMATION_REQUESTED',
      );
    },
  );

  it('D2: once a plan is accepted, any other plan submission is refused', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    const before = w.workflow.getSnapshot();
    expect(() => submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE })).toThrow(NotAllowedInStateError);
    expect(() => submitPlan(w, 'DIRECT_REFUND')).toThrow(NotAllowedInStateError);
    expect(w.workflow.getSnapshot()).toBe(before);
    expect(w.disputeState()).toBe('awaitingCustomerConfirmation');
  });

  it('D4: the evidence plan with complete evidence waits for the platform ruling', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
    expect(w.disputeState()).toBe('awaitingPlatformRuling');
    const dispute = w.disputeContext()!;
    expect(dispute.evidence?.reason).toBe('GOODS_ALREADY_SHIPPED');
    expect(dispute.escalatedBecause).toBe('EVIDENCE_PLAN');
  });

  it('D4: evidence without the proof its reason needs is refused with a typed error and changes nothing', () => {
    const w = world();
    openDispute(w);
    const before = w.workflow.getSnapshot();
    expect(() => submitPlan(w, 'PLATFORM_RULING', { evidence: { ...VALID_EVIDENCE, reason: 'CUSTOMER_AGREED_TO_KEEP' } })).toThrow(
      /needs a CHAT_RECORD proof/,
    );
    expect(w.workflow.getSnapshot()).toBe(before);
  });

  it('D5: the customer confirms a settlement: resolved as confirmed by the customer', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    expect(w.disputeState()).toBe('resolved');
    const output = w.closedDispute('dispute-1');
    expect(output).toMatchObject({ status: 'resolved', plan: 'NEGOTIATED_REJECT', resolution: 'CONFIRMED_BY_CUSTOMER' });
  });

  it('D5: the customer objects: escalated to the platform ruling', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.send({ type: 'customer.settlementObjected', by: CUSTOMER, note: 'I still want my money back' });
    expect(w.disputeState()).toBe('awaitingPlatformRuling');
  });

  it('D5: silence through the confirmation window confirms the settlement', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.advance(72 * HOUR);
    const output = w.closedDispute('dispute-1');
    expect(output).toMatchObject({ status: 'resolved', resolution: 'CONFIRMED_BY_TIMEOUT' });
  });

  it('D6: the ruling MERCHANT_NOT_LIABLE resolves the dispute and refunds nothing', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' });
    expect(w.disputeState()).toBe('resolved');
    expect(w.refundRequests()).toEqual([]);
    expect(w.cancelOrderIds()).toEqual([]);
  });

  it('D6: a ruling is final: a second ruling is refused', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_NOT_LIABLE' });
    expect(() => w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' })).toThrow(/final/);
  });

  it('D7: no plan within the merchant response window escalates to the platform', () => {
    const w = world();
    openDispute(w);
    w.advance(48 * HOUR);
    expect(w.disputeState()).toBe('awaitingPlatformRuling');
    const dispute = w.disputeContext()!;
    expect(dispute.escalatedBecause).toBe('MERCHANT_TIMEOUT');
  });

  it.each([
    ['awaitingMerchantChoice', (_w: ReturnType<typeof world>) => {}],
    ['awaitingCustomerConfirmation', (w: ReturnType<typeof world>) => submitPlan(w, 'NEGOTIATED_REJECT')],
    ['awaitingPlatformRuling', (w: ReturnType<typeof world>) => submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE })],
  ] as const)('D8: the customer may withdraw the dispute from %s', (_state, arrange) => {
    const w = world();
    openDispute(w);
    arrange(w);
    w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER });
    expect(w.disputeState()).toBe('withdrawn');
    expect(w.openDisputeId()).toBeNull();
  });

  it('D8: a resolved dispute cannot be withdrawn', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.send({ type: 'customer.settlementConfirmed', by: CUSTOMER });
    expect(() => w.send({ type: 'customer.disputeWithdrawn', by: CUSTOMER })).toThrow(/final/);
  });

  it('D9: every accepted event is audited with who, when, what and the resulting state', () => {
    const w = world();
    openDispute(w);
    w.advance(HOUR);
    submitPlan(w, 'NEGOTIATED_REJECT');
    w.advance(72 * HOUR);
    expect(
      w.workflow.audit.map(({ seq, at, role, actorId, eventType, resultingState }) => ({
        seq,
        at,
        by: `${role}:${actorId}`,
        eventType,
        // The open dispute's state while it runs; once it is done, the order's dispute region.
        dispute:
          (resultingState as Record<string, unknown>).dispute ??
          ((resultingState as { order: Record<string, unknown> }).order.dispute as string),
      })),
    ).toEqual([
      { seq: 1, at: 0, by: 'customer:customer-1', eventType: 'dispute.opened', dispute: 'awaitingMerchantChoice' },
      { seq: 2, at: HOUR, by: 'merchant:merchant-1', eventType: 'merchant.planSubmitted', dispute: 'awaitingCustomerConfirmation' },
      {
        seq: 3,
        at: 73 * HOUR,
        by: 'system:timer',
        eventType: 'xstate.after.customerConfirmationWindow.dispute.awaitingCustomerConfirmation',
        dispute: 'none',
      },
    ]);
    expect(w.closedDispute('dispute-1')).toMatchObject({ status: 'resolved', resolution: 'CONFIRMED_BY_TIMEOUT' });
  });

  it('D9: a refused event is not audited', () => {
    const w = world();
    openDispute(w);
    expect(() => w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' })).toThrow();
    expect(() => w.send({ type: 'merchant.planSubmitted', by: { ...MERCHANT, id: 'other' }, plan: 'DIRECT_REFUND' })).toThrow();
    expect(w.workflow.audit).toHaveLength(1);
  });

  it('P4: the platform-ruling plan runs as D4 then D6', () => {
    const w = world();
    openDispute(w);
    submitPlan(w, 'PLATFORM_RULING', { evidence: VALID_EVIDENCE });
    expect(w.disputeState()).toBe('awaitingPlatformRuling');
    w.send({ type: 'platform.ruled', by: PLATFORM, ruling: 'MERCHANT_LIABLE' });
    expect(w.disputeState()).toBe('resolved');
    expect(w.refundRequests()).toEqual([{ cancellationId: 'dispute-1:ruling-refund', attempt: 1 }]);
  });
});
