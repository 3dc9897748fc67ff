import fc from 'fast-check';
import { FINAL_CANCELLATION_STATUSES } from '../../src/schemas/common.js';
import { usedIds, type OrderSnapshot } from '../../machines/order.js';
import { allowedActions, type AllowedAction } from '../../src/allowed-actions.js';
import { isWorkflowError } from '../../src/errors.js';
import { POLICY_VALUES, type PolicyName, type PolicySettings } from '../../src/schemas/policy.js';
import { cancelOrderViews, describeValue, disputeViews } from '../../src/queries.js';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { CUSTOMER_APPEAL_EVIDENCE, HOUR, MERCHANT_APPEAL_EVIDENCE, VALID_EVIDENCE, world, type World } from '../support/world.js';

/**
 * A world the property tests drive: an in-memory workflow, or the durable runtime with restarts.
 * A synchronous world (the in-memory host) is checked with `sendChecked`; an asynchronous one (the
 * durable runtime) returns promises from `send`/`advanceTo`, reloads its view in `refresh`, and is
 * checked with `sendCheckedAsync`. Between refreshes the reads are a cached view.
 */
export interface Driven {
  snapshot(): OrderSnapshot;
  effects(): WorkflowEffect[];
  /** Accepted events with their type, sender role, target (and a recorded refund outcome), in order. */
  accepted(): AcceptedEvent[];
  now(): number;
  /** Applies one event; throws a WorkflowError when refused (an asynchronous world returns a promise). */
  send(event: Record<string, unknown>): unknown;
  advanceTo(time: number): unknown;
  /** Reloads the cached view (asynchronous worlds only). */
  refresh?(): Promise<void>;
}

export interface AcceptedEvent {
  type: string;
  role: string;
  cancellationId?: string;
  /** INV6: what the platform recorded for a refund whose answer never came. */
  outcome?: string;
}

/** The accepted-event summary of an audit row. */
export const acceptedEvent = (row: { eventType: string; role: string; event: unknown }): AcceptedEvent => {
  const { cancellationId, outcome } = row.event as { cancellationId?: string; outcome?: string };
  return {
    type: row.eventType,
    role: row.role,
    ...(cancellationId === undefined ? {} : { cancellationId }),
    ...(outcome === undefined ? {} : { outcome }),
  };
};

export const MERCHANT_ID = 'merchant-1';
export const CUSTOMER_ID = 'customer-1';

const senders = {
  customer: fc.constantFrom({ role: 'customer', id: CUSTOMER_ID }, { role: 'customer', id: 'customer-2' }),
  merchant: fc.constantFrom({ role: 'merchant', id: MERCHANT_ID }, { role: 'merchant', id: 'merchant-2' }),
  platform: fc.constant({ role: 'platform', id: 'cs-1' }),
  system: fc.constant({ role: 'system', id: 'callbacks' }),
};
const anySender = fc.oneof(senders.customer, senders.merchant, senders.platform, senders.system);
/** Usually the right sender, sometimes anyone (wrong role or party). */
const senderFor = (role: keyof typeof senders) => fc.oneof({ weight: 5, arbitrary: senders[role] }, { weight: 1, arbitrary: anySender });

const cancellationIds = fc.constantFrom(
  'cancel-1',
  'cancel-2',
  'dispute-1:direct-refund',
  'dispute-1:intercept-48h',
  'dispute-1:ruling-refund',
  'dispute-2:direct-refund',
  'dispute-2:intercept-48h',
  'ghost',
);
/** D1 several: events for a dispute may name it (or not). */
const disputeIds = fc.constantFrom({}, { disputeId: 'dispute-1' }, { disputeId: 'dispute-2' });
/** A1: the merchant's appeal evidence with one proof file (a file given before is not new evidence). */
const merchantAppealEvidence = (fileId: string) => ({
  ...MERCHANT_APPEAL_EVIDENCE,
  proofs: [{ ...MERCHANT_APPEAL_EVIDENCE.proofs[0], fileId }],
});

