import { SimulatedClock } from 'xstate';
import { isWorkflowError } from '../../src/errors.js';
import type { CancelOrderView, DisputeView } from '../../src/queries.js';
import {
  createSandboxLogistics,
  createSandboxNotifications,
  createSandboxPayments,
  createSqliteStore,
  createWorkflowRuntime,
  LOGISTICS_SENDER,
  PAYMENTS_SENDER,
  type AuditRow,
  type Notification,
} from '../../src/runtime/index.js';
import type { WorkflowEffect } from '../../src/schemas/effects.js';
import { createOrderWorkflow, type OrderWorkflow } from '../../src/workflow.js';

/**
 * The two hosts of issue 11 behind one interface, so that one script runs on both and their results
 * can be compared: the in-memory host (`createOrderWorkflow` on a SimulatedClock, its effects answered
 * by the test from inside `onEffect`) and the durable runtime on SQLite (a manual clock, `tick()` after
 * every step, the sandbox adapters). Both start at time 0 and stamp every event from their clock.
 *
 * The outside world answers alike on both: a refund request is declined while its attempt is within
 * `declines[cancellationId]` (the sandbox's words and references), an interception ends as `interception`
 * says (default `succeeded`; `accepted`: no answer), notifications are only recorded.
 */

export type HostName = 'memory' | 'sqlite';
export const HOST_NAMES: readonly HostName[] = ['memory', 'sqlite'];

export interface OutsideWorld {
  /** Business attempts 1..n of a cancel order's refund are declined (C4). */
  declines?: Record<string, number>;
  /** `later`: the payment service takes the request and answers later (the test sends the answer). */
  refundAnswers?: 'at once' | 'later';
  interception?: 'succeeded' | 'failed' | 'accepted';
  /** A host application reacting to a notification with a command of its own (re-entrant). */
  onNotification?: (notification: Pick<Notification, 'kind' | 'recipient' | 'subjectId'>) => Record<string, unknown> | null;
}

/** What a caller sees of one command: accepted, or the typed error's name and code. */
export type Outcome = { ok: true } | { ok: false; error: string; code: string };

/** An audit row as both hosts must agree on it (the command id is the durable host's own). */
export interface ComparableAuditRow {
  seq: number;
  at: number;
  role: string;
  actorId: string | null;
  eventType: string;
  event: unknown;
  resultingState: unknown;
}

export interface HostUnderTest {
  readonly name: HostName;
  /**
   * Sends one event (stamped from the host's clock unless it has `at`). Scripts are data, some of it
   * deliberately malformed: both hosts take it through their untyped entry (`sendRaw`, `dispatchRaw`).
   */
  send(event: Record<string, unknown>): Promise<Outcome>;
  /** Moves the clock; deadlines fall due and effects are answered. */
  advance(ms: number): Promise<void>;
  now(): number;
  audit(): Promise<ComparableAuditRow[]>;
  cancelOrders(): Promise<CancelOrderView[]>;
  disputes(): Promise<DisputeView[]>;
  /** Every effect requested so far, as JSON strings sorted (the hosts may list them in another order). */
  effects(): Promise<string[]>;
  status(): Promise<'active' | 'done'>;
  /** Refund requests the outside world received, in order: key and what came of it. */
  refundCalls(): Array<{ key: string; result: string }>;
  /** A4: compensation requests the payment service received, in order: key and what came of it. */
  compensationCalls(): Array<{ key: string; result: string }>;
  close(): Promise<void>;
}

const READER = { role: 'platform', id: 'cs-1' } as const;

export const comparable = (row: Omit<AuditRow, 'actorId'> & { actorId: string | null }): ComparableAuditRow => ({
  seq: row.seq,
  at: row.at,
  role: row.role,
  actorId: row.actorId,
  eventType: row.eventType,
  event: row.event,
  resultingState: row.resultingState,
});

const outcomeOf = (error: unknown): Outcome => {
  if (!isWorkflowError(error)) throw error;
  return { ok: false, error: error.name, code: error.code };
};

const sortedJson = (effects: readonly unknown[]) => effects.map((effect) => JSON.stringify(effect)).sort();

export async function openHost(name: HostName, input: Record<string, unknown>, world: OutsideWorld = {}): Promise<HostUnderTest> {
  return name === 'memory' ? memoryHost(input, world) : durableHost(input, world);
}

