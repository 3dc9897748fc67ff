import { DEFAULT_POLICY } from '../src/schemas/policy.js';
import { APPEAL_WINDOW_MS } from '../src/schemas/timers.js';

/** A persisted actor snapshot as XState writes it: context, and the snapshots of its children. */
interface PersistedActor {
  context?: Record<string, unknown>;
  children?: Record<string, { snapshot?: PersistedActor } | undefined>;
}

/** Applies `change` to the context of the order and of every child, at any depth. */
function eachContext(persisted: PersistedActor, change: (context: Record<string, unknown>) => void): void {
  if (persisted.context) change(persisted.context);
  for (const child of Object.values(persisted.children ?? {})) {
    if (child?.snapshot) eachContext(child.snapshot, change);
  }
}

/**
 * How the order system's persisted snapshots move from one version to the next (`[n]` takes n to n + 1;
 * docs/versioning.md). Each step is pure data work on the JSON, tested against committed fixtures.
 */
export const ORDER_SNAPSHOT_MIGRATIONS: Readonly<Record<number, (persisted: unknown) => unknown>> = Object.freeze({
  /** v2 → v3: the `policy` input arrived; workflows stored before it run under the defaults (today's rules). */
  2: (persisted: unknown) => {
    eachContext(persisted as PersistedActor, (context) => {
      if (context.policy === undefined) context.policy = { ...DEFAULT_POLICY };
      // A1: the appeal window joined the resolved timers of the children (the order keeps overrides only).
      const timers = context.timers as Record<string, unknown> | undefined;
      const isChild = 'disputeId' in context || 'cancellationId' in context;
      if (isChild && timers && timers.appealWindow === undefined) {
        timers.appealWindow = APPEAL_WINDOW_MS;
      }
      // A1–A4: a dispute keeps its appeal and the merchant's compensation (none before appeals existed).
      if ('escalatedBecause' in context) {
        if (context.appeal === undefined) context.appeal = null;
        if (context.compensation === undefined) context.compensation = null;
      }
    });
    // D6 ownCancelOrder: the order remembers a ruling waiting for its own cancel order (none before v3)
    const order = (persisted as PersistedActor).context;
    if (order && order.pendingRulingRefund === undefined) order.pendingRulingRefund = null;
    return persisted;
  },
});
