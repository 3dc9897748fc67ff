/**
 * INV5 across releases: the v2 → v3 step of ORDER_SNAPSHOT_MIGRATIONS (machines/migrations.ts) on
 * hand-written persisted snapshots, field by field. test/versioning runs it on the committed fixtures;
 * this file pins each rule of the step (what it fills, what it leaves alone, at every depth).
 */
import { describe, expect, it } from 'vitest';
import { ORDER_SNAPSHOT_MIGRATIONS } from '../../machines/migrations.js';
import { DEFAULT_POLICY } from '../../src/schemas/policy.js';
import { APPEAL_WINDOW_MS } from '../../src/schemas/timers.js';

type Context = { [field: string]: unknown; timers?: Record<string, number> };
type Persisted = {
  context?: Context;
  children?: Record<string, { snapshot?: Persisted } | undefined>;
};

const toV3 = (persisted: Persisted) => ORDER_SNAPSHOT_MIGRATIONS[2]!(persisted) as Persisted;

/** A v2 order with a dispute and a cancel order as children, none of the v3 fields present. */
const v2Order = (): Persisted => ({
  context: { orderId: 'o', timers: { merchantResponseWindow: 1 } },
  children: {
    dispute: { snapshot: { context: { disputeId: 'd', escalatedBecause: null, timers: { merchantResponseWindow: 1 } } } },
    cancellation: { snapshot: { context: { cancellationId: 'c', timers: { interceptWindow: 2 } } } },
  },
});

describe('snapshot migration v2 → v3', () => {
  it('INV5: the only step is from v2', () => {
    expect(Object.keys(ORDER_SNAPSHOT_MIGRATIONS)).toEqual(['2']);
    expect(Object.isFrozen(ORDER_SNAPSHOT_MIGRATIONS)).toBe(true);
  });

  it('INV5: an order stored before the policy input runs under the default policy, at every depth', () => {
    const migrated = toV3(v2Order());
    expect(migrated.context!.policy).toEqual(DEFAULT_POLICY);
    expect(migrated.context!.policy).not.toBe(DEFAULT_POLICY);
    expect(migrated.children!.dispute!.snapshot!.context!.policy).toEqual(DEFAULT_POLICY);
    expect(migrated.children!.cancellation!.snapshot!.context!.policy).toEqual(DEFAULT_POLICY);
  });

  it('INV5: a policy already stored is kept', () => {
    const stored = v2Order();
    stored.context!.policy = { ...DEFAULT_POLICY, appeals: 'on' };
    expect(toV3(stored).context!.policy).toEqual({ ...DEFAULT_POLICY, appeals: 'on' });
  });

  it('INV5 (A1): the children gain the appeal window in their resolved timers; the order keeps its overrides only', () => {
    const migrated = toV3(v2Order());
    expect(migrated.children!.dispute!.snapshot!.context!.timers).toEqual({ merchantResponseWindow: 1, appealWindow: APPEAL_WINDOW_MS });
    expect(migrated.children!.cancellation!.snapshot!.context!.timers).toEqual({ interceptWindow: 2, appealWindow: APPEAL_WINDOW_MS });
    expect(migrated.context!.timers).toEqual({ merchantResponseWindow: 1 });
  });

  it('INV5 (A1): an appeal window already stored, or a child without timers, is left alone', () => {
    const stored = v2Order();
    stored.children!.dispute!.snapshot!.context!.timers!.appealWindow = 5;
    delete stored.children!.cancellation!.snapshot!.context!.timers;
    const migrated = toV3(stored);
    expect(migrated.children!.dispute!.snapshot!.context!.timers!.appealWindow).toBe(5);
    expect(migrated.children!.cancellation!.snapshot!.context!).not.toHaveProperty('timers');
  });

  it('INV5 (A1–A4): a dispute gains no appeal and no compensation; a stored one is kept; a cancel order gains neither', () => {
    const migrated = toV3(v2Order());
    expect(migrated.children!.dispute!.snapshot!.context!).toMatchObject({ appeal: null, compensation: null });
    expect(migrated.children!.cancellation!.snapshot!.context!).not.toHaveProperty('appeal');
    expect(migrated.children!.cancellation!.snapshot!.context!).not.toHaveProperty('compensation');

    const stored = v2Order();
    Object.assign(stored.children!.dispute!.snapshot!.context!, { appeal: { by: 'x' }, compensation: { status: 'requested' } });
    expect(toV3(stored).children!.dispute!.snapshot!.context!).toMatchObject({ appeal: { by: 'x' }, compensation: { status: 'requested' } });
  });

  it('INV5 (D6 ownCancelOrder): the order remembers no pending ruling refund; a stored one is kept; children gain none', () => {
    const migrated = toV3(v2Order());
    expect(migrated.context!.pendingRulingRefund).toBeNull();
    expect(migrated.children!.dispute!.snapshot!.context!).not.toHaveProperty('pendingRulingRefund');

    const stored = v2Order();
    stored.context!.pendingRulingRefund = { disputeId: 'd' };
    expect(toV3(stored).context!.pendingRulingRefund).toEqual({ disputeId: 'd' });
  });

  it('INV5: the step changes the stored snapshot in place; children without a snapshot and grandchildren are handled', () => {
    const stored: Persisted = {
      context: { orderId: 'o' },
      children: {
        gone: undefined,
        empty: {},
        dispute: { snapshot: { context: { disputeId: 'd' }, children: { inner: { snapshot: { context: { cancellationId: 'c' } } } } } },
      },
    };
    const migrated = toV3(stored);
    expect(migrated).toBe(stored);
    expect(migrated.children!.dispute!.snapshot!.children!.inner!.snapshot!.context!.policy).toEqual(DEFAULT_POLICY);
    expect(migrated.children!.empty).toEqual({});
  });

  it('INV5: a snapshot without a context is returned as it is', () => {
    const stored: Persisted = { children: { dispute: { snapshot: { context: { disputeId: 'd' } } } } };
    const migrated = toV3(stored);
    expect(migrated).not.toHaveProperty('context');
    expect(migrated.children!.dispute!.snapshot!.context!.policy).toEqual(DEFAULT_POLICY);
    expect(toV3({})).toEqual({});
  });
});