function memoryHost(input: Record<string, unknown>, world: OutsideWorld): HostUnderTest {
  const clock = new SimulatedClock();
  const calls: Array<{ key: string; result: string }> = [];
  const compensationCalls: Array<{ key: string; result: string }> = [];
  const send = (event: Record<string, unknown>): Outcome => {
    try {
      workflow.sendRaw(event);
      return { ok: true };
    } catch (error) {
      return outcomeOf(error);
    }
  };
  // The test is the outside world: it answers from inside onEffect, as a synchronous host would.
  const answer = (effect: WorkflowEffect) => {
    if (effect.type === 'effect.refundRequested') {
      if (world.refundAnswers === 'later') {
        calls.push({ key: effect.idempotencyKey, result: 'accepted' });
        return;
      }
      const declined = effect.attempt <= (world.declines?.[effect.cancellationId] ?? 0);
      calls.push({ key: effect.idempotencyKey, result: declined ? 'declined' : 'executed' });
      // As the durable runtime's outbox does, the answer names the request it answers.
      const base = { by: PAYMENTS_SENDER, cancellationId: effect.cancellationId, idempotencyKey: effect.idempotencyKey };
      send(
        declined
          ? { type: 'payment.refundFailed', ...base, error: `sandbox declined attempt ${effect.attempt}` }
          : { type: 'payment.refundSucceeded', ...base, paymentRef: `sandbox-pay-${effect.idempotencyKey}` },
      );
    } else if (effect.type === 'effect.interceptionRequested') {
      const outcome = world.interception ?? 'succeeded';
      const base = { by: LOGISTICS_SENDER, cancellationId: effect.cancellationId };
      if (outcome === 'succeeded') send({ type: 'logistics.interceptSucceeded', ...base });
      if (outcome === 'failed') send({ type: 'logistics.interceptFailed', ...base, note: 'sandbox: the parcel could not be intercepted' });
    } else if (effect.type === 'effect.compensationRequested') {
      // A4: the sandbox's words: executed once, answered with its reference and the key.
      compensationCalls.push({ key: effect.idempotencyKey, result: 'executed' });
      const { disputeId, idempotencyKey } = effect;
      send({
        type: 'payment.compensationSucceeded',
        by: PAYMENTS_SENDER,
        disputeId,
        idempotencyKey,
        paymentRef: `sandbox-comp-${idempotencyKey}`,
      });
    } else {
      const command = world.onNotification?.(effect);
      if (command) send(command);
    }
  };
  const workflow: OrderWorkflow = createOrderWorkflow(input as never, { clock, onEffect: answer });
  return {
    name: 'memory',
    send: async (event) => send(event),
    advance: async (ms) => {
      clock.increment(ms);
      workflow.runDueDeadlines();
    },
    now: () => clock.now(),
    audit: async () => workflow.audit.map(comparable),
    cancelOrders: async () => workflow.cancelOrders(),
    disputes: async () => workflow.disputes(),
    effects: async () => sortedJson(workflow.effects),
    status: async () => (workflow.getSnapshot().status === 'done' ? 'done' : 'active'),
    refundCalls: () => [...calls],
    compensationCalls: () => [...compensationCalls],
    close: async () => workflow.stop(),
  };
}

