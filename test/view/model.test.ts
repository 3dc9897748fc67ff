/** The view's model without a browser: charts from any definition, and the inspection stream turned into messages. */
import { createActor, SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { describeMachine } from '../../src/coverage/index.js';
import { chartOf, createViewRecorder, type ViewMessage } from '../../src/view/index.js';
import { toJson } from '../../src/view/recorder.js';
import { toyMachine } from './toy.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

describe('chartOf', () => {
  it('draws every state and every transition of the coverage model, with history, regions, initial states and delays', () => {
    const chart = chartOf(toyMachine);
    const model = describeMachine(toyMachine);
    expect(chart.states.map((s) => s.id)).toEqual(model.states.map((s) => s.id));
    expect(chart.transitions.map((t) => t.id)).toEqual(model.transitions.map((t) => t.id));
    const byId = Object.fromEntries(chart.states.map((s) => [s.id, s]));
    expect(byId['toy.working']!.type).toBe('parallel');
    expect(byId['toy.working.hist']!.history).toBe('deep');
    expect(byId['toy.idle']).toMatchObject({ initial: true, tags: ['customer'], description: 'R1: waiting' });
    expect(byId['toy.working.timer']!.initial).toBe(false);
    const delays = chart.transitions.filter((t) => t.kind === 'after').map((t) => [t.delay, t.delayMs]);
    expect(delays).toEqual([
      ['window', 5_000],
      [60_000, 60_000],
    ]);
  });
});

describe('createViewRecorder', () => {
  it('sends a definition once, then actors, events, snapshots with deadlines due at entry + delay, and the deadline that fired', () => {
    const clock = new SimulatedClock();
    clock.set(T0);
    const recorder = createViewRecorder({ now: () => clock.now() });
    const first = createActor(toyMachine, { clock, inspect: recorder.inspect }).start();
    const second = createActor(toyMachine, { clock, inspect: recorder.inspect }).start();
    first.send({ type: 'start' });
    clock.increment(4_999);
    const pending = recorder
      .backlog()
      .filter((m): m is Extract<ViewMessage, { type: 'snapshot' }> => m.type === 'snapshot')
      .at(-1)!;
    expect(pending.deadlines).toEqual([
      {
        sessionId: first.sessionId,
        eventType: 'xstate.after.window.toy.working.timer.running',
        delay: 'window',
        stateId: 'toy.working.timer.running',
        ms: 5_000,
        dueAt: T0 + 5_000,
      },
    ]);
    clock.increment(1);
    const messages = recorder.backlog();
    expect(messages.filter((m) => m.type === 'machine')).toHaveLength(1);
    expect(messages.filter((m) => m.type === 'actor').map((m) => m.type === 'actor' && m.sessionId)).toEqual([
      first.sessionId,
      second.sessionId,
    ]);
    const fired = messages.filter((m): m is Extract<ViewMessage, { type: 'snapshot' }> => m.type === 'snapshot').at(-1)!;
    expect(fired.eventType).toBe('xstate.after.window.toy.working.timer.running');
    expect(fired.fired.map((d) => [d.delay, d.dueAt, d.firedAt])).toEqual([['window', T0 + 5_000, T0 + 5_000]]);
    expect(fired.deadlines).toEqual([]);
    expect(fired.activeIds).toContain('toy.working.timer.expired');
    first.stop();
    second.stop();
  });

  it('makes contexts JSON-safe: actor refs by id, cycles cut, Sets as arrays', () => {
    const actor = createActor(toyMachine).start();
    const cyclic: Record<string, unknown> = { tags: new Set(['a']), child: actor };
    cyclic.self = cyclic;
    expect(toJson(cyclic)).toEqual({ tags: ['a'], child: { actor: actor.id }, self: '…' });
    actor.stop();
  });
});
