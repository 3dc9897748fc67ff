import type { AnyStateMachine } from 'xstate';
import { describe, expect, it } from 'vitest';

/**
 * The machines (and the fixtures, which import them) are loaded inside the test, so a definition that
 * throws when it is created fails here as a test. Stryker's vitest runner counts a test file that fails
 * to import as "no failing test", which would let such a mutant survive.
 */
describe('the machines load and start', () => {
  it('creates every machine and its initial snapshot', async () => {
    const { createActor } = await import('xstate');
    const machines = await import('../../machines/index.js');
    const { cancellationInputs, disputeInputs, orderInputs } = await import('./fixtures.js');
    const starts: Array<readonly [AnyStateMachine, unknown]> = [
      [machines.disputeMachine, disputeInputs[0]!.input],
      [machines.cancellationMachine, cancellationInputs[0]!.input],
      [machines.orderMachine, orderInputs[0]!.input],
    ];
    for (const [machine, input] of starts) {
      const actor = createActor(machine, { input });
      actor.start();
      expect(actor.getSnapshot().status).toBe('active');
      actor.stop();
    }
  });
});