/** Any policy: every [I] setting at any of its values, so settings are checked together, not one at a time. */
export const policyArbitrary: fc.Arbitrary<PolicySettings> = fc.record(
  Object.fromEntries(
    (Object.keys(POLICY_VALUES) as PolicyName[]).map((name) => [name, fc.constantFrom(...Object.keys(POLICY_VALUES[name]))]),
  ) as { [Name in PolicyName]: fc.Arbitrary<PolicySettings[Name]> },
);

const plans = fc.constantFrom('DIRECT_REFUND', 'NEGOTIATED_REJECT', 'WAIT_48H_INTERCEPT', 'PLATFORM_RULING');
const evidence = fc.constantFrom(VALID_EVIDENCE, { ...VALID_EVIDENCE, reason: 'CUSTOMER_AGREED_TO_KEEP' }, undefined);

/** Every event kind from every role, valid and invalid. */
export const eventArbitrary: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant('dispute.opened'), by: senderFor('customer'), disputeId: fc.constantFrom('dispute-1', 'dispute-2') }),
  fc.record({ type: fc.constant('cancellation.submitted'), by: senderFor('customer'), cancellationId: fc.constantFrom('cancel-1', 'cancel-2') }),
  fc.record({ type: fc.constant('order.shipped'), by: senderFor('system') }),
  fc.record({ type: fc.constant('order.completed'), by: senderFor('system') }),
  fc
    .record({ type: fc.constant('merchant.planSubmitted'), by: senderFor('merchant'), plan: plans, evidence })
    .map(({ evidence: proof, ...event }) => (proof ? { ...event, evidence: proof } : event)),
  fc.record({ type: fc.constant('customer.settlementConfirmed'), by: senderFor('customer') }),
  fc.record({ type: fc.constant('customer.settlementObjected'), by: senderFor('customer') }),
  fc.record({
    type: fc.constant('platform.ruled'),
    by: senderFor('platform'),
    ruling: fc.constantFrom('MERCHANT_LIABLE', 'MERCHANT_NOT_LIABLE'),
  }),
  fc.record({ type: fc.constant('customer.disputeWithdrawn'), by: senderFor('customer') }),
  ...(['merchant.cancellationApproved', 'merchant.cancellationRejected', 'merchant.refundForced', 'merchant.closedWithoutRefund'] as const).map(
    (type) => fc.record({ type: fc.constant(type), by: senderFor('merchant'), cancellationId: cancellationIds }),
  ),
  fc.record({ type: fc.constant('customer.cancellationWithdrawn'), by: senderFor('customer'), cancellationId: cancellationIds }),
  fc.record({
    type: fc.constantFrom('logistics.interceptSucceeded', 'logistics.interceptFailed'),
    by: senderFor('system'),
    cancellationId: cancellationIds,
  }),
  fc.record({
    type: fc.constant('payment.refundSucceeded'),
    by: senderFor('system'),
    cancellationId: cancellationIds,
    paymentRef: fc.constant('pay-1'),
  }),
  fc.record({
    type: fc.constant('payment.refundFailed'),
    by: senderFor('system'),
    cancellationId: cancellationIds,
    error: fc.constant('declined'),
  }),
  // A1–A4 (appeals on): appeals, the platform's decisions and the payment service's answers, right or wrong key
  fc
    .record({ by: senderFor('merchant'), disputeId: disputeIds, fileId: fc.constantFrom('appeal-1', 'receipt-1.jpg') })
    .map(({ by, disputeId, fileId }) => ({ type: 'merchant.rulingAppealed', by, evidence: merchantAppealEvidence(fileId), ...disputeId })),
  fc
    .record({ by: senderFor('customer'), disputeId: disputeIds })
    .map(({ by, disputeId }) => ({ type: 'customer.rulingAppealed', by, evidence: CUSTOMER_APPEAL_EVIDENCE, ...disputeId })),
  fc
    .record({ type: fc.constantFrom('platform.appealUpheld', 'platform.appealOverturned'), by: senderFor('platform'), disputeId: disputeIds })
    .map(({ disputeId, ...event }) => ({ ...event, ...disputeId })),
  fc
    .record({
      type: fc.constantFrom('payment.compensationSucceeded', 'payment.compensationFailed'),
      by: senderFor('system'),
      disputeId: fc.constantFrom('dispute-1', 'dispute-2'),
      keyOf: fc.constantFrom('dispute-1', 'dispute-2'),
    })
    .map(({ type, by, disputeId, keyOf }) => ({
      type,
      by,
      disputeId,
      idempotencyKey: `order-1/${keyOf}/compensation`,
      ...(type === 'payment.compensationSucceeded' ? { paymentRef: 'comp-1' } : { error: 'declined' }),
    })),
  // malformed payloads
  fc.record({ type: fc.constantFrom('merchant.planSubmitted', 'merchant.bribed', 42), by: anySender, plan: fc.constantFrom('FREE', 7) }),
);

