/**
 * The gate catches a broken machine: a copy of the dispute (and of the cancel order) with one
 * transition removed fails the replay of the committed paths and the pinned pair figure; a copy
 * with an unreachable state, or a guard that can never hold, falls below 100 %.
 */
import { assign, createMachine, type AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { cancellationMachine } from '../../machines/cancellation.js';
import { disputeMachine } from '../../machines/dispute.js';
import { orderMachine } from '../../machines/order.js';
import { coverageProblems, replayOptionsOf, replayPath, runCoverage, type MachineCoverage } from '../../src/coverage/index.js';
import { loadGolden, replayWithOracles } from '../paths/harness.js';
import { MODELS } from '../paths/models.js';
import { loadPins, pinnedCoverage } from '../paths/pins.js';
import { DEFAULT_VARIANT } from '../paths/policy-variants.js';

/** The default policy's pins; what only another policy reaches is out of the totals, as in the gate. */
const pins = loadPins().default!;
const gated = (coverage: MachineCoverage) => pinnedCoverage(DEFAULT_VARIANT, coverage, pins[coverage.machineId]).coverage;

type Config = { states: Record<string, Record<string, any>> } & Record<string, any>;

/** A copy of a machine with an edited config and the same implementations. */
function mutate(machine: AnyStateMachine, edit: (config: Config) => Config): AnyStateMachine {
  const config = machine.config as unknown as Config;
  return createMachine(edit({ ...config, states: { ...config.states } }) as never).provide(machine.implementations as never);
}

function withoutTransition(machine: AnyStateMachine, state: string, event: string): AnyStateMachine {
  return mutate(machine, (config) => {
    const { [event]: _removed, ...on } = config.states[state]!.on;
    config.states[state] = { ...config.states[state], on };
    return config;
  });
}

/** What the gate reports for a machine under a model's fixtures: replays of the committed paths, then coverage. */
function gate(name: 'dispute' | 'cancellation', machine: AnyStateMachine): string[] {
  const options = MODELS[name].options;
  const replays = loadGolden(name).map((path) => replayPath(machine, path, replayOptionsOf(options as never)));
  const mismatched = replays.filter((replay) => replay.mismatches.length);
  const coverage = gated(runCoverage(machine, options as never).coverage);
  return [
    ...(mismatched.length ? [`${mismatched.length} committed path(s) no longer replay`] : []),
    ...coverageProblems(coverage, { transitionPairs: pins[machine.id]!.transitionPairs }),
  ];
}

describe('the coverage gate fails for mutated machines', () => {
  it('passes for the real machines', () => {
    expect(gate('dispute', disputeMachine)).toEqual([]);
    expect(gate('cancellation', cancellationMachine)).toEqual([]);
  });

  it('D5: a dispute without customer.settlementObjected no longer replays and loses pairs', () => {
    const problems = gate('dispute', withoutTransition(disputeMachine, 'awaitingCustomerConfirmation', 'customer.settlementObjected'));
    expect(problems[0]).toMatch(/committed path\(s\) no longer replay/);
    expect(problems.some((problem) => /transition pairs \d+ < pinned/.test(problem))).toBe(true);
  });

  it('P3e: a cancel order without logistics.interceptFailed no longer replays', () => {
    const mutant = withoutTransition(cancellationMachine, 'intercepting', 'logistics.interceptFailed');
    const replays = loadGolden('cancellation').map((path) => replayPath(mutant, path, replayOptionsOf(MODELS.cancellation.options as never)));
    const failed = replays.filter((replay) => replay.mismatches.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.mismatches[0]!.message).toMatch(/logistics.interceptFailed/);
  });

  it('C1: an order that accepts a second cancel order (widened guard) no longer replays', () => {
    // The order's paths offer what passes the host boundary; the oracles check that set on the live order.
    const lenient = orderMachine.provide({ guards: { isCustomerCancellationAllowed: () => true } } as never);
    const failed = loadGolden('order')
      .map((path) => replayWithOracles('order', path, lenient))
      .filter((replay) => replay.mismatches.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.mismatches[0]!.message).toMatch(/accepts cancellation\.submitted, unlike the graph/);
  });

  it('C2/P3d: an order that forgets facts reported while a cancel order is in flight no longer replays', () => {
    // The order forwarded order.shipped/completed to the cancel order without recording them, so a later
    // cancel order started from stale facts (a completed order refunded at the end of the 48H).
    const forgetful = mutate(orderMachine, (config) => {
      const cancellation = config.states.cancellation!;
      const inFlight = cancellation.states.inFlight;
      const on = {
        ...inFlight.on,
        'order.shipped': { guard: 'isNotShipped', actions: 'forwardToCancellation' },
        'order.completed': { guard: 'isNotCompleted', actions: 'forwardToCancellation' },
      };
      config.states.cancellation = { ...cancellation, states: { ...cancellation.states, inFlight: { ...inFlight, on } } };
      return config;
    });
    const failed = loadGolden('order')
      .map((path) => replayWithOracles('order', path, forgetful))
      .filter((replay) => replay.mismatches.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.mismatches[0]!.message).toMatch(/after "order\.(shipped|completed)"/);
  });

  it('INV1: a cancel order that reuses a declined refund key fails the oracles', () => {
    const reusing = cancellationMachine.provide({
      actions: {
        countRefundRequest: assign(({ context }: { context: { refundAttempts: number } }) => ({ refundAttempts: context.refundAttempts + 1 })),
      },
    } as never);
    const failed = loadGolden('cancellation')
      .map((path) => replayWithOracles('cancellation', path, reusing))
      .filter((replay) => replay.mismatches.length);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.mismatches[0]!.message).toMatch(/^INV1: refund request 1 of c1 must be keyed order-1\/c1\/1/);
  });

  it('an unreachable state falls below 100 % states and transitions, with the reason', () => {
    const mutant = mutate(disputeMachine, (config) => {
      config.states.limbo = { on: { 'customer.settlementConfirmed': 'resolved' } };
      return config;
    });
    const real = gated(runCoverage(disputeMachine, MODELS.dispute.options as never).coverage);
    const coverage = gated(runCoverage(mutant, MODELS.dispute.options as never).coverage);
    expect(coverage.states).toEqual({ covered: real.states.covered, total: real.states.total + 1 });
    expect(coverage.transitions).toEqual({ covered: real.transitions.covered, total: real.transitions.total + 1 });
    expect(coverage.uncovered).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'state', id: 'dispute.limbo', reason: expect.stringMatching(/unreachable by construction/) }),
        expect.objectContaining({
          kind: 'transition',
          id: 'dispute.limbo|customer.settlementConfirmed|0',
          reason: expect.stringMatching(/never active/),
        }),
      ]),
    );
    expect(coverageProblems(coverage).join('\n')).toMatch(new RegExp(`states ${real.states.covered}/${real.states.total + 1}.*dispute\\.limbo`));
  });

  it('a guard that can never hold is listed with its guard, not dropped', () => {
    const mutant = mutate(disputeMachine, (config) => {
      const waiting = config.states.awaitingPlatformRuling!;
      config.states.awaitingPlatformRuling = {
        ...waiting,
        on: { ...waiting.on, 'customer.settlementConfirmed': { guard: 'never', target: 'resolved' } },
      };
      return config;
    }).provide({ guards: { never: () => false } } as never);
    const { coverage } = runCoverage(mutant, MODELS.dispute.options as never);
    expect(coverage.uncovered).toContainEqual(
      expect.objectContaining({ kind: 'transition', reason: expect.stringMatching(/guard never never held/) }),
    );
    expect(coverageProblems(coverage)).not.toEqual([]);
  });
});
