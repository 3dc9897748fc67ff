/** The three traversals the path tests and the coverage report share. */
import type { AnyStateMachine } from 'xstate';
import { cancellationMachine } from '../../machines/cancellation.js';
import { disputeMachine } from '../../machines/dispute.js';
import { orderMachine } from '../../machines/order.js';
import type { GenerateOptions, KeySource } from '../../src/coverage/index.js';
import {
  cancellationEvents,
  cancellationInputs,
  disputeEvents,
  disputeInputs,
  ORDER_INTERNAL_EVENTS,
  orderEvents,
  orderInputs,
} from './fixtures.js';

export interface PathModel {
  machine: AnyStateMachine;
  options: GenerateOptions;
}

type Persisted = { value: unknown; context: any; status?: string };

/** Guards of the dispute read only the event: its state value is the whole key. */
const disputeKey = (state: KeySource) => ({ value: state.value });

const topState = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]);

/**
 * Guards of a cancel order read the order facts and the refund attempts (its start is fixed per input).
 * A fact is in the key only where a guard can still read it: `shipped` until the merchant reviews
 * (pendingReview), `completed` until the 48H window ends (pendingReview, logisticsFollowUp), the
 * attempts while refunding. The replay catches a key that merges states with different futures.
 */
const cancellationKey = (state: KeySource) => {
  const { facts, refundAttempts } = state.context;
  switch (topState(state.value)) {
    case 'pendingReview':
      return { value: state.value, shipped: facts.shipped, completed: facts.completed };
    case 'logisticsFollowUp':
      return { value: state.value, completed: facts.completed };
    case 'refunding':
      return { value: state.value, refundAttempts };
    default:
      return { value: state.value };
  }
};

/**
 * The order system: what the order's guards read (facts, open dispute, active cancel order, refund,
 * ids in use, and the children's snapshots through `can`), the P2 follow-ups, and the key of every
 * child (final ones stay in `children`, so ids in use are visible). Times, audit fields, refs and the
 * order's mirrors of child statuses are left out (the harness checks the mirrors).
 */
const orderKey = (state: KeySource) => {
  const ctx = state.context;
  const children = Object.fromEntries(
    Object.entries((state.children ?? {}) as Record<string, { snapshot?: Persisted; src?: string }>).map(([id, child]) => {
      const snapshot = child.snapshot as KeySource;
      return [id, child.src === 'cancellation' ? cancellationKey(snapshot) : disputeKey(snapshot)];
    }),
  );
  return {
    value: state.value,
    shipped: ctx.facts.shipped,
    completed: ctx.facts.completed,
    openDisputeId: ctx.openDisputeId,
    activeCancellationId: ctx.activeCancellationId,
    refundedBy: ctx.refundedBy,
    followUps: ctx.followUps.map((followUp: { cancellationId: string }) => followUp.cancellationId),
    children,
  };
};

export const MODELS = {
  dispute: {
    machine: disputeMachine,
    options: { inputs: disputeInputs, events: disputeEvents, key: disputeKey },
  },
  cancellation: {
    machine: cancellationMachine,
    options: { inputs: cancellationInputs, events: cancellationEvents, key: cancellationKey },
  },
  order: {
    machine: orderMachine,
    options: {
      system: true,
      inputs: orderInputs,
      events: orderEvents,
      ignoreEvents: ORDER_INTERNAL_EVENTS,
      key: orderKey,
      timeResolution: 3_600_000,
      criteria: ['transitions', 'pairs'],
    },
  },
} satisfies Record<string, PathModel>;

export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];