async function durableHost(input: Record<string, unknown>, world: OutsideWorld): Promise<HostUnderTest> {
  const clock = { time: 0, now: () => clock.time };
  const payments = createSandboxPayments();
  for (const [cancellationId, n] of Object.entries(world.declines ?? {})) payments.declineAttempts(n, cancellationId);
  const logistics = createSandboxLogistics({ outcome: world.interception ?? 'succeeded' });
  const sandboxNotifications = createSandboxNotifications();
  const workflowId = String(input.orderId);
  let commands = 0;
  const laterCalls: Array<{ key: string; result: string }> = [];
  const store = createSqliteStore({ filename: ':memory:' });
  await store.migrate();
  const runtime = createWorkflowRuntime({
    store,
    clock,
    payments:
      world.refundAnswers === 'later'
        ? {
            refund: async (request) => {
              laterCalls.push({ key: request.idempotencyKey, result: 'accepted' });
              return { status: 'accepted' };
            },
          }
        : payments,
    logistics,
    notifications: {
      // the host application's reaction comes in as a command while the effect is being delivered
      notify: async (notification, call) => {
        await sandboxNotifications.notify(notification, call);
        const command = world.onNotification?.(notification);
        if (command) await dispatch(command);
      },
    },
    workerId: 'hosts-test',
    onError: () => {},
  });
  const dispatch = async (event: Record<string, unknown>): Promise<Outcome> => {
    try {
      await runtime.dispatchRaw({ workflowId, commandId: `c${(commands += 1)}`, event });
      return { ok: true };
    } catch (error) {
      return outcomeOf(error);
    }
  };
  /** Rounds until nothing is due and nothing is deliverable at this time. */
  const settle = async () => {
    for (let round = 0; round < 20; round += 1) {
      const result = await runtime.tick();
      if (result.errors > 0) throw new Error(`tick reported ${result.errors} error(s)`);
      if (result.deadlinesFired + result.deadlinesSkipped + result.effectsDelivered + result.effectsRetrying + result.effectsGaveUp === 0)
        return;
    }
    throw new Error('the runtime did not settle in 20 rounds');
  };
  await runtime.openOrderRaw({ workflowId, input });
  return {
    name: 'sqlite',
    send: async (event) => {
      const outcome = await dispatch(event);
      await settle();
      return outcome;
    },
    advance: async (ms) => {
      clock.time += ms;
      await settle();
    },
    now: () => clock.time,
    // The platform reads everything (R1), as the in-memory host shows it.
    audit: async () => (await runtime.getAuditTrail(READER, workflowId)).map(comparable),
    cancelOrders: async () => (await runtime.getWorkflow(READER, workflowId)).cancelOrders as CancelOrderView[],
    disputes: async () => (await runtime.getWorkflow(READER, workflowId)).disputes,
    effects: async () => sortedJson((await store.listOutbox(workflowId)).map((row) => row.payload)),
    status: async () => (await runtime.getWorkflow(READER, workflowId)).status,
    refundCalls: () =>
      world.refundAnswers === 'later'
        ? [...laterCalls]
        : payments.calls.map((call) => ({
            key: call.request.idempotencyKey,
            result: call.result === 'replayedDecline' ? 'declined' : call.result,
          })),
    compensationCalls: () => payments.compensationCalls.map((call) => ({ key: call.request.idempotencyKey, result: call.result })),
    close: () => runtime.close(),
  };
}

// --- scripts ------------------------------------------------------------------------------------

/** One step of a script: a command (with the typed error it must get, if any), or time passing. */
export type Step = { send: Record<string, unknown>; refused?: string } | { advance: number };

/** Everything a script run leaves that the two hosts must agree on. */
export interface Run {
  outcomes: Outcome[];
  audit: ComparableAuditRow[];
  effects: string[];
  cancelOrders: CancelOrderView[];
  disputes: DisputeView[];
  status: 'active' | 'done';
  refundCalls: Array<{ key: string; result: string }>;
  compensationCalls: Array<{ key: string; result: string }>;
}

export const ORDER_INPUT = { orderId: 'order-1', merchantId: 'merchant-1', customerId: 'customer-1', deliveredBy: 'MERCHANT' };

/** Plays a script on one host; each command must be accepted or refused as the step says. */
export async function play(
  name: HostName,
  script: { input?: Record<string, unknown>; world?: OutsideWorld; steps: readonly Step[] },
): Promise<Run> {
  const host = await openHost(name, { ...ORDER_INPUT, ...script.input }, script.world);
  try {
    const outcomes: Outcome[] = [];
    for (const step of script.steps) {
      if ('advance' in step) await host.advance(step.advance);
      else {
        const outcome = await host.send(step.send);
        outcomes.push(outcome);
        const seen = outcome.ok ? 'accepted' : outcome.error;
        if (seen !== (step.refused ?? 'accepted')) {
          throw new Error(`${name}: ${JSON.stringify(step.send)} was ${seen}, expected ${step.refused ?? 'accepted'}`);
        }
      }
    }
    return {
      outcomes,
      audit: await host.audit(),
      effects: await host.effects(),
      cancelOrders: await host.cancelOrders(),
      disputes: await host.disputes(),
      status: await host.status(),
      refundCalls: host.refundCalls(),
      compensationCalls: host.compensationCalls(),
    };
  } finally {
    await host.close();
  }
}
