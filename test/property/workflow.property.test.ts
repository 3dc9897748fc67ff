import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { world, type World } from '../support/world.js';
import {
  advanceArbitrary,
  allowedEvent,
  allowedPickArbitrary,
  eventArbitrary,
  InvariantChecker,
  pendingDueTimes,
  type Driven,
} from './model.js';

interface Real {
  world: World;
  checker: InvariantChecker;
}

class SendCommand implements fc.Command<object, Real> {
  constructor(readonly event: Record<string, unknown>) {}
  check = () => true;
  run(_model: object, real: Real): void {
    real.checker.sendChecked(this.event);
  }
  toString = () => `send(${JSON.stringify(this.event)})`;
}

class SendAllowedCommand implements fc.Command<object, Real> {
  constructor(readonly pick: { pick: number; flavour: number }) {}
  check = () => true;
  run(_model: object, real: Real): void {
    const event = allowedEvent(real.world.workflow.getSnapshot(), this.pick);
    if (event) expect(real.checker.sendChecked(event)).toBe('accepted');
  }
  toString = () => `sendAllowed(${JSON.stringify(this.pick)})`;
}

class AdvanceCommand implements fc.Command<object, Real> {
  constructor(readonly move: { pick: number; offset: number }) {}
  check = () => true;
  run(_model: object, real: Real): void {
    const due = pendingDueTimes(real.world.workflow.getSnapshot());
    const now = real.world.clock.now();
    const target = due.length ? due[this.move.pick % due.length]! + this.move.offset : now + Math.abs(this.move.offset);
    if (target > now) real.world.advance(target - now);
    real.checker.check();
  }
  toString = () => `advance(${JSON.stringify(this.move)})`;
}

function drive(w: World): Driven {
  return {
    snapshot: () => w.workflow.getSnapshot(),
    effects: () => w.workflow.effects,
    accepted: () =>
      w.workflow.audit.map((entry) => ({
        type: entry.eventType,
        role: entry.by.role,
        cancellationId: entry.event.cancellationId as string | undefined,
      })),
    now: () => w.clock.now(),
    send: (event) => w.send(event),
    advanceTo: (time) => w.advance(Math.max(0, time - w.clock.now())),
  };
}

const commands = fc.commands(
  [
    eventArbitrary.map((event) => new SendCommand(event)),
    allowedPickArbitrary.map((pick) => new SendAllowedCommand(pick)),
    allowedPickArbitrary.map((pick) => new SendAllowedCommand(pick)),
    advanceArbitrary.map((move) => new AdvanceCommand(move)),
  ],
  { maxCommands: 40 },
);

describe('model-based properties (in-memory host)', () => {
  it('INV1–INV4 and P2/P3d/C4 hold for any interleaving of roles, callbacks and clock moves', () => {
    let checks = 0;
    fc.assert(
      fc.property(
        fc.constantFrom('JD', 'MERCHANT'),
        fc.boolean(),
        fc.constantFrom('fail', 'adopt'),
        commands,
        (deliveredBy, shipped, conflictPolicy, cmds) => {
          const w = world({ deliveredBy, shipped, conflictPolicy, timers: { refundMaxAttempts: 3 } });
          const checker = new InvariantChecker(drive(w));
          fc.modelRun(() => ({ model: {}, real: { world: w, checker } }), cmds);
          checks += checker.checks;
          w.workflow.stop();
        },
      ),
      { numRuns: 300 },
    );
    expect(checks).toBeGreaterThan(1000);
  });
});