const ROLES = ['customer', 'merchant', 'platform', 'system'] as const;
const DEFAULT_SENDER_IDS = { customer: CUSTOMER_ID, merchant: MERCHANT_ID, platform: 'cs-1', system: 'callbacks' };

/** Picks one of the actions some role may take now and builds a valid event for it. */
export const allowedPickArbitrary = fc.record({ pick: fc.nat(), flavour: fc.nat() });

export function allowedEvent(snapshot: OrderSnapshot, pick: { pick: number; flavour: number }): Record<string, unknown> | null {
  const actions = ROLES.flatMap((role) => allowedActions(snapshot, role).map((action) => ({ role, action })));
  return eventForAllowedAction(snapshot, actions, pick);
}

/** Some role's allowed action (as `allowedActions` lists it, for one role or several). */
export interface RoleAction {
  role: (typeof ROLES)[number];
  action: AllowedAction;
}

export const ALL_ROLES = ROLES;

/** Builds a valid event for one of `actions` (ids not in use yet, a valid evidence, a payment ref). */
export function eventForAllowedAction(
  snapshot: OrderSnapshot,
  actions: RoleAction[],
  pick: { pick: number; flavour: number },
): Record<string, unknown> | null {
  if (actions.length === 0) return null;
  const { role, action } = actions[pick.pick % actions.length]!;
  const by = { role, id: DEFAULT_SENDER_IDS[role] };
  const event: Record<string, unknown> = { ...action, by };
  const inUse = usedIds(snapshot.context);
  const unused = (prefix: string, from: number) => {
    let n = from;
    while (inUse.has(`${prefix}-${n}`)) n += 1;
    return `${prefix}-${n}`;
  };
  switch (action.type) {
    case 'dispute.opened':
      return { ...event, disputeId: unused('dispute', disputeViews(snapshot).length + 1) };
    case 'cancellation.submitted':
      return { ...event, cancellationId: unused('cancel', cancelOrderViews(snapshot).length + 1) };
    case 'merchant.planSubmitted':
      return action.plan === 'PLATFORM_RULING' ? { ...event, evidence: VALID_EVIDENCE } : event;
    case 'platform.ruled':
      return { ...event, ruling: pick.flavour % 2 ? 'MERCHANT_LIABLE' : 'MERCHANT_NOT_LIABLE' };
    case 'merchant.rulingAppealed':
      return { ...event, evidence: merchantAppealEvidence(`appeal-${pick.flavour % 3}`) };
    case 'customer.rulingAppealed':
      return { ...event, evidence: CUSTOMER_APPEAL_EVIDENCE };
    case 'payment.refundSucceeded':
      return { ...event, paymentRef: `pay-${pick.flavour % 3}` };
    case 'payment.refundFailed':
      return { ...event, error: 'declined' };
    case 'platform.refundOutcomeRecorded':
      return pick.flavour % 2
        ? { ...event, outcome: 'succeeded', paymentRef: `pay-${pick.flavour % 3}` }
        : { ...event, outcome: 'failed', error: 'the provider has no refund under this key' };
    default:
      return event;
  }
}

