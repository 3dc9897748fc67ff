import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SimulatedClock, type AnyActorRef, type AnyMachineSnapshot, type InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { orderMachine } from '../../machines/order.js';
import { startSystem, stepSystem, type StepResult } from '../../src/engine/step.js';
import { attachInspector, stableSessionId, stableSessions, stableSessionsByWorkflow, toInspect } from '../../src/inspect.js';
import { createOrderWorkflow } from '../../src/workflow.js';
import { CANCEL_ORDER_ID, CUSTOMER, HOUR, MERCHANT, ORDER_INPUT, PAYMENTS } from './support.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** A host in the runtime's manner: every event restores the system from its persisted snapshot. */
function durableHost(inspect: (event: InspectionEvent) => void) {
  let last: StepResult = startSystem(orderMachine, ORDER_INPUT, { inspect });
  return {
    send(event: Record<string, unknown>, target?: string[]) {
      last = stepSystem(orderMachine, last.persisted, { event: event as never, ...(target ? { target } : {}) }, { inspect });
      return last;
    },
    deadlines: () => last.deadlines,
  };
}

const sessionOf = (event: InspectionEvent) => event.actorRef.sessionId;

describe('stableSessions', () => {
  it('maps every restore of an actor to <workflowId> or <workflowId>/<childId> and announces each actor once', () => {
    const seen: InspectionEvent[] = [];
    const host = durableHost(stableSessions((event) => seen.push(event), 'wf-7'));
    host.send({ type: 'dispute.opened', at: 1, by: CUSTOMER, disputeId: 'dispute-1' });
    host.send({ type: 'merchant.planSubmitted', at: 2, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });
    const [deadline] = host.deadlines();
    host.send({ type: deadline!.eventType }, deadline!.actorPath);

    expect(seen.filter((e) => e.type === '@xstate.actor').map(sessionOf)).toEqual(['wf-7', 'wf-7/dispute', 'wf-7/cancellation']);
    expect(new Set(seen.map(sessionOf))).toEqual(new Set(['wf-7', 'wf-7/dispute', 'wf-7/cancellation']));
    expect(new Set(seen.map((e) => e.rootId))).toEqual(new Set(['wf-7']));
    const child = seen.find((e) => e.type === '@xstate.actor' && sessionOf(e) === 'wf-7/cancellation')!;
    // what @statelyai/inspect reads for the parent id
    expect((child.actorRef as AnyActorRef)._parent?.sessionId).toBe('wf-7');
    // the step's system is stopped by now: the announcement still reads the actor's first state
    expect(child.actorRef.getSnapshot()).toMatchObject({
      status: 'active',
      value: 'logisticsFollowUp',
      context: { cancellationId: CANCEL_ORDER_ID },
    });
    // restores are not transitions; the host stopping its copy is not a stop of the workflow
    expect(seen.filter((e) => 'event' in e && e.event.type === 'xstate.init' && e.type === '@xstate.snapshot').map(sessionOf)).toEqual([
      'wf-7',
      'wf-7/dispute',
      'wf-7/cancellation',
    ]);
    expect(seen.filter((e) => 'event' in e && e.event.type === 'xstate.stop')).toEqual([]);
    const delayed = seen.find((e) => e.type === '@xstate.event' && e.event.type.startsWith('xstate.after.interceptWindow'));
    expect(delayed && sessionOf(delayed)).toBe('wf-7/cancellation');
  });

  it('passes the events between actors with their source mapped too', () => {
    const seen: InspectionEvent[] = [];
    const host = durableHost(stableSessions((event) => seen.push(event), 'wf-8'));
    host.send({ type: 'dispute.opened', at: 1, by: CUSTOMER, disputeId: 'dispute-1' });
    host.send({ type: 'merchant.planSubmitted', at: 2, by: MERCHANT, plan: 'NEGOTIATED_REJECT' });
    const accepted = seen.find((e) => e.type === '@xstate.event' && e.event.type === 'dispute.planAccepted');
    expect(accepted?.type === '@xstate.event' && [accepted.sourceRef?.sessionId, sessionOf(accepted)]).toEqual(['wf-8/dispute', 'wf-8']);
    const forwarded = seen.find((e) => e.type === '@xstate.event' && e.event.type === 'merchant.planSubmitted' && e.sourceRef);
    expect(forwarded?.type === '@xstate.event' && [forwarded.sourceRef?.sessionId, sessionOf(forwarded)]).toEqual(['wf-8', 'wf-8/dispute']);
  });

  it('a new wrapper (a restarted process) announces the actors again, with their restored state', () => {
    const first: InspectionEvent[] = [];
    let persisted = startSystem(orderMachine, ORDER_INPUT, { inspect: stableSessions((e) => first.push(e), 'wf-9') }).persisted;
    persisted = stepSystem(orderMachine, persisted, {
      event: { type: 'dispute.opened', at: 1, by: CUSTOMER, disputeId: 'd-1' } as never,
    }).persisted;
    const second: InspectionEvent[] = [];
    const inspect = stableSessions((e) => second.push(e), 'wf-9');
    stepSystem(orderMachine, persisted, { event: { type: 'customer.disputeWithdrawn', at: 2, by: CUSTOMER } as never }, { inspect });
    expect(second.filter((e) => e.type === '@xstate.actor').map(sessionOf)).toEqual(['wf-9', 'wf-9/dispute']);
    const restoredDispute = second.find((e) => e.type === '@xstate.snapshot' && sessionOf(e) === 'wf-9/dispute');
    expect(restoredDispute?.type === '@xstate.snapshot' && restoredDispute.snapshot).toMatchObject({
      value: 'awaitingMerchantChoice',
      context: { disputeId: 'd-1' },
    });
  });

  it('a new cancel order under the fixed id is a new actor: announced anew under <workflowId>/cancellation with its own first state', () => {
    const seen: InspectionEvent[] = [];
    const host = durableHost(stableSessions((event) => seen.push(event), 'wf-10'));
    host.send({ type: 'cancellation.submitted', at: 1, by: CUSTOMER, cancellationId: 'c-1' });
    host.send({ type: 'order.shipped', at: 2, by: MERCHANT });
    host.send({ type: 'merchant.cancellationRejected', at: 3, by: MERCHANT, cancellationId: 'c-1' });
    host.send({ type: 'cancellation.submitted', at: 4, by: CUSTOMER, cancellationId: 'c-2' });
    host.send({ type: 'customer.cancellationWithdrawn', at: 5, by: CUSTOMER, cancellationId: 'c-2' });

    const announcements = seen.filter((e) => e.type === '@xstate.actor');
    expect(announcements.map(sessionOf)).toEqual(['wf-10', 'wf-10/cancellation', 'wf-10/cancellation']);
    // read after the fact, as a deferred inspector does: each announcement keeps its own actor's first state
    expect(announcements.slice(1).map((e) => e.actorRef.getSnapshot())).toMatchObject([
      { value: 'pendingReview', context: { cancellationId: 'c-1' } },
      { value: 'pendingReview', context: { cancellationId: 'c-2' } },
    ]);
    const cancelOrder = (e: InspectionEvent) =>
      e.type === '@xstate.snapshot' && sessionOf(e) === 'wf-10/cancellation'
        ? [[(e.snapshot as AnyMachineSnapshot).context.cancellationId, (e.snapshot as AnyMachineSnapshot).value, e.snapshot.status]]
        : [];
    expect(seen.flatMap(cancelOrder)).toEqual([
      ['c-1', 'pendingReview', 'active'],
      ['c-1', 'pendingReview', 'active'],
      ['c-1', 'rejected', 'done'],
      ['c-2', 'pendingReview', 'active'],
      ['c-2', 'withdrawn', 'done'],
    ]);
    const inits = seen.filter((e) => e.type === '@xstate.event' && e.event.type === 'xstate.init' && sessionOf(e) === 'wf-10/cancellation');
    expect(inits).toHaveLength(2);
  });

  it('in memory (one live system, no restores) a second cancel order is announced anew too', () => {
    const seen: InspectionEvent[] = [];
    const workflow = createOrderWorkflow(ORDER_INPUT, {
      clock: new SimulatedClock(),
      inspect: stableSessions((event) => seen.push(event), 'wf-11'),
    });
    workflow.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c-1' });
    workflow.send({ type: 'customer.cancellationWithdrawn', at: 0, by: CUSTOMER, cancellationId: 'c-1' });
    workflow.send({ type: 'cancellation.submitted', at: 0, by: CUSTOMER, cancellationId: 'c-2' });
    const announcements = seen.filter((e) => e.type === '@xstate.actor');
    expect(announcements.map(sessionOf)).toEqual(['wf-11', 'wf-11/cancellation', 'wf-11/cancellation']);
    expect(announcements.slice(1).map((e) => (e.actorRef.getSnapshot() as AnyMachineSnapshot).context.cancellationId)).toEqual(['c-1', 'c-2']);
    workflow.stop();
  });

  it('stableSessionsByWorkflow keeps one wrapper per workflow id', () => {
    const seen: InspectionEvent[] = [];
    const forWorkflow = stableSessionsByWorkflow((event) => seen.push(event));
    expect(forWorkflow('a')).toBe(forWorkflow('a'));
    const { persisted } = startSystem(orderMachine, ORDER_INPUT, { inspect: forWorkflow('a') });
    stepSystem(orderMachine, persisted, { event: { type: 'order.shipped', at: 1, by: MERCHANT } as never }, { inspect: forWorkflow('a') });
    startSystem(orderMachine, ORDER_INPUT, { inspect: forWorkflow('b') });
    expect(seen.filter((e) => e.type === '@xstate.actor').map(sessionOf)).toEqual(['a', 'b']);
    expect(stableSessionId('a', ['x', 'y'])).toBe('a/x/y');
  });

  it('reads no private XState field: parents come from the public actor options, not _parent', () => {
    const source = readFileSync(new URL('../../src/inspect.ts', import.meta.url), 'utf8');
    expect(source.match(/\._[A-Za-z]\w*/g) ?? []).toEqual([]);
  });
});

