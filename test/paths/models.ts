/** The three traversals the path tests and the coverage report share. */
import { matchesState, type AnyStateMachine, type StateValue } from 'xstate';
import { cancellationMachine } from '../../machines/cancellation.js';
import { disputeMachine } from '../../machines/dispute.js';
import { openDisputesOf, orderMachine, refundedBy, usedIds, type OrderContext, type OrderSnapshot } from '../../machines/order.js';
import { checkEvent, parseEvent } from '../../src/commands.js';
import { variantsOf, type EventVariant, type GenerateOptions, type InputVariant, type KeySource } from '../../src/coverage/index.js';
import { WorkflowError } from '../../src/errors.js';
import type { PolicySettings } from '../../src/schemas/policy.js';
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

/**
 * Guards of the dispute read the event, and under appeal the ruling appealed against (A3 or A4): its
 * state value is the whole key, with the ruling while under appeal.
 */
const disputeKey = (state: KeySource) =>
  state.value === 'underAppeal' ? { value: state.value, ruling: (state.context as { ruling: unknown }).ruling } : { value: state.value };

/**
 * The paths predict a dispute's outcome, not which plan led there: the key merges the plans (no guard
 * reads them), so the plan is left out of the predicted output; the oracles check it (D2).
 */
const disputeOutput = (output: unknown) => {
  const { plan: _plan, appeal, compensation, ...rest } = output as Record<string, any>;
  // A1–A4: the paths predict the decision and the compensation's outcome; the oracles check the records.
  return { ...rest, ...(appeal ? { appeal: appeal.decision } : {}), ...(compensation ? { compensation: compensation.status } : {}) };
};

const topState = (value: unknown) => (typeof value === 'string' ? value : Object.keys(value as object)[0]);

/**
 * Guards of a cancel order read the order facts and the refund attempts (its start is fixed per input).
 * A fact is in the key only where a guard can still read it: `shipped` until the merchant reviews
 * (pendingReview), `completed` until the 48H window ends (pendingReview, logisticsFollowUp), the
 * attempts while a refund is under way (refunding, refundOutcomeUnknown). The replay catches a key that
 * merges states with different futures.
 */
const cancellationKey = (state: KeySource) => {
  const { facts, refundAttempts } = state.context;
  switch (topState(state.value)) {
    case 'pendingReview':
      return { value: state.value, shipped: facts.shipped, completed: facts.completed };
    case 'logisticsFollowUp':
      return { value: state.value, completed: facts.completed };
    case 'refunding':
    case 'refundOutcomeUnknown':
      return { value: state.value, refundAttempts };
    default:
      return { value: state.value };
  }
};

/**
 * The paths predict how a cancel order ends (status, refunded, payment reference); the key merges an
 * adopted cancel order with its customer's own (X1) and the refund triggers (INV2), which no guard
 * reads, so the reason and the trigger are left out of the predicted output: the oracles check both.
 */
const cancellationOutput = (output: unknown) => {
  const { reason: _reason, refundTrigger: _trigger, ...rest } = output as Record<string, unknown>;
  return rest;
};

/** A cancel order in these states ends refunded, whatever happens: the region never goes back to idle. */
const REFUND_BOUND = new Set(['refunding', 'refundOutcomeUnknown', 'refundFailed']);

/**
 * Ids a host names (a dispute's, a customer cancel order's; one namespace) that are used: the order
 * refuses them. A used cancel-order id matters only while the cancellation region can still go back to
 * idle; ids the order makes (with a ':') never meet a host's.
 */
const clientIdsInUse = (state: KeySource) => {
  const context = state.context as OrderContext;
  const region = (state.value as { cancellation: string }).cancellation;
  const child = (state.children as Record<string, { snapshot: KeySource }> | undefined)?.cancellation?.snapshot;
  const canGoIdle = region !== 'refunded' && !(child !== undefined && REFUND_BOUND.has(topState(child.value)!));
  const ids = [
    ...context.closedDisputes.map((dispute) => dispute.disputeId),
    ...openDisputesOf(context).map((dispute) => dispute.disputeId),
    ...(canGoIdle ? usedIds(context) : []),
  ];
  return [...new Set(ids)].filter((id) => !id.includes(':')).sort();
};