/** Clock moves: just before, exactly at, or long after a pending deadline; or a small step. */
export const advanceArbitrary = fc.record({
  pick: fc.nat(),
  offset: fc.constantFrom(-1, 0, 0, 1, HOUR, 100 * HOUR),
});

export function pendingDueTimes(snapshot: OrderSnapshot): number[] {
  const due: number[] = [];
  for (const child of Object.values(snapshot.children)) {
    const childSnapshot = child?.getSnapshot() as { status: string; context: { deadlines?: Record<string, number> } };
    if (childSnapshot?.status === 'active') due.push(...Object.values(childSnapshot.context.deadlines ?? {}));
  }
  return due.sort((a, b) => a - b);
}

const FINAL = new Set<string>(FINAL_CANCELLATION_STATUSES);

/** Observes a driven world after every step and throws on the first broken invariant. */
export class InvariantChecker {
  private finalCancellations = new Map<string, string>();
  private finalDisputes = new Map<string, string>();
  private orderDone: string | null = null;
  private completedAt: number | null = null;
  checks = 0;

  constructor(private readonly world: Driven) {}

  /** INV4: a refused command changes nothing. */
  sendChecked(event: Record<string, unknown>): 'accepted' | 'refused' {
    const before = this.observe();
    const stamped = { at: this.world.now(), ...event };
    try {
      this.world.send(stamped);
      this.noteAccepted(stamped);
      return 'accepted';
    } catch (error) {
      if (!isWorkflowError(error)) throw error;
      this.expectUnchanged(before);
      return 'refused';
    } finally {
      this.check();
    }
  }

  /** `sendChecked` for an asynchronous world (the durable runtime): the view is reloaded after the send. */
  async sendCheckedAsync(event: Record<string, unknown>): Promise<'accepted' | 'refused'> {
    const before = this.observe();
    const stamped = { at: this.world.now(), ...event };
    let outcome: 'accepted' | 'refused';
    try {
      await this.world.send(stamped);
      outcome = 'accepted';
    } catch (error) {
      if (!isWorkflowError(error)) throw error;
      outcome = 'refused';
    }
    await this.world.refresh?.();
    if (outcome === 'accepted') this.noteAccepted(stamped);
    else this.expectUnchanged(before);
    this.check();
    return outcome;
  }

  private observe(): { state: string; effects: number; accepted: number } {
    return {
      state: observeSystem(this.world.snapshot()),
      effects: this.world.effects().length,
      accepted: this.world.accepted().length,
    };
  }

  private noteAccepted(event: Record<string, unknown>): void {
    if (event.type === 'order.completed' && this.completedAt === null) {
      this.completedAt = typeof event.at === 'number' ? event.at : this.world.now();
    }
  }

  private expectUnchanged(before: ReturnType<InvariantChecker['observe']>): void {
    this.expect(observeSystem(this.world.snapshot()) === before.state, 'INV4: a refused event changed the order or a child');
    this.expect(this.world.effects().length === before.effects, 'INV4: a refused event requested an effect');
    this.expect(this.world.accepted().length === before.accepted, 'INV4: a refused event was audited');
  }

