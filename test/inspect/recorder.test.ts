import { createInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { stableSessions } from '../../src/inspect.js';
import {
  createMemoryStore,
  createSandboxLogistics,
  createSandboxPayments,
  createWorkflowRuntime,
  type WorkflowRuntime,
} from '../../src/runtime/index.js';
import { CANCEL_ORDER_ID, CUSTOMER, eventually, HOUR, MERCHANT } from './support.js';
import type { OrderEventInput } from '../../src/schemas/events.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const WORKFLOW = 'order-1';

/** The durable runtime, its clock and a recorder of what a Stately inspector would be sent. */
function recordedRuntime() {
  const clock = { time: T0, now: () => clock.time };
  const recorded: StatelyInspectionEvent[] = [];
  const raw: InspectionEvent[] = [];
  // The offline adapter: no socket, no window; delivery is deferred by one macrotask.
  const inspector = createInspector({ send: (event) => void recorded.push(event) });
  const inspect = stableSessions(inspector, WORKFLOW);
  const runtime: WorkflowRuntime = createWorkflowRuntime({
    store: createMemoryStore(),
    clock,
    payments: createSandboxPayments(),
    logistics: createSandboxLogistics(),
    inspect: (event) => {
      raw.push(event);
      inspect(event);
    },
  });
  return { runtime, clock, recorded, raw };
}

/** P3a on the durable runtime: every command and the deadline restore a fresh actor system. */
async function playDurably(runtime: WorkflowRuntime, clock: { time: number }) {
  await runtime.openOrder({
    workflowId: WORKFLOW,
    input: { orderId: WORKFLOW, merchantId: MERCHANT.id, customerId: CUSTOMER.id, deliveredBy: 'MERCHANT' },
  });
  const send = (commandId: string, event: OrderEventInput) => runtime.dispatch({ workflowId: WORKFLOW, commandId, event });
  await send('c1', { type: 'dispute.opened', by: CUSTOMER, disputeId: 'dispute-1' });
  await send('c2', { type: 'merchant.planSubmitted', by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
  await send('c3', { type: 'customer.settlementConfirmed', by: CUSTOMER });
  clock.time += 48 * HOUR;
  // the deadline fires, the refund goes out through the outbox, the sandbox payment service confirms
  await runtime.tick();
  const view = await runtime.getWorkflow({ role: 'platform', id: 'cs-1' }, WORKFLOW);
  await runtime.close();
  return view;
}

describe('stableSessions on the durable runtime, recorded with the offline createInspector({ send }) adapter', () => {
  it('the inspector sees one session per actor across restores: announced once, never stopped, every transition in order', async () => {
    const { runtime, clock, recorded, raw } = recordedRuntime();
    const view = await playDurably(runtime, clock);
    expect(view.status).toBe('done');

    // The adapter delivers later (setTimeout 0): wait for the order's own final snapshot, not a child's.
    await eventually(() =>
      expect(recorded.some((e) => e.type === '@xstate.snapshot' && e.sessionId === WORKFLOW && e.snapshot.status === 'done')).toBe(true),
    );
    const sessions = [WORKFLOW, `${WORKFLOW}/dispute`, `${WORKFLOW}/cancellation`];

    // Without the wrapper, every restore is a new XState session.
    const rawRoots = new Set(raw.map((event) => event.rootId));
    expect(rawRoots.size).toBeGreaterThanOrEqual(5);

    const actors = recorded.filter((event) => event.type === '@xstate.actor');
    expect(actors.map(({ sessionId, parentId, rootId, name }) => ({ sessionId, parentId, rootId, name }))).toEqual([
      { sessionId: WORKFLOW, parentId: undefined, rootId: WORKFLOW, name: 'order' },
      { sessionId: `${WORKFLOW}/dispute`, parentId: WORKFLOW, rootId: WORKFLOW, name: 'dispute' },
      { sessionId: `${WORKFLOW}/cancellation`, parentId: WORKFLOW, rootId: WORKFLOW, name: 'cancellation' },
    ]);
    // announced with its first state, although that step's system was stopped before delivery
    expect(actors[2]?.snapshot).toMatchObject({ status: 'active', value: 'logisticsFollowUp', context: { cancellationId: CANCEL_ORDER_ID } });
    expect(JSON.parse(actors[2]?.definition ?? '{}')).toMatchObject({ id: 'cancellation' });

    expect(new Set(recorded.map((event) => event.sessionId))).toEqual(new Set(sessions));
    expect(recorded.filter((event) => event.type === '@xstate.snapshot' && event.snapshot.status === 'stopped')).toEqual([]);
    expect(recorded.filter((event) => event.type === '@xstate.event' && event.event.type === 'xstate.init').map((e) => e.sessionId)).toEqual(
      sessions,
    );

    const statesOf = (sessionId: string) =>
      recorded.flatMap((e) => (e.type === '@xstate.snapshot' && e.sessionId === sessionId ? [(e.snapshot as { value?: unknown }).value] : []));
    expect(statesOf(`${WORKFLOW}/cancellation`)).toEqual(['logisticsFollowUp', { refunding: 'requesting' }, 'refunded']);
    expect(statesOf(`${WORKFLOW}/dispute`)).toEqual(['awaitingMerchantChoice', 'awaitingCustomerConfirmation', 'resolved']);
    expect(statesOf(WORKFLOW).at(-1)).toEqual({ dispute: 'closed', cancellation: 'refunded' });

    const delivered = recorded.filter((e) => e.type === '@xstate.event' && e.event.type.startsWith('xstate.after.'));
    expect(delivered.map((e) => [e.sessionId, e.type === '@xstate.event' && e.event.type])).toEqual([
      [`${WORKFLOW}/cancellation`, 'xstate.after.interceptWindow.cancellation.logisticsFollowUp'],
    ]);
  });
});