/**
 * The order system: what the order's guards read (facts, the cancel order in flight, which client ids
 * are used; conflictPolicy and deliveredBy are fixed per input, the regions' values say whether a
 * dispute is open and whether the order is refunded) and each child's own key. Times, audit fields,
 * history entries and plan ids are left out: no guard reads them, and the oracles check the history.
 */
const orderKey = (state: KeySource) => {
  const ctx = state.context as OrderContext;
  const children: Record<string, unknown> = {};
  for (const [id, child] of Object.entries((state.children ?? {}) as Record<string, { snapshot: KeySource; src?: string }>)) {
    children[id] = child.src === 'cancellation' ? cancellationKey(child.snapshot) : disputeKey(child.snapshot);
  }
  return {
    value: state.value,
    shipped: ctx.facts.shipped,
    completed: ctx.facts.completed,
    cancellation: ctx.cancellation?.cancellationId ?? null,
    used: clientIdsInUse(state),
    // A4: with appeals on, an overturn is forwarded with the cancel order that refunded the customer (and
    // the order stays open through the appeal window), so that cancel order is part of the vertex.
    ...(ctx.policy?.appeals === 'on' ? { refundedBy: refundedBy(ctx)?.cancellationId ?? null } : {}),
    children,
  };
};

/**
 * The order's output names the refund and the disputes; the key keeps which cancel order is in flight
 * and which ids are used, not the reason an adopted cancel order ended with nor how each dispute
 * closed: the paths predict whether and by which cancel order the order was refunded and which
 * disputes it had, the oracles check the rest against the children's outputs.
 */
const orderOutput = (output: unknown) => {
  const { refundReason: _reason, disputes, ...rest } = output as { refundReason: unknown; disputes: Array<{ disputeId: string }> };
  return { ...rest, disputes: disputes.map((dispute) => dispute.disputeId) };
};

const ORDER_VARIANTS = variantsOf(orderEvents);
const CHILD_MACHINES = orderMachine.implementations.actors as unknown as Record<string, AnyStateMachine>;

/** The boundary's refusals are typed; anything else is a bug and is thrown. */
const expectRefusal = (error: unknown): void => {
  if (!(error instanceof WorkflowError)) throw error;
};

/** The variants the boundary parses (the evidence plan without evidence does not), parsed once. */
const PARSED_ORDER_VARIANTS = ORDER_VARIANTS.flatMap((variant) => {
  try {
    return [{ variant, event: parseEvent(variant.event) }];
  } catch (error) {
    expectRefusal(error);
    return [];
  }
});

/** The variants `checkEvent` lets through to this order snapshot, stamped at `now`. */
function passingBoundary(snapshot: OrderSnapshot, now: number): Array<{ variant: EventVariant; event: EventVariant['event'] }> {
  // Most variants are refused: a refusal's stack trace is most of its cost, and nobody reads it here.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return PARSED_ORDER_VARIANTS.flatMap(({ variant, event }) => {
      const stamped = { ...event, at: now };
      try {
        checkEvent(snapshot, stamped);
        return [{ variant, event: stamped }];
      } catch (error) {
        expectRefusal(error);
        return [];
      }
    });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** What a host can send a live order now: what passes the boundary and the order machine takes. */
export function acceptedAtBoundaryNow(snapshot: OrderSnapshot, now: number): EventVariant[] {
  return passingBoundary(snapshot, now)
    .filter(({ event }) => snapshot.can(event as never))
    .map(({ variant }) => variant);
}

/**
 * The order snapshot `checkEvent` reads, from a persisted system: each child resolved from its value and
 * context. The order's own `can` is left to the traversal, which offers only what the root accepts.
 */
