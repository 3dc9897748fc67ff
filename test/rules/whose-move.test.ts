/**
 * Whose move it is (INV6, C5): a state's tags name the parties that may act in it; partiesToMove keeps
 * only the tags that hold under the policy the state names in `meta.tagsUnder`.
 */
import { createActor, createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { partiesToMove } from '../../machines/policy.js';
import { cancellationChild, disputeChild } from '../../src/queries.js';
import { resolvePolicy, type PolicySettings } from '../../src/schemas/policy.js';
import { CUSTOMER, MERCHANT, openDispute, world } from '../support/world.js';

const pendingReview = (policy: Partial<PolicySettings>) => {
  const w = world({ policy });
  w.send({ type: 'cancellation.submitted', by: CUSTOMER, cancellationId: 'c' });
  return { w, live: cancellationChild(w.workflow.getSnapshot())! };
};

describe('whose move it is under the policy', () => {
  it("C5 never: pendingReview is the merchant's move only; its static customer tag does not count", () => {
    const { w, live } = pendingReview({ cancelOrderWithdrawal: 'never' });
    expect(live.value).toBe('pendingReview');
    expect([...live.tags].sort()).toEqual(['customer', 'merchant']);
    expect(partiesToMove(live)).toEqual(['merchant']);
    expect(w.workflow.allowedActions('customer').filter((action) => 'cancellationId' in action)).toEqual([]);
  });

  it('C5 whilePendingReview: pendingReview is the move of the merchant and of the customer (who may withdraw)', () => {
    const { w, live } = pendingReview({ cancelOrderWithdrawal: 'whilePendingReview' });
    expect(partiesToMove(live)).toEqual(['merchant', 'customer']);
    expect(w.workflow.allowedActions('customer')).toContainEqual({ type: 'customer.cancellationWithdrawn', cancellationId: 'c' });
  });

  it('C5 never: a state whose tags name no policy keeps them all (P3 logisticsFollowUp: merchant and system)', () => {
    const w = world({ policy: { cancelOrderWithdrawal: 'never' } });
    openDispute(w);
    w.send({ type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    const live = cancellationChild(w.workflow.getSnapshot())!;
    expect(live.value).toBe('logisticsFollowUp');
    expect(partiesToMove(live)).toEqual(['merchant', 'system']);
  });

  it("INV6: a dispute's tags are whose move it is under every policy (D1/D2: the merchant chooses)", () => {
    const w = world({ policy: { cancelOrderWithdrawal: 'never', disputeWithdrawal: 'never' } });
    openDispute(w);
    expect(partiesToMove(disputeChild(w.workflow.getSnapshot())!)).toEqual(['merchant']);
  });

  it('INV6: a state with other meta and no tagsUnder keeps its tags', () => {
    const machine = createMachine({
      context: { policy: resolvePolicy({ cancelOrderWithdrawal: 'never' }) },
      initial: 'waiting',
      states: { waiting: { tags: ['merchant', 'customer'], meta: { note: 'no policy named' } } },
    });
    expect(partiesToMove(createActor(machine).start().getSnapshot())).toEqual(['merchant', 'customer']);
  });
});