  check(): void {
    const snapshot = this.world.snapshot();
    const effects = this.world.effects();
    const cancelOrders = cancelOrderViews(snapshot);
    const refunds = effects.filter((effect) => effect.type === 'effect.refundRequested');
    // INV1: one cancel order at most ever asks for money, and at most one is refunded
    this.expect(new Set(refunds.map((refund) => refund.cancellationId)).size <= 1, 'INV1: refunds requested for two cancel orders');
    const refunded = cancelOrders.filter((entry) => entry.status === 'refunded');
    this.expect(refunded.length <= 1, 'INV1: two cancel orders refunded');
    // C4: each request has its own key, `<order>/<cancel order>/<n>`, numbered 1, 2, … per cancel order
    const requests = new Map<string, number>();
    for (const refund of refunds) {
      const n = (requests.get(refund.cancellationId) ?? 0) + 1;
      requests.set(refund.cancellationId, n);
      this.expect(
        refund.idempotencyKey === `${refund.orderId}/${refund.cancellationId}/${n}`,
        `C4: refund request ${n} of ${refund.cancellationId} has key ${refund.idempotencyKey}`,
      );
    }
    // INV2: each refund request names its cancel order, reason and trigger
    for (const refund of refunds) {
      const entry = cancelOrders.find((order) => order.cancellationId === refund.cancellationId);
      this.expect(entry !== undefined && entry.reason === refund.reason, 'INV2: refund request does not match its cancel order');
      this.expect(
        ['merchant', 'timer', 'logisticsCallback', 'platformRuling', 'disputePlan'].includes(refund.trigger.kind),
        'INV2: refund without trigger',
      );
      // P3d: no timer refund after the order completed (a deadline due at the completion time fires first)
      if (refund.trigger.kind === 'timer' && this.completedAt !== null) {
        this.expect(refund.trigger.at <= this.completedAt, 'P3d: timer refunded a completed order');
      }
    }
    // C4: refunded only after the payment service confirmed (itself, or through the platform's record, INV6)
    const confirmations = this.world
      .accepted()
      .filter(
        (event) =>
          event.type === 'payment.refundSucceeded' || (event.type === 'platform.refundOutcomeRecorded' && event.outcome === 'succeeded'),
      );
    for (const entry of refunded) {
      this.expect(
        confirmations.some((event) => event.cancellationId === entry.cancellationId),
        'C4: refunded without payment confirmation',
      );
    }
    // A4/INV1: the order's one refund is compensated at most once, only once refunded, naming that refund
    const compensations = effects.filter((effect) => effect.type === 'effect.compensationRequested');
    this.expect(compensations.length <= 1, `A4/INV1: ${compensations.length} compensations requested for one order`);
    for (const compensation of compensations) {
      this.expect(
        refunded.some((entry) => entry.cancellationId === compensation.refundedBy),
        `A4: a compensation names ${compensation.refundedBy}, not the refunded cancel order`,
      );
      this.expect(
        compensation.idempotencyKey === `${compensation.orderId}/${compensation.disputeId}/compensation`,
        `A4: compensation key ${compensation.idempotencyKey}`,
      );
    }
    // A customer's cancel order is never rejected by the system
    const rejections = this.world.accepted().filter((event) => event.type === 'merchant.cancellationRejected');
    for (const entry of cancelOrders) {
      if (entry.status === 'rejected') {
        this.expect(
          rejections.some((event) => event.cancellationId === entry.cancellationId && event.role === 'merchant'),
          'P2: a cancel order was rejected without the merchant',
        );
      }
    }
    // INV3: final states never change; a cancel order or a dispute, once seen, never disappears
    for (const [id, status] of this.finalCancellations) {
      const entry = cancelOrders.find((order) => order.cancellationId === id);
      this.expect(entry?.status === status, `INV3: final cancel order ${id} changed`);
    }
    for (const entry of cancelOrders) if (FINAL.has(entry.status)) this.finalCancellations.set(entry.cancellationId, entry.status);
    const disputes = disputeViews(snapshot);
    for (const [id, status] of this.finalDisputes) {
      this.expect(disputes.find((dispute) => dispute.disputeId === id)?.status === status, `INV3: final dispute ${id} changed`);
    }
    for (const entry of disputes) {
      if (entry.status === 'resolved' || entry.status === 'withdrawn') this.finalDisputes.set(entry.disputeId, entry.status);
    }
    const serialized = observeSystem(snapshot);
    if (this.orderDone !== null) this.expect(serialized === this.orderDone, 'INV3: a closed order changed');
    else if (snapshot.status === 'done') this.orderDone = serialized;
  }

  /** One more named check, counted with the others (for checks a world adds on top of these). */
  expect(condition: boolean, message: string): void {
    this.checks++;
    if (!condition) throw new Error(message);
  }
}

/** The whole system as JSON: the order's value and context, and each child's value and context. */
function observeSystem(snapshot: OrderSnapshot): string {
  const children = Object.entries(snapshot.children as Record<string, { getSnapshot(): { context: unknown } } | undefined>).map(
    ([id, child]) => [id, child?.getSnapshot().context],
  );
  return JSON.stringify({ value: describeValue(snapshot), context: snapshot.context, children });
}