function boundaryView(state: KeySource): OrderSnapshot {
  const children: Record<string, { getSnapshot: () => unknown }> = {};
  for (const [id, child] of Object.entries((state.children ?? {}) as Record<string, { snapshot: KeySource; src: string }>)) {
    const snapshot = CHILD_MACHINES[child.src]!.resolveState({ value: child.snapshot.value, context: child.snapshot.context } as never);
    children[id] = { getSnapshot: () => snapshot };
  }
  // `matches` as the live snapshot answers it (the boundary reads it: A3/A4 where the customer's refund stands).
  const matches = (value: StateValue) => matchesState(value, state.value as StateValue);
  return { value: state.value, context: state.context, status: state.status, children, can: () => true, matches } as unknown as OrderSnapshot;
}

/**
 * Hosts reach the order only through the boundary (`parseEvent`, `checkEvent`), which hands a dispute
 * event to the open dispute and a cancel-order command to the cancel order in flight only when that
 * child would take it, and refuses a refund plan that X1/INV1 forbid. The order machine forwards such
 * events anyway and the child ignores them: offering them would add thousands of steps that change
 * nothing (two thirds of the edges), so the order's paths offer what passes the boundary (and, as
 * always, what the root accepts). The replay checks that set on the live order after every step
 * (test/paths/harness.ts). Called twice per vertex, so the answer is kept per persisted context.
 */
const boundaryCache = new WeakMap<object, EventVariant[]>();
const orderEventsAtBoundary = (state: KeySource): EventVariant[] => {
  let variants = boundaryCache.get(state.context);
  if (!variants) {
    variants = passingBoundary(boundaryView(state), (state.context as OrderContext).now).map(({ variant }) => variant);
    boundaryCache.set(state.context, variants);
  }
  return variants;
};

/** Every event variant of a model, in a stable order (golden files refer to them by label). */
export const VARIANTS = {
  dispute: variantsOf(disputeEvents),
  cancellation: variantsOf(cancellationEvents),
  order: ORDER_VARIANTS,
};

export const MODELS = {
  dispute: {
    machine: disputeMachine,
    options: { inputs: disputeInputs, events: disputeEvents, key: disputeKey, projectOutput: disputeOutput },
  },
  cancellation: {
    machine: cancellationMachine,
    options: { inputs: cancellationInputs, events: cancellationEvents, key: cancellationKey, projectOutput: cancellationOutput },
  },
  order: {
    machine: orderMachine,
    options: {
      system: true,
      inputs: orderInputs,
      events: orderEventsAtBoundary,
      ignoreEvents: ORDER_INTERNAL_EVENTS,
      key: orderKey,
      projectOutput: orderOutput,
      timeResolution: 3_600_000,
      criteria: ['transitions', 'pairs'],
    },
  },
} satisfies Record<string, PathModel>;

export type ModelName = keyof typeof MODELS;
export const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

const withPolicy = new Map<string, PathModel>();

/**
 * A model under a policy (test/paths/policy-variants.ts): the same machine and options, each input variant
 * with `policy` set (the order's input; a standalone dispute's or cancel order's own input). Same labels,
 * so golden files name inputs the same way under every policy.
 */
export function modelFor(name: ModelName, policy: Partial<PolicySettings>): PathModel {
  if (Object.keys(policy).length === 0) return MODELS[name];
  const key = `${name} ${JSON.stringify(policy)}`;
  let model = withPolicy.get(key);
  if (!model) {
    const { machine, options } = MODELS[name];
    const inputs = (options.inputs as InputVariant[]).map(({ label, input }) => {
      const own = (input as { policy?: Partial<PolicySettings> }).policy;
      return { label, input: { ...(input as object), policy: { ...own, ...policy } } };
    });
    model = { machine, options: { ...options, inputs } as GenerateOptions };
    withPolicy.set(key, model);
  }
  return model;
}