describe('attachInspector', () => {
  it('attached to a running OrderWorkflow, it first announces the live actors in their current state, then follows until unsubscribed', () => {
    const clock = new SimulatedClock();
    const workflow = createOrderWorkflow(ORDER_INPUT, { clock });
    workflow.send({ type: 'dispute.opened', at: 0, by: CUSTOMER, disputeId: 'dispute-1' });
    workflow.send({ type: 'merchant.planSubmitted', at: 0, by: MERCHANT, plan: 'WAIT_48H_INTERCEPT' });

    const seen: InspectionEvent[] = [];
    const subscription = attachInspector(workflow, { next: (event) => seen.push(event) });
    const replay = seen.map((e) => [e.type, e.actorRef.sessionId === workflow.actor.sessionId ? 'root' : (e.actorRef as AnyActorRef).id]);
    expect(replay).toEqual([
      ['@xstate.actor', 'root'],
      ['@xstate.snapshot', 'root'],
      ['@xstate.actor', 'dispute'],
      ['@xstate.snapshot', 'dispute'],
      ['@xstate.actor', 'cancellation'],
      ['@xstate.snapshot', 'cancellation'],
    ]);
    expect(seen[5]?.type === '@xstate.snapshot' && seen[5].snapshot).toMatchObject({
      value: 'logisticsFollowUp',
      context: { cancellationId: CANCEL_ORDER_ID },
    });

    clock.increment(48 * HOUR);
    const fired = seen.find((e) => e.type === '@xstate.event' && e.event.type.startsWith('xstate.after.interceptWindow'));
    expect(fired && (fired.actorRef as AnyActorRef).id).toBe('cancellation');

    subscription.unsubscribe();
    const count = seen.length;
    workflow.send({ type: 'payment.refundSucceeded', at: 48 * HOUR, by: PAYMENTS, cancellationId: CANCEL_ORDER_ID, paymentRef: 'p-1' });
    expect(seen.length).toBe(count);
    workflow.stop();
  });

  it('takes a bare actor and any sink: a function, an observer, or an inspector object', () => {
    const calls: string[] = [];
    const sinks = [
      (event: InspectionEvent) => calls.push(`fn ${event.type}`),
      { next: (event: InspectionEvent) => calls.push(`observer ${event.type}`) },
      { inspect: { next: (event: InspectionEvent) => calls.push(`inspector ${event.type}`) } },
      { inspect: (event: InspectionEvent) => calls.push(`inspector fn ${event.type}`) },
    ];
    const workflow = createOrderWorkflow(ORDER_INPUT);
    for (const sink of sinks) attachInspector(workflow.actor, sink).unsubscribe();
    expect(calls).toEqual([
      'fn @xstate.actor',
      'fn @xstate.snapshot',
      'observer @xstate.actor',
      'observer @xstate.snapshot',
      'inspector @xstate.actor',
      'inspector @xstate.snapshot',
      'inspector fn @xstate.actor',
      'inspector fn @xstate.snapshot',
    ]);
    expect(toInspect(sinks[0]!)).toBe(sinks[0]);
    workflow.stop();
  });
});

describe('@statelyai/inspect stays optional', () => {
  it('the library and its inspection helpers load and work when @statelyai/inspect cannot be resolved; only the server helpers need it', () => {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', './test/inspect/fixtures/block-inspect.mjs', 'test/inspect/fixtures/without-peer.ts'],
      { cwd: ROOT, encoding: 'utf8', timeout: 20_000 },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual([
      'workflow inspected: 3 actors',
      'startInspectorServer: blocked @statelyai/inspect/server',
      'connectWebSocketInspector: blocked @statelyai/inspect',
    ]);
    expect(result.status).toBe(0);
  });
});