// ---------------------------------------------------------------------------------------------
// The in-memory host as a reusable property (for the soak, `scripts/soak.ts`): the same steps as
// workflow.property.test.ts, counted.
// ---------------------------------------------------------------------------------------------

export interface SequenceStats {
  sequences: number;
  steps: number;
  checks: number;
}

interface MemoryReal {
  world: World;
  checker: InvariantChecker;
  stats: SequenceStats;
}

class MemorySend implements fc.Command<object, MemoryReal> {
  constructor(readonly event: Record<string, unknown>) {}
  check = () => true;
  run(_model: object, real: MemoryReal): void {
    real.stats.steps += 1;
    real.checker.sendChecked(this.event);
  }
  toString = () => `send(${JSON.stringify(this.event)})`;
}

class MemorySendAllowed implements fc.Command<object, MemoryReal> {
  constructor(readonly pick: { pick: number; flavour: number }) {}
  check = () => true;
  run(_model: object, real: MemoryReal): void {
    real.stats.steps += 1;
    const event = allowedEvent(real.world.workflow.getSnapshot(), this.pick);
    if (event && real.checker.sendChecked(event) !== 'accepted') {
      throw new Error(`allowedActions offered ${JSON.stringify(event)} but the workflow refused it`);
    }
  }
  toString = () => `sendAllowed(${JSON.stringify(this.pick)})`;
}

class MemoryAdvance implements fc.Command<object, MemoryReal> {
  constructor(readonly move: { pick: number; offset: number }) {}
  check = () => true;
  run(_model: object, real: MemoryReal): void {
    real.stats.steps += 1;
    const due = pendingDueTimes(real.world.workflow.getSnapshot());
    const now = real.world.clock.now();
    const target = due.length ? due[this.move.pick % due.length]! + this.move.offset : now + Math.abs(this.move.offset);
    if (target > now) real.world.advance(target - now);
    real.checker.check();
  }
  toString = () => `advance(${JSON.stringify(this.move)})`;
}

function driveMemory(w: World): Driven {
  return {
    snapshot: () => w.workflow.getSnapshot(),
    effects: () => w.workflow.effects,
    accepted: () => w.workflow.audit.map(acceptedEvent),
    now: () => w.clock.now(),
    // The model's events are valid and malformed alike: the untyped entry, which validates as `send` does.
    send: (event) => w.sendRaw(event),
    advanceTo: (time) => w.advance(Math.max(0, time - w.clock.now())),
  };
}

/**
 * INV1–INV4, P2, P3d, C4 and A4 over the in-memory host under any policy (every [I] setting drawn at
 * random, so combinations are checked too), counting sequences, steps and checks into `stats`.
 */
export function memoryProperty(stats: SequenceStats, maxCommands = 40) {
  const commands = fc.commands(
    [
      eventArbitrary.map((event) => new MemorySend(event)),
      allowedPickArbitrary.map((pick) => new MemorySendAllowed(pick)),
      allowedPickArbitrary.map((pick) => new MemorySendAllowed(pick)),
      advanceArbitrary.map((move) => new MemoryAdvance(move)),
    ],
    { maxCommands, size: 'max' },
  );
  return fc.property(
    fc.constantFrom('JD' as const, 'MERCHANT' as const),
    fc.boolean(),
    fc.constantFrom('fail' as const, 'adopt' as const),
    policyArbitrary,
    commands,
    (deliveredBy, shipped, conflictPolicy, policy, cmds) => {
      const w = world({ deliveredBy, shipped, conflictPolicy, policy, timers: { refundMaxAttempts: 3 } });
      const checker = new InvariantChecker(driveMemory(w));
      try {
        fc.modelRun(() => ({ model: {}, real: { world: w, checker, stats } }), cmds);
        stats.sequences += 1;
      } finally {
        stats.checks += checker.checks;
        w.workflow.stop();
      }
    },
  );
}
