import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpWorkflow, host, PLATFORM, tempDir } from './helpers.js';
import { PLAN_SCRIPTS, runStep, type Script } from './scripts.js';

const tmp = tempDir('runtime-restart-');
afterAll(() => tmp.cleanup());
let runs = 0;

/**
 * Plays a script on a fresh SQLite file; before each step for which `restartBefore` holds, the
 * runtime is closed (its connection too) and a new one opens the same file.
 */
async function play(script: Script, restartBefore: (index: number) => boolean) {
  const h = await host({ filename: join(tmp.dir, `${script.workflowId}-${(runs += 1)}.db`) });
  script.world?.(h);
  const seen: unknown[] = [];
  for (const [index, step] of script.steps.entries()) {
    if (restartBefore(index)) await h.restart();
    seen.push(await runStep(h, script, step));
  }
  const stored = await dumpWorkflow(h.store, script.workflowId);
  const view = await h.runtime.getWorkflow(PLATFORM, script.workflowId);
  await h.close();
  return { seen, stored, view, refunds: h.payments.executions() };
}

describe('INV5: a restart at any step boundary changes nothing (SQLite)', () => {
  for (const script of PLAN_SCRIPTS) {
    describe(script.name, () => {
      it(`INV5: ${script.workflowId} restarted before each of its ${script.steps.length - 1} later steps, and before every step`, async () => {
        const reference = await play(script, () => false);
        expect(reference.stored.audit.length).toBeGreaterThan(2);
        for (let boundary = 1; boundary < script.steps.length; boundary += 1) {
          const restarted = await play(script, (index) => index === boundary);
          expect(restarted, `restart before step ${boundary}`).toEqual(reference);
        }
        expect(await play(script, (index) => index > 0)).toEqual(reference);
      });
    });
  }

  it('INV1/INV5: each plan ends as the rules say, with at most one refund per order', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const script of PLAN_SCRIPTS) {
      const { view, refunds } = await play(script, (index) => index % 2 === 1);
      outcomes[script.workflowId] = {
        state: view.state,
        disputes: view.disputes.map((d) => [d.disputeId, d.status]),
        cancelOrders: view.cancelOrders.map((c) => [c.cancellationId, c.status, c.reason, c.refundTrigger?.kind ?? null]),
        refunds: refunds.map((r) => r.idempotencyKey),
      };
    }
    const closed = { order: { dispute: 'closed', cancellation: 'refunded' } };
    expect(outcomes).toEqual({
      p1: {
        state: closed,
        disputes: [['p1-d', 'resolved']],
        cancelOrders: [['p1-d:direct-refund', 'refunded', 'DIRECT_REFUND_DISPUTE_PLAN', 'disputePlan']],
        // C4: the first request (key /1) was declined; the second, under a new key, moved the money
        refunds: ['p1/p1-d:direct-refund/2'],
      },
      p2: {
        state: { order: { dispute: 'none', cancellation: 'idle' } },
        disputes: [['p2-d', 'resolved']],
        cancelOrders: [['p2-cancel', 'rejected', 'CUSTOMER_REQUEST', null]],
        refunds: [],
      },
      p3: {
        state: closed,
        disputes: [['p3-d', 'resolved']],
        cancelOrders: [['p3-d:intercept-48h', 'refunded', 'INTERCEPT_48H_DISPUTE_PLAN', 'logisticsCallback']],
        refunds: ['p3/p3-d:intercept-48h/1'],
      },
      p4: {
        state: closed,
        disputes: [['p4-d', 'resolved']],
        cancelOrders: [['p4-d:ruling-refund', 'refunded', 'PLATFORM_RULING_REFUND', 'platformRuling']],
        refunds: ['p4/p4-d:ruling-refund/1'],
      },
      x1: {
        state: closed,
        disputes: [['x1-d', 'resolved']],
        cancelOrders: [['x1-cancel', 'refunded', 'CUSTOMER_REQUEST', 'merchant']],
        refunds: ['x1/x1-cancel/1'],
      },
    });
  });
});
